"""`BlockwiseInitializer`: `tfp.layers.initializers.BlockwiseInitializer` on Keras 3."""

from typing import Any, Sequence

import keras
import tensorflow as tf

from tfnx.keras._export import export

__all__ = ['BlockwiseInitializer']


@export
class BlockwiseInitializer(keras.initializers.Initializer):
  """A Keras initializer that concatenates other initializers' blocks.

  Block `i` is `initializers[i]` called with the requested shape but
  `sizes[i]` along the last axis; the blocks are concatenated along the last
  axis, whose length must be `sum(sizes)`. A `VariableLayer` holding a
  distribution's `loc` and unconstrained `scale` side by side initializes
  them this way.

  Args:
    initializers: Keras initializers or their names (e.g. `'zeros'`,
      `keras.initializers.Constant(0.5413)`), one per block.
    sizes: the blocks' lengths along the last axis, Python ints.
    validate_args: kept for `tfp.layers`' signature; the last axis is
      always checked against `sum(sizes)`, since Keras 3 shapes are static.
  """

  def __init__(self, initializers: Sequence[Any], sizes: Sequence[int],
               validate_args: bool = False):
    initializers = list(initializers)
    sizes = [int(s) for s in sizes]
    if len(initializers) != len(sizes) or any(s < 0 for s in sizes):
      raise ValueError(
          'BlockwiseInitializer: expected one non-negative size per '
          f'initializer; received {len(initializers)} initializers and '
          f'sizes {sizes}.')
    self._initializers = [keras.initializers.get(i) for i in initializers]
    self._sizes = sizes
    self._validate_args = bool(validate_args)

  @property
  def initializers(self) -> list:
    """The blocks' initializers."""
    return self._initializers

  @property
  def sizes(self) -> list:
    """The blocks' lengths along the last axis."""
    return self._sizes

  @property
  def validate_args(self) -> bool:
    """As given; the shape is checked regardless."""
    return self._validate_args

  def __call__(self, shape: Sequence[int], dtype: Any = None) -> tf.Tensor:
    """The concatenated blocks, of `shape` and `dtype` (default floatx).

    Args:
      shape: the tensor's shape; its last axis is `sum(sizes)`.
      dtype: the tensor's dtype; default `keras.backend.floatx()`.

    Returns:
      The initial value.

    Raises:
      ValueError: when the last axis is not `sum(sizes)`.
    """
    shape = tuple(int(d) for d in shape)
    if not shape or shape[-1] != sum(self._sizes):
      raise ValueError(
          'BlockwiseInitializer: expected a shape whose last axis is '
          f'sum(sizes) = {sum(self._sizes)}; received shape {shape}.')
    dtype = dtype or keras.backend.floatx()
    return tf.concat(
        [tf.convert_to_tensor(init(shape[:-1] + (size,), dtype=dtype))
         for init, size in zip(self._initializers, self._sizes)], axis=-1)

  def get_config(self) -> dict:
    """The constructor's arguments, initializers Keras-serialized."""
    return {
        'initializers': [keras.initializers.serialize(i)
                         for i in self._initializers],
        'sizes': list(self._sizes),
        'validate_args': self._validate_args,
    }

  @classmethod
  def from_config(cls, config: dict) -> 'BlockwiseInitializer':
    """Rebuilds the initializer from `get_config()`."""
    config = dict(config)
    config['initializers'] = [keras.initializers.deserialize(i)
                              for i in config['initializers']]
    return cls(**config)
