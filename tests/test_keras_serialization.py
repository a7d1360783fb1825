"""Tests that tfnx.keras layers are Keras citizens: configs, .keras files, weights files, the functional API."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx.keras as tfpl

tfd = tfp.distributions

DENSE = (tfpl.DenseReparameterization, tfpl.DenseFlipout,
         tfpl.DenseLocalReparameterization)


def scaled_kl(q, p, _):
  """A user's divergence function, KL over a dataset of 100 examples."""
  return tfd.kl_divergence(q, p) / 100.


def _model(dense_classes=DENSE, **kwargs):
  layers = [keras.Input((3,))]
  for i, cls in enumerate(dense_classes):
    layers.append(cls(4, activation='relu', seed=10 + i, **kwargs))
  return keras.Sequential(layers)


def _assert_same_weights(a, b):
  weights_a, weights_b = a.get_weights(), b.get_weights()
  assert len(weights_a) == len(weights_b)
  for x, y in zip(weights_a, weights_b):
    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize('cls', DENSE)
def test_config_round_trip(cls):
  layer = cls(5, activation='tanh', bias_prior_fn=(
      tfpl.default_multivariate_normal_fn), seed=3, name='v')
  config = layer.get_config()
  assert config['units'] == 5 and config['seed'] == 3
  restored = cls.from_config(config)
  assert restored.get_config() == config
  assert restored.bias_prior_fn is tfpl.default_multivariate_normal_fn
  assert isinstance(restored.kernel_posterior_fn, tfpl.MeanFieldNormalFn)
  assert restored.bias_posterior_fn.is_singular


def test_keras_file_round_trip_keeps_weights_types_and_outputs(tmp_path):
  model = _model(bias_prior_fn=tfpl.default_multivariate_normal_fn)
  x = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
  model.compile('adam', 'mse')
  model.fit(x, np.ones((6, 4)), epochs=2, verbose=0)
  path = str(tmp_path / 'm.keras')
  model.save(path)
  loaded = keras.models.load_model(path)
  assert [type(l) for l in loaded.layers] == list(DENSE)
  _assert_same_weights(model, loaded)
  # A loaded layer restarts its seed sequence; so does a fresh copy.
  fresh = keras.models.clone_model(model)
  fresh.set_weights(model.get_weights())
  np.testing.assert_array_equal(loaded.predict(x, verbose=0),
                                fresh.predict(x, verbose=0))
  loaded(x)
  assert len(loaded.losses) == 6


def test_keras_file_round_trip_with_custom_functions(tmp_path):
  model = _model((tfpl.DenseFlipout,), kernel_divergence_fn=scaled_kl)
  path = str(tmp_path / 'm.keras')
  model.save(path)
  with pytest.raises(TypeError, match='scaled_kl'):
    keras.models.load_model(path)
  loaded = keras.models.load_model(path,
                                   custom_objects={'scaled_kl': scaled_kl})
  assert loaded.layers[0].kernel_divergence_fn is scaled_kl
  _assert_same_weights(model, loaded)


def test_lambdas_load_only_when_unsafe_deserialization_is_allowed(tmp_path):
  model = _model((tfpl.DenseReparameterization,),
                 kernel_posterior_tensor_fn=lambda d: d.mean())
  path = str(tmp_path / 'm.keras')
  model.save(path)
  with pytest.raises(ValueError, match='lambda'):
    keras.models.load_model(path)
  loaded = keras.models.load_model(path, safe_mode=False)
  x = np.ones((2, 3), np.float32)
  np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)


def test_save_weights_and_load_weights(tmp_path):
  model, other = _model(), _model()
  path = str(tmp_path / 'm.weights.h5')
  model.save_weights(path)
  assert not np.allclose(model.get_weights()[0], other.get_weights()[0] + 1.)
  other.load_weights(path)
  _assert_same_weights(model, other)
  # The distributions read the loaded variables.
  np.testing.assert_array_equal(
      other.layers[0].kernel_posterior.mean(),
      model.layers[0].kernel_posterior.mean())


def test_functional_api_and_stock_layers():
  inputs = keras.Input((8,))
  hidden = tfpl.DenseFlipout(16, activation='relu', seed=1)(inputs)
  hidden = keras.layers.Dropout(0.2)(hidden)
  outputs = tfpl.DenseLocalReparameterization(2, seed=2)(hidden)
  model = keras.Model(inputs, outputs)
  assert model.output_shape == (None, 2)
  model.compile('adam', keras.losses.SparseCategoricalCrossentropy(
      from_logits=True))
  x = np.random.default_rng(1).normal(size=(16, 8)).astype(np.float32)
  model.fit(x, np.arange(16) % 2, epochs=1, verbose=0)
  assert model.predict(x, verbose=0).shape == (16, 2)


def test_distributions_survive_a_build_inside_fit():
  # Without an Input, fit builds the layers while tracing its function; the
  # distributions must still be usable eagerly afterwards.
  model = keras.Sequential([tfpl.DenseFlipout(4, seed=1)])
  model.compile('adam', 'mse')
  model.fit(np.ones((4, 3)), np.ones((4, 4)), epochs=1, verbose=0)
  np.testing.assert_array_equal(model.layers[0].kernel_prior.mean(),
                                np.zeros([3, 4]))
  model.predict(np.ones((2, 3)), verbose=0)
  assert model(np.ones((2, 3))).shape == (2, 4)


@pytest.mark.parametrize('make', [
    lambda: tfpl.KLPerExample(40, kl_weight=0.5),
    lambda: tfpl.KLDivergenceRegularizer(tfpl.IndependentNormal(1),
                                         use_exact_kl=True, weight=0.5),
    lambda: tfpl.MixtureSameFamily(2, tfpl.IndependentNormal(3)),
], ids=['KLPerExample', 'KLDivergenceRegularizer', 'MixtureSameFamily'])
def test_objects_holding_functions_or_layers_rebuild_from_their_configs(make):
  original = make()
  config = original.get_config()
  rebuilt = type(original).from_config(config)
  assert type(rebuilt) is type(original)
  assert rebuilt.get_config() == config
