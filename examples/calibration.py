"""Calibrated uncertainty from a trained network: conversion (MOPED), fine-tuning, temperature.

The recipe, for each estimator: (1) train the protocol's deterministic MLP
(`_protocol.py`) on 80% of the training split; (2) convert it with
`tfn.util.to_variational` and the library's defaults; (3) fine-tune it on the
ELBO (NLL + KL / N) for 1000 steps, Adam 1e-3, on the same 80%; (4) fit a
temperature on the other 20%; (5) predict the test split with the tempered
mixture of 50 passes. Beside it: the deterministic network, the same network
tempered, and the default layers trained from scratch on the whole training
split. Prints a Markdown table and draws reliability diagrams before and
after the temperature. docs/calibration.md's results come from

    python examples/calibration.py --datasets digits breast_cancer \
        synthetic wine iris --no-baselines --figures docs/figures

and its sweeps from `--moped-delta`, `--posterior-scale`, `--prior` and
`--log-t-scale` with several values.
"""

from typing import Dict, List

import numpy as np
import tensorflow as tf

import _protocol as protocol
import tfnx as tfn
from tfnx import conversion

ESTIMATORS = ('flipout', 'local', 'reparameterization')
METRICS = ('accuracy', 'nll', 'ece', 'auroc')


def split_validation(x, y, seed: int):
  """80% of the training split to train on, 20% to fit the temperature."""
  order = np.random.RandomState(seed).permutation(len(x))
  cut = int(0.8 * len(x))
  return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


class Task:
  """A data set's splits, its noise images, and how to score a model on it."""

  def __init__(self, dataset: str, seed: int):
    x_train, self.x_test, y_train, self.y_test = protocol.load_dataset(dataset)
    self.x_fit, self.y_fit, self.x_val, self.y_val = split_validation(
        x_train, y_train, seed)
    self.x_train, self.y_train = x_train, y_train
    self.classes = int(y_train.max()) + 1
    self.seed = seed
    self.noise = None
    if dataset == 'digits':
      self.noise = np.random.RandomState(seed).uniform(
          size=self.x_test.shape).astype(np.float32)

  def probabilities(self, model, x, num_samples: int):
    if num_samples == 1:  # A deterministic network needs one plain call.
      return tf.nn.softmax(model(x))
    return tfn.predictive.class_probabilities(model, x, num_samples,
                                              self.seed)

  def score(self, model, num_samples: int = 50,
            temperature=None) -> Dict[str, float]:
    """Test metrics of the mixture of passes, tempered when given `T`."""
    probs = self.probabilities(model, self.x_test, num_samples)
    noise = (None if self.noise is None
             else self.probabilities(model, self.noise, num_samples))
    if temperature is not None:
      probs = tfn.calibration.apply_temperature(probs, temperature)
      if noise is not None:
        noise = tfn.calibration.apply_temperature(noise, temperature)
    return protocol.scores(probs, self.y_test, noise)

  def temperature(self, model, num_samples: int = 50, **kwargs):
    """The temperature fitted on the validation 20%."""
    return tfn.calibration.fit_temperature(
        self.probabilities(model, self.x_val, num_samples), self.y_val,
        **kwargs)


def deterministic(task: Task, steps: int, seed: int) -> tfn.Sequential:
  """Step (1): the deterministic MLP trained on the 80%."""
  det = protocol.build_mlp('deterministic', task.x_fit.shape[1], task.classes,
                           seed)
  protocol.train(det, protocol.classification_nll, task.x_fit, task.y_fit,
                 steps=steps, seed=seed, desc='deterministic')
  return det


def recipe(task: Task, det: tfn.Sequential, estimator: str, seed: int,
           fine_tune_steps: int = 1000, **conversion) -> tfn.Sequential:
  """Steps (2) and (3): convert with the defaults and fine-tune on the ELBO."""
  bnn = tfn.util.to_variational(det, estimator=estimator, seed=seed,
                                **conversion)
  protocol.train(bnn, protocol.classification_nll, task.x_fit, task.y_fit,
                 steps=fine_tune_steps, learning_rate=1e-3, seed=seed,
                 desc=f'fine-tune {estimator}')
  return bnn


def from_scratch(task: Task, estimator: str, steps: int,
                 seed: int) -> tfn.Sequential:
  """The default layers trained by the protocol on the whole training split."""
  model = protocol.build_mlp(estimator, task.x_train.shape[1], task.classes,
                             seed)
  protocol.train(model, protocol.classification_nll, task.x_train,
                 task.y_train, steps=steps, seed=seed,
                 desc=f'scratch {estimator}')
  return model


def row(dataset: str, name: str, result: Dict[str, float]) -> str:
  cells = [f'{result[m]:.3f}' if m in result else '-' for m in METRICS]
  line = f'| {dataset} | {name} | ' + ' | '.join(cells) + ' |'
  print(line, flush=True)
  return line


