"""Tests of VariationalGaussianProcess: a sparse variational GP as a Keras 3 layer."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx.keras as tfpl

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package='test_vgp')
class RBFKernelFn(keras.layers.Layer):
  """The kernel provider of TFP's VGP example: a trainable RBF kernel."""

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self._amplitude = self.add_weight(initializer='zeros', name='amplitude')
    self._length_scale = self.add_weight(initializer='zeros',
                                         name='length_scale')

  def call(self, x):
    return x

  @property
  def kernel(self):
    return tfp.math.psd_kernels.ExponentiatedQuadratic(
        amplitude=tf.nn.softplus(tf.convert_to_tensor(self._amplitude)),
        length_scale=tf.nn.softplus(
            tf.convert_to_tensor(self._length_scale)))


def _data():
  x = np.linspace(-2., 2., 40, dtype='float32')[:, None]
  return x, np.sin(2. * x[:, 0]).astype('float32')


def _model(seed=1):
  return keras.Sequential([
      keras.Input((1,)),
      tfpl.VariationalGaussianProcess(
          num_inducing_points=6, kernel_provider=RBFKernelFn(),
          unconstrained_observation_noise_variance_initializer=-3.,
          seed=seed)])


def test_output_is_a_variational_gp_over_the_inputs():
  model = _model()
  x, _ = _data()
  rv = model(x)
  assert isinstance(rv.distribution, tfd.VariationalGaussianProcess)
  assert rv.batch_shape == [1] and rv.event_shape == [40]
  assert rv.shape == (1, 40)


@pytest.mark.slow
def test_fit_lowers_the_variational_loss():
  model = _model()
  x, y = _data()
  model.compile(optimizer=keras.optimizers.Adam(0.05),
                loss=lambda y, rv_y: rv_y.variational_loss(
                    y[None, :], kl_weight=1. / 40))
  before = model.evaluate(x, y, batch_size=40, verbose=0)
  model.fit(x, y, batch_size=40, epochs=30, verbose=0)
  assert model.evaluate(x, y, batch_size=40, verbose=0) < before
