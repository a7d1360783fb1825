"""A Keras layer's stateless seed for each call: the caller's, or the next of the layer's own generator."""

import zlib
from typing import Any, Optional

import keras
import tensorflow as tf

from tfnx import predictive
from tfnx import seeds as seeds_lib

__all__ = ['make_seed_generator', 'call_seed', 'seeded_initializer']

_INT31 = 2**31


def make_seed_generator(owner: str,
                        seed: Optional[int]) -> keras.random.SeedGenerator:
  """A layer's generator of call seeds, from its `seed` argument.

  Args:
    owner: the layer's name, for errors.
    seed: a Python int, or `None` for one from Python's `random` (so
      `keras.utils.set_random_seed` makes it reproducible).

  Returns:
    A `keras.random.SeedGenerator`.

  Raises:
    TypeError: if `seed` is neither an int nor `None`.
  """
  if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
    raise TypeError(f'{owner}: expected `seed` to be a Python int or None; '
                    f'received {seed!r}.')
  return keras.random.SeedGenerator(None if seed is None else seed % _INT31)


def call_seed(generator: keras.random.SeedGenerator,
              seed: Optional[seeds_lib.SeedLike], layer: keras.layers.Layer
              ) -> tf.Tensor:
  """The call's `int32` seed of shape `[2]`.

  Args:
    generator: the layer's generator.
    seed: the seed the caller passed; `None` for the pass's seed inside
      `tfnx.predictive.layer_seeds`, else the generator's next, each replica
      of a distribution strategy folding in its id.
    layer: the layer being called (its name is used in errors).

  Returns:
    A stateless seed.
  """
  if seed is None:
    seed = predictive.layer_seed(layer)
  if seed is None:
    return seeds_lib.fold_in_replica(
        seeds_lib.sanitize_seed(generator.next(), layer.name))
  return seeds_lib.sanitize_seed(seed, layer.name)


def seeded_initializer(initializer: Any, layer_seed: Optional[int],
                       name: str) -> Any:
  """`initializer`, given a seed of its own where it is random and unseeded.

  Without one, a single default initializer would give every weight of a
  shape the same values; with the layer's `seed` the weight's seed is
  derived from it and the weight's name, so two layers built with the same
  `seed` get the same initial weights.

  Args:
    initializer: a Keras initializer or its name.
    layer_seed: the layer's `seed` argument, or `None`.
    name: the weight's name.

  Returns:
    The initializer to use.
  """
  initializer = keras.initializers.get(initializer)
  if not isinstance(initializer, keras.initializers.Initializer):
    return initializer
  config = initializer.get_config()
  if 'seed' not in config or config['seed'] is not None:
    return initializer
  seed = None
  if layer_seed is not None:
    seed = (layer_seed * 1_000_003 + zlib.crc32(name.encode())) % _INT31
  return type(initializer).from_config(dict(config, seed=seed))
