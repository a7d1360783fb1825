"""The Laplace log marginal likelihood, and the prior precision that maximizes it.

`log p(D) ~ log p(D | theta*) - (log det P - log det P_0 + (theta* - m)^T P_0
(theta* - m)) / 2` (MacKay 1992; Immer et al. 2021), `P = factor * GGN + P_0`
the posterior precision at the trained weights `theta*`.
"""

import functools
from typing import Callable

import numpy as np
import tensorflow as tf

__all__ = ['log_likelihood', 'log_marginal_likelihood', 'maximize',
           'gridsearch']


def log_likelihood(likelihood: str, loss: tf.Tensor, num_outputs: tf.Tensor,
                   sigma_noise: tf.Tensor, temperature: tf.Tensor) -> tf.Tensor:
  """The tempered log likelihood of the training data at the trained weights.

  Args:
    likelihood: `'classification'` or `'regression'`.
    loss: the summed cross entropy, or half the summed squared error.
    num_outputs: the number of targets (examples times outputs).
    sigma_noise: the regression noise's standard deviation.
    temperature: divides the data term.

  Returns:
    The scalar log likelihood.
  """
  if likelihood == 'classification':
    return -loss / temperature
  return (-loss / (temperature * tf.square(sigma_noise))
          - num_outputs * tf.math.log(sigma_noise * np.sqrt(2. * np.pi)))


def log_marginal_likelihood(log_lik: tf.Tensor, log_det_posterior: tf.Tensor,
                            prior: tf.Tensor, deviation: tf.Tensor
                            ) -> tf.Tensor:
  """The Laplace evidence from its parts.

  Args:
    log_lik: `log p(D | theta*)`.
    log_det_posterior: `log det P`.
    prior: the prior precision of each weight, `[P]`.
    deviation: `theta* - m`, `[P]`.

  Returns:
    The scalar log marginal likelihood.
  """
  scatter = tf.reduce_sum(prior * tf.square(deviation))
  log_det_prior = tf.reduce_sum(tf.math.log(prior))
  return log_lik - 0.5 * (log_det_posterior - log_det_prior + scatter)


def maximize(objective: Callable[[tf.Tensor], tf.Tensor], init: tf.Tensor,
             n_steps: int, lr: float) -> tf.Tensor:
  """Maximizes `objective(log_prior)` over the log prior precision with Adam.

  Args:
    objective: the log marginal likelihood of a log prior precision.
    init: the starting log prior precision (scalar or per layer).
    n_steps: Adam steps.
    lr: Adam's learning rate.

  Returns:
    The log prior precision reached.
  """
  log_prior = tf.Variable(init)
  optimizer = tf.keras.optimizers.Adam(lr)

  @functools.partial(tf.function, autograph=False)
  def step():
    with tf.GradientTape() as tape:
      loss = -objective(log_prior)
    optimizer.apply_gradients([(tape.gradient(loss, log_prior), log_prior)])

  for _ in range(n_steps):
    step()
  return tf.convert_to_tensor(log_prior)


def gridsearch(score: Callable[[float], float], grid: np.ndarray) -> float:
  """The grid value of the lowest `score` (a held-out NLL).

  Args:
    score: the validation loss of a prior precision.
    grid: the candidate prior precisions.

  Returns:
    The best candidate.
  """
  losses = [score(float(value)) for value in grid]
  return float(grid[int(np.nanargmin(losses))])
