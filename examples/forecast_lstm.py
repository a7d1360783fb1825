"""Forecasts a noisy seasonal series one step ahead with a Bayesian LSTM (`tfnx.keras.LSTMCellFlipout`).

A synthetic series (a daily cycle of period 24 under a slower weekly one,
with noise that grows with the cycle) is cut into windows of the last 48
values; a `VariationalRNN` of an `LSTMCellFlipout` reads each window and a
`DenseFlipout` outputs the next value's mean and noise scale. `model.fit`
trains the ELBO: a Gaussian likelihood, and the KL divided by the number of
training windows. The predictive is the mixture of 100 seeded passes, each
sequence applying one weight sample at all its steps. Prints the share of
the held-out last quarter of the series inside the 95% band (0.95 when
calibrated) and saves `forecast_lstm.png`.

    python examples/forecast_lstm.py [--steps 600] [--figures DIR]
"""

import os

import keras
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import protocol
import regression
import tfnx as tfn
import tfnx.keras as tfpl

tfd = tfp.distributions

LENGTH, WINDOW, UNITS, BATCH_SIZE = 1200, 48, 16, 64
HELD_OUT = LENGTH // 4


def make_series(rng: np.random.RandomState) -> np.ndarray:
  """A daily and a weekly cycle, with noise largest at the daily peaks."""
  t = np.arange(LENGTH)
  daily = np.sin(2 * np.pi * t / 24)
  mean = daily + 0.5 * np.sin(2 * np.pi * t / 168)
  noise = 0.1 + 0.15 * (1 + daily)
  return (mean + noise * rng.normal(size=LENGTH)).astype(np.float32)


def windows(series: np.ndarray):
  """`(x, y)`: each run of WINDOW values, `[n, WINDOW, 1]`, and the next."""
  starts = np.arange(len(series) - WINDOW)
  x = np.stack([series[s:s + WINDOW] for s in starts])[..., np.newaxis]
  return x, series[WINDOW:]


def gaussian_nll(y, outputs):
  """The Keras loss: the Gaussian NLL of the next value."""
  params = regression.loc_and_scale(outputs)
  return -tfd.Normal(params[..., 0], params[..., 1]).log_prob(y[..., 0])


def build_model(num_train: int, seed: int) -> keras.Sequential:
  """LSTM (Flipout) over the window, then a Flipout head: mean and scale."""
  def kl(posterior, prior, _):
    return tfpl.kl_divergence(posterior, prior) / num_train

  cell = tfpl.LSTMCellFlipout(UNITS, kernel_divergence_fn=kl,
                              recurrent_kernel_divergence_fn=kl, seed=seed)
  model = keras.Sequential([
      keras.Input((WINDOW, 1)),
      tfpl.VariationalRNN(cell),
      tfpl.DenseFlipout(2, kernel_divergence_fn=kl, seed=seed + 1),
  ])
  model.compile(keras.optimizers.Adam(1e-2), gaussian_nll)
  return model


def seeded(model: keras.Sequential):
  """The model as `(x, seed=...) -> outputs`, each layer with its own seed."""
  def call(x, seed):
    layer_seeds = tfn.seeds.split_seed(tfn.seeds.sanitize_seed(seed),
                                       len(model.layers))
    for layer, layer_seed in zip(model.layers, layer_seeds):
      x = layer(x, seed=layer_seed)
    return x
  return call


def plot(series, test, coverage, path):
  """The held-out stretch: observations, predictive mean and 95% band."""
  t = np.arange(LENGTH - HELD_OUT, LENGTH)
  fig, ax = plt.subplots(figsize=(9, 4))
  ax.plot(np.arange(LENGTH - HELD_OUT - 96, LENGTH - HELD_OUT),
          series[-HELD_OUT - 96:-HELD_OUT], color='gray', lw=1,
          label='training series (end)')
  ax.fill_between(t, test['low'], test['high'], color='tab:blue', alpha=0.3,
                  label='95% predictive band (one step ahead)')
  ax.plot(t, test['mean'], color='tab:blue', lw=1, label='predictive mean')
  ax.scatter(t, series[-HELD_OUT:], s=5, color='tab:orange',
             label='held-out observations')
  ax.set(xlabel='time step', ylabel='value',
         title=f'Bayesian LSTM (Flipout): {coverage:.1%} of held-out values '
               'in the 95% band')
  ax.legend(loc='lower left', fontsize=8, ncol=2)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main():
  p = protocol.parser(__doc__)
  p.set_defaults(steps=600, figures=os.path.join(
      os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'docs',
      'figures'))
  args = p.parse_args()
  figures = protocol.figures_dir(args.figures)
  series = make_series(np.random.RandomState(args.seed))
  x, y = windows(series)
  split = len(x) - HELD_OUT
  keras.utils.set_random_seed(args.seed)
  model = build_model(split, args.seed)
  steps_per_epoch = -(-split // BATCH_SIZE)
  model.fit(x[:split], y[:split, np.newaxis], batch_size=BATCH_SIZE,
            epochs=max(1, round(args.steps / steps_per_epoch)), verbose=2)

  test = regression.predictive(seeded(model), x[split:], args.seed)
  coverage = np.mean((y[split:] >= test['low']) & (y[split:] <= test['high']))
  print(f'held-out values inside the 95% band: {coverage:.3f}')
  print(f'held-out NLL: {regression.mixture_nll(test, y[split:]):.3f}')
  path = os.path.join(figures, 'forecast_lstm.png')
  plot(series, test, coverage, path)
  print(f'saved {path}')


if __name__ == '__main__':
  main()
