"""The variational recurrent cells of tfnx.keras in `keras.layers.RNN`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import support
import tfnx.keras as tfpl
from tfnx import _pipeline as pipeline
from tfnx import seeds as seeds_lib
from tfnx.util import _weights as weights_lib

CELLS = [tfpl.LSTMCellFlipout, tfpl.LSTMCellReparameterization,
         tfpl.GRUCellFlipout, tfpl.GRUCellReparameterization]
FLIPOUT = [tfpl.LSTMCellFlipout, tfpl.GRUCellFlipout]
UNITS, STEPS, FEATURES = 2, 4, 3
NUM_CALLS = 1500


def _sigmoid(z):
  return 1. / (1. + np.exp(-z))


def _lstm(x, kernel, recurrent, bias, reset_after):
  """Reference LSTM over `x` [T, F], with weights batched over samples."""
  del reset_after  # A GRU's option.
  h = np.zeros(kernel.shape[:1] + (UNITS,))
  c = np.zeros_like(h)
  outputs = []
  for x_t in x:
    z = (np.einsum('f,nfg->ng', x_t, kernel)
         + np.einsum('nu,nug->ng', h, recurrent) + bias)
    i, f, g, o = np.split(z, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h = _sigmoid(o) * np.tanh(c)
    outputs.append(h)
  return np.stack(outputs, 1)


def _gru(x, kernel, recurrent, bias, reset_after):
  """Reference GRU, as Keras' GRUCell, with weights batched over samples."""
  h = np.zeros(kernel.shape[:1] + (UNITS,))
  input_bias, recurrent_bias = (bias[:, 0], bias[:, 1]) if reset_after else (
      bias, 0.)
  outputs = []
  for x_t in x:
    x_z, x_r, x_h = np.split(np.einsum('f,nfg->ng', x_t, kernel)
                             + input_bias, 3, axis=-1)
    if reset_after:
      h_z, h_r, h_h = np.split(np.einsum('nu,nug->ng', h, recurrent)
                               + recurrent_bias, 3, axis=-1)
    else:
      h_z, h_r = np.split(
          np.einsum('nu,nug->ng', h, recurrent[..., :2 * UNITS]), 2, axis=-1)
    z, r = _sigmoid(x_z + h_z), _sigmoid(x_r + h_r)
    if reset_after:
      candidate = x_h + r * h_h
    else:
      candidate = x_h + np.einsum('nu,nug->ng', r * h,
                                  recurrent[..., 2 * UNITS:])
    h = z * h + (1. - z) * np.tanh(candidate)
    outputs.append(h)
  return np.stack(outputs, 1)


def _cell(cls, **kwargs):
  kwargs.setdefault('seed', 5)
  return cls(UNITS, **kwargs)


def _rnn(cell, **kwargs):
  rnn = tfpl.VariationalRNN(cell, return_sequences=True, **kwargs)
  rnn.build((None, STEPS, FEATURES))
  return rnn


def _widen_posteriors(cell, untransformed_scale=-0.5):
  """Sets every scale to softplus(untransformed_scale), so noise dominates."""
  for variable in cell.trainable_variables:
    if 'untransformed_scale' in variable.path:
      variable.assign(tf.fill(variable.shape, untransformed_scale))


def _loc_scale(posterior):
  return [np.asarray(tf.convert_to_tensor(t))
          for t in weights_lib.normal_loc_scale(posterior)]


def _reference_samples(cell, x, n):
  """Outputs under n posterior weight samples, one per sequence."""
  rng = np.random.default_rng(0)
  weights = []
  for posterior in (cell.kernel_posterior, cell.recurrent_kernel_posterior,
                    cell.bias_posterior):
    loc, scale = _loc_scale(posterior)
    weights.append(loc + scale * rng.standard_normal((n,) + loc.shape))
  reference = _gru if 'GRU' in type(cell).__name__ else _lstm
  return reference(x, *weights, getattr(cell, 'reset_after', False))


def _assert_same_moments(y, reference):
  """Means, variances and first-to-last step covariances agree to 5 SE."""
  def terms(a):
    centred = a - a.mean(0)
    return {'mean': a, 'variance': centred**2,
            'covariance of the first and last steps':
                centred[:, :1] * centred[:, -1:]}

  for (name, sample), other in zip(terms(y).items(),
                                   terms(reference).values()):
    standard_error = np.sqrt(sample.var(0) / len(sample)
                             + other.var(0) / len(other))
    np.testing.assert_array_less(
        np.abs(sample.mean(0) - other.mean(0)), 5 * standard_error,
        err_msg=name)


