"""`DenseVariational`: `tfp.layers.DenseVariational` on Keras 3, a dense layer whose weights come from posterior and prior models."""

from typing import Any, Callable, Optional, Tuple

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _checks as checks
from tfnx import _pipeline
from tfnx import linear_maps
from tfnx import losses as losses_lib
from tfnx import predictive
from tfnx import seeds as seeds_lib
from tfnx.keras import _call_seeds as call_seeds
from tfnx.keras import _distribution_lambda as distribution_lambda
from tfnx.keras import _divergence_terms as divergence_terms
from tfnx.keras import _serialization as serialization
from tfnx.keras._export import export

tfd = tfp.distributions

__all__ = ['DenseVariational']

_FUNCTION_KEYS = ('make_posterior_fn', 'make_prior_fn')


@export
class DenseVariational(keras.layers.Layer):
  """A dense layer with weights drawn from a learned posterior.

  At build, `make_posterior_fn(kernel_size, bias_size, dtype)` and
  `make_prior_fn(kernel_size, bias_size, dtype)` return Keras layers or
  models (typically a `VariableLayer` and a `DistributionLambda`) whose
  output is a distribution over the flattened kernel and bias,
  `kernel_size + bias_size` numbers. Each call draws the weights once for
  the batch from the posterior with a stateless seed (the call's `seed`, or
  the next of the layer's `keras.random.SeedGenerator(seed)`), returns
  `activation(inputs @ kernel + bias)`. The layer's losses hold
  `kl_weight * KL(posterior || prior)`, computed when read (see
  `KerasVariationalLayer`): exact, from the current posterior and prior; or
  the one-sample Monte Carlo `log q(w) - log p(w)` at the last call's
  weights (where that call's graph can be reached, else at weights drawn
  from a fixed seed).

  Args:
    units: the size of the outputs' last axis.
    make_posterior_fn: `(kernel_size, bias_size, dtype) -> layer`.
    make_prior_fn: `(kernel_size, bias_size, dtype) -> layer`.
    kl_weight: a factor on the KL, e.g. one over the number of examples;
      `None` for one.
    kl_use_exact: whether the KL is the closed form (`tfd.kl_divergence`).
    activation: a Keras activation or its name; `None` for the identity.
    use_bias: whether the layer has a bias.
    activity_regularizer: a Keras regularizer of the outputs, or `None`.
    seed: a Python int seeding the layer's draws; `None` for one from
      Python's `random`.
    **kwargs: Keras layer arguments (`name`, `dtype`).
  """

  def __init__(self, units: int, make_posterior_fn: Callable,
               make_prior_fn: Callable, kl_weight: Optional[float] = None,
               kl_use_exact: bool = False, activation: Any = None,
               use_bias: bool = True, activity_regularizer: Any = None,
               seed: Optional[int] = None, **kwargs):
    super().__init__(activity_regularizer=activity_regularizer, **kwargs)
    self.units = checks.check_size(self.name, 'units', units)
    for key, fn in (('make_posterior_fn', make_posterior_fn),
                    ('make_prior_fn', make_prior_fn)):
      if not callable(fn):
        raise TypeError(f'{self.name}: expected a callable `{key}`; '
                        f'received {fn!r}.')
    self.make_posterior_fn = make_posterior_fn
    self.make_prior_fn = make_prior_fn
    self.kl_weight = kl_weight
    self.kl_use_exact = bool(kl_use_exact)
    self.activation = keras.activations.get(activation)
    self.use_bias = bool(use_bias)
    self.seed = seed
    self._seed_generator = call_seeds.make_seed_generator(self.name, seed)
    self._seed_state = self._seed_generator.state.value
    self._posterior = None
    self._prior = None
    self._last_call = _pipeline.KeptCall()

  def _input_size(self, input_shape: Tuple) -> int:
    return checks.dense_input_size(self.name, input_shape)

  def build(self, input_shape) -> None:
    """Makes and builds the posterior and prior models."""
    input_shape = tuple(input_shape)
    kernel_size = self._input_size(input_shape) * self.units
    bias_size = self.units if self.use_bias else 0
    dtype = self.variable_dtype
    self._posterior = self.make_posterior_fn(kernel_size, bias_size, dtype)
    self._prior = self.make_prior_fn(kernel_size, bias_size, dtype)
    for model in (self._posterior, self._prior):
      if isinstance(model, keras.layers.Layer) and not model.built:
        model.build(input_shape)
    self.input_spec = keras.layers.InputSpec(
        min_ndim=2, axes={-1: self._input_size(input_shape)})
    divergence_terms.carry(self, [self._divergence])

  def _distribution(self, model: Any, inputs: tf.Tensor,
                    what: str) -> tfd.Distribution:
    distribution = distribution_lambda.distribution_of(model(inputs))
    if not isinstance(distribution, tfd.Distribution):
      raise TypeError(f'{self.name}: expected `make_{what}_fn` to make a '
                      'layer whose output is a distribution; received '
                      f'{type(distribution).__name__}.')
    return distribution

  def _weights(self, posterior: tfd.Distribution, input_size: int,
               seed: tf.Tensor
               ) -> Tuple[tf.Tensor, tf.Tensor, Optional[tf.Tensor]]:
    """Draws the flattened weights; returns them with the kernel and bias."""
    weights = posterior.sample(seed=seed)
    kernel_size = input_size * self.units
    expected = kernel_size + (self.units if self.use_bias else 0)
    if weights.shape[-1] != expected or weights.shape.rank != 1:
      raise ValueError(f'{self.name}: expected the posterior to draw '
                       f'{expected} weights (kernel {input_size}x{self.units}'
                       f'{" and bias" if self.use_bias else ""}); received '
                       f'draws of shape {weights.shape}.')
    kernel = tf.reshape(weights[:kernel_size], [input_size, self.units])
    bias = weights[kernel_size:] if self.use_bias else None
    return weights, kernel, bias

  def call(self, inputs: Any,
           seed: Optional[seeds_lib.SeedLike] = None) -> tf.Tensor:
    """Draws the weights, adds the KL to `losses`, returns the outputs.

    Args:
      inputs: inputs of shape `[batch, ..., input_size]`.
      seed: a stateless seed for the weights' draw, or `None` for the next
        of the layer's own.

    Returns:
      `activation(inputs @ kernel + bias)`.
    """
    x = checks.convert_inputs(inputs, tf.as_dtype(self.compute_dtype),
                                  self.name)
    posterior = self._distribution(self._posterior, x, 'posterior')
    seed = call_seeds.call_seed(self._seed_generator, seed, self)
    weights, kernel, bias = self._weights(posterior, int(x.shape[-1]), seed)
    self._last_call.keep(_pipeline.Record((seed,), (None,), (weights,)))
    outputs = linear_maps.dense.apply(x, kernel)
    if bias is not None:
      outputs = outputs + bias
    return self.activation(outputs)

  def _divergence(self) -> tf.Tensor:
    """The KL term, computed now (`tfnx._pipeline.divergence`)."""
    inputs = tf.zeros([1, self.input_spec.axes[-1]], self.compute_dtype)
    weight = self.kl_weight

    def weighted(kl: tf.Tensor) -> tf.Tensor:
      return tf.reduce_sum(kl if weight is None
                           else tf.cast(weight, kl.dtype) * kl)

    if self.kl_use_exact:
      divergence_fn = losses_lib.sample_free(
          lambda q, p, _: weighted(tfd.kl_divergence(q, p)))
    else:
      divergence_fn = lambda q, p, w: weighted(q.log_prob(w) - p.log_prob(w))
    # The models' distribution layers draw values nobody uses here; seeded,
    # they leave their own generators as they were.
    with predictive.layer_seeds(0):
      parts = (_pipeline.Part(
          self._distribution(self._posterior, inputs, 'posterior'),
          self._distribution(self._prior, inputs, 'prior'), divergence_fn,
          tfd.Distribution.sample),)
    return _pipeline.divergence(self._last_call.record(parts), parts, 0,
                                self.variable_dtype)

  def compute_output_shape(self, input_shape) -> tuple:
    """`input_shape` with its last axis replaced by `units`."""
    self._input_size(tuple(input_shape))
    return tuple(input_shape)[:-1] + (self.units,)

  def get_config(self) -> dict:
    """The constructor's arguments; the two functions Keras-serialized."""
    config = super().get_config()
    config.update(
        units=self.units,
        **serialization.serialized_attributes(self, _FUNCTION_KEYS),
        kl_weight=self.kl_weight, kl_use_exact=self.kl_use_exact,
        activation=keras.activations.serialize(self.activation),
        use_bias=self.use_bias, seed=self.seed)
    return config

  @classmethod
  def from_config(cls, config: dict) -> 'DenseVariational':
    """Rebuilds the layer; functions registered or in `custom_objects`."""
    return cls(**serialization.deserialized(
        config, _FUNCTION_KEYS, distribution_lambda.deserialize_function))
