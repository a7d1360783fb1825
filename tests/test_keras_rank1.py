"""tfnx.keras' rank-1 and BatchEnsemble layers as Keras citizens: rows, `.keras` files."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnx as tfn
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
  # As JSON, where a tuple is a list (an RNN's build config holds shapes).
  assert json.dumps(loaded.get_config()) == json.dumps(layer.get_config())
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


def _collapsed(name):
  """A posterior of zero scale: draws are its means, exactly."""
  return tfpl.TrainableNormal(
      mean_initializer=keras.initializers.RandomNormal(1., 0.5, seed=len(name)),
      stddev_initializer=keras.initializers.Constant(-200.))


def test_a_collapsed_lstm_member_is_a_keras_lstm_cell_with_scaled_kernels():
  vectors = ('alpha', 'gamma', 'recurrent_alpha', 'recurrent_gamma')
  cell = tfpl.LSTMCellRank1(
      3, ensemble_size=2, seed=1, bias_initializer='random_normal',
      **{name + '_initializer': _collapsed(name) for name in vectors})
  rnn = tfpl.VariationalRNN(cell)
  x = tf.random.stateless_normal([6, 4, 2], (0, 1))
  outputs = rnn(x, seed=(2, 3))
  means = {name: getattr(cell, name).mean() for name in vectors}
  for member, rows in enumerate((slice(0, 3), slice(3, 6))):
    plain = keras.layers.RNN(keras.layers.LSTMCell(3))
    plain.build((None, 4, 2))
    plain.set_weights([
        means['alpha'][member][:, None] * cell.kernel
        * means['gamma'][member],
        means['recurrent_alpha'][member][:, None] * cell.recurrent_kernel
        * means['recurrent_gamma'][member],
        cell.bias[member]])
    np.testing.assert_allclose(outputs[rows], plain(x[rows]), rtol=1e-5,
                               atol=1e-6)


def test_every_step_of_a_sequence_applies_the_calls_one_draw():
  cell = tfpl.LSTMCellRank1(3, ensemble_size=2, seed=1)
  rnn = tfpl.VariationalRNN(cell, return_sequences=True)
  x = tf.random.stateless_normal([4, 2, 2], (0, 1))
  outputs = rnn(x, seed=(2, 3))
  # The RNN splits its seed among its cells, here one.
  (seed,) = tfn.seeds.split_seed(tfn.seeds.sanitize_seed((2, 3)), 1)
  states = cell.get_initial_state(4)
  with cell.one_draw(4, seed):
    for step in range(2):
      h, states = cell(x[:, step], states)
      np.testing.assert_allclose(outputs[:, step], h, rtol=1e-6)
  # Outside one, each step draws afresh.
  first, _ = cell(x[:, 0], cell.get_initial_state(4))
  second, _ = cell(x[:, 0], cell.get_initial_state(4))
  assert not np.array_equal(first, second)


def test_a_plain_keras_rnn_fits_and_has_the_vectors_kls_in_losses():
  cell = tfpl.LSTMCellRank1(
      3, seed=1, alpha_regularizer=tfpl.NormalKLDivergence(num_examples=8))
  model = keras.Sequential([keras.Input((4, 2)), keras.layers.RNN(cell)])
  model.compile(keras.optimizers.Adam(0.01), 'mse')
  x = tf.random.stateless_normal([8, 4, 2], (0, 1))
  model.fit(x, tf.zeros([8, 3]), batch_size=8, epochs=1, verbose=0)
  assert len(model.losses) == 4
  assert np.isfinite([float(loss) for loss in model.losses]).all()


def test_the_forget_gates_biases_start_at_one():
  cell = tfpl.LSTMCellRank1(2, ensemble_size=3, seed=1,
                            bias_initializer='random_normal')
  cell.build((None, 5))
  bias = cell.bias.numpy()
  np.testing.assert_array_equal(bias[:, 2:4], np.ones([3, 2]))
  assert not np.any(bias[:, :2] == 1.) and not np.any(bias[:, 4:] == 1.)
  plain = tfpl.LSTMCellRank1(2, unit_forget_bias=False, seed=1)
  plain.build((None, 5))
  np.testing.assert_array_equal(plain.bias, np.zeros([4, 8]))


def test_lstm_config_round_trips_its_recurrent_arguments():
  cell = tfpl.LSTMCellRank1(
      4, recurrent_activation='hard_sigmoid', unit_forget_bias=False,
      recurrent_alpha_initializer='trainable_cauchy',
      recurrent_gamma_initializer='ones', recurrent_gamma_regularizer=None,
      recurrent_initializer='glorot_uniform', ensemble_size=3, seed=2)
  config = cell.get_config()
  restored = tfpl.LSTMCellRank1.from_config(config)
  assert restored.get_config() == config
  assert isinstance(restored.recurrent_alpha_initializer,
                    tfpl.TrainableCauchy)
  assert restored.units == 4 and restored.ensemble_size == 3