@pytest.mark.slow
@pytest.mark.parametrize('cls,reset_after', [
    (tfpl.LSTMCellFlipout, None), (tfpl.LSTMCellReparameterization, None),
    (tfpl.GRUCellFlipout, True), (tfpl.GRUCellReparameterization, False)],
                         ids=['lstm_flipout', 'lstm_reparameterization',
                              'gru_flipout', 'gru_reparameterization_before'])
def test_each_sequence_has_the_moments_of_one_weight_sample(cls, reset_after):
  kwargs = {} if reset_after is None else {'reset_after': reset_after}
  cell = _cell(cls, bias_posterior_fn=tfpl.default_mean_field_normal_fn(),
               **kwargs)
  rnn = _rnn(cell)
  _widen_posteriors(cell)
  x = np.linspace(-1., 1., STEPS * FEATURES).reshape(STEPS, FEATURES)
  call = tf.function(lambda s: rnn(x[np.newaxis].astype(np.float32), seed=s))
  y = np.stack([call(tf.constant([i, 3]))[0].numpy()
                for i in range(NUM_CALLS)])
  _assert_same_moments(y, _reference_samples(cell, x, 20000))


@pytest.mark.slow
@pytest.mark.parametrize('cls', FLIPOUT, ids=lambda c: c.__name__)
def test_flipout_decorrelates_the_sequences_of_a_batch(cls):
  cell = _cell(cls, bias_posterior_fn=tfpl.default_mean_field_normal_fn())
  rnn = _rnn(cell)
  _widen_posteriors(cell, untransformed_scale=-2.)
  x = np.tile(np.linspace(-1., 1., STEPS * FEATURES).reshape(
      1, STEPS, FEATURES), [2, 1, 1]).astype(np.float32)
  call = tf.function(lambda s: rnn(x, seed=s))
  y = np.stack([call(tf.constant([i, 4]))[:, -1].numpy()
                for i in range(NUM_CALLS)])
  # The same sequence twice: one shared weight sample would give correlation
  # 1; Flipout's sign flips leave none to first order in the perturbation.
  for unit in range(UNITS):
    correlation = np.corrcoef(y[:, 0, unit], y[:, 1, unit])[0, 1]
    assert abs(correlation) < 5 / np.sqrt(NUM_CALLS), correlation


@pytest.mark.parametrize('cls', CELLS, ids=lambda c: c.__name__)
def test_weights_are_drawn_once_per_call_outside_the_time_loop(cls):
  rnn = _rnn(_cell(cls))
  concrete = support.trace(rnn, np.ones((2, STEPS, FEATURES), np.float32))
  graph_def = concrete.graph.as_graph_def()
  bodies = [f for f in graph_def.library.function
            if 'body' in f.signature.name]
  assert bodies
  for body in bodies:
    ops = {node.op for node in body.node_def}
    assert not ops & {support.NORMAL_DRAW, support.SIGN_DRAW}, ops
    assert not any(op.startswith('StatelessRandom') for op in ops), ops
  assert not set(support.op_types(concrete)) & support.STATEFUL_RANDOM_OPS


@pytest.mark.parametrize('cls', CELLS, ids=lambda c: c.__name__)
def test_kl_terms_are_added_once_per_call_in_closed_form(cls):
  cell = _cell(cls, bias_prior_fn=tfpl.default_multivariate_normal_fn,
               bias_posterior_fn=tfpl.default_mean_field_normal_fn())
  rnn = _rnn(cell)
  rnn(np.ones((2, STEPS, FEATURES), np.float32), seed=1)
  expected = [tf.reduce_sum(tfpl.kl_divergence(q, p, None)) for q, p in (
      (cell.kernel_posterior, cell.kernel_prior),
      (cell.recurrent_kernel_posterior, cell.recurrent_kernel_prior),
      (cell.bias_posterior, cell.bias_prior))]
  np.testing.assert_allclose(rnn.losses, expected, rtol=1e-6)


@pytest.mark.parametrize('cls', CELLS, ids=lambda c: c.__name__)
def test_negligible_scales_reproduce_the_keras_cell(cls):
  cell = _cell(cls)
  rnn = _rnn(cell)
  _widen_posteriors(cell, untransformed_scale=-40.)
  keras_cls = (keras.layers.LSTMCell if 'LSTM' in cls.__name__
               else keras.layers.GRUCell)
  reference = keras.layers.RNN(keras_cls(UNITS), return_sequences=True)
  reference.build((None, STEPS, FEATURES))
  reference.set_weights([_loc_scale(cell.kernel_posterior)[0],
                         _loc_scale(cell.recurrent_kernel_posterior)[0],
                         cell.bias_posterior.mean().numpy()])
  x = tf.random.stateless_normal((2, STEPS, FEATURES), seed=(1, 2))
  np.testing.assert_allclose(rnn(x, seed=3), reference(x), atol=1e-5)


