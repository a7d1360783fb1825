"""`tfnx.predictive`: many stochastic passes in one traced loop."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx as tfn
import tfnx.keras as tfnx_keras
from tfnx import _vectorized
from tfnx import predictive
from tfnx.util import _weights as weights_lib

tfd = tfp.distributions

ESTIMATORS = [tfn.AffineVariationalReparameterization,
              tfn.AffineVariationalFlipout,
              tfn.AffineVariationalReparameterizationLocal]


def _model(cls):
  return tfn.Sequential([cls(3, 8, activation_fn=tf.nn.relu, seed=1),
                         cls(8, 4, seed=2)])


def _inputs():
  return np.random.RandomState(0).normal(size=(5, 3)).astype(np.float32)


def _per_pass(model):
  """`model` behind a lambda: an undeclared stage, so one call per pass."""
  return lambda x, seed: model(x, seed=seed)


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_per_pass_models_call_the_model_once_per_seeded_pass(cls):
  model, x = _model(cls), _inputs()
  samples = tfn.predictive.sample_outputs(_per_pass(model), x, 4, seed=7)
  assert samples.shape == (4, 5, 4)
  for i in range(4):
    np.testing.assert_allclose(
        samples[i], model(x, seed=tfn.predictive.pass_seed(7, i)),
        rtol=1e-6, atol=1e-6)
  assert not np.allclose(samples[0], samples[1])


def test_more_passes_extend_the_same_sample_of_a_per_pass_model():
  model, x = _model(tfn.AffineVariationalReparameterization), _inputs()
  few = tfn.predictive.sample_outputs(model, x, 2, seed=3)
  many = tfn.predictive.sample_outputs(model, x, 6, seed=3)
  np.testing.assert_allclose(many[:2], few, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_one_trace_serves_every_number_of_passes(cls):
  model, x = _model(cls), _inputs()
  tfn.predictive.sample_outputs(model, x, 2, seed=1)
  traces = predictive._sample_passes.experimental_get_tracing_count()
  for num_samples in [1, 5, 17]:
    out = tfn.predictive.sample_outputs(model, x, num_samples, seed=1)
    assert out.shape[0] == num_samples
  assert predictive._sample_passes.experimental_get_tracing_count() == traces


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_the_traced_loop_has_no_stateful_random_op(cls):
  model, x = _model(cls), _inputs()
  concrete = predictive._sample_passes.get_concrete_function(
      model, tf.constant(x), tf.constant(3), tf.constant([1, 2]), None,
      _vectorized.tiling(model, None))
  assert not set(support.op_types(concrete)) & support.STATEFUL_RANDOM_OPS


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_class_probabilities_average_the_softmax_of_the_passes(cls):
  model, x = _model(cls), _inputs()
  probs = tfn.predictive.class_probabilities(model, x, 5, seed=4)
  expected = np.mean(tfn.predictive.sample_outputs(model, x, 5, seed=4,
                                                   output_fn=tf.nn.softmax),
                     axis=0)
  np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(np.sum(probs, -1), 1., rtol=1e-6)


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_mean_and_stddev_summarize_the_passes(cls):
  model, x = _model(cls), _inputs()
  mean, stddev = tfn.predictive.mean_and_stddev(model, x, 6, seed=5)
  passes = tfn.predictive.sample_outputs(model, x, 6, seed=5).numpy()
  np.testing.assert_allclose(mean, passes.mean(0), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(stddev, passes.std(0), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_one_pass_then_another_batch_size_works(cls):
  model, x = _model(cls), _inputs()
  for batch in [5, 2, 3]:
    probs = tfn.predictive.class_probabilities(model, x[:batch], 1, seed=1)
    assert probs.shape == (batch, 4)
  assert tfn.predictive.sample_outputs(model, x[:2], 3, seed=1).shape == (
      3, 2, 4)


def test_passes_leave_the_models_last_call_as_it_was():
  model, x = _model(tfn.AffineVariationalFlipout), _inputs()
  model(x, seed=1)
  before = [loss.numpy() for loss in model.losses]
  tfn.predictive.sample_outputs(model, x, 3, seed=2)
  np.testing.assert_array_equal([loss.numpy() for loss in model.losses],
                                before)


def test_unseeded_passes_are_reproducible_from_python_random():
  model, x = _model(tfn.AffineVariationalFlipout), _inputs()
  tf.keras.utils.set_random_seed(3)
  first = tfn.predictive.sample_outputs(model, x, 2)
  tf.keras.utils.set_random_seed(3)
  np.testing.assert_array_equal(tfn.predictive.sample_outputs(model, x, 2),
                                first)


def test_nested_lists_are_one_input():
  model = _model(tfn.AffineVariationalFlipout)
  x = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
  np.testing.assert_allclose(
      tfn.predictive.sample_outputs(model, x, 2, seed=1),
      tfn.predictive.sample_outputs(model, np.float32(x), 2, seed=1))


def test_bad_number_of_passes_is_a_clear_error():
  with pytest.raises(ValueError, match='num_samples'):
    tfn.predictive.sample_outputs(_model(tfn.AffineVariationalFlipout),
                                  _inputs(), 0)


def _widen(model, scale=0.3):
  """Sets every posterior scale to `scale`, so passes differ visibly."""
  for layer in model.layers:
    for part in [layer.kernel_posterior, layer.bias_posterior]:
      part_scale = weights_lib.normal_loc_scale(part)[1]
      part_scale.assign(tf.fill(part_scale.shape, scale))
  return model


def _block_moments(samples, blocks):
  """Per-input mean and variance, each with its standard error.

  The passes are split into `blocks` blocks of one call each (passes within
  a call may depend on each other); the spread of the blocks' estimates
  gives honest standard errors.
  """
  per_block = np.reshape(samples, (blocks, -1) + samples.shape[1:])
  estimates = [per_block.mean(1), per_block.var(1, ddof=1)]
  return [(e.mean(0), e.std(0, ddof=1) / np.sqrt(blocks)) for e in estimates]


def _assert_same_moments(samples, reference, blocks):
  for (value, se), (expected, expected_se) in zip(
      _block_moments(samples, blocks), _block_moments(reference, blocks)):
    np.testing.assert_array_less(np.abs(value - expected),
                                 5. * np.hypot(se, expected_se))


def _tiled_and_independent(model, x, per_pass, blocks=30, passes=100):
  tiled = np.concatenate([tfn.predictive.sample_outputs(
      model, x, passes, seed=block) for block in range(blocks)])
  independent = tfn.predictive.sample_outputs(per_pass, x, blocks * passes,
                                              seed=1000).numpy()
  return tiled, independent


@pytest.mark.slow
@pytest.mark.parametrize('cls', ESTIMATORS[1:])
def test_shared_calls_give_each_input_the_moments_of_independent_passes(cls):
  model, x = _widen(_model(cls)), _inputs()[:2]
  assert _vectorized.tiling(model, None) is _vectorized.LEADING_AXIS
  tiled, independent = _tiled_and_independent(model, x, _per_pass(model))
  _assert_same_moments(tiled, independent, 30)


def _closed_form_moments(layer, x):
  kernel_loc, kernel_scale = weights_lib.normal_loc_scale(
      layer.kernel_posterior)
  bias_loc, bias_scale = weights_lib.normal_loc_scale(
      layer.bias_posterior) or (layer.bias_posterior.mean(), 0.)
  return (x @ np.asarray(kernel_loc) + np.asarray(bias_loc),
          (x**2) @ np.square(kernel_scale) + np.square(bias_scale))


@pytest.mark.parametrize('cls', ESTIMATORS[1:])
def test_passes_of_one_call_are_uncorrelated_around_the_exact_mean(cls):
  layer, x = _widen(tfn.Sequential([cls(3, 2, seed=3)])).layers[0], _inputs()
  samples = tfn.predictive.sample_outputs(layer, x, 4000, seed=2).numpy()
  mean, variance = _closed_form_moments(layer, x)
  # Uncorrelated passes: the mean's error is that of independent ones.
  np.testing.assert_array_less(np.abs(samples.mean(0) - mean),
                               5. * np.sqrt(variance / 4000))


@pytest.mark.parametrize('cls', ESTIMATORS[1:])
def test_a_first_stages_passes_are_independent_draws_of_its_normal_outputs(
    cls):
  layer = _widen(tfn.Sequential([cls(3, 2, seed=3)])).layers[0]
  x = _inputs()
  samples = tfn.predictive.sample_outputs(layer, x, 4000, seed=2).numpy()
  _, variance = _closed_form_moments(layer, x)
  # Independent normal passes: the sample variance's standard error is
  # var * sqrt(2/n). Passes sharing one weight perturbation miss it.
  np.testing.assert_array_less(np.abs(samples.var(0, ddof=1) - variance),
                               5. * variance * np.sqrt(2. / 3999))
  # Independent rows and passes: correlations within 5 / sqrt(n) of zero.
  flat = (samples - samples.mean(0)).reshape(4000, -1)
  rows = np.corrcoef(flat.T)[np.triu_indices(flat.shape[1], 1)]
  lag = np.corrcoef(flat[:-1].ravel(), flat[1:].ravel())[0, 1]
  assert np.all(np.abs(rows) < 5. / np.sqrt(4000)), rows
  assert abs(lag) < 5. / np.sqrt(flat.size), lag


def test_the_first_stage_of_nested_models_is_computed_once_for_all_passes():
  flipout, local = (tfn.AffineVariationalFlipout,
                    tfn.AffineVariationalReparameterizationLocal)
  nested = tfn.Sequential([None, tfn.Sequential([local(3, 4, seed=1)]),
                           flipout(4, 2, seed=2)])
  assert _vectorized.first_stage(nested, _vectorized.LEADING_AXIS)
  assert _vectorized.first_stage(tfn.Sequential([None]),
                                 _vectorized.LEADING_AXIS) is None
  assert tfn.predictive.sample_outputs(
      tfn.Sequential([None]), _inputs(), 2).shape == (2, 5, 3)
  for model in [_model(tfn.AffineVariationalReparameterization),
                tfn.Sequential([tfn.Affine(3, 4), flipout(4, 2, seed=2)])]:
    assert _vectorized.first_stage(
        model, _vectorized.tiling(model, None)) is None, model
  x = _inputs()
  first = tfn.predictive.sample_outputs(nested, x, 7, seed=4)
  np.testing.assert_array_equal(
      tfn.predictive.sample_outputs(nested, x, 7, seed=4), first)
  assert first.shape == (7, 5, 2)


@pytest.mark.parametrize('layer_cls', [tfnx_keras.DenseFlipout,
                                       tfnx_keras.DenseLocalReparameterization])
def test_a_keras_first_layers_passes_are_independent_draws_of_its_outputs(
    layer_cls):
  wide = tfnx_keras.default_mean_field_normal_fn(
      untransformed_scale_initializer=keras.initializers.Constant(-1.))
  model = keras.Sequential([keras.Input((3,)), layer_cls(
      2, kernel_posterior_fn=wide, seed=3)])
  x = _inputs()
  assert _vectorized.first_stage(model, _vectorized.BATCH_AXIS)
  samples = tfn.predictive.sample_outputs(model, x, 4000, seed=2).numpy()
  mean, variance = _closed_form_moments(model.layers[0], x)
  np.testing.assert_array_less(np.abs(samples.mean(0) - mean),
                               5. * np.sqrt(variance / 4000))
  np.testing.assert_array_less(np.abs(samples.var(0, ddof=1) - variance),
                               5. * variance * np.sqrt(2. / 3999))


def test_keras_first_layers_are_split_only_where_rows_are_normal():
  conv = keras.Sequential([keras.Input((4, 1)),
                           tfnx_keras.Convolution1DFlipout(2, 2),
                           keras.layers.Flatten()])
  assert _vectorized.first_stage(conv, _vectorized.BATCH_AXIS) is None
  dense = _keras_model(tfnx_keras.DenseFlipout)
  with pytest.raises(ValueError, match='axis -1 of size 3; received shape'):
    tfn.predictive.sample_outputs(dense, np.ones((2, 4), np.float32), 3)


def test_a_split_first_layer_checks_its_inputs_as_its_calls_do():
  layer = tfn.AffineVariationalFlipout(3, 2, validate_args=True, seed=1)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match='AffineVariationalFlipout: inputs must be finite'):
    tfn.predictive.sample_outputs(layer, [[1., np.nan, 0.]], 3)
  with pytest.raises((ValueError, tf.errors.InvalidArgumentError),
                     match='AffineVariationalFlipout: expected inputs with '
                     'size 3'):
    tfn.predictive.sample_outputs(layer, np.ones((2, 4), np.float32), 3)


def test_a_flipout_convolutions_passes_keep_its_positions_correlated():
  # Its outputs at two positions share the example's kernel sample, so the
  # sum over positions has their covariances: it runs in every call.
  conv = tfn.ConvolutionVariationalFlipout(1, 1, 2, rank=1, seed=3)
  total = tfn.Convolution(1, 1, 3, rank=1)
  total.kernel.assign(tf.ones_like(total.kernel))
  _widen(tfn.Sequential([conv]))
  model = tfn.Sequential([conv, total])
  assert _vectorized.first_stage(model, _vectorized.LEADING_AXIS) is None
  x = 1. + np.abs(np.random.RandomState(0).normal(size=(2, 4, 1))).astype(
      np.float32)
  tiled, independent = _tiled_and_independent(model, x, _per_pass(model))
  _assert_same_moments(tiled, independent, 30)


def _laplace_bias_posterior(kernel_shape, bias_shape, *args):
  del args  # Initializers, batch dimensions and dtype: the defaults here.
  return tfd.JointDistributionSequential([
      tfd.Independent(tfd.Normal(tf.Variable(tf.zeros(kernel_shape)), 0.1),
                      len(kernel_shape)),
      tfd.Independent(tfd.Laplace(tf.Variable(tf.zeros(bias_shape)), 0.1),
                      len(bias_shape))])


def test_models_with_undeclared_stages_keep_one_call_per_pass():
  flipout = tfn.AffineVariationalFlipout
  per_pass = [
      _model(tfn.AffineVariationalReparameterization),
      tfn.Sequential([flipout(3, 4, seed=1), lambda y: y - tf.reduce_mean(y)]),
      tfn.Sequential([flipout(3, 4, activation_fn=lambda y: y, seed=1)]),
      # A non-normal bias is drawn once per call and shared by its rows.
      flipout(3, 4, make_posterior_fn=_laplace_bias_posterior, seed=1),
  ]
  for model in per_pass:
    assert _vectorized.tiling(model, None) is _vectorized.PER_PASS, model
  model = _model(flipout)
  assert _vectorized.tiling(model, lambda y: y) is _vectorized.PER_PASS
  assert _vectorized.tiling(model, tf.nn.softmax) is _vectorized.LEADING_AXIS


def test_shared_calls_keep_the_memory_of_a_call_bounded():
  passes_per_call = _vectorized.LEADING_AXIS.passes_per_call
  assert int(passes_per_call(tf.zeros([1, 784]), tf.constant(50))) == 50
  per_call = int(passes_per_call(tf.zeros([64, 784]), tf.constant(50)))
  assert 1 < per_call < 50
  assert per_call * 64 * 784 <= _vectorized._MAX_TILED_ELEMENTS
  assert int(passes_per_call(tf.zeros([1000, 784]), tf.constant(50))) == 1


def _keras_model(layer_cls, activation='relu'):
  wide = tfnx_keras.default_mean_field_normal_fn(
      untransformed_scale_initializer=keras.initializers.Constant(-1.))
  return keras.Sequential([
      keras.Input((3,)),
      layer_cls(8, activation=activation, kernel_posterior_fn=wide, seed=1),
      keras.layers.Dropout(0.5),
      layer_cls(4, kernel_posterior_fn=wide, seed=2)])


def _keras_per_pass(model):
  def call(x, seed):
    with tfn.predictive.layer_seeds(seed):
      return model(x, training=False)
  return call


@pytest.mark.slow
def test_keras_models_of_flipout_layers_share_calls_with_exact_moments():
  model, x = _keras_model(tfnx_keras.DenseFlipout), _inputs()[:2]
  assert _vectorized.tiling(model, None) is _vectorized.BATCH_AXIS
  tiled, independent = _tiled_and_independent(model, x,
                                              _keras_per_pass(model))
  _assert_same_moments(tiled, independent, 30)


def test_keras_models_with_undeclared_parts_keep_one_call_per_pass():
  per_pass = [
      _keras_model(tfnx_keras.DenseReparameterization),
      _keras_model(tfnx_keras.DenseFlipout, activation=lambda y: y),
      keras.Sequential([keras.Input((3,)), tfnx_keras.DenseFlipout(2),
                        keras.layers.Lambda(lambda y: y - 1.)]),
  ]
  for model in per_pass:
    assert _vectorized.tiling(model, None) is _vectorized.PER_PASS, model
  inputs = keras.Input((3,))
  functional = keras.Model(inputs, tfnx_keras.DenseLocalReparameterization(2)(
      keras.layers.Dense(4, activation='tanh')(inputs)))
  assert _vectorized.tiling(functional, None) is _vectorized.BATCH_AXIS


@pytest.mark.parametrize('layer_cls', [tfnx_keras.DenseFlipout,
                                       tfnx_keras.DenseReparameterization])
def test_keras_passes_are_seeded_and_keep_the_models_losses(layer_cls):
  model, x = _keras_model(layer_cls), _inputs()
  model(x)
  before = [float(loss) for loss in model.losses]
  first = tfn.predictive.sample_outputs(model, x, 3, seed=4)
  np.testing.assert_array_equal(
      tfn.predictive.sample_outputs(model, x, 3, seed=4), first)
  assert not np.allclose(tfn.predictive.sample_outputs(model, x, 3, seed=5),
                         first)
  assert not np.allclose(first[0], first[1])
  assert [float(loss) for loss in model.losses] == before


def test_layer_seeds_give_each_layer_its_own_reproducible_seed():
  model, x = _keras_model(tfnx_keras.DenseFlipout), _inputs()
  first, second = model.layers[0], model.layers[2]
  with tfn.predictive.layer_seeds(3):
    seeds = [tfn.predictive.layer_seed(first),
             tfn.predictive.layer_seed(second),
             tfn.predictive.layer_seed(first)]
    outputs = model(x)
  assert tfn.predictive.layer_seed(first) is None
  np.testing.assert_array_equal(seeds[0], seeds[2])
  assert not np.array_equal(seeds[0], seeds[1])
  with tfn.predictive.layer_seeds(3):
    np.testing.assert_array_equal(model(x), outputs)


def test_an_unbuilt_keras_model_is_a_clear_error():
  model = keras.Sequential([tfnx_keras.DenseFlipout(2)])
  with pytest.raises(ValueError, match='built'):
    tfn.predictive.sample_outputs(model, _inputs(), 2, seed=1)
