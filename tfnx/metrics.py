"""Metrics of predictive distributions: NLL, calibration, entropy and its split.

They take predicted class probabilities (e.g. `tfnx.predictive.class_probabilities`,
the mean softmax over several stochastic passes) and integer labels, as
tensors or arrays, and return tensors.
"""

from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

__all__ = ['CalibrationBins', 'calibration_bins', 'expected_calibration_error',
           'expected_entropy', 'mutual_information', 'negative_log_likelihood',
           'predictive_entropy']


def _float_probs(probs: Any) -> tf.Tensor:
  probs = tf.convert_to_tensor(probs)
  return probs if probs.dtype.is_floating else tf.cast(probs, tf.float32)


def _probs_and_labels(probs: Any, labels: Any, name: str):
  probs = _float_probs(probs)
  labels = tf.convert_to_tensor(labels)
  if not labels.dtype.is_integer:
    raise TypeError(f'{name}: expected integer labels; received dtype '
                    f'{labels.dtype.name}.')
  if (probs.shape.rank is not None and labels.shape.rank is not None
      and probs.shape.rank != labels.shape.rank + 1):
    raise ValueError(f'{name}: expected probabilities of shape [..., classes] '
                     'and labels of shape [...]; received shapes '
                     f'{probs.shape} and {labels.shape}.')
  return probs, tf.cast(labels, tf.int32)


def _tiny(dtype: tf.DType) -> float:
  return float(np.finfo(dtype.as_numpy_dtype).tiny)


def negative_log_likelihood(probs: Any, labels: Any) -> tf.Tensor:
  """The mean negative log probability of the true labels.

  Args:
    probs: predicted class probabilities, shape `[..., classes]`.
    labels: integer labels, shape `[...]`.

  Returns:
    `-mean(log probs[label])`, a scalar; a zero probability counts as the
    smallest positive number of the dtype rather than giving `inf`.
  """
  probs, labels = _probs_and_labels(probs, labels, 'negative_log_likelihood')
  true_probs = tf.gather(probs, labels, axis=-1, batch_dims=labels.shape.rank)
  return -tf.reduce_mean(tf.math.log(tf.maximum(true_probs,
                                                _tiny(probs.dtype))))


class CalibrationBins(NamedTuple):
  """Predictions grouped by confidence, the data of a reliability diagram.

  Attributes:
    edges: the `num_bins + 1` bin edges, from 0 to 1.
    counts: how many predictions fall in each bin.
    accuracy: the fraction of correct predictions in each bin (0 when empty).
    confidence: the mean confidence in each bin (0 when empty).
  """
  edges: tf.Tensor
  counts: tf.Tensor
  accuracy: tf.Tensor
  confidence: tf.Tensor


def calibration_bins(probs: Any, labels: Any,
                     num_bins: int = 15) -> CalibrationBins:
  """Groups predictions into equal-width bins of confidence.

  The confidence of a prediction is its largest class probability, and it is
  correct when that class is the label. Bin `b` holds confidences in
  `(b / num_bins, (b + 1) / num_bins]`.

  Args:
    probs: predicted class probabilities, shape `[..., classes]`.
    labels: integer labels, shape `[...]`.
    num_bins: the number of bins.

  Returns:
    A `CalibrationBins`.
  """
  if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 1:
    raise ValueError('calibration_bins: expected `num_bins` to be a positive '
                     f'int; received {num_bins!r}.')
  probs, labels = _probs_and_labels(probs, labels, 'calibration_bins')
  confidence = tf.reshape(tf.reduce_max(probs, axis=-1), [-1])
  correct = tf.cast(tf.equal(
      tf.reshape(tf.argmax(probs, axis=-1, output_type=tf.int32), [-1]),
      tf.reshape(labels, [-1])), probs.dtype)
  # Bins are closed on the right, so a confidence of exactly 1 is in the last.
  index = tf.clip_by_value(
      tf.cast(tf.math.ceil(confidence * num_bins), tf.int32) - 1,
      0, num_bins - 1)
  counts = tf.math.unsorted_segment_sum(tf.ones_like(confidence), index,
                                        num_bins)
  safe_counts = tf.maximum(counts, 1.)
  return CalibrationBins(
      edges=tf.linspace(tf.zeros([], probs.dtype), 1., num_bins + 1),
      counts=counts,
      accuracy=tf.math.unsorted_segment_sum(correct, index,
                                            num_bins) / safe_counts,
      confidence=tf.math.unsorted_segment_sum(confidence, index,
                                              num_bins) / safe_counts)


def expected_calibration_error(probs: Any, labels: Any,
                               num_bins: int = 15) -> tf.Tensor:
  """The expected calibration error (ECE) over equal-width confidence bins.

  `sum_b (n_b / n) |accuracy_b - confidence_b|` (Guo et al., 2017): how far,
  on average over predictions, the stated confidence is from the accuracy of
  predictions made with that confidence. Zero for a calibrated predictor.

  Args:
    probs: predicted class probabilities, shape `[..., classes]`.
    labels: integer labels, shape `[...]`.
    num_bins: the number of bins (see `calibration_bins`).

  Returns:
    The ECE, a scalar in `[0, 1]`.
  """
  bins = calibration_bins(probs, labels, num_bins)
  weights = bins.counts / tf.reduce_sum(bins.counts)
  return tf.reduce_sum(weights * tf.abs(bins.accuracy - bins.confidence))


def predictive_entropy(probs: Any) -> tf.Tensor:
  """The entropy of each predictive distribution, in nats.

  High where the model is unsure of the class: a useful score for telling
  unfamiliar inputs from familiar ones.

  Args:
    probs: predicted class probabilities, shape `[..., classes]`.

  Returns:
    `-sum(p log p)` over the last axis, shape `[...]`.
  """
  probs = _float_probs(probs)
  return -tf.reduce_sum(
      probs * tf.math.log(tf.maximum(probs, _tiny(probs.dtype))), axis=-1)


def expected_entropy(sample_probs: Any) -> tf.Tensor:
  """The mean over passes of each pass's entropy: the data uncertainty.

  What the network expects to stay unsure about whatever its weights are
  (aleatoric uncertainty): noisy labels, overlapping classes.

  Args:
    sample_probs: per-pass class probabilities, shape `[passes, ...,
      classes]` (e.g. `tfnx.predictive.sample_probabilities`).

  Returns:
    `mean_s H(p_s)` in nats, shape `[...]`.
  """
  return tf.reduce_mean(predictive_entropy(sample_probs), axis=0)


def mutual_information(sample_probs: Any) -> tf.Tensor:
  """The mutual information of label and weights: the model uncertainty.

  `H(mean_s p_s) - mean_s H(p_s)`, the predictive entropy less the expected
  entropy (the BALD score, Houlsby et al., 2011): how much the passes
  disagree, which is high on inputs unlike the training data (epistemic
  uncertainty) and shrinks with more data.

  Args:
    sample_probs: per-pass class probabilities, shape `[passes, ...,
      classes]`.

  Returns:
    The mutual information in nats, shape `[...]`; never negative.
  """
  sample_probs = _float_probs(sample_probs)
  # Entropy is concave, so the difference is non-negative up to rounding.
  return tf.maximum(
      predictive_entropy(tf.reduce_mean(sample_probs, axis=0))
      - expected_entropy(sample_probs), 0.)
