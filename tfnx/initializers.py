"""Variance-scaling weight initializers, stateless and free of Keras.

Each builder returns `init(shape, dtype, batch_ndims=0)`. The leftmost
`batch_ndims` axes of `shape` index independent weight tensors; of the rest,
the last two are `(fan_in, fan_out)` units and any before them are a
convolution's receptive field, which multiplies both fans.
"""

import math
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from tfnx import seeds as seeds_lib

__all__ = ['glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal',
           'zeros', 'random_sign']

Initializer = Callable[..., tf.Tensor]

# The standard deviation of a standard normal truncated to [-2, 2].
_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def fans(shape: Sequence[int], batch_ndims: int = 0):
  """Returns `(fan_in, fan_out)` of a weight tensor of this shape."""
  shape = [int(d) for d in shape][batch_ndims:]
  shape += [1] * (2 - len(shape))
  receptive_field = int(np.prod(shape[:-2]))
  return shape[-2] * receptive_field, shape[-1] * receptive_field


def _call_seed(seed: Optional[seeds_lib.SeedLike]) -> tf.Tensor:
  """An initializer's seed: `seed`, or a fresh one per call where `None`."""
  return seeds_lib.sanitize_seed(
      seeds_lib.python_random_seed() if seed is None else seed, 'initializer')


def _variance_scaling(scale: float, mode: str, distribution: str,
                      seed: Optional[seeds_lib.SeedLike]) -> Initializer:
  def init(shape, dtype=tf.float32, batch_ndims: int = 0) -> tf.Tensor:
    shape = [int(d) for d in shape]
    fan_in, fan_out = fans(shape, batch_ndims)
    fan = fan_in if mode == 'fan_in' else (fan_in + fan_out) / 2.
    variance = scale / max(1., fan)
    call_seed = _call_seed(seed)
    if distribution == 'uniform':
      limit = math.sqrt(3. * variance)
      return tf.random.stateless_uniform(shape, call_seed, minval=-limit,
                                         maxval=limit, dtype=dtype)
    stddev = math.sqrt(variance) / _TRUNCATED_NORMAL_STDDEV
    return tf.random.stateless_truncated_normal(shape, call_seed,
                                                stddev=stddev, dtype=dtype)
  return init


def glorot_uniform(seed: Optional[seeds_lib.SeedLike] = None) -> Initializer:
  """Glorot (Xavier) uniform: `U(-l, l)`, `l = sqrt(6 / (fan_in + fan_out))`.

  Args:
    seed: a stateless seed (see `tfnx.seeds.sanitize_seed`); `None` draws one
      per call.

  Returns:
    `init(shape, dtype, batch_ndims=0)`.
  """
  return _variance_scaling(1., 'fan_avg', 'uniform', seed)


def glorot_normal(seed: Optional[seeds_lib.SeedLike] = None) -> Initializer:
  """Glorot (Xavier) normal: truncated normal of variance `2 / (fan_in + fan_out)`.

  Args:
    seed: a stateless seed; `None` draws one per call.

  Returns:
    `init(shape, dtype, batch_ndims=0)`.
  """
  return _variance_scaling(1., 'fan_avg', 'truncated_normal', seed)


def he_uniform(seed: Optional[seeds_lib.SeedLike] = None) -> Initializer:
  """He uniform: `U(-l, l)`, `l = sqrt(6 / fan_in)`.

  Args:
    seed: a stateless seed; `None` draws one per call.

  Returns:
    `init(shape, dtype, batch_ndims=0)`.
  """
  return _variance_scaling(2., 'fan_in', 'uniform', seed)


def he_normal(seed: Optional[seeds_lib.SeedLike] = None) -> Initializer:
  """He normal: truncated normal of variance `2 / fan_in`.

  Args:
    seed: a stateless seed; `None` draws one per call.

  Returns:
    `init(shape, dtype, batch_ndims=0)`.
  """
  return _variance_scaling(2., 'fan_in', 'truncated_normal', seed)


def zeros() -> Initializer:
  """All zeros; the default bias initializer."""
  def init(shape, dtype=tf.float32, batch_ndims: int = 0) -> tf.Tensor:
    del batch_ndims  # Zeros need no fans.
    return tf.zeros(shape, dtype=dtype)
  return init


def random_sign(probability: float = 0.5,
                seed: Optional[seeds_lib.SeedLike] = None) -> Initializer:
  """Random signs: +1 with `probability`, else -1 (rank-1 layers' vectors).

  Args:
    probability: the probability of +1, in `[0, 1]`.
    seed: a stateless seed (see `tfnx.seeds.sanitize_seed`); `None` draws one
      per call.

  Returns:
    `init(shape, dtype, batch_ndims=0)`.
  """
  if not 0. <= probability <= 1.:
    raise ValueError('random_sign: expected a probability in [0, 1]; '
                     f'received {probability!r}.')

  def init(shape, dtype=tf.float32, batch_ndims: int = 0) -> tf.Tensor:
    del batch_ndims  # Every element is drawn alike.
    uniform = tf.random.stateless_uniform([int(d) for d in shape],
                                          _call_seed(seed), dtype=dtype)
    return tf.where(uniform < probability, tf.ones_like(uniform),
                    -tf.ones_like(uniform))
  return init


def call_initializer(init: Callable, shape: Sequence[int], dtype: tf.DType,
                     batch_ndims: int = 0) -> tf.Tensor:
  """Calls an initializer the way TFP does, whatever its calling convention.

  First `init(shape, dtype, batch_ndims)` (tfnx and TFP initializers); when
  that raises `TypeError`, `init(shape, dtype)` (Keras 3 and 2 and TF
  initializers, and functions such as `tf.zeros`). Nothing is guessed from
  the signature, which `functools.partial`s and `__call__(*args, **kwargs)`
  objects hide.

  Args:
    init: the initializer.
    shape: the weight's shape, batch axes first.
    dtype: the weight's dtype.
    batch_ndims: how many leading axes of `shape` are batch axes.

  Returns:
    The initial value, a tensor of `dtype`.
  """
  try:
    value = init(shape, dtype, batch_ndims)
  except TypeError:
    value = init(shape, dtype)
  return tf.convert_to_tensor(value, dtype=dtype)