@pytest.mark.parametrize('cls', CELLS, ids=lambda c: c.__name__)
def test_seeded_calls_are_bit_identical_and_seeds_differ(cls):
  rnn = _rnn(_cell(cls))
  x = tf.random.stateless_normal((3, STEPS, FEATURES), seed=(1, 2))
  call = tf.function(lambda x_, s: rnn(x_, seed=s))
  first = call(x, tf.constant([1, 2]))
  np.testing.assert_array_equal(call(x, tf.constant([1, 2])), first)
  assert not np.array_equal(call(x, tf.constant([2, 2])), first)


def test_plain_keras_rnn_draws_a_fresh_sample_per_call_from_the_cell_seed():
  x = tf.random.stateless_normal((2, STEPS, FEATURES), seed=(1, 2))
  first = keras.layers.RNN(_cell(tfpl.LSTMCellFlipout, seed=7))
  second = keras.layers.RNN(_cell(tfpl.LSTMCellFlipout, seed=7))
  calls = [first(x), first(x)]
  np.testing.assert_array_equal(second(x), calls[0])
  np.testing.assert_array_equal(second(x), calls[1])
  assert not np.array_equal(calls[0], calls[1])
  assert len(first.losses) == 2


def test_stacked_cells_get_their_own_seeds_and_add_their_kls():
  rnn = tfpl.VariationalRNN([_cell(tfpl.LSTMCellFlipout, seed=1),
                             _cell(tfpl.GRUCellReparameterization, seed=2)])
  x = tf.random.stateless_normal((2, STEPS, FEATURES), seed=(1, 2))
  y = rnn(x, seed=4)
  assert y.shape == (2, UNITS)
  assert len(rnn.losses) == 4
  np.testing.assert_array_equal(rnn(x, seed=4), y)


def test_a_plain_keras_rnn_takes_the_seed_its_cell_is_given():
  x = tf.random.stateless_normal((2, STEPS, FEATURES), seed=(1, 2))
  cell = _cell(tfpl.GRUCellFlipout, name='my_cell')
  plain = keras.layers.RNN(cell)
  seed = seeds_lib.split_seed(seeds_lib.sanitize_seed(3, 'rnn'), 1)[0]
  with pytest.raises(ValueError, match='my_cell: expected a built cell'):
    with cell.one_draw(2, seed):
      pass
  plain.build((None, STEPS, FEATURES))
  with cell.one_draw(2, seed):
    y = plain(x, initial_state=[tf.zeros([2, UNITS])])
  np.testing.assert_array_equal(y, tfpl.VariationalRNN(cell)(x, seed=3))
  assert not np.array_equal(plain(x), y)  # Outside, the cell's generator.


@pytest.mark.parametrize('cls', CELLS, ids=lambda c: c.__name__)
def test_a_cell_draws_its_weights_through_the_pipeline(cls, monkeypatch):
  drawn = []
  draw_weights = pipeline.draw_weights

  def counting(parts, estimator, *args):
    drawn.append(estimator)
    return draw_weights(parts, estimator, *args)

  monkeypatch.setattr(pipeline, 'draw_weights', counting)
  rnn = _rnn(_cell(cls))
  rnn(np.ones((2, STEPS, FEATURES), np.float32), seed=1)
  assert drawn == [cls._estimator]  # pylint: disable=protected-access


@pytest.mark.parametrize('cls', CELLS, ids=lambda c: c.__name__)
def test_the_cells_rely_on_no_keras_internal_class(cls):
  # Keras' unexported `DropoutRNNCell`, by which its RNN finds its hooks.
  assert not [c for c in cls.__mro__
              if c.__module__.startswith('keras.src.layers.rnn')]


def test_a_variational_rnn_given_an_initial_state_draws_once_per_call():
  rnn = _rnn(_cell(tfpl.LSTMCellFlipout))
  x = tf.random.stateless_normal((2, STEPS, FEATURES), seed=(1, 2))
  zeros = [tf.zeros([2, UNITS])] * 2
  np.testing.assert_array_equal(rnn(x, initial_state=zeros, seed=5),
                                rnn(x, seed=5))
  concrete = tf.function(
      lambda x_: rnn(x_, initial_state=zeros, seed=5)).get_concrete_function(x)
  bodies = [f for f in concrete.graph.as_graph_def().library.function
            if 'body' in f.signature.name]
  assert bodies and not any(
      node.op.startswith('StatelessRandom') or node.op in (
          support.NORMAL_DRAW, support.SIGN_DRAW)
      for body in bodies for node in body.node_def)


