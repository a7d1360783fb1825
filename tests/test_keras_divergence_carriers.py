"""KL terms of tfnx.keras layers whose posteriors or priors make no weight."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx.keras as tfpl

tfd = tfp.distributions

# KL(N(0, 2^2) || N(0, 1)) per element.
_KL_PER_ELEMENT = np.log(0.5) + 4. / 2 - 0.5


@keras.saving.register_keras_serializable(package='test_carriers')
def fixed_posterior(dtype, shape, name, trainable, add_variable_fn):
  del name, trainable, add_variable_fn
  return tfd.Independent(tfd.Normal(tf.zeros(shape, dtype), 2.),
                         len(shape))


@keras.saving.register_keras_serializable(package='test_carriers')
def fixed_prior(dtype, shape, name, trainable, add_variable_fn):
  del name, trainable, add_variable_fn
  return tfd.Independent(tfd.Normal(tf.zeros(shape, dtype), 1.),
                         len(shape))


def _fixed_layer(**kwargs):
  return tfpl.DenseReparameterization(
      3, kernel_posterior_fn=fixed_posterior, kernel_prior_fn=fixed_prior,
      bias_posterior_fn=None, seed=1, **kwargs)


def _model(layer):
  model = keras.Sequential([keras.Input((2,)), tfpl.DenseFlipout(2, seed=2),
                            layer])
  model.compile(optimizer='adam', loss='mse')
  return model


def test_a_layer_with_fixed_distributions_has_its_kl_in_losses():
  layer = _fixed_layer()
  layer.build((None, 2))
  np.testing.assert_allclose(layer.losses, [6 * _KL_PER_ELEMENT], rtol=1e-6)


def test_its_trainable_weights_are_one_empty_carrier_per_term():
  layer = _fixed_layer()
  layer.build((None, 2))
  assert [(w.name, tuple(w.shape)) for w in layer.trainable_weights] == [
      ('divergence_carrier', (0,))]
  assert tfpl.DenseFlipout(3).trainable_weights == []
  flipout = tfpl.DenseFlipout(3)
  flipout.build((None, 2))
  assert 'divergence_carrier' not in [w.name for w in flipout.weights]


def test_model_losses_hold_the_fixed_kl_after_fit_without_gradient_warnings():
  model = _model(_fixed_layer())
  x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    history = model.fit(x, np.zeros((16, 3)), epochs=2, verbose=0)
  assert not [w for w in caught if 'Gradients do not exist' in str(w.message)]
  assert np.all(np.isfinite(history.history['loss']))
  assert len(model.losses) == 2
  np.testing.assert_allclose(model.losses[1], 6 * _KL_PER_ELEMENT, rtol=1e-6)


def test_a_frozen_layer_with_fixed_distributions_adds_no_kl():
  layer = _fixed_layer()
  layer.build((None, 2))
  layer.trainable = False
  assert layer.losses == []
  built_frozen = _fixed_layer(trainable=False)
  built_frozen.build((None, 2))
  assert built_frozen.losses == []


def test_a_weight_its_builder_made_untrainable_does_not_swallow_the_kl():
  def untrainable_posterior(dtype, shape, name, trainable, add_variable_fn):
    del trainable
    return tfpl.default_mean_field_normal_fn()(dtype, shape, name, False,
                                               add_variable_fn)

  layer = tfpl.DenseReparameterization(
      3, kernel_posterior_fn=untrainable_posterior, bias_posterior_fn=None)
  layer.build((None, 2))
  expected = tfd.kl_divergence(layer.kernel_posterior, layer.kernel_prior)
  np.testing.assert_allclose(layer.losses, [expected], rtol=1e-6)


def test_dense_variational_with_fixed_models_has_its_kl_in_losses():
  def fixed(size, dtype, scale):
    return keras.Sequential([tfpl.DistributionLambda(
        lambda t: tfd.Independent(tfd.Normal(tf.zeros(size, dtype), scale),
                                  1))])

  layer = tfpl.DenseVariational(
      3, lambda k, b, dtype: fixed(k + b, dtype, 2.),
      lambda k, b, dtype: fixed(k + b, dtype, 1.), kl_use_exact=True)
  layer.build((None, 2))
  np.testing.assert_allclose(layer.losses, [9 * _KL_PER_ELEMENT], rtol=1e-6)


@pytest.mark.parametrize('how', ['keras_file', 'checkpoint'])
def test_a_model_with_carriers_saves_and_restores(how, tmp_path):
  model = _model(_fixed_layer())
  x = np.ones((4, 2), np.float32)
  model.fit(x, np.zeros((4, 3)), epochs=1, verbose=0)
  if how == 'keras_file':
    model.save(tmp_path / 'm.keras')
    restored = keras.saving.load_model(tmp_path / 'm.keras')
  else:
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / 'ckpt'))
    restored = _model(_fixed_layer())
    tf.train.Checkpoint(model=restored).restore(
        path).assert_existing_objects_matched()
  for saved, loaded in zip(model.weights, restored.weights):
    np.testing.assert_array_equal(saved.numpy(), loaded.numpy())
  np.testing.assert_allclose(restored.losses, model.losses, rtol=1e-6)
  np.testing.assert_array_equal(restored.layers[-1](x, seed=3),
                                model.layers[-1](x, seed=3))
