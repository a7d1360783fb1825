"""Tests of the dense variational Keras layers in tfnx.keras."""

import pathlib
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx
import tfnx.keras as tfpl
from tfnx import estimators
from tfnx import linear_maps
from tfnx import seeds

tfd = tfp.distributions

DENSE = (tfpl.DenseReparameterization, tfpl.DenseFlipout,
         tfpl.DenseLocalReparameterization)


def _inputs(shape=(5, 3), seed=(1, 2)):
  return tf.random.stateless_normal(shape, seed=seed)


@pytest.mark.parametrize('cls', DENSE)
def test_accepts_every_tfp_layers_argument_by_name(cls):
  layer = cls(
      units=4, activation='relu', activity_regularizer=None, trainable=True,
      kernel_posterior_fn=tfpl.default_mean_field_normal_fn(),
      kernel_posterior_tensor_fn=tfpl.posterior_sample,
      kernel_prior_fn=tfpl.default_multivariate_normal_fn,
      kernel_divergence_fn=tfpl.kl_divergence,
      bias_posterior_fn=tfpl.default_mean_field_normal_fn(is_singular=True),
      bias_posterior_tensor_fn=tfpl.posterior_sample, bias_prior_fn=None,
      bias_divergence_fn=tfpl.kl_divergence, seed=1, name='x',
      dtype='float64')
  y = layer(np.ones((2, 3)))
  assert y.dtype == tf.float64 and y.shape == (2, 4)
  assert layer.name == 'x'


@pytest.mark.parametrize('cls', DENSE)
def test_positional_arguments_follow_tfp_layers(cls):
  layer = cls(4, 'relu')
  assert layer.units == 4 and layer.activation is keras.activations.relu


@pytest.mark.parametrize('cls', DENSE)
@pytest.mark.parametrize('shape', [(5, 3), (2, 5, 3)])
def test_output_shape_matches_compute_output_shape(cls, shape):
  layer = cls(4, seed=0)
  y = layer(_inputs(shape))
  assert y.shape == shape[:-1] + (4,)
  assert layer.compute_output_shape((None,) + shape[1:]) == (
      (None,) + shape[1:-1] + (4,))


@pytest.mark.parametrize('cls', DENSE)
def test_defaults_are_tfp_layers_defaults(cls):
  layer = cls(4)
  assert layer.kernel_posterior is None  # Distributions exist after build.
  layer.build((None, 3))
  kernel_posterior = layer.kernel_posterior
  assert isinstance(kernel_posterior, tfd.Independent)
  assert isinstance(kernel_posterior.distribution, tfd.Normal)
  assert kernel_posterior.event_shape == [3, 4]
  assert isinstance(layer.bias_posterior.distribution, tfd.Deterministic)
  assert layer.bias_posterior.event_shape == [4]
  np.testing.assert_array_equal(layer.kernel_prior.mean(), np.zeros([3, 4]))
  np.testing.assert_array_equal(layer.kernel_prior.stddev(), np.ones([3, 4]))
  assert layer.bias_prior is None
  assert sorted(w.name for w in layer.trainable_weights) == [
      'bias_posterior_loc', 'kernel_posterior_loc',
      'kernel_posterior_untransformed_scale']


@pytest.mark.parametrize('cls', DENSE)
def test_one_kl_term_per_layer_plus_one_with_a_bias_prior(cls):
  model = keras.Sequential([
      keras.Input((3,)), cls(4, activation='relu'),
      cls(2, bias_posterior_fn=tfpl.default_mean_field_normal_fn(),
          bias_prior_fn=tfpl.default_multivariate_normal_fn)])
  # Computed from the weights, so there from the build on.
  assert len(model.losses) == 3
  model(_inputs())
  assert len(model.losses) == 3
  assert len(model.layers[0].losses) == 1
  assert len(model.layers[1].losses) == 2


@pytest.mark.parametrize('cls', DENSE)
def test_default_kl_is_the_exact_kl(cls):
  layer = cls(4, bias_posterior_fn=tfpl.default_mean_field_normal_fn(),
              bias_prior_fn=tfpl.default_multivariate_normal_fn)
  layer(_inputs())
  support.assert_losses_are_exact_kls(layer)


