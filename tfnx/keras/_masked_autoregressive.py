"""`AutoregressiveTransform`: `tfp.layers.AutoregressiveTransform` on Keras 3."""

from typing import Any

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx.keras import _distribution_lambda as distribution_lambda
from tfnx.keras import _serialization as serialization
from tfnx.keras._export import export

tfd = tfp.distributions
tfb = tfp.bijectors

__all__ = ['AutoregressiveTransform']


@export
class AutoregressiveTransform(distribution_lambda.DistributionLambda):
  """A masked autoregressive flow (Papamakarios et al., 2017) as a layer.

  The layer's input is a distribution `p(u)` (a `DistributionLambda`'s
  output) with event shape `[event_size]`; its output is the distribution
  of `x = f(u)` under `tfb.MaskedAutoregressiveFlow`, where
  `f^{-1}(x) = (x - shift) * exp(-log_scale)` and
  `shift, log_scale = made(x)[..., 0], made(x)[..., 1]`.

  `made` is a Keras 3 layer mapping `[..., event_size]` to
  `[..., event_size, 2]` whose output at position `i` depends only on the
  inputs before `i` (a MADE). TFP's `tfb.AutoregressiveNetwork` cannot
  serve: it is a legacy Keras 2 (`tf-keras`) layer, whose variables a
  Keras 3 model neither tracks, trains nor saves; write the MADE with Keras 3
  layers.

  Args:
    made: the Keras 3 MADE layer; it is a sublayer (trained and saved with
      the model). When it has a `params` attribute, it must be 2.
    **kwargs: `DistributionLambda`'s arguments but `make_distribution_fn`
      (`convert_to_tensor_fn`, `seed`) and Keras layer arguments.
  """

  def __init__(self, made: keras.layers.Layer, **kwargs):
    super().__init__(None, **kwargs)
    if not isinstance(made, keras.layers.Layer):
      raise TypeError(f'{self.name}: expected `made` to be a Keras 3 layer; '
                      f'received {type(made).__module__}.'
                      f'{type(made).__name__}.')
    if getattr(made, 'params', 2) != 2:
      raise ValueError(f'{self.name}: expected `made` to output 2 parameters '
                       f'per input; received made.params = {made.params}.')
    self.made = made

  def build(self, input_shape: Any) -> None:
    """Builds `made` on the event shape, so its weights exist before `fit`."""
    if not self.made.built:
      self.made.build(tuple(input_shape))
    super().build(input_shape)

  def compute_output_spec(self, inputs: Any, **kwargs) -> keras.KerasTensor:
    """A flow keeps its input's shape; Keras' symbolic input carries no law."""
    del kwargs  # The seed does not change the shape.
    return keras.KerasTensor(inputs.shape, dtype=inputs.dtype)

  def make_distribution(self, inputs: Any) -> tfd.Distribution:
    """`inputs`' distribution transformed by the flow."""
    distribution = distribution_lambda.distribution_of(inputs)
    if not isinstance(distribution, tfd.Distribution):
      raise TypeError(f'{self.name}: expected a distribution (a '
                      'DistributionLambda output) as input; received '
                      f'{type(inputs).__name__}.')
    return tfd.TransformedDistribution(
        distribution=distribution,
        bijector=tfb.MaskedAutoregressiveFlow(self._shift_and_log_scale))

  def _shift_and_log_scale(self, x: tf.Tensor) -> list:
    params = tf.convert_to_tensor(self.made(x))
    if params.shape.rank != x.shape.rank + 1 or params.shape[-1] != 2:
      raise ValueError(f'{self.name}: expected `made` to map shape {x.shape} '
                       f'to {x.shape.concatenate([2])}; received '
                       f'{params.shape}.')
    return tf.unstack(params, axis=-1)

  def get_config(self) -> dict:
    """The constructor's arguments; `made` Keras-serialized."""
    config = super().get_config()
    config.update(serialization.serialized_attributes(self, ['made']))
    return config

  @classmethod
  def from_config(cls, config: dict) -> 'AutoregressiveTransform':
    """Rebuilds the layer and its `made`."""
    return super().from_config(serialization.deserialized(config, ['made']))
