"""Tests of DenseVariational and VariableLayer with the builders of TFP's regression tutorial."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
from tfnx import seeds
import tfnx.keras as tfpl

tfd = tfp.distributions


def posterior_mean_field(kernel_size, bias_size=0, dtype=None):
  """The tutorial's posterior: a mean-field normal over the weights."""
  n = kernel_size + bias_size
  c = np.log(np.expm1(1.))
  return keras.Sequential([
      tfpl.VariableLayer(2 * n, dtype=dtype, initializer=(
          keras.initializers.RandomNormal(stddev=0.1, seed=1))),
      tfpl.DistributionLambda(lambda t: tfd.Independent(
          tfd.Normal(loc=t[..., :n],
                     scale=1e-5 + tf.nn.softplus(c + t[..., n:])),
          reinterpreted_batch_ndims=1)),
  ])


def prior_trainable(kernel_size, bias_size=0, dtype=None):
  """The tutorial's prior: a unit normal with a trainable mean."""
  n = kernel_size + bias_size
  return keras.Sequential([
      tfpl.VariableLayer(n, dtype=dtype),
      tfpl.DistributionLambda(lambda t: tfd.Independent(
          tfd.Normal(loc=t, scale=1), reinterpreted_batch_ndims=1)),
  ])


CUSTOM = {'posterior_mean_field': posterior_mean_field,
          'prior_trainable': prior_trainable}


def _layer(**kwargs):
  kwargs.setdefault('seed', 3)
  return tfpl.DenseVariational(2, posterior_mean_field, prior_trainable,
                               **kwargs)


def _posterior_loc_scale(layer):
  distribution = layer._posterior(tf.zeros([1, 3])).distribution  # pylint: disable=protected-access
  return distribution.mean(), distribution.stddev()


def test_is_a_keras_layer_with_tfp_arguments():
  layer = _layer(kl_weight=0.5, activation='relu')
  assert isinstance(layer, keras.layers.Layer)
  assert layer.compute_output_shape((None, 5, 3)) == (None, 5, 2)
  assert layer(tf.ones([4, 5, 3])).shape == (4, 5, 2)


def test_seeded_call_is_pure_and_seeds_differ():
  layer = _layer()
  x = tf.ones([4, 3])
  np.testing.assert_array_equal(layer(x, seed=7), layer(x, seed=7))
  assert not np.allclose(layer(x, seed=7), layer(x, seed=8))
  traced = tf.function(lambda x: layer(x, seed=7))
  np.testing.assert_array_equal(traced(x), layer(x, seed=7))


def test_mean_output_is_inputs_times_posterior_mean_within_5_se():
  layer = _layer(use_bias=False)
  x = tf.constant([[1., -2., 0.5]])
  layer(x)
  loc, scale = _posterior_loc_scale(layer)
  draw = tf.function(lambda seed: layer(x, seed=seed)[0])
  draws = np.stack([draw(tf.constant([0, s])).numpy() for s in range(400)])
  x = x.numpy()[0]
  expected = x @ np.reshape(loc, [3, 2])
  se = np.sqrt(x**2 @ np.reshape(scale**2, [3, 2])) / np.sqrt(400.)
  assert np.all(np.abs(draws.mean(0) - expected) < 5 * se)


def test_kl_is_weighted_exact_kl_when_asked():
  layer = _layer(kl_use_exact=True, kl_weight=0.25)
  layer(tf.ones([2, 3]))
  posterior = layer._posterior(tf.ones([2, 3])).distribution  # pylint: disable=protected-access
  prior = layer._prior(tf.ones([2, 3])).distribution  # pylint: disable=protected-access
  np.testing.assert_allclose(
      layer.losses[0], 0.25 * tfd.kl_divergence(posterior, prior), rtol=1e-5)


def test_monte_carlo_kl_is_log_ratio_at_the_drawn_weights():
  layer = _layer(use_bias=False)
  x = tf.constant([[1., 0., 0.]])
  outputs = layer(x, seed=5)
  posterior = layer._posterior(x).distribution  # pylint: disable=protected-access
  prior = layer._prior(x).distribution  # pylint: disable=protected-access
  weights = posterior.sample(seed=seeds.sanitize_seed(5))
  np.testing.assert_allclose(outputs[0], weights[:2], rtol=1e-6)
  np.testing.assert_allclose(
      layer.losses[0], posterior.log_prob(weights) - prior.log_prob(weights),
      rtol=1e-5)


