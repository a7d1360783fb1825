"""`KLDivergenceRegularizer` and `KLDivergenceAddLoss`: `tfp.layers`' penalties on a distribution output.

Both measure `KL(a || b)` from a layer's output distribution `a` to a fixed
distribution `b`, exactly or by Monte Carlo on the output's value (its
stateless draw), and add the batch total to the model's losses.
"""

from typing import Any, Callable, Optional, Sequence, Union

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx.keras import _distribution_lambda as distribution_lambda
from tfnx.keras import _serialization as serialization
from tfnx.keras._export import export

tfd = tfp.distributions

__all__ = ['KLDivergenceRegularizer', 'KLDivergenceAddLoss']

ReduceAxis = Optional[Union[int, Sequence[int]]]


@export(public=False)
def value_of(distribution: Any) -> tf.Tensor:
  """`tf.convert_to_tensor(distribution)`: a layer output's value.

  The default `test_points_fn`; a registered function, so it saves.
  """
  return tf.convert_to_tensor(distribution)


def _resolve(distribution_b: Any) -> tfd.Distribution:
  # A Keras layer or model is called with a dummy input (it makes the
  # distribution from its weights alone); another callable with none.
  if isinstance(distribution_b, keras.layers.Layer):
    return distribution_lambda.distribution_of(distribution_b(
        tf.zeros([0])))
  if callable(distribution_b) and not isinstance(distribution_b,
                                                 tfd.Distribution):
    return distribution_b()
  return distribution_b


_FUNCTION_KEYS = ('distribution_b', 'test_points_fn')


def _deserialize_functions(config: dict) -> dict:
  return serialization.deserialized(config, _FUNCTION_KEYS,
                                    distribution_lambda.deserialize_function)


@export
class KLDivergenceRegularizer(keras.regularizers.Regularizer):
  """An activity regularizer adding `weight * KL(a || b)` for an output `a`.

  Args:
    distribution_b: the distribution `b`, a callable returning it, or a
      Keras layer that makes it (called with a dummy input).
    use_exact_kl: `True` for `tfd.kl_divergence(a, b)`; `False` (default)
      for `a.log_prob(z) - b.log_prob(z)` at `z = test_points_fn(a)`.
    test_points_reduce_axis: the axes of the Monte Carlo terms to average
      (`None`: all; `()`, default: none).
    test_points_fn: `(a) -> z`; default `value_of`, which is
      `tf.convert_to_tensor`: the output's value (the layer's stateless
      draw).
    weight: a factor on the KL, e.g. one over the number of examples; `None`
      for one.
  """

  def __init__(self, distribution_b: Any, use_exact_kl: bool = False,
               test_points_reduce_axis: ReduceAxis = (),
               test_points_fn: Callable = value_of,
               weight: Optional[float] = None):
    if not (callable(distribution_b)
            or isinstance(distribution_b, tfd.Distribution)):
      raise TypeError('KLDivergenceRegularizer: expected `distribution_b` to '
                      'be a distribution, a callable or a Keras layer; '
                      f'received {distribution_b!r}.')
    self.distribution_b = distribution_b
    self.use_exact_kl = bool(use_exact_kl)
    self.test_points_reduce_axis = test_points_reduce_axis
    self.test_points_fn = test_points_fn
    self.weight = weight

  @property
  def layers(self) -> list:
    """The Keras layers the regularizer holds (a `distribution_b` layer).

    A layer it regularizes tracks them, so their weights (a trainable
    prior's) train and save with the model.
    """
    if isinstance(self.distribution_b, keras.layers.Layer):
      return [self.distribution_b]
    return []

  def __call__(self, distribution_a: Any) -> tf.Tensor:
    """The batch total of `weight * KL(a || b)`."""
    test_points = distribution_a
    distribution_a = distribution_lambda.distribution_of(distribution_a)
    if not isinstance(distribution_a, tfd.Distribution):
      raise TypeError('KLDivergenceRegularizer: expected a distribution '
                      '(a DistributionLambda output); received '
                      f'{type(distribution_a).__name__}.')
    distribution_b = _resolve(self.distribution_b)
    if self.use_exact_kl:
      kl = tfd.kl_divergence(distribution_a, distribution_b)
    else:
      z = self.test_points_fn(test_points)
      kl = tf.reduce_mean(
          distribution_a.log_prob(z) - distribution_b.log_prob(z),
          axis=self.test_points_reduce_axis)
    if self.weight is not None:
      kl = tf.cast(self.weight, kl.dtype) * kl
    return tf.reduce_sum(kl)

  def get_config(self) -> dict:
    """The arguments that serialize: a Keras layer or registered callable."""
    return {
        'use_exact_kl': self.use_exact_kl,
        'test_points_reduce_axis': self.test_points_reduce_axis,
        'weight': self.weight,
        **serialization.serialized_attributes(self, _FUNCTION_KEYS),
    }

  @classmethod
  def from_config(cls, config: dict) -> 'KLDivergenceRegularizer':
    """Rebuilds the regularizer from `get_config()`."""
    return cls(**_deserialize_functions(config))


@export
class KLDivergenceAddLoss(keras.layers.Layer):
  """Passes a distribution on and adds `weight * KL(a || b)` to the losses.

  Args:
    distribution_b: as `KLDivergenceRegularizer`.
    use_exact_kl: as `KLDivergenceRegularizer`.
    test_points_reduce_axis: as `KLDivergenceRegularizer`; default `None`
      (all axes).
    test_points_fn: as `KLDivergenceRegularizer`.
    weight: as `KLDivergenceRegularizer`.
    **kwargs: Keras layer arguments.
  """

  def __init__(self, distribution_b: Any, use_exact_kl: bool = False,
               test_points_reduce_axis: ReduceAxis = None,
               test_points_fn: Callable = value_of,
               weight: Optional[float] = None, **kwargs):
    kwargs.setdefault('autocast', False)  # A cast would drop the distribution.
    super().__init__(**kwargs)
    self.regularizer = KLDivergenceRegularizer(
        distribution_b, use_exact_kl=use_exact_kl,
        test_points_reduce_axis=test_points_reduce_axis,
        test_points_fn=test_points_fn, weight=weight)
    self._distribution_b_layers = self.regularizer.layers

  def call(self, distribution_a: Any) -> Any:
    """Adds the KL to the layer's losses; returns `distribution_a`."""
    self.add_loss(self.regularizer(distribution_a))
    return distribution_a

  def compute_output_spec(self, distribution_a: Any) -> keras.KerasTensor:
    """The input's spec: Keras' symbolic input carries no distribution."""
    return keras.KerasTensor(distribution_a.shape, distribution_a.dtype)

  def get_config(self) -> dict:
    """The constructor's arguments."""
    config = super().get_config()
    config.update(self.regularizer.get_config())
    return config

  @classmethod
  def from_config(cls, config: dict) -> 'KLDivergenceAddLoss':
    """Rebuilds the layer from `get_config()`."""
    return cls(**_deserialize_functions(config))
