"""`BlockwiseInitializer`: blocks of other initializers along the last axis."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnx.keras as tfpl


def _loc_scale():
  return tfpl.BlockwiseInitializer(
      [keras.initializers.RandomNormal(stddev=0.1, seed=7),
       keras.initializers.Constant(0.5413)], sizes=[3, 2])


def test_blocks_are_the_initializers_values_side_by_side():
  value = _loc_scale()((4, 5), dtype='float64')
  assert value.dtype == tf.float64 and value.shape == (4, 5)
  np.testing.assert_array_equal(
      value[:, 3:], keras.initializers.Constant(0.5413)((4, 2), 'float64'))
  np.testing.assert_array_equal(
      value[:, :3],
      keras.initializers.RandomNormal(stddev=0.1, seed=7)((4, 3), 'float64'))


def test_names_are_keras_initializers_and_dtype_defaults_to_floatx():
  value = tfpl.BlockwiseInitializer(['zeros', 'ones'], [1, 2])((2, 3))
  assert value.dtype == tf.float32
  np.testing.assert_array_equal(value, [[0., 1., 1.]] * 2)


def test_config_round_trip_makes_the_same_values():
  init = _loc_scale()
  config = keras.initializers.serialize(init)
  loaded = keras.initializers.deserialize(config)
  assert isinstance(loaded, tfpl.BlockwiseInitializer)
  assert loaded.sizes == [3, 2] and loaded.validate_args is False
  np.testing.assert_array_equal(loaded((2, 5)), init((2, 5)))


def test_variable_layer_initializes_its_variable_blockwise():
  layer = tfpl.VariableLayer(4, initializer=tfpl.BlockwiseInitializer(
      ['zeros', keras.initializers.Constant(-1.)], [2, 2]))
  np.testing.assert_array_equal(layer(None), [0., 0., -1., -1.])


def test_dense_kernel_initializer_and_keras_file_round_trip(tmp_path):
  model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(
      3, kernel_initializer=tfpl.BlockwiseInitializer(['ones', 'zeros'],
                                                      [1, 2]))])
  np.testing.assert_array_equal(model.layers[0].kernel,
                                [[1., 0., 0.]] * 2)
  path = str(tmp_path / 'm.keras')
  model.save(path)
  loaded = keras.models.load_model(path)
  assert isinstance(loaded.layers[0].kernel_initializer,
                    tfpl.BlockwiseInitializer)


def test_last_axis_other_than_the_sizes_sum_is_refused():
  with pytest.raises(ValueError, match=r'last axis is sum\(sizes\) = 3; '
                     r'received shape \(2, 4\)'):
    tfpl.BlockwiseInitializer(['zeros', 'ones'], [1, 2])((2, 4))


def test_one_size_per_initializer_is_required():
  with pytest.raises(ValueError, match='one non-negative size per '
                     r'initializer; received 2 initializers and sizes \[1\]'):
    tfpl.BlockwiseInitializer(['zeros', 'ones'], [1])
