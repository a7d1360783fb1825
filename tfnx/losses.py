"""Losses: KL divergences between weight distributions, negative log likelihood, the ELBO."""

from typing import Any, Callable, Optional

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _fast_paths
from tfnx import _layers as layers_lib

tfd = tfp.distributions

__all__ = ['kl_divergence_monte_carlo', 'kl_divergence_entropy_monte_carlo',
           'kl_divergence_exact', 'negloglik', 'compute_extra_loss',
           'negative_elbo', 'sample_free', 'needs_sample',
           'default_divergence']

Divergence = Callable[[tfd.Distribution, tfd.Distribution, Any], tf.Tensor]


def sample_free(divergence_fn: Divergence) -> Divergence:
  """Declares that `divergence_fn` ignores its sample argument.

  A layer draws a weight for its divergence only when the divergence needs
  one (see `needs_sample`); a closed-form divergence marked with this
  decorator spares that draw.

  Args:
    divergence_fn: `(posterior, prior, sample) -> scalar`.

  Returns:
    `divergence_fn` itself, with `needs_sample` set to `False`.
  """
  divergence_fn.needs_sample = False
  return divergence_fn


def needs_sample(divergence_fn: Divergence) -> bool:
  """Whether `divergence_fn` needs a weight sample: what it declares.

  A function that declares nothing (a user's own) is assumed to need one.

  Args:
    divergence_fn: `(posterior, prior, sample) -> scalar`.

  Returns:
    The function's `needs_sample` attribute, `True` when it has none.
  """
  return bool(getattr(divergence_fn, 'needs_sample', True))


def kl_divergence_monte_carlo(q: tfd.Distribution, r: tfd.Distribution,
                              w: Any) -> tf.Tensor:
  """A one-sample Monte Carlo estimate of `KL(q || r)`: `log q(w) - log r(w)`.

  Unbiased when `w` is drawn from `q`; when `w` is a reparameterized sample,
  its gradient is an unbiased estimate of the KL's gradient.

  Args:
    q: the posterior.
    r: the prior.
    w: a sample from `q`.

  Returns:
    The estimate.
  """
  return q.log_prob(w) - r.log_prob(w)


def kl_divergence_entropy_monte_carlo(q: tfd.Distribution,
                                      r: tfd.Distribution,
                                      w: Any) -> tf.Tensor:
  """`KL(q || r)` from `q`'s closed-form entropy and a one-sample cross entropy.

  `KL(q || r) = -H(q) - E_q[log r(w)]`: the entropy is exact, only the cross
  entropy is estimated, by `-log r(w)`. The estimate is unbiased for `w`
  drawn from `q`, with less variance than `kl_divergence_monte_carlo` (whose
  `log q(w)` adds noise of mean zero). For a reparameterized normal sample
  `w = loc + scale * eps`, the gradients of `log q(w)` and of `-H(q)` are
  equal (both `-1 / scale` in the scale, zero in the location), so the two
  estimators have the same gradients, and this one never evaluates
  `q.log_prob`.

  Args:
    q: the posterior; it must have an analytic `entropy()`.
    r: the prior.
    w: a sample from `q`.

  Returns:
    The estimate.
  """
  entropy = _fast_paths.independent_normal_entropy(q)
  if entropy is None:
    entropy = q.entropy()
  return -entropy - r.log_prob(w)


@sample_free
def kl_divergence_exact(q: tfd.Distribution, r: tfd.Distribution,
                        w: Any = None) -> tf.Tensor:
  """The closed-form `KL(q || r)` from TFP's KL registry.

  Args:
    q: the posterior.
    r: the prior.
    w: ignored (accepted for a common divergence signature).

  Returns:
    The divergence.

  Raises:
    NotImplementedError: if TFP registers no closed form for the pair.
  """
  del w  # The closed form needs no sample.
  return tfd.kl_divergence(q, r)


