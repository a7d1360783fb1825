"""Tests that tfnx.keras layers are Keras citizens: configs, .keras files, weights files, the functional API."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.distributions import normal as normal_lib

import tfnx.keras as tfpl
from tfnx.keras import _serialization as serialization

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


PRIORS = [
    lambda: tfd.Independent(tfd.Normal(tf.zeros(3), 1), 1),
    lambda: tfd.MultivariateNormalDiag(tf.zeros(3), [1., 2., 3.]),
    lambda: tfd.MultivariateNormalTriL(
        tf.zeros(3), tf.linalg.cholesky(2. * tf.eye(3) + 1.)),
    lambda: tfd.TransformedDistribution(
        tfd.MultivariateNormalDiag(tf.zeros(3)), tfp.bijectors.Scale(2.)),
]


@pytest.mark.parametrize('make', PRIORS)
def test_a_distribution_saves_by_type_and_parameters_and_loads_the_same(
    make):
  prior = make()
  saved = serialization.serialize_distribution(prior)
  loaded = serialization.deserialize_distribution(
      json.loads(json.dumps(saved)))
  assert type(loaded) is type(prior)
  assert loaded.batch_shape == prior.batch_shape
  assert loaded.event_shape == prior.event_shape
  z = prior.sample(4, seed=[1, 2])
  np.testing.assert_allclose(loaded.log_prob(z), prior.log_prob(z), rtol=1e-6)


def test_a_distributions_tensors_save_as_lists_with_their_dtype():
  prior = tfd.Normal(tf.constant([1., 2.], tf.float64), 3.)
  saved = serialization.serialize_distribution(prior)
  assert saved == {'tfp_type': 'tfd.Normal', 'parameters': {
      'loc': {'tensor': [1., 2.], 'dtype': 'float64'}, 'scale': 3.}}
  assert serialization.deserialize_distribution(saved).dtype == tf.float64


def test_a_distribution_parameter_that_cannot_save_is_a_clear_error():
  joint = tfd.JointDistributionSequential(
      [tfd.Normal(0., 1.), lambda x: tfd.Normal(x, 1.)])
  with pytest.raises(TypeError, match='parameter.*of a distribution.*'
                     'received function'):
    serialization.serialize_distribution(joint)


def _kl_model(prior, add_loss):
  inputs = keras.Input((4,))
  params = keras.layers.Dense(tfpl.IndependentNormal.params_size(3))(inputs)
  if add_loss:
    outputs = tfpl.KLDivergenceAddLoss(prior)(
        tfpl.IndependentNormal(3, seed=1)(params))
  else:
    outputs = tfpl.IndependentNormal(
        3, seed=1,
        activity_regularizer=tfpl.KLDivergenceRegularizer(prior))(params)
  return keras.Model(inputs, outputs)


@pytest.mark.parametrize('add_loss', [False, True],
                         ids=['KLDivergenceRegularizer', 'KLDivergenceAddLoss'])
@pytest.mark.parametrize('make', PRIORS[:2])
def test_a_model_with_a_distribution_prior_saves_and_loads(make, add_loss,
                                                           tmp_path):
  model = _kl_model(make(), add_loss)
  path = str(tmp_path / 'm.keras')
  model.save(path)
  loaded = keras.models.load_model(path)
  _assert_same_weights(model, loaded)
  # Both layers' seed sequences start from `seed`: the same draws, same KL.
  fresh = _kl_model(make(), add_loss)
  fresh.set_weights(model.get_weights())
  x = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32)
  fresh(x), loaded(x)
  assert len(loaded.losses) == 1
  np.testing.assert_allclose(loaded.losses[0], fresh.losses[0], rtol=1e-6)


def _vae(input_shape=(8, 8, 1), encoded_size=4, depth=4):
  """TFP's Probabilistic Layers VAE notebook's model, smaller."""
  prior = tfd.Independent(tfd.Normal(loc=tf.zeros(encoded_size), scale=1),
                          reinterpreted_batch_ndims=1)
  conv = lambda *a, **k: keras.layers.Conv2D(
      *a, padding='same', activation=tf.nn.leaky_relu, **k)
  encoder = keras.Sequential([
      keras.layers.InputLayer(shape=input_shape),
      conv(depth, 3), conv(depth, 3, strides=2),
      keras.layers.Flatten(),
      keras.layers.Dense(tfpl.MultivariateNormalTriL.params_size(
          encoded_size)),
      tfpl.MultivariateNormalTriL(
          encoded_size, seed=1,
          activity_regularizer=tfpl.KLDivergenceRegularizer(prior)),
  ])
  decoder = keras.Sequential([
      keras.layers.InputLayer(shape=[encoded_size]),
      keras.layers.Reshape([1, 1, encoded_size]),
      keras.layers.Conv2DTranspose(depth, 4, activation=tf.nn.leaky_relu),
      keras.layers.Conv2DTranspose(depth, 3, strides=2, padding='same'),
      keras.layers.Conv2D(1, 3, padding='same'),
      keras.layers.Flatten(),
      tfpl.IndependentBernoulli(input_shape, tfd.Bernoulli.logits),
  ])
  return keras.Model(inputs=encoder.inputs,
                     outputs=decoder(encoder.outputs[0]))


def test_the_vae_notebooks_model_saves_and_loads_with_its_prior(tmp_path):
  vae = _vae()
  x = (np.random.default_rng(3).uniform(size=(6, 8, 8, 1)) < 0.5).astype(
      np.float32)
  vae.compile(optimizer='adam', loss=lambda x, rv_x: -rv_x.log_prob(x))
  vae.fit(x, x, epochs=1, verbose=0)
  path = str(tmp_path / 'vae.keras')
  vae.save(path)
  loaded = keras.models.load_model(path, safe_mode=False)
  _assert_same_weights(vae, loaded)
  [head] = [layer for layer in loaded.layers
            if isinstance(layer, tfpl.MultivariateNormalTriL)]
  prior = head.activity_regularizer.distribution_b
  assert isinstance(prior, tfd.Independent)
  np.testing.assert_array_equal(prior.distribution.loc, np.zeros(4))
  # A loaded layer restarts its seed sequence from `seed`, as a fresh copy.
  fresh = _vae()
  fresh.set_weights(vae.get_weights())
  expected, output = fresh(x), loaded(x)
  np.testing.assert_array_equal(output, expected)
  np.testing.assert_allclose(output.distribution.distribution.logits,
                             expected.distribution.distribution.logits,
                             rtol=1e-6)
  np.testing.assert_allclose(loaded.losses, fresh.losses, rtol=1e-6)


class _Heads:
  """A module-level class whose static method a saved lambda calls."""

  @staticmethod
  def make(t):
    return normal_lib.Normal(loc=t[..., :1], scale=tf.exp(t[..., 1:]))


@pytest.mark.parametrize('make', [
    lambda: lambda t: normal_lib.Normal(loc=t[..., :1], scale=1.),
    lambda: lambda t: _Heads.make(t),  # pylint: disable=unnecessary-lambda
], ids=['module_alias', 'static_method'])
def test_a_saved_lambda_finds_what_its_module_imported(make, tmp_path):
  model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                            tfpl.DistributionLambda(make())])
  path = str(tmp_path / 'm.keras')
  model.save(path)
  loaded = keras.models.load_model(path, safe_mode=False)
  x = np.random.default_rng(4).normal(size=(5, 3)).astype(np.float32)
  np.testing.assert_allclose(loaded(x).mean(), model(x).mean(), rtol=1e-6)
