"""Stateless seeds: what a caller may pass as `seed`, and a layer's own seed stream.

Every random number in tfnx comes from a `tf.random.stateless_*` op driven by a
seed tensor of shape `[2]` and dtype `int32` (the only seed dtype XLA accepts).
A caller either passes a seed to a call, making the call a pure function of its
variables, inputs and seed, or lets the layer derive a fresh one from its
`SeedStream`, a base seed and a call counter kept in variables.
"""

import random
from typing import Optional, Union

import numpy as np
import tensorflow as tf

__all__ = ['SeedLike', 'sanitize_seed', 'split_seed', 'python_random_seed',
           'SeedStream', 'fold_in_replica']

SeedLike = Union[int, tuple, list, np.ndarray, tf.Tensor]

_INT32_RANGE = 2**31


def _int_to_pair(seed: int) -> np.ndarray:
  # Two 31-bit words keep every Python int distinct up to 2**62 and keep
  # both words non-negative, so small ints stay readable when printed.
  return np.array([(seed // _INT32_RANGE) % _INT32_RANGE, seed % _INT32_RANGE],
                  dtype=np.int32)


def sanitize_seed(seed: SeedLike, owner: str = 'tfnx') -> tf.Tensor:
  """Converts a user seed into an `int32` tensor of shape `[2]`.

  Args:
    seed: a Python `int`, a pair of ints, or an integer tensor (or array) of
      shape `[2]`.
    owner: the name of the layer or model the seed was given to, for errors.

  Returns:
    An `int32` `tf.Tensor` of shape `[2]`.

  Raises:
    TypeError: if `seed` is not an integer or a pair of integers.
    ValueError: if `seed` does not have shape `[2]`.
  """
  if isinstance(seed, bool):
    raise TypeError(f'{owner}: expected `seed` to be an int, a pair of ints or '
                    f'an int tensor of shape [2]; received the bool {seed!r}.')
  if isinstance(seed, (int, np.integer)):
    return tf.constant(_int_to_pair(int(seed)))
  if isinstance(seed, (tuple, list)):
    if len(seed) != 2 or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool)
        for s in seed):
      raise ValueError(f'{owner}: expected `seed` to be an int, a pair of ints '
                       f'or an int tensor of shape [2]; received {seed!r}.')
    return tf.constant([int(s) % _INT32_RANGE for s in seed], dtype=tf.int32)
  seed = tf.convert_to_tensor(seed)
  if not seed.dtype.is_integer:
    raise TypeError(f'{owner}: expected an integer `seed`; received a tensor '
                    f'of dtype {seed.dtype.name}.')
  if seed.shape.rank == 0:
    raise ValueError(f'{owner}: expected `seed` to be a pair; received a scalar '
                     'tensor. Pass a Python int or a tensor of shape [2].')
  if not seed.shape.is_compatible_with([2]):
    raise ValueError(f'{owner}: expected `seed` of shape [2]; received shape '
                     f'{seed.shape}.')
  return tf.ensure_shape(tf.cast(seed, tf.int32), [2])


def split_seed(seed: tf.Tensor, n: int) -> list:
  """Splits one `[2]` seed into `n` independent `[2]` seeds (stateless).

  Args:
    seed: an `int32` seed of shape `[2]`, e.g. from `sanitize_seed`.
    n: how many seeds to derive.

  Returns:
    A list of `n` `int32` seeds of shape `[2]`, a pure function of `seed`.
  """
  return tf.unstack(tf.random.experimental.stateless_split(seed, num=n))


def python_random_seed() -> tuple:
  """A fresh pair of seed words from Python's `random` module.

  What tfnx uses where no seed is given, so `random.seed` (or
  `keras.utils.set_random_seed`) makes even unseeded code reproducible.

  Returns:
    Two non-negative 31-bit ints, a seed `sanitize_seed` accepts.
  """
  return (random.getrandbits(31), random.getrandbits(31))


class SeedStream(tf.Module):
  """A layer's own stream of stateless seeds for calls made without a seed.

  The stream holds a base seed and a call counter, both non-trainable
  variables; each `next()` folds the incremented counter into the base seed.
  Two streams built from the same `seed` therefore hand out the same sequence,
  and a checkpoint carries the stream's position. Under a distribution strategy
  each replica folds in its replica id, so replicas draw different numbers.

  Args:
    seed: the stream's base seed (anything `sanitize_seed` accepts), or `None`
      for a base drawn from Python's `random` module (so `random.seed` or
      `keras.utils.set_random_seed` makes it reproducible).
    owner: the name of the layer owning the stream, for errors.
    name: the module's name.
  """

  def __init__(self, seed: Optional[SeedLike] = None, owner: str = 'tfnx',
               name: str = 'seed_stream'):
    super().__init__(name=name)
    if seed is None:
      seed = python_random_seed()
    base = sanitize_seed(seed, owner)
    with self.name_scope:
      self._base = tf.Variable(base, trainable=False, name='base_seed')
      self._count = tf.Variable(
          0, dtype=tf.int32, trainable=False, name='call_count',
          synchronization=tf.VariableSynchronization.ON_WRITE,
          aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

  def next(self) -> tf.Tensor:
    """Advances the stream and returns a fresh `int32` seed of shape `[2]`."""
    count = tf.convert_to_tensor(self._count.assign_add(1))
    return fold_in_replica(tf.random.experimental.stateless_fold_in(
        tf.convert_to_tensor(self._base), count))


def fold_in_replica(seed: tf.Tensor) -> tf.Tensor:
  """Gives each replica of a distribution strategy its own seed.

  A layer's own seed (a stream's next value) is the same on every replica of
  a `MirroredStrategy`; folding in the replica id makes replicas draw
  different numbers, as their examples would on one device.

  Args:
    seed: an `int32` seed of shape `[2]`.

  Returns:
    `seed` with the replica id folded in under a strategy with more than one
    replica in sync; `seed` itself otherwise.
  """
  context = tf.distribute.get_replica_context()
  if context is not None and context.num_replicas_in_sync > 1:
    return tf.random.experimental.stateless_fold_in(
        seed, context.replica_id_in_sync_group)
  return seed