def default_divergence(posterior: Optional[tfd.Distribution],
                       prior: Optional[tfd.Distribution]
                       ) -> Divergence:
  """The closed-form KL where TFP registers one, else a Monte Carlo one.

  Decided once, by trying TFP: the Monte Carlo estimate uses the posterior's
  closed-form entropy where it has one (`kl_divergence_entropy_monte_carlo`),
  else `log q(w) - log r(w)`. A missing part gets the closed form, which is
  never called for it.

  Args:
    posterior: a weight's posterior, or `None`.
    prior: its prior, or `None`.

  Returns:
    The divergence function for the pair.
  """
  if posterior is None or prior is None:
    return kl_divergence_exact
  try:
    tfd.kl_divergence(posterior, prior)
  except NotImplementedError:
    try:
      posterior.entropy()
    except NotImplementedError:
      return kl_divergence_monte_carlo
    return kl_divergence_entropy_monte_carlo
  return kl_divergence_exact


def negloglik(x: Any, y: Any, model_fn: Callable[[Any], tfd.Distribution],
              axis: int = -1) -> tf.Tensor:
  """The mean negative log likelihood of `y` under `model_fn(x)`.

  Args:
    x: the inputs.
    y: the targets.
    model_fn: returns a distribution over `y` given `x`.
    axis: the axis to average over.

  Returns:
    `-mean(model_fn(x).log_prob(y), axis)`.
  """
  return -tf.reduce_mean(model_fn(x).log_prob(y), axis=axis)


def negative_elbo(nll: Any, kl: Any, num_examples: int,
                  kl_weight: Any = 1.) -> tf.Tensor:
  """The per-example negative ELBO, `nll + kl_weight * kl / num_examples`.

  With `kl_weight=1` (the default) this is the evidence lower bound of
  variational inference, negated and divided by the data set's size: its
  minimum is the posterior closest to Bayes' rule within the layers'
  family. `kl_weight < 1` tempers the posterior (a "cold" posterior, or
  equivalently data counted `1 / kl_weight` times): the weights' noise
  shrinks and predictions grow more confident. A `kl_weight` rising from 0 to
  1 over the first steps ("KL warm-up") lets the means fit before the noise
  grows; it ends at the true ELBO. In `tfnx.keras`, where `model.fit` adds
  each layer's `losses` to the batch's mean loss, give the layers
  `kernel_divergence_fn=tfnx.keras.KLPerExample(num_examples)` for the same
  loss: the KL divided by the training set's size, not the batch's.

  Args:
    nll: the mean negative log likelihood of a batch.
    kl: the KL divergence of the posterior from the prior, e.g.
      `model.extra_loss` after the call that gave `nll`.
    num_examples: the number of training examples (not the batch size).
    kl_weight: the KL's weight, a float or a scalar tensor (for schedules).

  Returns:
    The scalar loss to minimize.
  """
  if (isinstance(num_examples, bool) or not isinstance(num_examples, int)
      or num_examples < 1):
    raise ValueError('negative_elbo: expected `num_examples` to be a positive '
                     f'int; received {num_examples!r}.')
  nll = tf.convert_to_tensor(nll)
  kl = tf.cast(kl, nll.dtype)
  return nll + tf.cast(kl_weight, nll.dtype) * kl / num_examples


def _variational_parts(layer: Any) -> list:
  """`(posterior, prior, value)` of the kernel and the bias of a layer."""
  values = layer.posterior_value or [None, None]
  parts = zip([layer.kernel_posterior, layer.bias_posterior],
              [layer.kernel_prior, layer.bias_prior], values)
  return [(q, r, w) for q, r, w in parts if q is not None]


def compute_extra_loss(layer: Any, loss_fn: Optional[Callable] = None) -> Any:
  """The extra loss (the KL) of a layer, summed over a `Sequential`'s layers.

  Args:
    layer: a tfnx layer, a `Sequential` (its layers are summed, nested ones
      included) or any other callable (which adds nothing).
    loss_fn: `None` for the KL terms each variational layer computed in its
      last call with its own divergence (its `losses`); or
      `(posterior, prior, posterior_value) -> loss`, such as
      `kl_divergence_exact`, evaluated now for the kernel and the bias of
      each variational layer at the weights its last call drew.

  Returns:
    The summed loss; `0.` when there is none.
  """
  if isinstance(layer, layers_lib.Sequential):
    return sum((compute_extra_loss(sub, loss_fn) for sub in layer.layers), 0.)
  if loss_fn is None:
    losses = list(getattr(layer, 'losses', []))
    return tf.add_n(losses) if losses else 0.
  if not hasattr(layer, 'kernel_posterior'):
    return 0.
  return sum((loss_fn(q, r, w) for q, r, w in _variational_parts(layer)), 0.)
