"""Each fast path of `tfnx._fast_paths` against the general path it replaces."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx as tfn
import tfnx.keras as tfpl
from tfnx import _fast_paths

tfd = tfp.distributions


def _kernel_posterior():
  kernel = tfn.util.make_kernel_bias_posterior_mvn_diag([40, 30], [30]).model[0]
  raw = kernel.distribution.scale.pretransformed_input
  # Raw values from far below TFP's stable-gradient cutoff (-9) to large.
  raw.assign(tf.random.stateless_normal([40, 30], (1, 2)) * 8. - 4.)
  return kernel, raw


def test_normal_sample_has_the_moments_of_tfp_sample():
  normal = tfd.Normal(tf.fill([20000], 1.5), tf.fill([20000], 0.5))
  fast = _fast_paths.normal_sample(normal, tfd.Distribution.sample, (1, 2))
  general = normal.sample(seed=(1, 2))
  for values in (fast, general):
    # 5 standard errors of the mean and of the variance.
    assert abs(np.mean(values) - 1.5) < 5 * 0.5 / np.sqrt(20000)
    assert abs(np.var(values) - 0.25) < 5 * 0.25 * np.sqrt(2 / 20000)
  assert _fast_paths.normal_sample(normal, lambda d, seed: d.mean(),
                                   (1, 2)) is None
  assert _fast_paths.normal_sample(tfd.Laplace(0., 1.),
                                   tfd.Distribution.sample, (1, 2)) is None


def test_materialized_scales_and_gradients_are_the_softplus_ones():
  kernel, raw = _kernel_posterior()

  @tf.function
  def scales_and_gradients():
    with tf.GradientTape() as tape:
      _, scale = _fast_paths.normal_parameters(kernel)
    return scale, tape.gradient(scale, raw)

  scale, gradient = scales_and_gradients()
  np.testing.assert_allclose(scale, kernel.distribution.scale, rtol=1e-6)
  raw64 = raw.numpy().astype(np.float64)
  np.testing.assert_allclose(scale, np.logaddexp(0., raw64) + 1e-5, rtol=1e-6)
  np.testing.assert_allclose(gradient, 1. / (1. + np.exp(-raw64)), rtol=1e-6)
  # TF's own softplus op, not TFP's custom gradient around it (5 more ops).
  types = support.op_types(scales_and_gradients.get_concrete_function())
  assert types.count('Softplus') == 1
  assert not {'Log1p', 'SelectV2'} & set(types)


def test_a_materialized_posterior_is_the_same_distribution():
  kernel, _ = _kernel_posterior()
  copy = _fast_paths.with_parameters(
      kernel, _fast_paths.normal_parameters(kernel))
  w = kernel.sample(seed=(3, 4))
  np.testing.assert_allclose(copy.log_prob(w), kernel.log_prob(w), rtol=1e-6)
  assert copy.event_shape == kernel.event_shape
  assert _fast_paths.normal_parameters(tfd.Laplace(0., 1.)) is None


@pytest.mark.parametrize('dtype', [tf.float32, tf.float64])
def test_independent_normal_entropy_is_tfp_entropy(dtype):
  scale = tf.random.stateless_uniform([7, 5], (1, 2), 0.1, 3., dtype)
  q = tfd.Independent(tfd.Normal(tf.zeros([7, 5], dtype), scale), 2)
  np.testing.assert_allclose(_fast_paths.independent_normal_entropy(q),
                             q.entropy(), rtol=1e-6)
  batched = tfd.Independent(tfd.Normal(tf.zeros([7, 5], dtype), scale), 1)
  assert _fast_paths.independent_normal_entropy(batched) is None


class _ShiftedSample(tfd.Independent):
  """An `Independent(Normal)` subclass whose draws are its mean plus one."""

  def _sample_n(self, n, seed=None):
    return tf.broadcast_to(self.mean() + 1., tf.concat(
        [[n], self.batch_shape_tensor(), self.event_shape_tensor()], 0))


def test_a_subclass_of_a_normal_posterior_keeps_its_own_methods():
  posterior = _ShiftedSample(tfd.Normal(tf.zeros([3, 2]), 1.), 2)
  assert _fast_paths.normal_parameters(posterior) is None
  layer = tfpl.DenseReparameterization(
      2, kernel_posterior_fn=lambda *args: posterior,
      kernel_posterior_tensor_fn=tfd.Distribution.sample, kernel_prior_fn=None,
      bias_posterior_fn=None)
  x = tf.ones([4, 3])
  np.testing.assert_allclose(layer(x, seed=1),
                             tf.ones([4, 3]) @ tf.ones([3, 2]))
