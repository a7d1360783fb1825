"""Tests of the convolutional variational Keras layers in tfnx.keras."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx.keras as tfpl
from tfnx import estimators
from tfnx import linear_maps
from tfnx import seeds

tfd = tfp.distributions

REPARAMETERIZATION = {1: tfpl.Convolution1DReparameterization,
                      2: tfpl.Convolution2DReparameterization,
                      3: tfpl.Convolution3DReparameterization}
FLIPOUT = {1: tfpl.Convolution1DFlipout, 2: tfpl.Convolution2DFlipout,
           3: tfpl.Convolution3DFlipout}
STOCK = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D,
         3: keras.layers.Conv3D}
_SPATIAL = {1: (9,), 2: (9, 8), 3: (7, 6, 5)}


def _images(shape, seed=(3, 4)):
  return tf.random.stateless_normal(shape, seed=seed)


def _channels_first(shape):
  return (shape[0], shape[-1]) + tuple(shape[1:-1])


def test_aliases_name_the_same_classes():
  assert tfpl.Conv1DFlipout is tfpl.Convolution1DFlipout
  assert tfpl.Conv2DFlipout is tfpl.Convolution2DFlipout
  assert tfpl.Conv3DFlipout is tfpl.Convolution3DFlipout
  assert tfpl.Conv1DReparameterization is tfpl.Convolution1DReparameterization
  assert tfpl.Conv2DReparameterization is tfpl.Convolution2DReparameterization
  assert tfpl.Conv3DReparameterization is tfpl.Convolution3DReparameterization


@pytest.mark.parametrize('rank', [1, 2, 3])
@pytest.mark.parametrize('family', [REPARAMETERIZATION, FLIPOUT])
@pytest.mark.parametrize('geometry', [
    dict(),
    dict(padding='same'),
    dict(strides=2),
    dict(strides=2, padding='same'),
    dict(dilation_rate=2),
    dict(dilation_rate=2, padding='same'),
])
def test_output_shapes_match_stock_keras_convolutions(rank, family, geometry):
  shape = (2,) + _SPATIAL[rank] + (3,)
  layer = family[rank](4, 3, seed=1, **geometry)
  expected = STOCK[rank](4, 3, **geometry).compute_output_shape(shape)
  assert tuple(layer(_images(shape)).shape) == tuple(expected)
  assert layer.compute_output_shape((None,) + shape[1:]) == (
      (None,) + tuple(expected[1:]))


@pytest.mark.parametrize('rank', [1, 2, 3])
@pytest.mark.parametrize('family', [REPARAMETERIZATION, FLIPOUT])
def test_channels_first_is_channels_last_transposed(rank, family):
  geometry = dict(filters=4, kernel_size=2, dilation_rate=2, padding='same')
  last = family[rank](seed=5, **geometry)
  first = family[rank](data_format='channels_first', seed=5, **geometry)
  x = _images((2,) + _SPATIAL[rank] + (3,))
  x_first = tf.transpose(x, [0, rank + 1] + list(range(1, rank + 1)))
  y_last, y_first = last(x), first(x_first)
  assert tuple(y_first.shape) == _channels_first(tuple(y_last.shape))
  assert first.compute_output_shape(x_first.shape) == tuple(y_first.shape)
  np.testing.assert_allclose(
      tf.transpose(y_first, [0] + list(range(2, rank + 2)) + [1]), y_last,
      rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('strides, dilation_rate', [(1, 2), (2, 1),
                                                    ((1, 2), 1)])
def test_geometry_reaches_the_convolution(strides, dilation_rate):
  layer = tfpl.Convolution2DReparameterization(
      4, (3, 2), strides=strides, dilation_rate=dilation_rate,
      kernel_posterior_tensor_fn=support.posterior_mean)
  x = _images((2, 9, 8, 3))
  y = layer(x)
  expected = tf.nn.convolution(
      x, layer.kernel_posterior.mean(), strides=strides,
      dilations=dilation_rate) + layer.bias_posterior.mean()
  np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('cls, estimator', [
    (tfpl.Convolution2DReparameterization, estimators.reparameterization),
    (tfpl.Convolution2DFlipout, estimators.flipout),
])
def test_outputs_are_the_shared_estimators_outputs(cls, estimator):
  layer = cls(4, 3, padding='same', seed=9)
  x = _images((2, 6, 5, 3))
  layer.build(x.shape)
  state = layer.variables[-1].numpy()  # The seed generator's state.
  call_seed = seeds.split_seed(seeds.sanitize_seed(state), 3)[0]
  expected = estimator(x, layer.kernel_posterior, layer.bias_posterior,
                       linear_maps.convolution(2, 1, 'SAME', 1), call_seed,
                       tfd.Distribution.sample).outputs
  np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-6)


def test_kl_terms_and_distributions():
  layer = tfpl.Convolution2DFlipout(
      4, (3, 2), bias_posterior_fn=tfpl.default_mean_field_normal_fn(),
      bias_prior_fn=tfpl.default_multivariate_normal_fn)
  layer(_images((2, 6, 5, 3)))
  assert layer.kernel_posterior.event_shape == [3, 2, 3, 4]
  assert layer.bias_posterior.event_shape == [4]
  support.assert_losses_are_exact_kls(layer)


def test_bad_arguments_name_the_layer_and_argument():
  with pytest.raises(ValueError, match='c2.*kernel_size'):
    tfpl.Convolution2DFlipout(4, (3, 3, 3), name='c2')
  with pytest.raises(ValueError, match='c2.*strides.*dilations'):
    tfpl.Convolution2DFlipout(4, 3, strides=2, dilation_rate=2, name='c2')
  with pytest.raises(ValueError, match='c2.*padding'):
    tfpl.Convolution2DFlipout(4, 3, padding='full', name='c2')
  with pytest.raises(ValueError, match='c2.*data_format'):
    tfpl.Convolution2DFlipout(4, 3, data_format='nchw', name='c2')
  with pytest.raises(ValueError, match='c2.*filters'):
    tfpl.Convolution2DFlipout(0, 3, name='c2')


def test_wrong_channels_after_build_names_the_layer():
  layer = tfpl.Convolution2DFlipout(4, 3, name='conv')
  layer(_images((1, 5, 5, 3)))
  with pytest.raises(ValueError, match=r'conv.*axis -1.*3.*\(1, 5, 5, 2\)'):
    layer(_images((1, 5, 5, 2)))


@pytest.mark.slow
def test_mixes_with_stock_layers_and_trains():
  model = keras.Sequential([
      keras.Input((8, 8, 1)),
      tfpl.Convolution2DFlipout(4, 3, padding='same', activation='relu',
                                seed=1),
      keras.layers.MaxPooling2D(2),
      keras.layers.Dropout(0.1),
      keras.layers.Flatten(),
      tfpl.DenseFlipout(3, seed=2),
  ])
  assert model.output_shape == (None, 3)
  model.compile('adam', keras.losses.SparseCategoricalCrossentropy(
      from_logits=True))
  x = _images((8, 8, 8, 1)).numpy()
  model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
  assert model.predict(x, verbose=0).shape == (8, 3)
  assert len(model.losses) == 2


@pytest.mark.parametrize('cls', [tfpl.Convolution1DFlipout,
                                 tfpl.Convolution3DReparameterization])
def test_config_round_trip(cls):
  layer = cls(5, 2, strides=1, padding='same', data_format='channels_first',
              dilation_rate=2, activation='relu', seed=4)
  config = layer.get_config()
  assert config['padding'] == 'same'
  assert config['kernel_size'] == (2,) * layer.rank
  assert cls.from_config(config).get_config() == config


def test_keras_file_round_trip(tmp_path):
  model = keras.Sequential([
      keras.Input((6, 6, 2)),
      tfpl.Convolution2DFlipout(3, 3, seed=1),
      keras.layers.Flatten(),
      tfpl.DenseReparameterization(2, seed=2)])
  path = str(tmp_path / 'conv.keras')
  model.save(path)
  loaded = keras.models.load_model(path)
  assert [type(l) for l in loaded.layers] == [type(l) for l in model.layers]
  for a, b in zip(model.get_weights(), loaded.get_weights()):
    np.testing.assert_array_equal(a, b)
