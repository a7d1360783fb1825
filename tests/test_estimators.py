"""What tells the three estimators apart, through the dense layers.

Correlations between examples and gradient variances, within five standard
errors at fixed seeds. That each estimator's outputs have the mean and
variance its posterior implies is pinned for every layer in
conformance/test_moments.py.
"""

import numpy as np
import pytest
import tensorflow as tf

import support
import tfnx as tfn

ESTIMATORS = [tfn.AffineVariationalReparameterization,
              tfn.AffineVariationalFlipout,
              tfn.AffineVariationalReparameterizationLocal]

KERNEL_LOC = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]], np.float32)
KERNEL_SCALE = np.array([[0.3, 0.6], [0.2, 0.9], [1.1, 0.4]], np.float32)
BIAS_LOC = np.array([0.1, -0.2], np.float32)
BIAS_SCALE = np.array([0.5, 0.25], np.float32)
X = np.array([1.0, -2.0, 0.5], np.float32)
NUM_CALLS = 3000


def _layer(cls, **kwargs):
  layer = cls(3, 2, seed=7, **kwargs)
  kernel, bias = layer.kernel_posterior, layer.bias_posterior
  kernel.distribution.loc.assign(KERNEL_LOC)
  kernel.distribution.scale.assign(KERNEL_SCALE)
  bias.distribution.loc.assign(BIAS_LOC)
  bias.distribution.scale.assign(BIAS_SCALE)
  return layer


def _samples(layer, x):
  """Outputs of NUM_CALLS seeded calls, stacked: [calls, *outputs.shape]."""
  return support.seeded_samples(lambda s: layer(x, seed=s), NUM_CALLS)


@pytest.mark.parametrize('cls', [tfn.AffineVariationalFlipout,
                                 tfn.AffineVariationalReparameterizationLocal])
def test_identical_rows_give_uncorrelated_outputs(cls):
  y = _samples(_layer(cls), np.stack([X, X]))
  for unit in range(2):
    r = np.corrcoef(y[:, 0, unit], y[:, 1, unit])[0, 1]
    # Under zero correlation the sample correlation has standard error
    # about 1 / sqrt(n).
    assert abs(r) < 5 / np.sqrt(y.shape[0]), (unit, r)


def test_reparameterization_gives_identical_rows_identical_outputs():
  y = _samples(_layer(tfn.AffineVariationalReparameterization),
               np.stack([X, X]))
  np.testing.assert_array_equal(y[:, 0], y[:, 1])
  assert y[:, 0].std(0).min() > 0.1  # and they are random across calls


def _kernel_loc_gradients(cls, batch):
  layer = cls(4, 2, seed=3)
  layer.kernel_posterior.distribution.scale.assign(tf.fill([4, 2], 0.5))
  x = tf.constant(np.random.RandomState(0).randn(batch, 4), tf.float32)
  loc = layer.kernel_posterior.distribution.loc

  @tf.function
  def grad(seed):
    with tf.GradientTape() as tape:
      y = layer(x, seed=seed)
      loss = tf.reduce_mean(tf.square(y - 1.))
    return tape.gradient(loss, loc)

  return np.stack([grad(tf.constant([i, 5])).numpy() for i in range(300)])


def test_flipout_gradient_variance_is_several_times_lower_than_reparameterization():
  flipout = _kernel_loc_gradients(tfn.AffineVariationalFlipout, 128)
  reparameterization = _kernel_loc_gradients(
      tfn.AffineVariationalReparameterization, 128)
  # Both layers share their initial means (same seed), so the gradients
  # estimate the same expectation; only their variances differ.
  ratio = reparameterization.var(0).sum() / flipout.var(0).sum()
  assert ratio > 5., ratio


def test_local_reparameterization_draws_no_kernel_with_a_closed_form_kl():
  layer = tfn.AffineVariationalReparameterizationLocal(
      3, 2, make_prior_fn=tfn.util.make_kernel_bias_prior_normal)
  layer(X[None], seed=1)
  assert layer.posterior_value[0] is None