def test_kernel_divergence_fn_scales_the_kl():
  n = 250.

  def scaled_kl(q, p, _):
    return tfd.kl_divergence(q, p) / n

  scaled = tfpl.DenseFlipout(4, kernel_divergence_fn=scaled_kl, seed=3)
  full = tfpl.DenseFlipout(4, seed=3)
  scaled(_inputs())
  full(_inputs())
  np.testing.assert_allclose(scaled.losses[0] * n, full.losses[0], rtol=1e-6)


@pytest.mark.slow
def test_fit_minimizes_the_kl_terms():
  model = keras.Sequential([keras.Input((3,)), tfpl.DenseFlipout(4, seed=1)])
  # A data loss of zero leaves the KL as the whole objective: without the KL
  # in fit's loss no gradient would move the weights at all.
  model.compile(keras.optimizers.Adam(0.05),
                loss=lambda y, p: 0. * tf.reduce_mean(p))
  model(_inputs())
  before = float(model.losses[0])
  model.fit(np.ones((8, 3)), np.ones((8, 4)), epochs=20, verbose=0)
  model(_inputs())
  assert float(model.losses[0]) < 0.8 * before


def test_evaluate_loss_is_data_loss_plus_kl():
  layer = tfpl.DenseReparameterization(
      2, kernel_posterior_tensor_fn=support.posterior_mean,
      bias_posterior_fn=tfpl.default_mean_field_normal_fn(),
      bias_posterior_tensor_fn=support.posterior_mean,
      bias_prior_fn=tfpl.default_multivariate_normal_fn, seed=2)
  model = keras.Sequential([keras.Input((3,)), layer])
  model.compile(loss='mse')
  x, y = _inputs((6, 3)).numpy(), np.ones((6, 2), np.float32)
  loss = model.evaluate(x, y, batch_size=6, verbose=0)
  outputs = model(x)
  expected = (np.mean((outputs.numpy() - y)**2)
              + float(tf.add_n(model.losses)))
  np.testing.assert_allclose(loss, expected, rtol=1e-5)


@pytest.mark.parametrize('cls', DENSE)
def test_gradients_reach_every_posterior_variable(cls):
  layer = cls(3, bias_posterior_fn=tfpl.default_mean_field_normal_fn(),
              bias_prior_fn=tfpl.default_multivariate_normal_fn, seed=4)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(layer(_inputs())**2) + tf.add_n(layer.losses)
  grads = tape.gradient(loss, layer.trainable_weights)
  assert len(grads) == 4
  for weight, grad in zip(layer.trainable_weights, grads):
    assert grad is not None, weight.name
    assert float(tf.norm(grad)) > 0., weight.name


@pytest.mark.parametrize('cls', DENSE)
def test_a_training_step_computes_the_kernel_scale_once(cls):
  layer = cls(3, seed=4)
  x = _inputs()
  layer.build(x.shape)

  @tf.function
  def gradients():
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(layer(x)**2) + tf.add_n(layer.losses)
    return tape.gradient(loss, layer.trainable_weights)

  # The estimator and the KL share one softplus of the untransformed scale
  # (and one gradient of it).
  types = support.op_types(gradients.get_concrete_function())
  assert types.count('Softplus') == 1


@pytest.mark.parametrize('cls', DENSE)
def test_stochastic_in_inference_as_in_training(cls):
  model = keras.Sequential([keras.Input((3,)), cls(4, seed=5)])
  x = _inputs().numpy()
  assert not np.allclose(model.predict(x, verbose=0),
                         model.predict(x, verbose=0))
  assert not np.allclose(model(x, training=False), model(x, training=False))


@pytest.mark.parametrize('cls, estimator', [
    (tfpl.DenseReparameterization, estimators.reparameterization),
    (tfpl.DenseFlipout, estimators.flipout),
    (tfpl.DenseLocalReparameterization, estimators.local_reparameterization),
])
def test_outputs_are_the_shared_estimators_outputs(cls, estimator):
  layer = cls(4, activation='tanh', seed=9)
  x = _inputs()
  layer.build(x.shape)
  state = layer.variables[-1].numpy()  # The seed generator's state.
  call_seed = seeds.split_seed(seeds.sanitize_seed(state), 3)[0]
  expected = estimator(x, layer.kernel_posterior, layer.bias_posterior,
                       linear_maps.dense, call_seed,
                       tfd.Distribution.sample).outputs
  np.testing.assert_allclose(layer(x), np.tanh(expected), rtol=1e-6)


