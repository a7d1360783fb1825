"""Case 5 of TFP's "Probabilistic Layers Regression" tutorial on Keras 3: a `VariationalGaussianProcess`.

The tutorial's code with `keras` for `tf_keras` and `tfpl = tfnx.keras` for
`tfp.layers`, and the one change Keras 3 forces on it: the kernel provider's
`add_variable` (which takes a `shape` in Keras 3) is `add_weight`. Fits the
tutorial's synthetic data, prints the predictive mean's RMSE and the fit's
time, and plots seven draws of the fitted function (the tutorial's figure 5).

    python examples/variational_gaussian_process.py [--epochs 1000] [--figure PATH]
"""

import argparse
import os
import time

import keras
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from probabilistic_regression import load_dataset, x_range  # pylint: disable=g-import-not-at-top
import tfnx.keras as tfpl  # pylint: disable=g-import-not-at-top

tfd = tfp.distributions


class RBFKernelFn(keras.layers.Layer):
  """The tutorial's kernel provider: an RBF kernel with trainable parameters."""

  def __init__(self, **kwargs):
    super(RBFKernelFn, self).__init__(**kwargs)
    dtype = kwargs.get('dtype', None)

    self._amplitude = self.add_weight(
        initializer=tf.constant_initializer(0),
        dtype=dtype,
        name='amplitude')

    self._length_scale = self.add_weight(
        initializer=tf.constant_initializer(0),
        dtype=dtype,
        name='length_scale')

  def call(self, x):
    # Never called -- this is just a layer so it can hold variables
    # in a way Keras understands.
    return x

  @property
  def kernel(self):
    return tfp.math.psd_kernels.ExponentiatedQuadratic(
        amplitude=tf.nn.softplus(0.1 * self._amplitude),
        length_scale=tf.nn.softplus(5. * self._length_scale))


def build_model(x):
  """The tutorial's model: a unit `Dense` map into a 40-point VGP."""
  num_inducing_points = 40
  return keras.Sequential([
      keras.layers.InputLayer(input_shape=[1]),
      keras.layers.Dense(1, kernel_initializer='ones', use_bias=False),
      tfpl.VariationalGaussianProcess(
          num_inducing_points=num_inducing_points,
          kernel_provider=RBFKernelFn(),
          event_shape=[1],
          inducing_index_points_initializer=tf.constant_initializer(
              np.linspace(*x_range, num=num_inducing_points,
                          dtype=x.dtype)[..., np.newaxis]),
          unconstrained_observation_noise_variance_initializer=(
              tf.constant_initializer(np.array(0.54).astype(x.dtype))),
      ),
  ])


def fit(epochs):
  """Fits case 5 as the tutorial does; returns the model and the data."""
  # For numeric stability, set the default floating-point dtype to float64
  keras.backend.set_floatx('float64')
  y, x, x_tst = load_dataset()
  model = build_model(x)
  batch_size = 32
  loss = lambda y, rv_y: rv_y.variational_loss(
      y, kl_weight=np.array(batch_size, x.dtype) / x.shape[0])
  model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                loss=loss)
  model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=False)
  return model, y, x, x_tst


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument('--epochs', type=int, default=1000)
  p.add_argument('--figure', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), '..', 'docs', 'figures',
      'variational_gaussian_process.png'))
  args = p.parse_args()
  start = time.perf_counter()
  model, y, x, x_tst = fit(args.epochs)
  seconds = time.perf_counter() - start
  rmse = np.sqrt(np.mean((np.asarray(model(x).mean())[:, 0] - y)**2))
  print(f'fit: {seconds:.1f} s for {args.epochs} epochs; '
        f'RMSE of the predictive mean at the data: {rmse:.3f}')

  yhat = model(x_tst)
  assert isinstance(yhat, tfd.Distribution)
  plt.figure(figsize=[6, 1.5])  # inches
  plt.plot(x, y, 'b.', label='observed')
  num_samples = 7
  for i in range(num_samples):
    sample_ = yhat.sample().numpy()
    plt.plot(x_tst, sample_[..., 0].T, 'r', linewidth=0.9,
             label='ensemble means' if i == 0 else None)
  plt.ylim(-0., 17)
  plt.yticks(np.linspace(0, 15, 4)[1:])
  plt.xticks(np.linspace(*x_range, num=9))
  plt.legend(loc='center left', fancybox=True, framealpha=0.,
             bbox_to_anchor=(1.05, 0.5))
  plt.savefig(args.figure, bbox_inches='tight', dpi=110)
  print(f'figure: {args.figure}')


if __name__ == '__main__':
  main()
