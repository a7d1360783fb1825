"""TFP's "Probabilistic Layers Regression" tutorial on Keras 3, with `tfnx.keras` for `tfp.layers`.

The tutorial's four cases, code unchanged but for the imports (`keras` for
`tf_keras`, `tfpl = tfnx.keras` for `tfp.layers`): a linear regression with
known noise, one with learned (aleatoric) noise, a `DenseVariational`
regression with epistemic uncertainty, and both. Prints each model's
weights and plots the four fits into one PNG (the tutorial's figures 1-4).

    python examples/probabilistic_regression.py [--epochs 1000] [--figure PATH]
"""

import argparse
import os

import keras
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx.keras as tfpl  # pylint: disable=g-import-not-at-top

tfd = tfp.distributions

negloglik = lambda y, rv_y: -rv_y.log_prob(y)

w0 = 0.125
b0 = 5.
x_range = [-20, 60]


def load_dataset(n=150, n_tst=150):
  """The tutorial's synthetic data: a sine-modulated line, growing noise."""
  np.random.seed(43)
  def s(x):
    g = (x - x_range[0]) / (x_range[1] - x_range[0])
    return 3 * (0.25 + g**2.)
  x = (x_range[1] - x_range[0]) * np.random.rand(n) + x_range[0]
  eps = np.random.randn(n) * s(x)
  y = (w0 * x * (1. + np.sin(x)) + b0) + eps
  x = x[..., np.newaxis]
  x_tst = np.linspace(*x_range, num=n_tst).astype(np.float32)
  x_tst = x_tst[..., np.newaxis]
  return y, x, x_tst


def posterior_mean_field(kernel_size, bias_size=0, dtype=None):
  """The surrogate posterior over the `Dense` kernel and bias."""
  n = kernel_size + bias_size
  c = np.log(np.expm1(1.))
  return keras.Sequential([
      tfpl.VariableLayer(2 * n, dtype=dtype),
      tfpl.DistributionLambda(lambda t: tfd.Independent(
          tfd.Normal(loc=t[..., :n],
                     scale=1e-5 + tf.nn.softplus(c + t[..., n:])),
          reinterpreted_batch_ndims=1)),
  ])


def prior_trainable(kernel_size, bias_size=0, dtype=None):
  """The prior over the `Dense` kernel and bias, with a trainable mean."""
  n = kernel_size + bias_size
  return keras.Sequential([
      tfpl.VariableLayer(n, dtype=dtype),
      tfpl.DistributionLambda(lambda t: tfd.Independent(
          tfd.Normal(loc=t, scale=1),
          reinterpreted_batch_ndims=1)),
  ])


def build_models(x):
  """The tutorial's four models, by the case they illustrate."""
  return {
      'No uncertainty': keras.Sequential([
          keras.layers.Dense(1),
          tfpl.DistributionLambda(lambda t: tfd.Normal(loc=t, scale=1)),
      ]),
      'Aleatoric uncertainty': keras.Sequential([
          keras.layers.Dense(1 + 1),
          tfpl.DistributionLambda(
              lambda t: tfd.Normal(loc=t[..., :1],
                                   scale=1e-3 + tf.math.softplus(
                                       0.05 * t[..., 1:]))),
      ]),
      'Epistemic uncertainty': keras.Sequential([
          tfpl.DenseVariational(1, posterior_mean_field, prior_trainable,
                                kl_weight=1/x.shape[0]),
          tfpl.DistributionLambda(lambda t: tfd.Normal(loc=t, scale=1)),
      ]),
      'Aleatoric & epistemic uncertainty': keras.Sequential([
          tfpl.DenseVariational(1 + 1, posterior_mean_field, prior_trainable,
                                kl_weight=1/x.shape[0]),
          tfpl.DistributionLambda(
              lambda t: tfd.Normal(loc=t[..., :1],
                                   scale=1e-3 + tf.math.softplus(
                                       0.01 * t[..., 1:]))),
      ]),
  }


def plot_case(ax, title, model, x, y, x_tst, num_draws):
  """The observations, the mean(s) and +-2 stddev bands of a fitted model."""
  ax.plot(x, y, 'b.', label='observed')
  yhats = [model(x_tst) for _ in range(num_draws)]
  means = np.stack([np.squeeze(yhat.mean()) for yhat in yhats])
  stddevs = np.stack([np.squeeze(yhat.stddev()) for yhat in yhats])
  for i, m in enumerate(means[:25] if num_draws > 1 else []):
    ax.plot(x_tst, m, 'r', linewidth=0.5,
            label='ensemble means' if i == 0 else None)
  m, s = means.mean(0), stddevs.mean(0)
  ax.plot(x_tst, m, 'r', linewidth=3, label='mean')
  ax.plot(x_tst, m + 2 * s, 'g', linewidth=1.5, label='mean +- 2 stddev')
  ax.plot(x_tst, m - 2 * s, 'g', linewidth=1.5)
  ax.set_ylim(0., 17.)
  ax.set_title(title)


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument('--epochs', type=int, default=1000)
  p.add_argument('--figure', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), os.pardir, 'docs',
      'figures', 'probabilistic_regression.png'))
  args = p.parse_args()
  keras.utils.set_random_seed(0)
  y, x, x_tst = load_dataset()
  fig, axes = plt.subplots(2, 2, figsize=[12, 6], sharex=True)
  for ax, (title, model) in zip(axes.flat, build_models(x).items()):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=negloglik)
    model.fit(x, y, epochs=args.epochs, verbose=False)
    print(title, [np.round(np.squeeze(w.numpy()), 3) for w in model.weights])
    yhat = model(x_tst)
    assert isinstance(yhat, tfd.Distribution)
    epistemic = any(isinstance(layer, tfpl.DenseVariational)
                    for layer in model.layers)
    plot_case(ax, title, model, x, y, x_tst, 100 if epistemic else 1)
  axes.flat[0].legend(loc='upper left', fontsize='small')
  fig.tight_layout()
  fig.savefig(args.figure, dpi=110)
  print('Saved', os.path.abspath(args.figure))


if __name__ == '__main__':
  main()
