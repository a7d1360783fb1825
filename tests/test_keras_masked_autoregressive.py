"""`AutoregressiveTransform`: a masked autoregressive flow on a distribution, in Keras 3."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx.keras as tfpl

from conformance import cases

tfd = tfp.distributions
tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package='tfnx_test')
def _standard_normal_2d(t):
  return tfd.MultivariateNormalDiag(
      loc=tf.zeros(tf.concat([tf.shape(t)[:-1], [2]], axis=0)),
      scale_diag=[1., 1.])


def _flow_model():
  return keras.Sequential([
      keras.Input(shape=(0,)),
      tfpl.DistributionLambda(_standard_normal_2d, seed=4),
      tfpl.AutoregressiveTransform(cases.Made(2), seed=5),
  ])


def _banana(n, seed=0):
  # Figure 1 of Papamakarios et al. (2017).
  rng = np.random.default_rng(seed)
  x2 = rng.normal(size=n) * 2
  x1 = rng.normal(size=n) + x2 * x2 / 4
  return np.stack([x1, x2], axis=-1).astype('float32')


def test_test_made_is_autoregressive():
  made = cases.Made(2)
  x = tf.constant([[0.3, -1.], [0.3, 2.]])
  out = made(x)
  np.testing.assert_array_equal(out[0, 0], out[1, 0])
  assert not np.allclose(made(x + [[1., 0.]])[:, 1], out[:, 1])


def test_log_prob_is_the_flow_change_of_variables():
  made = cases.Made(2)
  base = tfd.MultivariateNormalDiag(loc=tf.zeros([3, 2]))
  rv = tfpl.AutoregressiveTransform(made)(
      tfpl.DistributionLambda(lambda _: base)(tf.zeros([3, 0])))
  x = tf.constant(_banana(3))
  shift, log_scale = tf.unstack(made(x), axis=-1)
  expected = (base.log_prob((x - shift) * tf.exp(-log_scale))
              - tf.reduce_sum(log_scale, -1))
  np.testing.assert_allclose(rv.log_prob(x), expected, rtol=1e-5, atol=1e-5)
  transformed = tfd.TransformedDistribution(
      base, tfb.MaskedAutoregressiveFlow(
          lambda y: tf.unstack(made(y), axis=-1)))
  np.testing.assert_allclose(rv.log_prob(x), transformed.log_prob(x),
                             rtol=1e-6)


def test_output_is_a_distribution_whose_samples_have_its_shape():
  rv = _flow_model()(np.zeros((5, 0), 'float32'))
  assert isinstance(rv.distribution.bijector, tfb.MaskedAutoregressiveFlow)
  assert isinstance(rv.distribution.distribution, tfd.MultivariateNormalDiag)
  assert rv.shape == (5, 2)
  assert rv.sample(3, seed=(1, 2)).shape == (3, 5, 2)
  np.testing.assert_array_equal(rv.sample(3, seed=(1, 2)),
                                rv.sample(3, seed=(1, 2)))


def test_samples_invert_to_the_base_draw():
  made = cases.Made(2)
  base = tfd.MultivariateNormalDiag(loc=tf.zeros([4, 2]))
  layer = tfpl.AutoregressiveTransform(made)
  rv = layer(tfpl.DistributionLambda(lambda _: base)(tf.zeros([4, 0])))
  x = rv.sample(seed=(3, 4))
  u = rv.distribution.bijector.inverse(x)
  np.testing.assert_allclose(rv.distribution.bijector.forward(u), x,
                             rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_fit_on_a_two_dimensional_density_lowers_the_loss():
  model = _flow_model()
  model.compile(optimizer=keras.optimizers.Adam(0.02),
                loss=lambda y, rv_y: -rv_y.log_prob(y))
  data = _banana(256)
  inputs = np.zeros((256, 0), 'float32')
  before = model.evaluate(inputs, data, batch_size=64, verbose=0)
  model.fit(inputs, data, batch_size=32, epochs=3, verbose=0)
  after = model.evaluate(inputs, data, batch_size=64, verbose=0)
  assert after < before - 0.1, (before, after)
  assert len(model.trainable_weights) == 4


def test_keras_file_round_trip_keeps_the_flow(tmp_path):
  model = _flow_model()
  inputs = np.zeros((4, 0), 'float32')
  data = _banana(4)
  # Away from the seeded initial values, which a fresh `_Made` would redraw.
  for weight in model.layers[-1].made.weights:
    weight.assign(weight + 0.1)
  path = str(tmp_path / 'flow.keras')
  model.save(path)
  loaded = keras.models.load_model(path)
  assert isinstance(loaded.layers[-1], tfpl.AutoregressiveTransform)
  assert isinstance(loaded.layers[-1].made, cases.Made)
  np.testing.assert_allclose(loaded(inputs).log_prob(data),
                             model(inputs).log_prob(data), rtol=1e-6)


def test_made_that_is_not_a_keras_3_layer_is_refused():
  with pytest.raises(TypeError, match='expected `made` to be a Keras 3 '
                     'layer; received builtins.function'):
    tfpl.AutoregressiveTransform(lambda x: x)


def test_made_with_other_than_two_params_is_refused():
  with pytest.raises(ValueError, match='output 2 parameters per input; '
                     'received made.params = 3'):
    tfpl.AutoregressiveTransform(cases.Made(2, params=3))


def test_made_of_the_wrong_output_shape_is_refused():
  base = tfpl.DistributionLambda(
      lambda _: tfd.MultivariateNormalDiag(loc=tf.zeros([1, 2])))(
          tf.zeros([1, 0]))
  flow = tfpl.AutoregressiveTransform(keras.layers.Dense(2), name='flow')
  with pytest.raises(ValueError, match=r'flow: expected `made` to map shape '
                     r'\(1, 2\) to \(1, 2, 2\); received \(1, 2\)'):
    flow(base)


def test_input_that_is_not_a_distribution_is_refused():
  with pytest.raises(TypeError, match='expected a distribution'):
    tfpl.AutoregressiveTransform(cases.Made(2))(tf.zeros([1, 2]))


def test_float64_flow_gives_float64_draws_and_log_probs():
  base = tfpl.DistributionLambda(lambda _: tfd.MultivariateNormalDiag(
      loc=tf.zeros([3, 2], tf.float64)))(tf.zeros([3, 0], tf.float64))
  rv = tfpl.AutoregressiveTransform(cases.Made(2, dtype='float64'),
                                    dtype='float64')(base, seed=(1, 2))
  assert rv.dtype == tf.float64
  assert rv.log_prob(tf.zeros([3, 2], tf.float64)).dtype == tf.float64