def test_wrong_input_size_after_build_names_the_layer():
  layer = tfpl.DenseFlipout(4, name='bayes')
  layer(_inputs((2, 3)))
  with pytest.raises(ValueError, match=r'bayes.*axis -1.*3.*\(2, 5\)'):
    layer(_inputs((2, 5)))


@pytest.mark.parametrize('cls', [tfpl.DenseFlipout,
                                 tfpl.DenseLocalReparameterization])
def test_perturbation_estimators_need_a_normal_kernel_posterior(cls):
  layer = cls(4, kernel_posterior_fn=tfpl.default_mean_field_normal_fn(
      is_singular=True), name='point')
  with pytest.raises(TypeError, match='point.*estimator needs an elementwise normal'):
    layer(_inputs())


def test_reparameterization_draws_with_the_posterior_tensor_fns():
  layer = tfpl.DenseReparameterization(
      4, kernel_posterior_tensor_fn=support.posterior_mean,
      bias_posterior_fn=tfpl.default_mean_field_normal_fn(),
      bias_posterior_tensor_fn=support.posterior_mean)
  x = _inputs()
  y = layer(x)
  expected = (x @ layer.kernel_posterior.mean()
              + layer.bias_posterior.mean())
  np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_reparameterization_accepts_a_tensor_fn_without_seed():
  layer = tfpl.DenseReparameterization(
      4, kernel_posterior_tensor_fn=lambda d: d.mean())
  x = _inputs()
  np.testing.assert_allclose(
      layer(x), x @ layer.kernel_posterior.mean() + layer.bias_posterior.mean(),
      rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('cls', DENSE)
def test_divergence_fn_receives_the_call_kernel_sample(cls):
  received = []

  def monte_carlo_kl(q, p, sample):
    received.append(sample)
    return q.log_prob(sample) - p.log_prob(sample)

  layer = cls(4, kernel_divergence_fn=monte_carlo_kl, seed=6)
  layer(_inputs())
  assert not received  # The divergence runs when the losses are read.
  assert len(layer.losses) == 1
  sample = received[-1]
  assert sample.shape == (3, 4)
  loc = layer.kernel_posterior.distribution.loc.numpy()
  scale = tf.convert_to_tensor(layer.kernel_posterior.distribution.scale)
  assert not np.allclose(sample, loc)
  # A posterior sample: within 6 posterior standard deviations of the mean.
  assert np.all(np.abs(sample - loc) < 6. * scale.numpy())


def test_rejects_mixed_precision_and_bad_seeds():
  with pytest.raises(ValueError, match='mixed'):
    tfpl.DenseFlipout(4, dtype='mixed_float16', name='m')
  with pytest.raises(TypeError, match='seed'):
    tfpl.DenseFlipout(4, seed=1.5)
  with pytest.raises(ValueError, match='units'):
    tfpl.DenseFlipout(0)


def test_no_tfnx_module_imports_tf_keras():
  # TFP itself loads tf_keras, so the check reads tfnx's sources.
  package = pathlib.Path(tfnx.__file__).parent
  for path in package.rglob('*.py'):
    source = path.read_text()
    assert not re.search(r'^\s*(import|from)\s+tf_keras', source, re.M), path


@pytest.mark.parametrize('cls', [tfpl.DenseReparameterization,
                                 tfpl.DenseFlipout,
                                 tfpl.DenseLocalReparameterization])
def test_the_last_calls_draws_are_tfp_layers_posterior_tensors(cls):
  layer = cls(4, seed=0)
  x = tf.random.stateless_normal([5, 3], seed=[1, 2])
  layer.build(x.shape)
  assert layer.kernel_posterior_tensor is None
  assert layer.bias_posterior_tensor is None
  outputs = layer(x, seed=3)
  bias = layer.bias_posterior_tensor
  assert bias.shape == (4,)
  if cls is tfpl.DenseReparameterization:  # One kernel for the batch.
    np.testing.assert_allclose(
        outputs, x @ layer.kernel_posterior_tensor + bias, rtol=1e-5,
        atol=1e-6)
  else:  # TFP's Flipout and local layers expose no kernel draw either.
    assert layer.kernel_posterior_tensor is None
    mean = x @ layer.kernel_posterior.mean() + bias
    assert not np.allclose(outputs, mean)
    np.testing.assert_allclose(
        layer(x, seed=3) - outputs, np.zeros([5, 4]), atol=1e-6)
