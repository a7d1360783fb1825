"""`SpikeAndSlabNormal`: the closed-form two-Gaussian spike-and-slab prior."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import special, stats

import tfnx as tfn

tfd = tfp.distributions
X = np.array([0., 0.3, -2., 7., -40., 1e3, 1e4, 1e5], np.float64)


def _reference_log_prob(x, p, spike, slab):
  return special.logsumexp(
      [np.log(p) + stats.norm.logpdf(x, 0, spike),
       np.log1p(-p) + stats.norm.logpdf(x, 0, slab)], axis=0)


@pytest.mark.parametrize('p, spike, slab', [
    (0.5, 1., 2000.), (0.2, 3., 0.1), (0.9, 0.05, 1.), (0.5, 1., 1.)])
def test_log_prob_is_the_mixture_log_density_even_far_out(p, spike, slab):
  dist = tfn.distributions.SpikeAndSlabNormal(p, spike, slab)
  expected = _reference_log_prob(X, p, spike, slab)
  np.testing.assert_allclose(dist.log_prob(X.astype(np.float32)), expected,
                             rtol=2e-6)
  dist64 = tfn.distributions.SpikeAndSlabNormal(
      p, tf.constant(spike, tf.float64), slab)
  np.testing.assert_allclose(dist64.log_prob(X), expected, rtol=1e-12)


def test_log_prob_gradient_matches_mixture_same_family():
  dist = tfn.distributions.SpikeAndSlabNormal(0.3, 0.5, 4.)
  mixture = tfd.MixtureSameFamily(tfd.Categorical(probs=[0.3, 0.7]),
                                  tfd.Normal(0., [0.5, 4.]))
  x = tf.constant(np.linspace(-20., 20., 101), tf.float32)
  gradients = []
  for d in (dist, mixture):
    with tf.GradientTape() as tape:
      tape.watch(x)
      log_prob = d.log_prob(x)
    gradients.append(tape.gradient(log_prob, x).numpy())
  np.testing.assert_allclose(gradients[0], gradients[1], rtol=1e-5,
                             atol=1e-6)


def test_samples_have_the_mixture_moments():
  p, spike, slab, n = 0.3, 1., 3., 100_000
  dist = tfn.distributions.SpikeAndSlabNormal(p, spike, slab)
  w = dist.sample(n, seed=(1, 2)).numpy()
  variance = p * spike**2 + (1 - p) * slab**2
  fourth = 3 * (p * spike**4 + (1 - p) * slab**4)
  assert abs(w.mean()) < 5 * np.sqrt(variance / n)
  assert abs(np.mean(w**2) - variance) < 5 * np.sqrt(
      (fourth - variance**2) / n)
  np.testing.assert_allclose(dist.variance(), variance, rtol=1e-6)
  np.testing.assert_array_equal(dist.sample(4, seed=(1, 2)),
                                dist.sample(4, seed=(1, 2)))


@pytest.mark.parametrize('p', [0., 1., 1.5])
def test_validate_args_rejects_a_degenerate_spike_probability(p):
  with pytest.raises(tf.errors.InvalidArgumentError, match='spike_prob'):
    tfn.distributions.SpikeAndSlabNormal(p, validate_args=True)


def test_default_prior_is_tfps_spike_and_slab_in_closed_form():
  prior = tfn.util.make_kernel_bias_prior_spike_and_slab([3, 2], [2])
  kernel = np.array([[0.1, -3.], [20., 0.], [1e3, 2.]], np.float32)
  expected = _reference_log_prob(kernel.astype(np.float64), 0.5, 1.,
                                 2000.).sum()
  kernel_prior = prior.model[0]
  np.testing.assert_allclose(kernel_prior.log_prob(kernel), expected,
                             rtol=1e-6)
