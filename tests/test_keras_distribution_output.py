"""Tests that a distribution as a Keras 3 model's output works through the whole workflow."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx.keras as tfpl

tfd = tfp.distributions


def negloglik(y, rv_y):
  """The tutorial's loss."""
  return -rv_y.log_prob(y)


class NegLogLik(keras.losses.Loss):
  """The tutorial's loss as a `Loss`, which takes a `dtype`."""

  def call(self, y_true, y_pred):
    return -y_pred.log_prob(y_true)


def normal_from_params(t):
  """A named `make_distribution_fn`, for `.keras` files with custom_objects."""
  return tfd.Normal(loc=t[..., :1], scale=1e-3 + tf.math.softplus(t[..., 1:]))


_INIT = keras.initializers.GlorotUniform(seed=0)


def _data(n=64, dtype='float32'):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(n, 1)).astype(dtype)
  return x, (2. * x + 1. + 0.5 * rng.normal(size=(n, 1))).astype(dtype)


def _sequential(seed=1, **kwargs):
  return keras.Sequential([
      keras.Input((1,)),
      keras.layers.Dense(2, kernel_initializer=_INIT, **kwargs),
      tfpl.DistributionLambda(normal_from_params, seed=seed, **kwargs)])


def _functional(seed=1):
  inputs = keras.Input((1,))
  params = keras.layers.Dense(2, kernel_initializer=_INIT)(inputs)
  return keras.Model(inputs, tfpl.DistributionLambda(
      normal_from_params, seed=seed)(params))


def test_model_call_returns_the_distributions_methods():
  model = _sequential()
  x, y = _data(8)
  params = model.layers[0](x)
  rv_y = model(x)
  np.testing.assert_allclose(rv_y.mean(), params[:, :1], rtol=1e-6)
  np.testing.assert_allclose(
      rv_y.log_prob(y), normal_from_params(params).log_prob(y), rtol=1e-5)
  assert isinstance(rv_y.distribution, tfd.Normal)
  assert isinstance(rv_y, tfd.Distribution)
  assert rv_y.shape == (8, 1) and rv_y.dtype == tf.float32


def test_value_converts_to_a_tensor_for_ops_and_operators():
  rv_y = _sequential()(_data(8)[0])
  value = tf.convert_to_tensor(rv_y)
  np.testing.assert_array_equal(rv_y + 1., value + 1.)
  np.testing.assert_array_equal(tf.reduce_sum(rv_y), tf.reduce_sum(value))
  np.testing.assert_array_equal(np.asarray(rv_y), value)


@pytest.mark.slow
@pytest.mark.parametrize('build', [_sequential, _functional])
def test_fit_lowers_the_negative_log_likelihood(build):
  model = build()
  x, y = _data()
  model.compile(optimizer=keras.optimizers.Adam(0.05), loss=negloglik)
  before = model.evaluate(x, y, verbose=0)
  model.fit(x, y, epochs=10, batch_size=16, verbose=0)
  after = model.evaluate(x, y, verbose=0)
  params = model.layers[-2](x)  # The Dense layer, in both kinds of model.
  expected = -np.mean(normal_from_params(params).log_prob(y))
  assert after < before
  np.testing.assert_allclose(after, expected, rtol=1e-5)


def test_lambda_loss_trains_a_functional_model():
  model = _functional()
  x, y = _data()
  model.compile(optimizer='adam', loss=lambda y, rv_y: -rv_y.log_prob(y))
  history = model.fit(x, y, epochs=2, verbose=0)
  assert np.all(np.isfinite(history.history['loss']))


def test_predict_returns_the_convert_to_tensor_fn_value():
  inputs = keras.Input((1,))
  params = keras.layers.Dense(2)(inputs)
  model = keras.Model(inputs, tfpl.DistributionLambda(
      normal_from_params, convert_to_tensor_fn=tfd.Distribution.mean)(params))
  x, _ = _data(10)
  predicted = model.predict(x, batch_size=4, verbose=0)
  assert isinstance(predicted, np.ndarray)
  np.testing.assert_allclose(predicted, model.layers[1](x)[:, :1], rtol=1e-6)


def test_predict_samples_are_seeded_and_stateless():
  x, _ = _data(10)
  first = _sequential(seed=5).predict(x, verbose=0)
  second = _sequential(seed=5).predict(x, verbose=0)
  assert first.shape == (10, 1)
  np.testing.assert_array_equal(first, second)


