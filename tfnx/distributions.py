"""Distributions tfnx adds to TFP's: the spike-and-slab weight prior in closed form."""

from typing import Optional

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

__all__ = ['SpikeAndSlabNormal']


class SpikeAndSlabNormal(tfd.AutoCompositeTensorDistribution):
  """A two-component scale mixture of zero-mean normals: a spike and a slab.

  `p(w) = pi N(w; 0, spike_scale**2) + (1 - pi) N(w; 0, slab_scale**2)`,
  with `pi = spike_probability`. It is the distribution a
  `MixtureSameFamily(Categorical([pi, 1 - pi]), Normal(0, [spike_scale,
  slab_scale]))` describes, with a log density written out as one
  log-sum-exp of the two components' log densities: a handful of elementwise
  ops where the general mixture gathers, stacks and reduces per component,
  which made it the most expensive part of a variational layer's step.

  Args:
    spike_probability: the spike's weight `pi`, in (0, 1) (a weight of 0 or
      1 is a single normal: use `tfd.Normal`).
    spike_scale: the spike's standard deviation, positive.
    slab_scale: the slab's standard deviation, positive.
    validate_args: whether to check the parameters and `log_prob`'s inputs.
    allow_nan_stats: TFP's flag; statistics here are always defined.
    name: the distribution's name.
  """

  def __init__(self,
               spike_probability=0.5,
               spike_scale=1.,
               slab_scale=2000.,
               validate_args: bool = False,
               allow_nan_stats: bool = True,
               name: str = 'SpikeAndSlabNormal'):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      dtype = tf.convert_to_tensor(spike_scale, dtype_hint=tf.float32).dtype
      self._spike_probability = tf.convert_to_tensor(spike_probability, dtype)
      self._spike_scale = tf.convert_to_tensor(spike_scale, dtype)
      self._slab_scale = tf.convert_to_tensor(slab_scale, dtype)
      super().__init__(
          dtype=dtype,
          reparameterization_type=tfd.NOT_REPARAMETERIZED,
          validate_args=validate_args,
          allow_nan_stats=allow_nan_stats,
          parameters=parameters,
          name=name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    del dtype, num_classes  # Every parameter is an unconstrained scalar here.
    return dict(spike_probability=tfp.util.ParameterProperties(),
                spike_scale=tfp.util.ParameterProperties(),
                slab_scale=tfp.util.ParameterProperties())

  @property
  def spike_probability(self) -> tf.Tensor:
    """The spike's mixture weight."""
    return self._spike_probability

  @property
  def spike_scale(self) -> tf.Tensor:
    """The spike's standard deviation."""
    return self._spike_scale

  @property
  def slab_scale(self) -> tf.Tensor:
    """The slab's standard deviation."""
    return self._slab_scale

  def _event_shape(self):
    return tf.TensorShape([])

  def _event_shape_tensor(self):
    return tf.constant([], tf.int32)

  def _log_prob(self, x):
    # log p = wide + softplus(narrow - wide), the components' weighted log
    # densities with the wider one outside. The softplus's argument is at
    # most a constant, so the sum never cancels large terms, and far out
    # (where the wide component is all of p) it vanishes. Every per-weight
    # term is one multiply-add of x**2; the rest are scalars.
    spike_is_wide = self._spike_scale >= self._slab_scale
    p = self._spike_probability
    wide_scale = tf.where(spike_is_wide, self._spike_scale, self._slab_scale)
    narrow_scale = tf.where(spike_is_wide, self._slab_scale, self._spike_scale)
    wide_log_weight = tf.where(spike_is_wide, tf.math.log(p), tf.math.log1p(-p))
    narrow_log_weight = tf.where(spike_is_wide, tf.math.log1p(-p),
                                 tf.math.log(p))
    log_2pi = tf.math.log(tf.constant(2. * 3.141592653589793, self.dtype))
    wide_constant = wide_log_weight - tf.math.log(wide_scale) - 0.5 * log_2pi
    gap_constant = (narrow_log_weight - tf.math.log(narrow_scale)
                    - wide_log_weight + tf.math.log(wide_scale))
    wide_rate = 0.5 / tf.square(wide_scale)
    gap_rate = 0.5 / tf.square(narrow_scale) - wide_rate
    square = tf.square(x)
    return (wide_constant - wide_rate * square
            + tf.nn.softplus(gap_constant - gap_rate * square))

  def _sample_n(self, n, seed=None):
    component_seed, normal_seed = tfp.random.split_seed(
        tfp.random.sanitize_seed(seed), n=2)
    shape = tf.concat([[n], self._batch_shape_tensor()], axis=0)
    in_spike = (tf.random.stateless_uniform(shape, component_seed,
                                            dtype=self.dtype)
                < self._spike_probability)
    scale = tf.where(in_spike, self._spike_scale, self._slab_scale)
    return scale * tf.random.stateless_normal(shape, normal_seed,
                                              dtype=self.dtype)

  def _mean(self):
    return tf.zeros(self._batch_shape_tensor(), self.dtype)

  def _variance(self):
    p = self._spike_probability
    variance = (p * tf.square(self._spike_scale)
                + (1. - p) * tf.square(self._slab_scale))
    return tf.broadcast_to(variance, self._batch_shape_tensor())

  def _parameter_control_dependencies(self, is_init):
    if not self.validate_args:
      return []
    p = self._spike_probability
    return [
        tf.debugging.assert_greater(
            p, tf.zeros([], self.dtype),
            message='spike_probability must be in (0, 1).'),
        tf.debugging.assert_less(
            p, tf.ones([], self.dtype),
            message='spike_probability must be in (0, 1).'),
        tf.debugging.assert_positive(self._spike_scale,
                                     message='spike_scale must be positive.'),
        tf.debugging.assert_positive(self._slab_scale,
                                     message='slab_scale must be positive.'),
    ]
