"""What tells the three estimators apart, through the dense layers.

Correlations between examples and gradient variances, within five standard
errors at fixed seeds. That each estimator's outputs have the mean and
variance its posterior implies is pinned for every layer in
conformance/test_moments.py.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx as tfn
import tfnx.keras as tfpl
from tfnx import estimators

tfd = tfp.distributions

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


@pytest.mark.parametrize('cls, estimator', [
    (tfn.AffineVariationalReparameterization, estimators.REPARAMETERIZATION),
    (tfn.AffineVariationalFlipout, estimators.FLIPOUT),
    (tfn.AffineVariationalReparameterizationLocal,
     estimators.LOCAL_REPARAMETERIZATION),
    (tfn.ConvolutionVariationalFlipout, estimators.FLIPOUT),
    (tfpl.DenseLocalReparameterization, estimators.LOCAL_REPARAMETERIZATION),
    (tfpl.Conv2DReparameterization, estimators.REPARAMETERIZATION),
    (tfpl.LSTMCellFlipout, estimators.FLIPOUT)])
def test_each_layer_declares_its_estimator_as_a_value(cls, estimator):
  assert cls._estimator is estimator  # pylint: disable=protected-access
  assert isinstance(estimator, estimators.Estimator)


def test_an_estimator_value_is_frozen_and_its_sampler_carries_no_attributes():
  with pytest.raises(dataclasses.FrozenInstanceError):
    estimators.FLIPOUT.rows_independent = False
  for estimator in (estimators.REPARAMETERIZATION, estimators.FLIPOUT,
                    estimators.LOCAL_REPARAMETERIZATION):
    assert not hasattr(estimator.sample, 'rows_independent')
    assert not hasattr(estimator.sample, 'rows_normal')
    assert estimator.summary.endswith('.') and '\n' not in estimator.summary


def test_the_estimators_declare_what_they_support():
  dense, conv = tfn.linear_maps.dense, tfn.linear_maps.convolution(2)
  declared = {e.name: (e.needs_normal_kernel, e.rows_independent,
                       e.rows_normal(dense), e.rows_normal(conv),
                       e.draw_weights is not None)
              for e in (estimators.REPARAMETERIZATION, estimators.FLIPOUT,
                        estimators.LOCAL_REPARAMETERIZATION)}
  assert declared == {
      'reparameterization': (False, False, False, False, True),
      'flipout': (True, True, True, False, True),
      'local_reparameterization': (True, True, True, True, False)}


def test_an_estimator_declaring_no_normal_kernel_takes_any_posterior():
  point_mass = tfd.Independent(tfd.Deterministic(tf.zeros([3, 2])), 2)
  any_kernel = dataclasses.replace(estimators.FLIPOUT,
                                   needs_normal_kernel=False)
  estimators.check_kernel_posterior(any_kernel, point_mass, 'layer')
  with pytest.raises(TypeError, match='layer: the flipout estimator needs'):
    estimators.check_kernel_posterior(estimators.FLIPOUT, point_mass, 'layer')


def _normal(loc, scale):
  return tfd.Independent(tfd.Normal(loc, scale), 2)


def test_flipout_weights_share_one_perturbation_and_flip_it_per_row():
  kernel = _normal(tf.fill([3, 4], 0.5), tf.fill([3, 4], 2.))
  recurrent = _normal(tf.zeros([2, 4]), tf.ones([2, 4]))
  (kernel_draw, recurrent_draw, bias_draw), output_signs = (
      estimators.flipout_weights([kernel, recurrent, None], [None] * 3,
                                 tf.constant(5), [3, 2, 4],
                                 tf.constant([1, 2]), tf.float32))
  assert bias_draw is None
  for draw, size in zip((kernel_draw, recurrent_draw), (3, 2)):
    assert draw.signs.shape == [5, size]
    assert set(np.unique(draw.signs)) == {-1., 1.}
  assert output_signs.shape == [5, 4]
  np.testing.assert_array_equal(kernel_draw.weight, 0.5)
  np.testing.assert_array_equal(kernel_draw.value,
                                kernel_draw.weight + kernel_draw.delta)


def test_sample_weights_draw_each_weight_with_its_own_posterior_value_fn():
  kernel = _normal(tf.zeros([3, 4]), tf.ones([3, 4]))
  bias = tfd.Independent(tfd.Normal(tf.zeros([4]), tf.ones([4])), 1)
  mean = lambda d, seed: d.mean()
  draws, output_signs = estimators.sample_weights(
      [kernel, bias], [tfd.Distribution.sample, mean], tf.constant(5), [],
      tf.constant([3, 4]), tf.float32)
  assert output_signs is None and draws[0].delta is None
  np.testing.assert_array_equal(draws[1].value, np.zeros([4]))
  assert np.std(draws[0].value) > 0.1