def test_call_with_a_seed_is_a_pure_function_of_the_seed():
  layer = tfpl.DistributionLambda(normal_from_params)
  params = tf.constant([[0., 1.], [2., 3.]])
  np.testing.assert_array_equal(layer(params, seed=3), layer(params, seed=3))
  traced = tf.function(lambda p: tf.convert_to_tensor(layer(p, seed=3)))
  np.testing.assert_array_equal(traced(params), layer(params, seed=3))


def test_traced_fit_step_has_no_stateful_random_op():
  model = _sequential()
  x, y = _data(8)
  model.compile(optimizer='sgd', loss=negloglik)
  model.fit(x, y, epochs=1, verbose=0)
  spec = tf.TensorSpec([8, 1], tf.float32)
  graph = tf.function(model.train_step).get_concrete_function(
      (spec, spec)).graph.as_graph_def()
  types = {node.op for node in graph.node}
  for function in graph.library.function:
    types |= {node.op for node in function.node_def}
  assert not types & support.STATEFUL_RANDOM_OPS


@pytest.mark.slow
def test_multi_output_model_trains_each_head():
  inputs = keras.Input((1,))
  hidden = keras.layers.Dense(4)(inputs)
  first = tfpl.IndependentNormal(1, name='first')(keras.layers.Dense(2)(hidden))
  second = tfpl.DistributionLambda(normal_from_params, name='second')(
      keras.layers.Dense(2)(hidden))
  model = keras.Model(inputs, [first, second])
  model.compile(optimizer='adam', loss=[negloglik, negloglik])
  x, y = _data(16)
  history = model.fit(x, [y, -y], epochs=1, verbose=0)
  assert {'first_loss', 'second_loss'} <= set(history.history)
  means = [rv.mean() for rv in model(x)]
  assert [m.shape for m in means] == [(16, 1), (16, 1)]


@pytest.mark.parametrize('build', [_sequential, _functional])
def test_keras_file_round_trip_keeps_weights_and_outputs(build, tmp_path):
  model = build()
  x, y = _data(16)
  model.compile(optimizer='adam', loss=negloglik)
  model.fit(x, y, epochs=1, verbose=0)
  path = str(tmp_path / 'model.keras')
  model.save(path)
  loaded = keras.models.load_model(path, custom_objects={
      'normal_from_params': normal_from_params, 'negloglik': negloglik})
  for a, b in zip(model.get_weights(), loaded.get_weights()):
    np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(model(x).stddev(), loaded(x).stddev())
  assert loaded.evaluate(x, y, verbose=0) == pytest.approx(
      model.evaluate(x, y, verbose=0), rel=1e-6)


def test_lambda_distribution_fn_loads_with_safe_mode_off(tmp_path):
  model = keras.Sequential([
      keras.Input((1,)), keras.layers.Dense(2),
      tfpl.DistributionLambda(lambda t: tfd.Normal(t[..., :1], 1.))])
  path = str(tmp_path / 'model.keras')
  model.save(path)
  with pytest.raises(ValueError, match='safe_mode'):
    keras.models.load_model(path)
  loaded = keras.models.load_model(path, safe_mode=False)
  x, _ = _data(4)
  np.testing.assert_array_equal(model(x).mean(), loaded(x).mean())


def test_float64_model_trains_with_a_float64_loss():
  model = _sequential(dtype='float64')
  x, y = _data(16, 'float64')
  rv_y = model(x)
  assert rv_y.dtype == tf.float64 and rv_y.mean().dtype == tf.float64
  model.compile(optimizer='adam', loss=NegLogLik(dtype='float64'))
  assert np.isfinite(model.fit(x, y, epochs=1, verbose=0).history['loss'][0])


def test_make_distribution_fn_returning_a_tensor_is_a_clear_error():
  layer = tfpl.DistributionLambda(lambda t: t * 2., name='bad')
  with pytest.raises(TypeError, match='bad: expected .*tfd.Distribution'):
    layer(tf.zeros([2, 1]))


def test_unknown_convert_to_tensor_fn_name_is_a_clear_error():
  with pytest.raises(ValueError, match='convert_to_tensor_fn'):
    tfpl.DistributionLambda(normal_from_params, convert_to_tensor_fn='draw')
