"""`tfnx.metrics`: NLL, calibration bins, ECE and predictive entropy on hand-made inputs."""

import numpy as np
import pytest

import tfnx as tfn


def test_nll_is_the_mean_negative_log_probability_of_the_labels():
  probs = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]], np.float32)
  labels = np.array([0, 1, 1])
  expected = -np.mean(np.log([0.5, 0.1, 0.8]))
  np.testing.assert_allclose(tfn.metrics.negative_log_likelihood(probs, labels),
                             expected, rtol=1e-6)


def test_nll_of_a_zero_probability_is_finite():
  nll = tfn.metrics.negative_log_likelihood(np.array([[1., 0.]]), [1])
  assert np.isfinite(nll) and nll > 80.


def test_nll_reads_batched_predictions():
  probs = np.array([[[0.5, 0.5], [0.9, 0.1]]], np.float64)
  np.testing.assert_allclose(
      tfn.metrics.negative_log_likelihood(probs, [[1, 0]]),
      -np.mean(np.log([0.5, 0.9])))


def test_calibration_bins_group_by_confidence():
  # Confidences 0.9, 0.9, 0.9, 0.9 (three right) and 0.55, 0.65 (one right),
  # in five bins of width 0.2.
  probs = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.9, 0.1],
                    [0.55, 0.45], [0.35, 0.65]], np.float32)
  labels = np.array([0, 1, 0, 1, 0, 0])
  bins = tfn.metrics.calibration_bins(probs, labels, num_bins=5)
  np.testing.assert_allclose(bins.edges, [0., .2, .4, .6, .8, 1.], atol=1e-6)
  np.testing.assert_array_equal(bins.counts, [0, 0, 1, 1, 4])
  np.testing.assert_allclose(bins.accuracy, [0, 0, 1, 0, 0.75])
  np.testing.assert_allclose(bins.confidence, [0, 0, 0.55, 0.65, 0.9],
                             rtol=1e-6)


def test_ece_weighs_each_bin_gap_by_its_share_of_predictions():
  probs = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.9, 0.1],
                    [0.55, 0.45], [0.35, 0.65]], np.float32)
  labels = np.array([0, 1, 0, 1, 0, 0])
  expected = (4 * abs(0.75 - 0.9) + abs(1 - 0.55) + abs(0 - 0.65)) / 6
  np.testing.assert_allclose(
      tfn.metrics.expected_calibration_error(probs, labels, num_bins=5),
      expected, rtol=1e-5)


def test_ece_matches_a_reference_on_random_predictions():
  rng = np.random.RandomState(0)
  logits = rng.normal(size=(500, 4)) * 3
  probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
  labels = rng.randint(0, 4, size=500)
  confidence, predicted = probs.max(-1), probs.argmax(-1)
  index = np.minimum(np.ceil(confidence * 15).astype(int) - 1, 14)
  reference = sum(
      np.mean(index == b) * abs(np.mean(predicted[index == b]
                                        == labels[index == b])
                                - np.mean(confidence[index == b]))
      for b in range(15) if np.any(index == b))
  np.testing.assert_allclose(
      tfn.metrics.expected_calibration_error(probs, labels), reference,
      rtol=1e-5)


def test_ece_is_zero_for_confident_correct_predictions_and_one_for_wrong():
  probs = np.eye(3, dtype=np.float32)
  assert tfn.metrics.expected_calibration_error(probs, [0, 1, 2]) == 0.
  np.testing.assert_allclose(
      tfn.metrics.expected_calibration_error(probs, [1, 2, 0]), 1.)


def test_predictive_entropy_is_log_k_when_uniform_and_zero_when_certain():
  np.testing.assert_allclose(
      tfn.metrics.predictive_entropy(np.full([2, 5], 0.2)), [np.log(5)] * 2,
      rtol=1e-6)
  np.testing.assert_allclose(tfn.metrics.predictive_entropy(np.eye(3)),
                             [0., 0., 0.])


def test_metrics_reject_float_labels_bad_shapes_and_bad_bins():
  with pytest.raises(TypeError, match='integer labels'):
    tfn.metrics.negative_log_likelihood([[0.5, 0.5]], [0.])
  with pytest.raises(ValueError, match=r'shape \[\.\.\., classes\]'):
    tfn.metrics.expected_calibration_error([[0.5, 0.5]], [[0]])
  with pytest.raises(ValueError, match='num_bins'):
    tfn.metrics.calibration_bins([[0.5, 0.5]], [0], num_bins=0)


def test_entropy_splits_into_expected_entropy_and_mutual_information():
  sample_probs = np.random.RandomState(0).dirichlet(
      np.ones(4), size=(7, 3)).astype(np.float64)
  total = tfn.metrics.predictive_entropy(sample_probs.mean(0))
  np.testing.assert_allclose(
      tfn.metrics.expected_entropy(sample_probs)
      + tfn.metrics.mutual_information(sample_probs), total, rtol=1e-12)
  assert tfn.metrics.mutual_information(sample_probs).shape == (3,)


def test_mutual_information_is_zero_when_passes_agree_and_log2_when_opposed():
  agree = np.tile([[0.3, 0.7]], (5, 1, 1))
  np.testing.assert_allclose(tfn.metrics.mutual_information(agree), [0.],
                             atol=1e-7)
  np.testing.assert_allclose(tfn.metrics.expected_entropy(agree),
                             [-(0.3 * np.log(0.3) + 0.7 * np.log(0.7))],
                             rtol=1e-6)
  opposed = np.array([[[1., 0.]], [[0., 1.]]])
  np.testing.assert_allclose(tfn.metrics.mutual_information(opposed),
                             [np.log(2.)], rtol=1e-12)
  np.testing.assert_allclose(tfn.metrics.expected_entropy(opposed), [0.],
                             atol=1e-12)


def test_sample_probabilities_are_the_passes_class_probabilities_average():
  model = tfn.Sequential([tfn.AffineVariationalFlipout(3, 4, seed=1)])
  x = np.random.RandomState(0).randn(5, 3).astype(np.float32)
  passes = tfn.predictive.sample_probabilities(model, x, 6, seed=[2, 3])
  assert passes.shape == (6, 5, 4)
  np.testing.assert_allclose(np.sum(passes, -1), 1., rtol=1e-6)
  np.testing.assert_allclose(
      np.mean(passes, 0),
      tfn.predictive.class_probabilities(model, x, 6, seed=[2, 3]), rtol=1e-6)
  assert np.all(tfn.metrics.mutual_information(passes) > 0.)