def reliability(axis, result: Dict[str, float], y, title: str) -> None:
  """One reliability diagram: accuracy against confidence, 15 bins."""
  bins = tfn.metrics.calibration_bins(result['probs'], y)
  edges = bins.edges.numpy()
  axis.bar(edges[:-1], bins.accuracy.numpy(), width=np.diff(edges),
           align='edge', edgecolor='k', alpha=0.7, label='accuracy')
  axis.plot([0, 1], [0, 1], 'r--', label='calibrated')
  axis.set_title(f'{title}\nECE {result["ece"]:.3f}', fontsize=9)
  axis.set_xlabel('confidence')


def run(dataset: str, args) -> List[str]:
  """The table's rows for one data set; draws its diagrams."""
  task = Task(dataset, args.seed)
  det = deterministic(task, args.steps, args.seed)
  rows = [row(dataset, 'deterministic (80%)', task.score(det, 1))]
  det_t = task.temperature(det, 1)
  rows.append(row(dataset, f'deterministic + T ({float(det_t):.2f})',
                  task.score(det, 1, det_t)))
  panels = []
  for estimator in args.estimators:
    if args.baselines:
      rows.append(row(dataset, f'{estimator}, defaults from scratch',
                      task.score(from_scratch(task, estimator, args.steps,
                                              args.seed))))
    for delta in args.moped_delta:
      bnn = recipe(task, det, estimator, args.seed, args.fine_tune_steps,
                   moped_delta=delta, prior=args.prior,
                   posterior_scale=args.posterior_scale)
      name = f'{estimator}, converted'
      if len(args.moped_delta) > 1 or args.prior != 'default':
        name += f' (delta {delta}, prior {args.prior})'
      if args.posterior_scale != 'layer':
        name += f' (scale {args.posterior_scale})'
      before = task.score(bnn)
      rows.append(row(dataset, name, before))
      for scale in args.log_t_scale:
        temperature = task.temperature(bnn, log_temperature_scale=scale)
        after = task.score(bnn, temperature=temperature)
        label = f' + T ({float(temperature):.2f})'
        if len(args.log_t_scale) > 1:
          label += f', s={scale}'
        rows.append(row(dataset, name + label, after))
      if delta == args.moped_delta[0]:
        panels.append((estimator, before, after))
  if args.figures:
    draw(dataset, task, panels, args.figures)
  return rows


def draw(dataset: str, task: Task, panels, folder: str) -> None:
  """Reliability diagrams of each estimator before and after `T`."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, axes = plt.subplots(2, len(panels), figsize=(3 * len(panels), 6),
                           squeeze=False)
  for column, (estimator, before, after) in enumerate(panels):
    reliability(axes[0, column], before, task.y_test,
                f'{dataset} {estimator}, converted')
    reliability(axes[1, column], after, task.y_test,
                f'{dataset} {estimator}, + temperature')
  save_diagrams(fig, axes, folder, f'calibration_{dataset}.png')


def save_diagrams(fig, axes, folder: str, name: str) -> None:
  """Labels a grid of reliability diagrams and saves it as `folder/name`."""
  axes = np.atleast_2d(axes)
  for axis in axes[:, 0]:
    axis.set_ylabel('accuracy')
  axes[0, 0].legend(loc='upper left', fontsize=8)
  fig.tight_layout()
  path = f'{protocol.figures_dir(folder)}/{name}'
  fig.savefig(path, dpi=80)
  print(f'saved {path}', flush=True)


def main():
  p = protocol.parser(__doc__)
  p.set_defaults(figures=None)
  p.add_argument('--datasets', nargs='+', default=['digits'],
                 choices=protocol.DATASETS)
  p.add_argument('--estimators', nargs='+', default=list(ESTIMATORS),
                 choices=ESTIMATORS)
  p.add_argument('--fine-tune-steps', type=int, default=1000)
  p.add_argument('--moped-delta', type=float, nargs='+',
                 default=[conversion.DEFAULT_MOPED_DELTA])
  p.add_argument('--prior', default='default',
                 choices=conversion.PRIORS)
  p.add_argument('--posterior-scale', default='layer',
                 choices=conversion.SCALES)
  p.add_argument('--log-t-scale', type=float, nargs='+', default=[
      tfn.calibration.DEFAULT_LOG_TEMPERATURE_SCALE])
  p.add_argument('--no-baselines', dest='baselines', action='store_false',
                 help='skip the default layers trained from scratch')
  args = p.parse_args()
  rows = []
  for dataset in args.datasets:
    rows += run(dataset, args)
  print('\n| data | model | ' + ' | '.join(METRICS) + ' |')
  print('|---|---|' + '---|' * len(METRICS))
  print('\n'.join(rows))


if __name__ == '__main__':
  main()
