"""After `fit`, `evaluate` and `predict`, a model's `losses` are its KL terms at the current weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx as tfn
import tfnx.keras as tfpl
from conformance import cases

tfd = tfp.distributions

_WEIGHTS = ('kernel', 'recurrent_kernel', 'bias')
_VECTORS = ('alpha', 'gamma', 'recurrent_alpha', 'recurrent_gamma')


def _exact_kls(layer):
  """Every KL term of a layer, in closed form from its posteriors and priors."""
  if isinstance(layer, tfpl.DenseVariational):
    inputs = tf.zeros([1, 4])
    return [tf.reduce_sum(tfd.kl_divergence(
        layer._posterior(inputs).distribution,  # pylint: disable=protected-access
        layer._prior(inputs).distribution))]  # pylint: disable=protected-access
  layer = getattr(layer, 'cell', layer)
  if isinstance(getattr(layer, 'alpha', None), tfd.Distribution):
    return _exact_vector_kls(layer)
  pairs = [(getattr(layer, w + '_posterior', None),
            getattr(layer, w + '_prior', None)) for w in _WEIGHTS]
  return [tfd.kl_divergence(q, p) for q, p in pairs
          if q is not None and p is not None]


def _exact_vector_kls(layer):
  """A rank-1 layer's KL terms: its vectors' posteriors to the priors."""
  kls = []
  for name in _VECTORS:
    posterior = getattr(layer, name, None)
    if posterior is None:
      continue
    divergence = getattr(layer, name + '_regularizer')
    prior = divergence.prior(posterior.batch_shape, posterior.dtype)
    kls.append(tfd.kl_divergence(tfd.Independent(posterior, 2), prior)
               * divergence.kl_weight / (divergence.num_examples or 1))
  return kls


def _fitted(layer, input_shape, inputs):
  model = keras.Sequential([keras.Input(input_shape), layer])
  model.compile(keras.optimizers.Adam(0.05), 'mse')
  targets = np.zeros_like(model(inputs))
  model.fit(inputs, targets, batch_size=4, epochs=1, verbose=0)
  return model, targets


def _assert_usable_kls_at_current_weights(model, layer):
  losses = model.losses
  expected = _exact_kls(layer)
  assert len(losses) == len(expected) > 0
  for loss, kl in zip(losses, expected):
    assert isinstance(loss, tf.__internal__.EagerTensor)  # Not a graph's.
    np.testing.assert_allclose(loss, kl, rtol=1e-5)


# Short training runs: the inner loop fits one layer, CI every family's.
_CASES = cases.params(
    cases.KERAS_CASES + cases.SEQUENCE_CASES
    + [c for c in cases.ENSEMBLE_CASES if c.variational],
    inner_loop='library')
_DENSE_VARIATIONAL = cases.DISTRIBUTION_CASES[0]


def _layer_and_inputs(case):
  if case is _DENSE_VARIATIONAL:
    layer = case.build(kl_use_exact=True)
    return layer, (4,), tf.random.stateless_normal([8, 4], (0, 1))
  return case.build(), case.input_shape, cases.inputs(case, batch=(8,))


@pytest.mark.parametrize('case', _CASES + [pytest.param(
    _DENSE_VARIATIONAL, id=_DENSE_VARIATIONAL.name, marks=pytest.mark.slow)])
def test_losses_after_fit_evaluate_and_predict_are_the_kls_at_the_weights(
    case):
  layer, input_shape, x = _layer_and_inputs(case)
  model, targets = _fitted(layer, input_shape, x)
  _assert_usable_kls_at_current_weights(model, layer)
  model.evaluate(x, targets, verbose=0)
  _assert_usable_kls_at_current_weights(model, layer)
  model.predict(x, verbose=0)
  _assert_usable_kls_at_current_weights(model, layer)


def test_a_monte_carlo_kl_after_predict_is_usable_and_the_same_at_each_read():
  layer = tfpl.DenseFlipout(
      3, seed=1, kernel_divergence_fn=tfn.losses.kl_divergence_monte_carlo)
  x = tf.random.stateless_normal([8, 4], (0, 1))
  model, _ = _fitted(layer, (4,), x)
  model.predict(x, verbose=0)
  (first,) = model.losses
  assert isinstance(first, tf.__internal__.EagerTensor)
  assert np.isfinite(first)
  np.testing.assert_array_equal(model.losses[0], first)


def test_a_closed_form_kl_is_that_of_the_weights_when_read():
  layer = tfpl.DenseFlipout(3, seed=1)
  layer(tf.ones([2, 4]), seed=2)
  layer.kernel_posterior.distribution.loc.assign(tf.fill([4, 3], 0.5))
  np.testing.assert_allclose(layer.losses, _exact_kls(layer), rtol=1e-5)


def test_a_monte_carlo_kl_read_in_the_calls_trace_is_the_eager_one():
  layer = tfpl.DenseFlipout(
      3, seed=1, kernel_divergence_fn=tfn.losses.kl_divergence_monte_carlo)
  x = tf.random.stateless_normal([2, 4], (0, 1))
  layer(x, seed=5)
  eager = layer.losses[0]
  traced = tf.function(lambda x: (layer(x, seed=5), layer.losses[0])[1])
  np.testing.assert_array_equal(traced(x), eager)
  # Out of the trace that made it, the call's sample is gone.
  assert not np.array_equal(layer.losses[0], eager)
