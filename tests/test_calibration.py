"""`tfnx.calibration`: temperature scaling and the predictive spread's scale."""

import numpy as np
import pytest
import scipy.special
import scipy.stats

import tfnx as tfn


def _softmax_data(n, temperature, seed):
  """Logits `z` and labels drawn from `softmax(z / temperature)`."""
  rng = np.random.RandomState(seed)
  logits = 2. * rng.randn(n, 4)
  probs = scipy.special.softmax(logits / temperature, axis=-1)
  labels = (probs.cumsum(-1) < rng.uniform(size=(n, 1))).sum(-1)
  return scipy.special.softmax(logits, axis=-1), labels


def _nll(probs, labels):
  return float(tfn.metrics.negative_log_likelihood(probs, labels))


def _tempered_total_nll(probs, labels, log_t):
  return len(labels) * _nll(
      tfn.calibration.apply_temperature(probs, np.exp(log_t)), labels)


def test_apply_temperature_keeps_the_argmax_and_one_is_the_identity():
  probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
  np.testing.assert_allclose(tfn.calibration.apply_temperature(probs, 1.),
                             probs, rtol=1e-12)
  hot = tfn.calibration.apply_temperature(probs, 3.).numpy()
  cold = tfn.calibration.apply_temperature(probs, 0.5).numpy()
  np.testing.assert_array_equal(hot.argmax(-1), probs.argmax(-1))
  np.testing.assert_array_equal(cold.argmax(-1), probs.argmax(-1))
  assert np.all(hot.max(-1) < probs.max(-1))
  assert np.all(cold.max(-1) > probs.max(-1))
  np.testing.assert_allclose(cold[0], probs[0]**2 / np.sum(probs[0]**2))


def test_fit_temperature_recovers_the_temperature_within_standard_errors():
  probs, labels = _softmax_data(20000, 2., seed=0)
  log_t = np.log(float(tfn.calibration.fit_temperature(
      probs, labels, log_temperature_scale=float('inf'))))
  # The maximum-likelihood estimate's standard error on log T, from the
  # curvature of the total NLL at the estimate.
  h = 1e-2
  curvature = (_tempered_total_nll(probs, labels, log_t + h)
               - 2. * _tempered_total_nll(probs, labels, log_t)
               + _tempered_total_nll(probs, labels, log_t - h)) / h**2
  assert abs(log_t - np.log(2.)) < 5. / np.sqrt(curvature)


def test_fit_temperature_minimizes_the_penalized_nll():
  probs, labels = _softmax_data(200, 0.5, seed=1)
  scale = 0.5
  temperature = float(tfn.calibration.fit_temperature(probs, labels, scale))

  def objective(log_t):
    return (_nll(tfn.calibration.apply_temperature(probs, np.exp(log_t)),
                 labels) + log_t**2 / (2. * scale**2 * len(labels)))
  best = objective(np.log(temperature))
  for step in (-1e-2, 1e-2):
    assert best <= objective(np.log(temperature) + step)


def test_the_prior_on_log_temperature_pulls_small_sets_towards_one():
  probs, labels = _softmax_data(40, 0.4, seed=2)
  plain = float(tfn.calibration.fit_temperature(
      probs, labels, log_temperature_scale=float('inf')))
  shrunk = float(tfn.calibration.fit_temperature(probs, labels))
  assert plain < shrunk < 1.


def test_fit_temperature_on_80_calibrated_examples_does_not_hurt_on_average():
  # A calibrated model gains nothing from a temperature; fitted on 80
  # examples, the plain fit loses held-out NLL, the default prior less.
  test_probs, test_labels = _softmax_data(4000, 1., seed=3)
  base = _nll(test_probs, test_labels)
  losses = {'inf': [], 'default': []}
  for seed in range(4, 24):
    probs, labels = _softmax_data(80, 1., seed=seed)
    for key, kwargs in (('inf', {'log_temperature_scale': float('inf')}),
                        ('default', {})):
      temperature = tfn.calibration.fit_temperature(probs, labels, **kwargs)
      losses[key].append(_nll(tfn.calibration.apply_temperature(
          test_probs, temperature), test_labels) - base)
  assert np.mean(losses['default']) < np.mean(losses['inf'])
  assert np.mean(losses['default']) < 0.01


def test_fit_temperature_rejects_float_labels_bad_shapes_and_bad_scales():
  probs = np.full((3, 2), 0.5)
  with pytest.raises(TypeError, match='integer labels'):
    tfn.calibration.fit_temperature(probs, [0., 1., 0.])
  with pytest.raises(ValueError, match=r'labels of shape \(3,\)'):
    tfn.calibration.fit_temperature(probs, [0, 1])
  with pytest.raises(ValueError, match='log_temperature_scale'):
    tfn.calibration.fit_temperature(probs, [0, 1, 0], 0.)
  with pytest.raises(TypeError, match='floating probabilities'):
    tfn.calibration.apply_temperature(np.ones((2, 2), np.int32), 1.)


def test_stddev_scale_makes_intervals_cover_fresh_data():
  rng = np.random.RandomState(5)
  n = 20000
  mean = rng.randn(n)
  true_std = rng.uniform(0.5, 2., size=n)
  targets = mean + true_std * rng.randn(n)
  stated = true_std / 2.  # Twice too confident.
  scale = float(tfn.calibration.fit_stddev_scale(mean, stated, targets))
  # The 0.95 quantile's standard error, by the delta method.
  z = scipy.stats.norm.ppf(0.975)
  se = np.sqrt(0.95 * 0.05 / n) / scipy.stats.norm.pdf(z) / z * 2.
  assert abs(scale - 2.) < 5. * se
  fresh = mean + true_std * rng.randn(n)
  covered = np.mean(np.abs(fresh - mean) <= z * scale * stated)
  assert abs(covered - 0.95) < 5. * np.sqrt(2. * 0.95 * 0.05 / n)


def test_fit_stddev_scale_rejects_bad_coverage_and_mismatched_shapes():
  with pytest.raises(ValueError, match='coverage'):
    tfn.calibration.fit_stddev_scale([0.], [1.], [0.], coverage=1.)
  with pytest.raises(ValueError, match='one shape'):
    tfn.calibration.fit_stddev_scale([0., 1.], [1.], [0.])
