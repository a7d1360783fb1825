"""`VariationalGaussianProcess`: `tfp.layers.VariationalGaussianProcess` on Keras 3.

As in `tfp.layers`, the layer's output is the batch of processes (one per
element of `event_shape`) transposed to event shape `[num_index_points,
event_size]`, the layout of Keras targets `y` of shape `[batch, event_size]`,
and its `variational_loss(y, kl_weight=...)` transposes `y` back to the
processes' layout.
"""

from typing import Any, Callable, Optional, Sequence

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _checks as checks
from tfnx.keras import _distribution_lambda as distribution_lambda
from tfnx.keras import _serialization as serialization
from tfnx.keras._export import export

tfd = tfp.distributions
tfb = tfp.bijectors

__all__ = ['VariationalGaussianProcess', 'transposed']

# TFP's initial variational scale: the inducing observations start nearly
# certain at their zero location, so the first steps fit the data.
_INITIAL_SCALE = 1e-5


def transposed(process: tfd.VariationalGaussianProcess) -> tfd.Distribution:
  """`process`, a batch of processes, with the batch as the event's last axis.

  Args:
    process: a `tfd.VariationalGaussianProcess` of batch shape `[..., k]`
      and event shape `[n]`.

  Returns:
    The distribution of event shape `[n, k]`, with the process's
    `variational_loss(y, ...)` for observations `y` of shape `[..., n, k]`
    (or `[n]` when `k` is 1: Keras 2 expanded such targets to `[n, 1]`,
    Keras 3 passes them on as they are) and its
    `surrogate_posterior_kl_divergence_prior()`.
  """
  transpose = tfb.Transpose(rightmost_transposed_ndims=2)
  output = tfd.TransformedDistribution(
      tfd.Independent(process, reinterpreted_batch_ndims=1), transpose)

  def variational_loss(observations: Any, *args, **kwargs) -> tf.Tensor:
    y = tf.cast(observations, process.dtype)
    if y.shape.rank == 1:
      y = y[:, tf.newaxis]
    return process.variational_loss(transpose.forward(y), *args, **kwargs)

  output.variational_loss = variational_loss
  output.surrogate_posterior_kl_divergence_prior = (
      process.surrogate_posterior_kl_divergence_prior)
  return output


