"""Fits a 1-D regression whose noise grows with x, and checks the predictive's 95% band.

A Bayesian MLP (Flipout layers by default) outputs a mean and a noise scale
for each input, trained on the ELBO with a Gaussian likelihood. Its
predictive distribution is the mixture of the Gaussians of 100 stochastic
passes (`tfn.predictive.sample_outputs`): the noise scales carry the data's
noise, the spread of the passes' means the model's own uncertainty, which
grows away from the data. Prints the share of held-out points inside the
95% band (0.95 when calibrated) and saves `regression.png`.

    python examples/regression.py [--layer flipout] [--steps 3000]
"""

import os

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import _protocol as protocol
import tfnx as tfn

tfd = tfp.distributions

X_RANGE = (-3., 3.)


def true_mean(x):
  return np.sin(1.5 * x) + 0.3 * x


def noise_scale(x):
  return 0.05 + 0.3 * (x - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0])


def make_data(n: int, rng: np.random.RandomState):
  x = rng.uniform(*X_RANGE, size=(n, 1)).astype(np.float32)
  y = (true_mean(x) + noise_scale(x) * rng.normal(size=x.shape))
  return x, y[:, 0].astype(np.float32)


def loc_and_scale(outputs):
  """The network's two outputs as the Gaussian's mean and scale."""
  return tf.stack([outputs[..., 0],
                   1e-3 + tf.nn.softplus(outputs[..., 1])], axis=-1)


def gaussian_nll(model, x, y):
  """The mean Gaussian negative log likelihood of one stochastic pass."""
  params = loc_and_scale(model(x))
  return -tf.reduce_mean(tfd.Normal(params[..., 0], params[..., 1]).log_prob(y))


def mixture_quantiles(loc, scale, probs, iterations=60):
  """Quantiles of the equal-weight mixture of `N(loc[s], scale[s])` (axis 0)."""
  components = tfd.Normal(loc, scale)
  low = tf.reduce_min(loc - 10. * scale, axis=0)
  high = tf.reduce_max(loc + 10. * scale, axis=0)
  result = []
  for p in probs:
    lo, hi = low, high
    for _ in range(iterations):
      mid = (lo + hi) / 2.
      below = tf.reduce_mean(components.cdf(mid), axis=0) < p
      lo, hi = tf.where(below, mid, lo), tf.where(below, hi, mid)
    result.append(((lo + hi) / 2.).numpy())
  return result


def predictive(model, x, seed, num_samples=100):
  """The predictive's mean, 95% band, epistemic stddev and the components."""
  params = tfn.predictive.sample_outputs(model, x, num_samples, seed,
                                         output_fn=loc_and_scale)
  loc, scale = params[..., 0], params[..., 1]
  low, high = mixture_quantiles(loc, scale, [0.025, 0.975])
  return {'mean': tf.reduce_mean(loc, 0).numpy(), 'low': low, 'high': high,
          'epistemic': tf.math.reduce_std(loc, 0).numpy(),
          'loc': loc, 'scale': scale}


def mixture_nll(pred, y):
  """The held-out negative log likelihood under the predictive mixture."""
  log_probs = tfd.Normal(pred['loc'], pred['scale']).log_prob(y)
  return float(-tf.reduce_mean(tf.reduce_logsumexp(log_probs, axis=0)
                               - np.log(log_probs.shape[0])))


def main():
  p = protocol.parser(__doc__)
  p.add_argument('--layer', default='flipout',
                 choices=[k for k, v in protocol.LAYERS.items() if v])
  p.add_argument('--kl-weight', type=float, default=1.)
  args = p.parse_args()
  figures = protocol.figures_dir(args.figures)
  rng = np.random.RandomState(args.seed)
  x_train, y_train = make_data(500, rng)
  x_test, y_test = make_data(500, rng)
  layer = protocol.LAYERS[args.layer]
  model = tfn.Sequential([
      layer(1, 64, activation_fn=tf.nn.relu, seed=args.seed),
      layer(64, 64, activation_fn=tf.nn.relu, seed=args.seed + 1),
      layer(64, 2, seed=args.seed + 2)])
  protocol.train(model, gaussian_nll, x_train, y_train, steps=args.steps,
                 kl_weight=args.kl_weight, seed=args.seed, desc=args.layer)

  test = predictive(model, x_test, args.seed)
  coverage = np.mean((y_test >= test['low']) & (y_test <= test['high']))
  print(f'held-out points inside the 95% band: {coverage:.3f}')
  truth = tfd.Normal(true_mean(x_test[:, 0]), noise_scale(x_test[:, 0]))
  print(f'held-out NLL: {mixture_nll(test, y_test):.3f} (the true noise '
        f'model: {-float(tf.reduce_mean(truth.log_prob(y_test))):.3f})')

  grid = np.linspace(-5., 5., 400, dtype=np.float32)[:, None]
  # More passes than for the metrics: Flipout draws each grid point's weights
  # independently, so fewer passes leave a jagged curve.
  curve = predictive(model, grid, args.seed, num_samples=400)
  fig, ax = plt.subplots(figsize=(8, 4.5))
  ax.fill_between(grid[:, 0], curve['low'], curve['high'], color='tab:blue',
                  alpha=0.25, label='95% predictive band')
  ax.fill_between(grid[:, 0], curve['mean'] - 2 * curve['epistemic'],
                  curve['mean'] + 2 * curve['epistemic'], color='tab:blue',
                  alpha=0.45, label='±2 sd of the mean (model uncertainty)')
  ax.plot(grid[:, 0], curve['mean'], color='tab:blue', label='predictive mean')
  ax.plot(grid[:, 0], true_mean(grid[:, 0]), 'k--', lw=1, label='true mean')
  ax.scatter(x_train[:, 0], y_train, s=4, color='gray', label='training data')
  ax.scatter(x_test[:, 0], y_test, s=4, color='tab:orange',
             label='held-out data')
  ax.axvspan(-5, X_RANGE[0], color='gray', alpha=0.08)
  ax.axvspan(X_RANGE[1], 5, color='gray', alpha=0.08)
  ax.set(xlim=(-5, 5), ylim=(-4, 4), xlabel='x', ylabel='y',
         title=f'{args.layer}: {coverage:.1%} of held-out points in the 95% '
               'band (shaded: no data)')
  ax.legend(loc='upper left', fontsize=8)
  fig.tight_layout()
  path = os.path.join(figures, 'regression.png')
  fig.savefig(path, dpi=110)
  plt.close(fig)
  print(f'saved {path}')


if __name__ == '__main__':
  main()
