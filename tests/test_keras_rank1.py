"""tfnx.keras' rank-1 and BatchEnsemble layers as Keras citizens: rows, `.keras` files."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnx.keras as tfpl
from conformance import cases


@pytest.mark.parametrize('case', cases.params(cases.ENSEMBLE_CASES))
def test_a_loaded_keras_file_gives_the_seeded_outputs_of_the_saved_model(
    case, tmp_path):
  layer = case.build()
  model = keras.Sequential([keras.Input(case.input_shape), layer])
  x = cases.inputs(case, (8,))
  expected = cases.call(layer, x, seed=(5, 6))
  path = str(tmp_path / 'model.keras')
  model.save(path)
  loaded = keras.models.load_model(path).layers[0]
  assert type(loaded) is type(layer)
  assert loaded.get_config() == layer.get_config()
  np.testing.assert_array_equal(cases.call(loaded, x, seed=(5, 6)), expected)
  np.testing.assert_array_equal(
      [v.numpy() for v in loaded.losses], [v.numpy() for v in layer.losses])


def test_a_rows_inner_axes_share_its_member_and_vectors():
  # A dense layer's inputs [rows, steps, features]: each row draws once, and
  # every step of it applies the same vectors.
  layer = tfpl.DenseRank1(3, ensemble_size=2, seed=1)
  x = tf.random.stateless_normal([4, 3, 5], (0, 1))
  outputs = layer(x, seed=(2, 3))
  for step in range(3):
    np.testing.assert_allclose(outputs[:, step],
                               layer(x[:, step], seed=(2, 3)), rtol=1e-6)


def test_batch_ensemble_gradients_to_the_vectors_are_dense():
  # One row of gradient per member, not one per example.
  layer = tfpl.DenseBatchEnsemble(3, ensemble_size=2, seed=1)
  x = tf.ones([6, 4])
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(layer(x))
  for gradient in tape.gradient(loss, layer.trainable_variables):
    assert isinstance(gradient, tf.Tensor)
