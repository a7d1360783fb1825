"""Tests of the TF1 contrib functional forms: `dense_flipout(inputs, units, ...)`, `conv2d_flipout(inputs, filters, kernel_size, ...)`, ..."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnx.keras as tfpl

FUNCTIONS = [
    (tfpl.dense_flipout, tfpl.DenseFlipout, (4,), (3,)),
    (tfpl.dense_reparameterization, tfpl.DenseReparameterization, (4,), (3,)),
    (tfpl.dense_local_reparameterization, tfpl.DenseLocalReparameterization,
     (4,), (3,)),
    (tfpl.conv1d_flipout, tfpl.Conv1DFlipout, (5, 2), (3, 3)),
    (tfpl.conv2d_flipout, tfpl.Conv2DFlipout, (5, 5, 2), (3, 3, 3)),
    (tfpl.conv3d_flipout, tfpl.Conv3DFlipout, (3, 3, 3, 2), (1, 1, 1, 3)),
    (tfpl.conv1d_reparameterization, tfpl.Conv1DReparameterization, (5, 2),
     (3, 3)),
    (tfpl.conv2d_reparameterization, tfpl.Conv2DReparameterization,
     (5, 5, 2), (3, 3, 3)),
    (tfpl.conv3d_reparameterization, tfpl.Conv3DReparameterization,
     (3, 3, 3, 2), (1, 1, 1, 3)),
]


def _args(cls):
  return (3,) if cls.__name__.startswith('Dense') else (3, 3)


@pytest.mark.parametrize('fn, cls, input_shape, output_shape', FUNCTIONS)
def test_functional_form_equals_its_layer_with_the_same_seed(
    fn, cls, input_shape, output_shape):
  x = tf.random.stateless_normal((2,) + input_shape, seed=[1, 2])
  layer = cls(*_args(cls), activation='relu', seed=5)
  expected = layer(x)
  outputs = fn(x, *_args(cls), activation='relu', seed=5, name='f')
  assert outputs.shape == (2,) + output_shape
  np.testing.assert_array_equal(outputs, expected)


def test_functional_form_builds_a_keras_functional_model():
  inputs = keras.Input((5, 5, 2))
  hidden = tfpl.conv2d_flipout(inputs, 3, 3, seed=1, name='conv')
  outputs = tfpl.dense_flipout(keras.layers.Flatten()(hidden), 2, seed=2,
                               name='dense')
  model = keras.Model(inputs, outputs)
  assert isinstance(model.get_layer('conv'), tfpl.Conv2DFlipout)
  assert isinstance(model.get_layer('dense'), tfpl.DenseFlipout)
  assert model(tf.ones([3, 5, 5, 2])).shape == (3, 2)
  assert len(model.losses) == 2


def test_reuse_is_a_clear_error_pointing_to_the_layer():
  with pytest.raises(ValueError, match=r'dense_flipout: .*reuse.*'
                     r'tfnx.keras.DenseFlipout\(units'):
    tfpl.dense_flipout(tf.ones([1, 4]), 3, reuse=True)