def test_a_cell_called_alone_draws_at_every_call():
  cell = _cell(tfpl.GRUCellFlipout)
  x, h = tf.ones((2, FEATURES)), tf.zeros((2, UNITS))
  y, states = cell(x, [h])
  assert y.shape == (2, UNITS) and states[0].shape == (2, UNITS)
  assert not np.array_equal(cell(x, [h])[0], y)


@pytest.mark.parametrize('cls', CELLS, ids=lambda c: c.__name__)
def test_float64_cells_compute_in_float64(cls):
  rnn = tfpl.VariationalRNN(_cell(cls, dtype='float64'), dtype='float64')
  y = rnn(np.ones((2, STEPS, FEATURES)), seed=1)
  assert y.dtype == tf.float64
  assert all(loss.dtype == tf.float64 for loss in rnn.losses)


def test_config_round_trips_every_argument():
  cell = tfpl.GRUCellFlipout(
      3, reset_after=False, recurrent_activation='hard_sigmoid', seed=4,
      recurrent_kernel_prior_fn=None)
  clone = tfpl.GRUCellFlipout.from_config(cell.get_config())
  assert clone.get_config() == cell.get_config()
  assert not clone.reset_after and clone.recurrent_kernel_prior_fn is None


def test_saved_model_file_reloads_and_gives_identical_seeded_outputs(
    tmp_path):
  inputs = keras.Input((STEPS, FEATURES))
  y = tfpl.VariationalRNN(_cell(tfpl.LSTMCellFlipout))(inputs)
  model = keras.Model(inputs, keras.layers.Dense(1)(y))
  path = str(tmp_path / 'model.keras')
  model.save(path)
  loaded = keras.models.load_model(path)
  x = tf.random.stateless_normal((2, STEPS, FEATURES), seed=(1, 2))

  def seeded(m):
    rnn = next(layer for layer in m.layers
               if isinstance(layer, tfpl.VariationalRNN))
    return rnn(x, seed=9)

  np.testing.assert_array_equal(seeded(loaded), seeded(model))


def test_step_inputs_of_the_wrong_rank_name_the_cell():
  cell = tfpl.LSTMCellFlipout(2, name='my_cell')
  with pytest.raises(ValueError, match=r'my_cell.*\[batch, input_size\]'):
    cell.build((None, 4, 3))


def test_sequences_of_the_wrong_size_are_rejected():
  rnn = _rnn(_cell(tfpl.LSTMCellFlipout, name='my_cell'))
  with pytest.raises(ValueError, match=str(FEATURES)):
    rnn(np.ones((2, STEPS, FEATURES + 1), np.float32), seed=1)


def test_bad_units_name_the_cell():
  with pytest.raises(ValueError, match=r'my_cell.*units.*0'):
    tfpl.GRUCellFlipout(0, name='my_cell')


def test_flipout_cells_need_normal_recurrent_posteriors():
  def point_mass(*args):
    return tfpl.default_mean_field_normal_fn(is_singular=True)(*args)

  cell = tfpl.LSTMCellFlipout(2, recurrent_kernel_posterior_fn=point_mass,
                              name='my_cell')
  with pytest.raises(TypeError, match='my_cell.*normal'):
    cell.build((None, 3))


def test_bidirectional_wraps_the_cells_and_adds_both_directions_kls():
  layer = keras.layers.Bidirectional(
      tfpl.VariationalRNN(_cell(tfpl.GRUCellFlipout)))
  y = layer(tf.ones((2, STEPS, FEATURES)))
  assert y.shape == (2, 2 * UNITS)
  assert len(layer.losses) == 4


@pytest.mark.parametrize('cls', [tfpl.LSTMCellFlipout, tfpl.GRUCellFlipout])
def test_a_float64_flipout_cell_runs_in_a_float32_rnn(cls):
  # The RNN hands the cell its own float32 inputs to draw the call's weights.
  rnn = tfpl.VariationalRNN(cls(3, dtype='float64', seed=1))
  y = rnn(tf.random.stateless_normal([2, 4, 2], seed=(0, 1)), seed=(1, 2))
  assert y.shape == (2, 3)
  assert all(kl.dtype == tf.float64 for kl in rnn.losses)