@export
class VariationalGaussianProcess(distribution_lambda.DistributionLambda):
  """A layer whose output is a sparse variational Gaussian process at its inputs.

  Inputs of shape `[..., num_points, input_dim]` are the index points of a
  `tfd.VariationalGaussianProcess` with trainable inducing index points,
  variational inducing observations (location and scale: the scale variable
  goes to the process whole, as `tfp.layers` passes it, so the process's KL
  reads its lower triangle and its predictive covariance all of it),
  observation noise variance (`softplus` of a variable) and, unless
  `mean_fn` is given, a trainable constant mean. Train it with
  `loss=lambda y, rv_y: rv_y.variational_loss(y, kl_weight=...)`. The
  output has event shape `[num_points, event_size]` (see `transposed`).

  Args:
    num_inducing_points: the number of inducing points.
    kernel_provider: a Keras layer with a `kernel` property returning a
      `tfp.math.psd_kernels` kernel (its weights are the layer's); the
      layer's dtype is its dtype unless `dtype` is given.
    event_shape: the batch of processes, e.g. `(1,)` for one function.
    inducing_index_points_initializer: initializes the inducing index
      points; default `RandomUniform(-1, 1)`. Place them near the data.
    unconstrained_observation_noise_variance_initializer: initializes the
      variable whose softplus is the noise variance; default `-10`.
    variational_inducing_observations_scale_initializer: initializes the
      scale; default `1e-5` times the identity, as in `tfp.layers`.
    mean_fn: `(index_points) -> mean`; default a trainable constant.
    jitter: added to the kernel matrices' diagonals for stability.
    convert_to_tensor_fn: see `DistributionLambda`.
    **kwargs: `DistributionLambda`'s and Keras layer arguments (`seed`,
      `name`).
  """

  def __init__(
      self, num_inducing_points: int, kernel_provider: keras.layers.Layer,
      event_shape: Sequence[int] = (1,),
      inducing_index_points_initializer: Any = None,
      unconstrained_observation_noise_variance_initializer: Any = -10.,
      variational_inducing_observations_scale_initializer: Any = None,
      mean_fn: Optional[Callable] = None, jitter: float = 1e-6,
      convert_to_tensor_fn=tfd.Distribution.sample, **kwargs):
    if isinstance(kernel_provider, keras.layers.Layer):
      # As in `tfp.layers`, the process takes its kernel provider's dtype.
      kwargs.setdefault('dtype', kernel_provider.dtype_policy)
    super().__init__(None, convert_to_tensor_fn, **kwargs)
    self.num_inducing_points = checks.check_size(
        self.name, 'num_inducing_points', num_inducing_points)
    if not hasattr(kernel_provider, 'kernel'):
      raise TypeError(f'{self.name}: expected a `kernel_provider` with a '
                      f'`kernel` property; received {kernel_provider!r}.')
    self.kernel_provider = kernel_provider
    self.event_shape = tuple(int(d) for d in event_shape)
    self.inducing_index_points_initializer = keras.initializers.get(
        inducing_index_points_initializer
        or keras.initializers.RandomUniform(-1., 1., seed=self.seed))
    noise = unconstrained_observation_noise_variance_initializer
    self.unconstrained_observation_noise_variance_initializer = (
        keras.initializers.get(noise) if not isinstance(noise, (int, float))
        else keras.initializers.Constant(float(noise)))
    self.variational_inducing_observations_scale_initializer = (
        variational_inducing_observations_scale_initializer)
    self.mean_fn = mean_fn
    self.jitter = float(jitter)

  def build(self, input_shape) -> None:
    """Creates the inducing points, variational parameters and noise."""
    input_dim = checks.dense_input_size(self.name, tuple(input_shape))
    m, batch = self.num_inducing_points, self.event_shape
    self._inducing_index_points = self.add_weight(
        name='inducing_index_points', shape=batch + (m, input_dim),
        initializer=self.inducing_index_points_initializer)
    self._loc = self.add_weight(
        name='variational_inducing_observations_loc', shape=batch + (m,),
        initializer='zeros')
    scale_initializer = self.variational_inducing_observations_scale_initializer
    self._scale = self.add_weight(
        name='variational_inducing_observations_scale',
        shape=batch + (m, m), initializer=scale_initializer or 'zeros')
    if scale_initializer is None:
      self._scale.assign(tf.broadcast_to(
          _INITIAL_SCALE * tf.eye(m, dtype=self.variable_dtype),
          batch + (m, m)))
    self._noise = self.add_weight(
        name='unconstrained_observation_noise_variance', shape=(),
        initializer=self.unconstrained_observation_noise_variance_initializer)
    self._mean = None
    if self.mean_fn is None:
      self._mean = self.add_weight(name='mean', shape=(),
                                   initializer='zeros')

  def make_distribution(self, inputs: Any) -> tfd.Distribution:
    """The variational processes at the index points `inputs`, transposed."""
    mean_fn = self.mean_fn
    if mean_fn is None:
      mean = tf.convert_to_tensor(self._mean)

      def mean_fn(x):
        return tf.fill(tf.shape(x)[:-1], mean)
    return transposed(tfd.VariationalGaussianProcess(
        kernel=self.kernel_provider.kernel,
        index_points=tf.convert_to_tensor(inputs),
        inducing_index_points=tf.convert_to_tensor(
            self._inducing_index_points),
        variational_inducing_observations_loc=tf.convert_to_tensor(
            self._loc),
        variational_inducing_observations_scale=tf.convert_to_tensor(
            self._scale),
        mean_fn=mean_fn,
        observation_noise_variance=tf.nn.softplus(
            tf.convert_to_tensor(self._noise)),
        jitter=self.jitter))

  def get_config(self) -> dict:
    """The constructor's arguments; the kernel provider Keras-serialized."""
    config = super().get_config()
    config.update(
        num_inducing_points=self.num_inducing_points,
        event_shape=list(self.event_shape),
        inducing_index_points_initializer=keras.initializers.serialize(
            self.inducing_index_points_initializer),
        unconstrained_observation_noise_variance_initializer=(
            keras.initializers.serialize(
                self.unconstrained_observation_noise_variance_initializer)),
        jitter=self.jitter)
    config.update(serialization.serialized_attributes(self, (
        'kernel_provider', 'mean_fn',
        'variational_inducing_observations_scale_initializer')))
    return config

  @classmethod
  def from_config(cls, config: dict) -> 'VariationalGaussianProcess':
    """Rebuilds the layer and its kernel provider."""
    config = serialization.deserialized(config, ['kernel_provider'])
    config = serialization.deserialized(
        config, ['mean_fn'], distribution_lambda.deserialize_function)
    config = serialization.deserialized(
        config, ('inducing_index_points_initializer',
                 'unconstrained_observation_noise_variance_initializer',
                 'variational_inducing_observations_scale_initializer'),
        keras.initializers.get)
    return super().from_config(config)
