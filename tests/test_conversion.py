"""`tfn.util.to_variational` and `tfnx.keras.to_variational`: trained networks as variational ones."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnx as tfn
import tfnx.keras as tfpl


def _mlp(seed=0):
  return tfn.Sequential([
      tfn.Affine(4, 8, activation_fn=tf.nn.relu,
                 kernel_initializer=tfn.initializers.glorot_uniform(seed),
                 bias_initializer=lambda shape, dtype: tf.fill(shape, 0.3)),
      tfn.Affine(8, 3,
                 kernel_initializer=tfn.initializers.glorot_uniform(seed + 1))])


def _inputs(*shape):
  return np.random.RandomState(0).randn(*shape).astype(np.float32)


@pytest.mark.parametrize('estimator', ['flipout', 'local',
                                       'reparameterization'])
def test_posterior_means_are_the_weights_and_scales_delta_times_their_size(
    estimator):
  det = _mlp()
  bnn = tfn.util.to_variational(det, estimator=estimator, moped_delta=0.2,
                                posterior_scale='weight')
  for old, new in zip(det.layers, bnn.layers):
    for weight, posterior in ((old.kernel, new.kernel_posterior),
                              (old.bias, new.bias_posterior)):
      np.testing.assert_array_equal(posterior.mean(), weight)
      np.testing.assert_allclose(posterior.stddev(),
                                 np.maximum(0.2 * np.abs(weight), 1e-4),
                                 rtol=1e-5)
    assert new.activation_fn is old.activation_fn
    assert new.name == old.name
  bnn(_inputs(5, 4))
  assert len(bnn.losses) == 4  # A kernel and a bias KL per layer.


def test_by_default_a_layer_starts_at_delta_times_its_kernel_rms():
  det = _mlp()
  bnn = tfn.util.to_variational(det, moped_delta=0.2)
  for old, new in zip(det.layers, bnn.layers):
    rms = np.sqrt(np.mean(np.square(old.kernel)))
    for weight, posterior in ((old.kernel, new.kernel_posterior),
                              (old.bias, new.bias_posterior)):
      np.testing.assert_array_equal(posterior.mean(), weight)
      np.testing.assert_allclose(posterior.stddev(),
                                 np.full(weight.shape, 0.2 * rms), rtol=1e-5)


def test_a_keras_kernel_starts_at_delta_times_its_rms_or_its_size():
  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4)])
  kernel = np.asarray(model.layers[0].kernel)
  for scale, expected in (
      ('layer', np.full(kernel.shape, 0.2 * np.sqrt(np.mean(kernel**2)))),
      ('weight', np.maximum(0.2 * np.abs(kernel), 1e-4))):
    bnn = tfpl.to_variational(model, num_examples=10, moped_delta=0.2,
                              posterior_scale=scale)
    np.testing.assert_allclose(bnn.layers[0].kernel_posterior.stddev(),
                               expected, rtol=1e-4)


def test_a_tiny_delta_computes_what_the_trained_network_computes():
  det = _mlp()
  x = _inputs(6, 4)
  bnn = tfn.util.to_variational(det, moped_delta=1e-6)
  # The floor of 1e-4 on the scale leaves noise of that order.
  np.testing.assert_allclose(bnn(x, seed=[1, 2]), det(x), atol=5e-3)


def test_layers_chooses_which_layers_convert_and_others_are_kept():
  det = tfn.Sequential([tfn.Affine(4, 8), tf.nn.relu, tfn.Affine(8, 3)])
  bnn = tfn.util.to_variational(det, layers=[-1])
  assert bnn.layers[0] is det.layers[0] and bnn.layers[1] is tf.nn.relu
  assert isinstance(bnn.layers[2], tfn.AffineVariationalFlipout)
  same = tfn.util.to_variational(det, layers=[det.layers[0]])
  assert isinstance(same.layers[0], tfn.AffineVariationalFlipout)
  assert same.layers[2] is det.layers[2]


def test_the_moped_prior_is_centred_on_the_trained_weights():
  det = _mlp()
  bnn = tfn.util.to_variational(det, prior='moped')
  layer = bnn.layers[0]
  np.testing.assert_array_equal(layer.kernel_prior.mean(), det.layers[0].kernel)
  np.testing.assert_array_equal(layer.bias_prior.mean(), det.layers[0].bias)
  np.testing.assert_allclose(layer.kernel_prior.stddev(), 1.)
  default = tfn.util.to_variational(det).layers[0]
  assert isinstance(default.kernel_prior, type(tfn.AffineVariationalFlipout(
      4, 8).kernel_prior))


def test_convolutions_and_transposed_convolutions_convert():
  det = tfn.Sequential([
      tfn.Convolution(2, 3, 3, padding='SAME', activation_fn=tf.nn.relu),
      tfn.ConvolutionTranspose(3, 2, 3, strides=2, padding='SAME')])
  x = _inputs(2, 5, 5, 2)
  bnn = tfn.util.to_variational(det, estimator='reparameterization',
                                moped_delta=1e-6)
  assert isinstance(bnn.layers[0], tfn.ConvolutionVariationalReparameterization)
  assert isinstance(bnn.layers[1],
                    tfn.ConvolutionTransposeVariationalReparameterization)
  np.testing.assert_allclose(bnn(x, seed=[3, 4]), det(x), atol=5e-3)


def test_a_seeded_conversion_is_reproducible():
  det = _mlp()
  x = _inputs(5, 4)
  first = tfn.util.to_variational(det, seed=7)
  second = tfn.util.to_variational(det, seed=7)
  np.testing.assert_array_equal(first(x), second(x))


def test_to_variational_rejects_bad_arguments_clearly():
  det = tfn.Sequential([tfn.Convolution(2, 3, 3), tfn.Affine(3, 2)])
  with pytest.raises(ValueError, match="Convolution.*no 'local' form"):
    tfn.util.to_variational(det, estimator='local')
  with pytest.raises(ValueError, match='`estimator` one of'):
    tfn.util.to_variational(det, estimator='bayes')
  with pytest.raises(ValueError, match='`prior` one of'):
    tfn.util.to_variational(det, prior='flat')
  with pytest.raises(ValueError, match='`posterior_scale` one of'):
    tfn.util.to_variational(det, posterior_scale='unit')
  with pytest.raises(ValueError, match='positive `moped_delta`'):
    tfn.util.to_variational(det, moped_delta=0.)
  with pytest.raises(TypeError, match='tfnx.keras.to_variational'):
    tfn.util.to_variational(tfn.Affine(2, 2))
  with pytest.raises(IndexError, match='out of range'):
    tfn.util.to_variational(det, layers=[5])
  relu = tfn.Sequential([tfn.Affine(2, 2), tf.nn.relu])
  with pytest.raises(TypeError, match='expected an Affine'):
    tfn.util.to_variational(relu, layers=[1])


def _keras_data():
  rng = np.random.RandomState(1)
  x = rng.randn(256, 6).astype(np.float32)
  y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int32)
  return x, y


def _accuracy(logits, y):
  return float(np.mean(np.argmax(logits, -1) == y))


@pytest.mark.slow
def test_a_keras_model_trained_with_fit_keeps_its_accuracy_and_adds_its_kl():
  x, y = _keras_data()
  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input((6,)),
                            keras.layers.Dense(16, activation='relu'),
                            keras.layers.Dense(2)])
  model.compile(keras.optimizers.Adam(1e-2),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  model.fit(x, y, epochs=5, batch_size=32, verbose=0)
  bnn = tfpl.to_variational(model, num_examples=len(x), seed=3)
  assert isinstance(bnn.layers[0], tfpl.DenseFlipout)
  assert bnn.layers[0].activation is model.layers[0].activation
  np.testing.assert_array_equal(bnn.layers[0].kernel_posterior.mean(),
                                model.layers[0].kernel)
  mean_logits = np.mean([bnn(x, training=False) for _ in range(20)], axis=0)
  assert abs(_accuracy(mean_logits, y) - _accuracy(model(x), y)) <= 0.02
  assert len(bnn.losses) == 2
  kernel = bnn.layers[1]
  expected = tf.reduce_sum(
      tfn.losses.kl_divergence_exact(kernel.kernel_posterior,
                                     kernel.kernel_prior)) / len(x)
  np.testing.assert_allclose(bnn.losses[1], expected, rtol=1e-5)


def test_a_functional_keras_model_converts_and_other_layers_keep_weights():
  inputs = keras.Input((5, 5, 2))
  h = keras.layers.Conv2D(3, 3, padding='same', activation='relu')(inputs)
  h = keras.layers.BatchNormalization()(h)
  h = keras.layers.Flatten()(h)
  outputs = keras.layers.Dense(2)(h)
  model = keras.Model(inputs, outputs)
  norm = model.layers[2]
  norm.set_weights([w + 0.5 for w in norm.get_weights()])
  bnn = tfpl.to_variational(model, 100, estimator='reparameterization',
                            moped_delta=1e-6, prior='moped')
  assert isinstance(bnn.layers[1], tfpl.Conv2DReparameterization)
  for old, new in zip(norm.get_weights(), bnn.layers[2].get_weights()):
    np.testing.assert_array_equal(old, new)
  x = _inputs(2, 5, 5, 2)
  np.testing.assert_allclose(bnn(x), model(x), atol=5e-3)
  np.testing.assert_array_equal(bnn.layers[1].kernel_prior.mean(),
                                model.layers[1].kernel)


def test_a_converted_keras_model_saves_and_loads(tmp_path):
  model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
  bnn = tfpl.to_variational(model, 50, prior='moped', seed=1)
  path = os.path.join(tmp_path, 'bnn.keras')
  bnn.save(path)
  loaded = keras.saving.load_model(path)
  layer = loaded.layers[0]
  assert layer.kernel_divergence_fn.num_examples == 50
  assert isinstance(layer.kernel_prior_fn, tfpl.CenteredNormalFn)
  np.testing.assert_array_equal(layer.kernel_prior.mean(),
                                model.layers[0].kernel)
  x = _inputs(4, 3)
  np.testing.assert_array_equal(loaded.layers[0](x, seed=[1, 1]),
                                bnn.layers[0](x, seed=[1, 1]))


def test_kl_per_example_divides_the_kl_and_rejects_bad_counts():
  layer = tfpl.DenseReparameterization(
      2, kernel_divergence_fn=tfpl.KLPerExample(40, kl_weight=0.5))
  reference = tfpl.DenseReparameterization(2)
  x = _inputs(3, 3)
  layer(x, seed=[0, 0])
  reference.build((3, 3))
  reference.set_weights(layer.get_weights())
  reference(x, seed=[0, 0])
  np.testing.assert_allclose(layer.losses[0], 0.5 * reference.losses[0] / 40,
                             rtol=1e-6)
  with pytest.raises(ValueError, match='positive int'):
    tfpl.KLPerExample(32.5)
  with pytest.raises(ValueError, match='built Keras model'):
    tfpl.to_variational(keras.Sequential([keras.layers.Dense(2)]), 10)