@pytest.mark.parametrize('exact', [True, False])
def test_reading_the_losses_leaves_every_seed_generator_as_it_was(exact):
  layer = _layer(kl_use_exact=exact)
  layer(tf.ones([2, 3]))
  states = [v.numpy() for v in layer.non_trainable_variables]
  np.testing.assert_array_equal(layer.losses[0], layer.losses[0])
  for state, variable in zip(states, layer.non_trainable_variables):
    np.testing.assert_array_equal(variable, state)


def test_posterior_with_the_wrong_event_size_is_a_clear_error():
  layer = tfpl.DenseVariational(
      2, lambda k, b, dtype: posterior_mean_field(k, b + 1, dtype),
      prior_trainable, name='dv')
  with pytest.raises(ValueError, match=r'dv: expected the posterior to draw '
                     r'8 weights .*received draws of shape \(9,\)'):
    layer(tf.ones([1, 3]))


def _model(dtype='float32'):
  return keras.Sequential([
      keras.Input((3,), dtype=dtype),
      _layer(kl_weight=1. / 32, dtype=dtype),
      tfpl.DistributionLambda(
          lambda t: tfd.Normal(loc=t[..., :1],
                               scale=1e-3 + tf.math.softplus(t[..., 1:])),
          seed=4, dtype=dtype)])


def _data(dtype='float32'):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(32, 3)).astype(dtype)
  return x, x[:, :1] - x[:, 1:2]


@pytest.mark.slow
def test_fit_trains_a_bayesian_model_with_a_distribution_output():
  # Keras' shuffling and unseeded draws come from its global seed: fixed
  # here, the run is the same in every process.
  keras.utils.set_random_seed(0)
  model = _model()
  x, y = _data()
  model.compile(optimizer=keras.optimizers.Adam(0.05),
                loss=lambda y, rv_y: -rv_y.log_prob(y))
  history = model.fit(x, y, epochs=15, batch_size=8, verbose=0)
  assert history.history['loss'][-1] < history.history['loss'][0]
  assert len(model.losses) == 1


def test_traced_fit_step_has_no_stateful_random_op():
  model = _model()
  x, y = _data()
  model.compile(optimizer='sgd', loss=lambda y, rv_y: -rv_y.log_prob(y))
  model.fit(x, y, epochs=1, verbose=0)
  graph = tf.function(model.train_step).get_concrete_function(
      (tf.TensorSpec([8, 3]), tf.TensorSpec([8, 1]))).graph.as_graph_def()
  types = {node.op for node in graph.node}
  for function in graph.library.function:
    types |= {node.op for node in function.node_def}
  assert any(t.startswith('StatelessRandom') for t in types)
  assert not types & support.STATEFUL_RANDOM_OPS


def test_keras_file_round_trip_keeps_weights(tmp_path):
  model = _model()
  x, _ = _data()
  model(x)
  path = str(tmp_path / 'model.keras')
  model.save(path)
  loaded = keras.models.load_model(path, custom_objects=CUSTOM,
                                   safe_mode=False)
  assert len(loaded.get_weights()) == len(model.get_weights()) > 0
  for a, b in zip(model.get_weights(), loaded.get_weights()):
    np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(model.layers[0](x, seed=2),
                                loaded.layers[0](x, seed=2))


def test_float64_layer_draws_float64_weights():
  layer = _layer(dtype='float64')
  outputs = layer(tf.ones([2, 3], tf.float64))
  assert outputs.dtype == tf.float64
  assert all(w.dtype == 'float64' for w in layer.weights
             if w.dtype.startswith('float'))


def test_variable_layer_returns_its_variable_whatever_the_inputs():
  layer = tfpl.VariableLayer([2, 3], initializer='ones', activation='relu')
  np.testing.assert_array_equal(layer(tf.zeros([5, 7])), np.ones([2, 3]))
  assert len(layer.trainable_weights) == 1
  copy = tfpl.VariableLayer.from_config(layer.get_config())
  assert copy.shape == (2, 3)
