"""The KL terms a variational layer records: closed form and Monte Carlo."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import integrate, stats

import tfnx as tfn

ESTIMATORS = [tfn.AffineVariationalReparameterization,
              tfn.AffineVariationalFlipout,
              tfn.AffineVariationalReparameterizationLocal]


def _normal_kl(loc, scale):
  """KL(N(loc, scale) || N(0, 1)), summed."""
  return np.sum(-np.log(scale) + (scale**2 + loc**2) / 2. - 0.5)


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_exact_kl_to_a_normal_prior_equals_the_closed_form(cls):
  layer = cls(3, 2, make_prior_fn=tfn.util.make_kernel_bias_prior_normal,
              seed=1)
  layer.kernel_posterior.distribution.scale.assign(tf.fill([3, 2], 0.4))
  layer.bias_posterior.distribution.loc.assign([0.3, -0.6])
  layer(tf.ones([2, 3]), seed=2)
  kernel_kl, bias_kl = layer.losses
  kernel = layer.kernel_posterior.distribution
  np.testing.assert_allclose(
      kernel_kl, _normal_kl(kernel.loc.numpy(), 0.4), rtol=1e-5)
  np.testing.assert_allclose(
      bias_kl, _normal_kl(np.array([0.3, -0.6]), 1e-3), rtol=1e-5)
  np.testing.assert_allclose(layer.extra_loss, kernel_kl + bias_kl)


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_a_closed_form_kl_is_that_of_the_weights_when_read(cls):
  layer = cls(3, 2, make_prior_fn=tfn.util.make_kernel_bias_prior_normal,
              seed=1)
  layer(tf.ones([2, 3]), seed=2)
  kernel = layer.kernel_posterior.distribution
  kernel.scale.assign(tf.fill([3, 2], 0.4))  # After the call.
  np.testing.assert_allclose(
      layer.losses[0], _normal_kl(kernel.loc.numpy(), 0.4), rtol=1e-5)


def _spike_and_slab_kl(loc, scale):
  """KL(N(loc, scale) || 0.5 N(0, 1) + 0.5 N(0, 2000)) by quadrature."""
  def integrand(w):
    q = stats.norm(loc, scale)
    p = 0.5 * stats.norm.pdf(w, 0, 1) + 0.5 * stats.norm.pdf(w, 0, 2000)
    return q.pdf(w) * (q.logpdf(w) - np.log(p))
  return integrate.quad(integrand, loc - 12 * scale, loc + 12 * scale)[0]


@pytest.mark.slow
@pytest.mark.parametrize('cls', ESTIMATORS)
def test_monte_carlo_kl_is_unbiased_for_the_spike_and_slab_prior(cls):
  layer = cls(2, 1, seed=4)
  kernel = layer.kernel_posterior.distribution
  kernel.loc.assign([[0.5], [-1.5]])
  kernel.scale.assign([[0.8], [0.3]])
  truth = sum(_spike_and_slab_kl(m, s) for m, s in
              [(0.5, 0.8), (-1.5, 0.3)])
  call = tf.function(lambda s: (layer(tf.ones([1, 2]), seed=s),
                                layer.losses[0])[1])
  kls = np.array([call(tf.constant([i, 3])).numpy() for i in range(3000)])
  standard_error = kls.std(ddof=1) / np.sqrt(len(kls))
  assert abs(kls.mean() - truth) < 5 * standard_error, (kls.mean(), truth)


def test_default_divergence_is_exact_where_registered_else_monte_carlo():
  normal = tfn.AffineVariationalFlipout(
      3, 2, make_prior_fn=tfn.util.make_kernel_bias_prior_normal)
  spike = tfn.AffineVariationalFlipout(3, 2)
  assert normal._divergence_fns == (tfn.losses.kl_divergence_exact,) * 2
  assert spike._divergence_fns == (
      tfn.losses.kl_divergence_entropy_monte_carlo,) * 2


def test_default_divergence_is_exact_where_tfp_has_it_else_monte_carlo():
  tfd = tfp.distributions
  normal = tfd.Independent(tfd.Normal(tf.zeros([3]), 1.), 1)
  prior = tfd.Sample(tfn.distributions.SpikeAndSlabNormal(), [3])
  laplace = tfd.Independent(tfd.Laplace(tf.zeros([3]), 1.), 1)
  mixture = tfd.MixtureSameFamily(tfd.Categorical(logits=[0., 0.]),
                                  tfd.Normal([0., 1.], 1.))
  assert (tfn.losses.default_divergence(normal, normal)
          is tfn.losses.kl_divergence_exact)
  assert (tfn.losses.default_divergence(normal, prior)
          is tfn.losses.kl_divergence_entropy_monte_carlo)
  assert (tfn.losses.default_divergence(mixture, laplace)
          is tfn.losses.kl_divergence_monte_carlo)


def test_monte_carlo_kl_reuses_the_flipout_perturbation():
  layer = tfn.AffineVariationalFlipout(3, 2, seed=1)
  layer(tf.ones([4, 3]), seed=9)
  kernel_sample = layer.posterior_value[0]
  expected = (-layer.kernel_posterior.entropy()
              - layer.kernel_prior.log_prob(kernel_sample))
  np.testing.assert_allclose(layer.losses[0], expected, rtol=1e-5)


def _kl_and_gradients(divergence, loc, scale, seed):
  loc, pre_scale = tf.Variable(loc), tf.Variable(scale)
  with tf.GradientTape() as tape:
    posterior = tfp.distributions.Independent(
        tfp.distributions.Normal(loc, tf.identity(pre_scale)), 1)
    eps = tf.random.stateless_normal(loc.shape, seed)
    sample = loc + pre_scale * eps
    prior = tfp.distributions.Sample(tfn.distributions.SpikeAndSlabNormal(),
                                     loc.shape)
    kl = divergence(posterior, prior, sample)
  return [kl.numpy()] + [g.numpy() for g in
                         tape.gradient(kl, [loc, pre_scale])]


@pytest.mark.slow
def test_entropy_monte_carlo_kl_has_the_same_gradients_and_less_variance():
  loc, scale = np.array([0.5, -1.5], np.float32), np.array([0.8, 0.3],
                                                          np.float32)
  plain, entropy = [], []
  for i in range(400):
    seed = (i, 5)
    plain.append(_kl_and_gradients(tfn.losses.kl_divergence_monte_carlo,
                                   loc, scale, seed))
    entropy.append(_kl_and_gradients(
        tfn.losses.kl_divergence_entropy_monte_carlo, loc, scale, seed))
  for p, e in zip(plain, entropy):
    # Same sample, same gradients: log q(w) and -H(q) differ by noise whose
    # gradient along a reparameterized sample is zero.
    np.testing.assert_allclose(e[1], p[1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(e[2], p[2], rtol=1e-4, atol=1e-5)
  plain_kl = np.array([p[0] for p in plain])
  entropy_kl = np.array([e[0] for e in entropy])
  # Less variance, beyond what 400 draws of each could show by chance (an F
  # test at the 0.1% level; the ratio is about 0.64 here).
  ratio = plain_kl.var(ddof=1) / entropy_kl.var(ddof=1)
  assert stats.f.sf(ratio, len(plain_kl) - 1, len(entropy_kl) - 1) < 1e-3
  truth = sum(_spike_and_slab_kl(m, s) for m, s in zip(loc, scale))
  standard_error = entropy_kl.std(ddof=1) / np.sqrt(len(entropy_kl))
  assert abs(entropy_kl.mean() - truth) < 5 * standard_error


def test_custom_divergence_fn_receives_the_call_sample():
  seen = []

  def divergence(q, r, w):
    seen.append(w)
    return 2. * tfn.losses.kl_divergence_monte_carlo(q, r, w)

  layer = tfn.AffineVariationalReparameterization(3, 2, seed=1,
                                                  divergence_fn=divergence)
  layer(tf.ones([4, 3]), seed=9)
  kernel = layer.posterior_value[0]
  expected = 2. * (layer.kernel_posterior.log_prob(kernel)
                   - layer.kernel_prior.log_prob(kernel))
  np.testing.assert_allclose(layer.losses[0], expected, rtol=1e-5)
  assert len(seen) == 2
