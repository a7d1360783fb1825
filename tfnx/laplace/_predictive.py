"""Predictions from a Gaussian over the outputs or the weights: probit, Monte Carlo.

The linearized ("GLM") predictive is `f ~ N(f(x; theta*), J Sigma J^T)`; for
classes, the probit approximation (MacKay 1992) of each pair of classes has
no random op, and `mc` averages the softmax over samples of `f`.
"""

import numpy as np
import tensorflow as tf

__all__ = ['probit', 'output_samples', 'LINK_APPROXIMATIONS', 'PRED_TYPES']

LINK_APPROXIMATIONS = ('probit', 'mc')
PRED_TYPES = ('glm', 'nn')


def probit(f_mean: tf.Tensor, pair_var: tf.Tensor) -> tf.Tensor:
  """The probit approximation of the GLM's class probabilities, pairwise.

  `p_c ~ 1 / sum_k exp(-(f_c - f_k) / sqrt(1 + pi/8 var(f_c - f_k)))`,
  normalized: the probit approximation of each pair's sigmoid (Lu et al.
  2020, "Mean-field approximations to the Gaussian-softmax integral"). It is
  the sigmoid's probit approximation for two classes, and ignores a shift of
  all logits, as the softmax does; scaling each logit by its own variance
  instead (`softmax(f / sqrt(1 + pi/8 var(f_c)))`) counts the shared part
  of the variance against every class.

  Args:
    f_mean: the logits at the trained weights, `[n, c]`.
    pair_var: the variances of their differences, `var(f_c - f_k)`,
      `[n, c, c]` (all the probit reads of their covariance).

  Returns:
    Class probabilities, `[n, c]`.
  """
  gaps = f_mean[:, :, None] - f_mean[:, None, :]
  scaled = gaps * tf.math.rsqrt(1. + np.pi / 8. * pair_var)
  p = tf.math.reciprocal(tf.reduce_sum(tf.exp(-scaled), axis=-1))
  return p / tf.reduce_sum(p, axis=-1, keepdims=True)


def output_samples(f_mean: tf.Tensor, f_var: tf.Tensor, num_samples: int,
                   seed: tf.Tensor) -> tf.Tensor:
  """Samples of `N(f_mean, f_var)`, `[num_samples, n, c]`, from a stateless seed.

  Args:
    f_mean: `[n, c]`.
    f_var: `[n, c, c]`, positive semi-definite.
    num_samples: how many.
    seed: an `int32` seed of shape `[2]`.

  Returns:
    The samples.
  """
  # A symmetric square root: the covariance may be singular (a softmax
  # ignores a shift of all logits), where a Cholesky factor fails.
  e, v = tf.linalg.eigh(f_var)
  root = v * tf.sqrt(tf.maximum(e, 0.))[:, None, :]
  eps = tf.random.stateless_normal(
      tf.concat([[num_samples], tf.shape(f_mean)], 0), seed, dtype=f_mean.dtype)
  return f_mean + tf.einsum('bcd,sbd->sbc', root, eps)
