"""Uncertainty from a trained network without retraining: the Laplace approximation.

The protocol of `calibration.py`: the deterministic MLP of `_protocol.py`
trained on 80% of the 70% training split, then
`tfnx.laplace.Laplace(..., subset_of_weights='last_layer',
hessian_structure='kron')` fitted on the same 80%, its prior precision
chosen by the marginal likelihood, and the probit predictive on the test
split. Beside it: the trained network, the same Laplace at temperature 1
(laplace-torch's default; `tfl.DEFAULT_TEMPERATURE` says why tfnx's is
colder) and the default flipout layers trained from scratch by the
protocol. Classification sets score accuracy, NLL, ECE
and (digits) the AUROC of noise images by predictive entropy; the diabetes
regression scores RMSE and the Gaussian NLL, both models' noise scale being
the RMSE on the held-out 20%. Prints the per-seed rows, then the medians over
`--seeds` as a Markdown table, and draws the first seed's reliability
diagrams. docs/laplace.md's table comes from

    python examples/laplace.py --figures docs/figures
"""

from typing import Dict, List

import numpy as np
import tensorflow as tf
from sklearn import datasets, model_selection

import _protocol as protocol
import calibration
import tfnx as tfn
import tfnx.laplace as tfl

CLASSIFICATION = ('digits', 'breast_cancer')
METRICS = ('accuracy', 'nll', 'ece', 'auroc')
REGRESSION_METRICS = ('rmse', 'nll')


def laplace(det: tfn.Sequential, x, y, likelihood: str = 'classification',
            **kwargs) -> tfl.Laplace:
  """The Done-when recipe: last-layer KFAC, prior by the marginal likelihood."""
  la = tfl.Laplace(det, likelihood, subset_of_weights='last_layer',
                   hessian_structure='kron', **kwargs).fit(x, y)
  la.optimize_prior_precision('marglik')
  return la


def classification(dataset: str, seed: int, steps: int) -> Dict[str, Dict]:
  """Each model's test scores on one classification set and seed."""
  task = calibration.Task(dataset, seed)
  det = calibration.deterministic(task, steps, seed)
  results = {'trained network (80%)': task.score(det, 1)}
  for name, temperature in (
      ('Laplace (last-layer KFAC, marglik, probit)',
       tfl.DEFAULT_TEMPERATURE),
      ('the same at temperature 1', 1.)):
    la = laplace(det, task.x_fit, task.y_fit, temperature=temperature)
    noise = None if task.noise is None else la(task.noise)
    results[name] = protocol.scores(la(task.x_test), task.y_test, noise)
    results.setdefault('_prior', float(la.prior_precision[0]))
  results['flipout defaults from scratch'] = task.score(
      calibration.from_scratch(task, 'flipout', steps, seed))
  return results


def _diabetes(seed: int):
  """Standardized diabetes splits: 80% / 20% of the 70% and the 30% test."""
  data = datasets.load_diabetes()
  x, y = data.data.astype(np.float32), data.target.astype(np.float32)
  x_train, x_test, y_train, y_test = model_selection.train_test_split(
      x, y[:, None], test_size=0.3, random_state=0)
  mean, std = x_train.mean(0), x_train.std(0)
  y_mean, y_std = y_train.mean(), y_train.std()
  x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
  y_train, y_test = (y_train - y_mean) / y_std, (y_test - y_mean) / y_std
  x_fit, y_fit, x_val, y_val = calibration.split_validation(
      x_train, y_train, seed)
  return x_fit, y_fit, x_val, y_val, x_test, y_test


def _gaussian_scores(mean, var, y) -> Dict[str, float]:
  return {'rmse': float(np.sqrt(np.mean((mean - y)**2))),
          'nll': float(np.mean(0.5 * (np.log(2 * np.pi * var)
                                      + (y - mean)**2 / var)))}


def regression(seed: int, steps: int) -> Dict[str, Dict]:
  """The trained network and its Laplace on diabetes (not measured before)."""
  x_fit, y_fit, x_val, y_val, x_test, y_test = _diabetes(seed)
  det = protocol.build_mlp('deterministic', x_fit.shape[1], 1, seed)
  mse = lambda model, x, y: tf.reduce_mean(tf.square(model(x) - y))
  protocol.train(det, mse, x_fit, y_fit, steps=steps, seed=seed,
                 desc='deterministic')
  sigma = float(np.sqrt(np.mean((det(x_val).numpy() - y_val)**2)))
  results = {'trained network (80%), noise from the 20%': _gaussian_scores(
      det(x_test).numpy(), sigma**2, y_test)}
  for name, temperature in (
      ('Laplace (last-layer KFAC, marglik)', tfl.DEFAULT_TEMPERATURE),
      ('the same at temperature 1', 1.)):
    la = laplace(det, x_fit, y_fit, 'regression', sigma_noise=sigma,
                 temperature=temperature)
    mean, cov = la(x_test)
    results[name] = _gaussian_scores(mean.numpy(),
                                     cov.numpy()[:, :, 0] + sigma**2, y_test)
    results.setdefault('_prior', float(la.prior_precision[0]))
  return results


def median_rows(dataset: str, runs: List[Dict], metrics) -> List[str]:
  """One Markdown row per model: the medians over the runs."""
  rows = []
  for name in (k for k in runs[0] if not k.startswith('_')):
    cells = [f'{np.median([r[name][m] for r in runs]):.3f}'
             if m in runs[0][name] else '-' for m in metrics]
    rows.append(f'| {dataset} | {name} | ' + ' | '.join(cells) + ' |')
  priors = ', '.join(f'{r["_prior"]:.3g}' for r in runs)
  print(f'{dataset}: marglik prior precisions {priors}', flush=True)
  return rows


def draw(dataset: str, result: Dict, y, folder: str) -> None:
  """Reliability diagrams of each model of one seed."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  names = [k for k in result if not k.startswith('_')]
  fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4))
  for axis, name in zip(axes, names):
    calibration.reliability(axis, result[name], y, f'{dataset}: {name}')
  calibration.save_diagrams(fig, axes, folder, f'laplace_{dataset}.png')


def main():
  p = protocol.parser(__doc__)
  p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
  p.add_argument('--datasets', nargs='+',
                 default=list(CLASSIFICATION) + ['diabetes'],
                 choices=list(CLASSIFICATION) + ['diabetes'])
  args = p.parse_args()
  tables = {'classification': [], 'regression': []}
  for dataset in args.datasets:
    if dataset == 'diabetes':
      runs = [regression(seed, args.steps) for seed in args.seeds]
      tables['regression'] += median_rows(dataset, runs, REGRESSION_METRICS)
      continue
    runs = [classification(dataset, seed, args.steps) for seed in args.seeds]
    tables['classification'] += median_rows(dataset, runs, METRICS)
    if args.figures:
      draw(dataset, runs[0], calibration.Task(dataset, args.seeds[0]).y_test,
           args.figures)
  for kind, metrics in (('classification', METRICS),
                        ('regression', REGRESSION_METRICS)):
    if tables[kind]:
      print(f'\nmedians over seeds {args.seeds}\n\n| data | model | '
            + ' | '.join(metrics) + ' |')
      print('|---|---|' + '---|' * len(metrics))
      print('\n'.join(tables[kind]))


if __name__ == '__main__':
  main()
