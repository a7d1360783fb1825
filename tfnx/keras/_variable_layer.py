"""`VariableLayer`: `tfp.layers.VariableLayer` on Keras 3, a layer whose output is a trainable variable."""

from typing import Any, Sequence, Union

import keras
import tensorflow as tf

from tfnx.keras._export import export

__all__ = ['VariableLayer']


@export
class VariableLayer(keras.layers.Layer):
  """A layer that ignores its inputs and returns `activation(variable)`.

  The building block of `DenseVariational`'s posteriors and trainable
  priors: followed by a `DistributionLambda`, it makes a distribution whose
  parameters are the variable.

  Args:
    shape: the variable's shape (an int for a vector).
    dtype: the variable's dtype; default Keras' float type.
    activation: a Keras activation or its name; `None` for the identity.
    initializer: a Keras initializer or its name; default `'zeros'`.
    regularizer: a Keras regularizer of the variable, or `None`.
    constraint: a Keras constraint on the variable, or `None`.
    **kwargs: Keras layer arguments (`name`, `trainable`).
  """

  def __init__(self, shape: Union[int, Sequence[int]], dtype: Any = None,
               activation: Any = None, initializer: Any = 'zeros',
               regularizer: Any = None, constraint: Any = None, **kwargs):
    super().__init__(dtype=dtype, **kwargs)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not all(isinstance(d, int) and d >= 0 for d in shape):
      raise ValueError(f'{self.name}: expected `shape` to be non-negative '
                       f'ints; received {shape!r}.')
    self.shape = shape
    self.activation = keras.activations.get(activation)
    self.initializer = keras.initializers.get(initializer)
    self.regularizer = keras.regularizers.get(regularizer)
    self.constraint = keras.constraints.get(constraint)
    self.variable = self.add_weight(
        name='constant', shape=shape, initializer=self.initializer,
        regularizer=self.regularizer, constraint=self.constraint)

  def build(self, input_shape=None) -> None:
    """The variable exists from construction; nothing depends on inputs."""
    del input_shape  # Ignored.

  def call(self, inputs: Any = None) -> tf.Tensor:
    """`activation(variable)`, whatever the inputs."""
    del inputs  # Only the variable matters.
    return self.activation(tf.convert_to_tensor(self.variable))

  def compute_output_shape(self, input_shape=None) -> tuple:
    """The variable's shape."""
    del input_shape  # Ignored.
    return self.shape

  def get_config(self) -> dict:
    """The constructor's arguments."""
    config = super().get_config()
    config.update(
        shape=list(self.shape),
        activation=keras.activations.serialize(self.activation),
        initializer=keras.initializers.serialize(self.initializer),
        regularizer=keras.regularizers.serialize(self.regularizer),
        constraint=keras.constraints.serialize(self.constraint))
    return config
