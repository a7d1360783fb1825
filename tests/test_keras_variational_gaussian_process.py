"""Tests of VariationalGaussianProcess: a sparse variational GP as a Keras 3 layer."""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx.keras as tfpl

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package='test_vgp')
class RBFKernelFn(keras.layers.Layer):
  """A kernel provider: an RBF kernel, softplus of its amplitude and scale."""

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self._parameters = self.add_weight(shape=(2,), initializer='zeros',
                                       name='amplitude_and_length_scale')

  @property
  def kernel(self):
    amplitude, length_scale = tf.unstack(
        tf.nn.softplus(tf.convert_to_tensor(self._parameters)))
    return tfp.math.psd_kernels.ExponentiatedQuadratic(
        amplitude=amplitude, length_scale=length_scale)


def _data():
  x = np.linspace(-2., 2., 40, dtype='float32')[:, None]
  return x, np.sin(2. * x[:, 0]).astype('float32')


def _model(seed=1, event_shape=(1,)):
  return keras.Sequential([
      keras.Input((1,)),
      tfpl.VariationalGaussianProcess(
          num_inducing_points=6, kernel_provider=RBFKernelFn(),
          event_shape=event_shape,
          unconstrained_observation_noise_variance_initializer=-3.,
          seed=seed)])


def _process(layer, x):
  """The layer's batch of processes at `x`, built from its weights."""
  weights = {w.name: tf.convert_to_tensor(w) for w in layer.weights}
  constant = weights['mean']
  return tfd.VariationalGaussianProcess(
      kernel=layer.kernel_provider.kernel, index_points=x,
      inducing_index_points=weights['inducing_index_points'],
      variational_inducing_observations_loc=weights[
          'variational_inducing_observations_loc'],
      variational_inducing_observations_scale=weights[
          'variational_inducing_observations_scale'],
      mean_fn=lambda t: tf.fill(tf.shape(t)[:-1], constant),
      observation_noise_variance=tf.nn.softplus(
          weights['unconstrained_observation_noise_variance']),
      jitter=layer.jitter)


@pytest.mark.parametrize('event_shape', [(1,), (2,)])
def test_output_is_the_processes_transposed_to_points_by_event(event_shape):
  model = _model(event_shape=event_shape)
  x, _ = _data()
  rv = model(x)
  assert rv.batch_shape == []
  assert rv.event_shape == [40, event_shape[0]]
  assert rv.shape == (40, event_shape[0])
  assert rv.sample(seed=[1, 2]).shape == (40, event_shape[0])
  assert rv.sample(3, seed=[1, 2]).shape == (3, 40, event_shape[0])
  process = _process(model.layers[-1], x)
  np.testing.assert_allclose(rv.mean(), tf.transpose(process.mean()),
                             rtol=1e-5)


@pytest.mark.parametrize('event_shape', [(1,), (2,)])
def test_variational_loss_is_the_process_loss_of_transposed_targets(
    event_shape):
  model = _model(event_shape=event_shape)
  x, y = _data()
  y = np.stack([y, -y], axis=-1)[:, :event_shape[0]]
  rv = model(x)
  process = _process(model.layers[-1], x)
  expected = process.variational_loss(y.T, kl_weight=0.25)
  np.testing.assert_allclose(rv.variational_loss(y, kl_weight=0.25),
                             expected, rtol=1e-5)
  np.testing.assert_allclose(rv.surrogate_posterior_kl_divergence_prior(),
                             process.surrogate_posterior_kl_divergence_prior(),
                             rtol=1e-5)


def test_one_dimensional_targets_are_one_process_observations():
  # Keras 3 passes targets of shape [n] on; Keras 2 expanded them to [n, 1].
  model = _model()
  x, y = _data()
  rv = model(x)
  np.testing.assert_allclose(rv.variational_loss(y, kl_weight=0.5),
                             rv.variational_loss(y[:, None], kl_weight=0.5),
                             rtol=1e-6)


def test_initial_variational_scale_is_tfp_layers():
  layer = _model(event_shape=(2,)).layers[-1]
  [scale] = [w for w in layer.weights
             if w.name == 'variational_inducing_observations_scale']
  np.testing.assert_allclose(scale, np.broadcast_to(1e-5 * np.eye(6),
                                                    (2, 6, 6)), rtol=1e-6)


def test_the_whole_scale_variable_enters_the_process_as_in_tfp_layers():
  # tfp.layers passes the scale variable whole: TFP's process reads its lower
  # triangle in the KL and all of it in the predictive covariance, so
  # training moves the upper triangle too.
  model = _model()
  x, y = _data()
  layer = model.layers[-1]
  [scale] = [w for w in layer.weights
             if w.name == 'variational_inducing_observations_scale']
  scale.assign(np.random.default_rng(0).normal(size=(1, 6, 6)) * 0.3)
  rv = model(x)
  process = _process(layer, x)
  np.testing.assert_allclose(rv.variational_loss(y, kl_weight=0.25),
                             process.variational_loss(y[None], kl_weight=0.25),
                             rtol=1e-5)
  np.testing.assert_allclose(rv.stddev(), tf.transpose(process.stddev()),
                             rtol=1e-5)


@pytest.mark.slow
def test_fit_lowers_the_variational_loss():
  keras.utils.set_random_seed(0)  # `fit`'s shuffling.
  model = _model()
  x, y = _data()
  model.compile(optimizer=keras.optimizers.Adam(0.05),
                loss=lambda y, rv_y: rv_y.variational_loss(
                    y, kl_weight=1. / 40))
  before = model.evaluate(x, y, batch_size=40, verbose=0)
  model.fit(x, y, batch_size=40, epochs=30, verbose=0)
  assert model.evaluate(x, y, batch_size=40, verbose=0) < before


@pytest.mark.slow
def test_the_tutorials_case_5_runs_and_plots(tmp_path):
  root = pathlib.Path(__file__).resolve().parents[1]
  figure = tmp_path / 'vgp.png'
  result = subprocess.run(
      [sys.executable, str(root / 'examples' / 'variational_gaussian_process.py'),
       '--epochs', '2', '--figure', str(figure)],
      env=dict(os.environ, PYTHONPATH=str(root)), capture_output=True,
      text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'RMSE of the predictive mean' in result.stdout
  assert figure.stat().st_size > 0


def test_the_layer_takes_its_kernel_providers_dtype():
  layer = tfpl.VariationalGaussianProcess(
      num_inducing_points=3,
      kernel_provider=RBFKernelFn(dtype='float64'))
  x, y = _data()
  rv = layer(x.astype(np.float64))
  assert layer.dtype == 'float64' and rv.dtype == tf.float64
  assert rv.variational_loss(y).dtype == tf.float64
