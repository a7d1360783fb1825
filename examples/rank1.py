"""Ensemble-quality uncertainty at the cost of one network: rank-1 and BatchEnsemble MLPs.

On each data set, for split seeds 0, 1 and 2, trains by the protocol of
`_protocol.py` (70/30 split, the `inputs-128-classes` ReLU MLP, Adam 3e-3,
batches of 64, 3000 steps on NLL + KL / N):

- the plain network (`tfn.Affine` layers), as `calibration.py` trains it;
- a deep ensemble of 4 plain networks (other initial weights and batch
  orders; the first is the plain network), its softmax averaged;
- a rank-1 MLP of 4 members (`tfnx.keras.DenseRank1`) and a BatchEnsemble MLP
  of 4 members (`tfnx.keras.DenseBatchEnsemble`), each with the library's
  defaults and trained from scratch, no temperature; the batches go in
  untiled, as `model.fit` passes them, so each member trains on its own
  quarter of each batch;
- for reference, tfnx's default variational MLP (`AffineVariationalFlipout`).

The rank-1 and variational MLPs predict with the softmax averaged over 50
passes (and over the members: `tfn.predictive.class_probabilities` tiles the
inputs for them); the BatchEnsemble with one pass, its members averaged.
Prints a Markdown table of the medians over the seeds of accuracy, NLL, ECE
(15 bins) and the number of trainable parameters:

    python examples/rank1.py [--datasets digits breast_cancer synthetic wine]
"""

from typing import Callable, Dict, List

import keras
import numpy as np
import tensorflow as tf

import _protocol as protocol
import tfnx as tfn
import tfnx.keras as tfpl

ENSEMBLE_SIZE = 4
NUM_PASSES = 50
MODELS = ('plain', f'deep ensemble of {ENSEMBLE_SIZE}',
          f'rank-1, {ENSEMBLE_SIZE} members',
          f'BatchEnsemble, {ENSEMBLE_SIZE} members', 'Flipout (tfnx default)')
METRICS = ('accuracy', 'nll', 'ece', 'params')


class KerasMLP:
  """A Keras model as `_protocol.train` takes it: a call, its KL, its variables.

  Args:
    model: a Keras model of `tfnx.keras` layers; its `losses` are the
      unscaled KL terms of its last call, which `train` divides by `N`.
  """

  def __init__(self, model: keras.Model):
    self.model = model

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    return self.model(x, training=True)

  @property
  def extra_loss(self) -> tf.Tensor:
    return tf.add_n(self.model.losses) if self.model.losses else 0.

  @property
  def trainable_variables(self) -> List[tf.Variable]:
    return self.model.trainable_variables


def ensemble_mlp(layer: Callable, input_size: int, classes: int,
                 seed: int) -> KerasMLP:
  """The protocol's MLP of one `tfnx.keras` ensemble layer, its defaults."""
  return KerasMLP(keras.Sequential([
      keras.Input((input_size,)),
      layer(128, activation='relu', ensemble_size=ENSEMBLE_SIZE, seed=seed),
      layer(classes, ensemble_size=ENSEMBLE_SIZE, seed=seed + 1),
  ]))


def count(variables: List[tf.Variable]) -> int:
  """The number of values in `variables`."""
  return int(sum(np.prod(v.shape) for v in variables))


def run_seed(dataset: str, seed: int, steps: int) -> Dict[str, Dict]:
  """Every model's test scores on one split of `dataset`."""
  x_train, x_test, y_train, y_test = protocol.load_dataset(dataset, seed)
  size, classes = x_train.shape[1], int(y_train.max()) + 1

  def fit(model, member_seed, desc):
    protocol.train(model, protocol.classification_nll, x_train, y_train,
                   steps=steps, seed=member_seed, desc=f'{dataset} {desc}')
    return model

  def scored(probs, variables):
    result = protocol.scores(probs, y_test)
    result['params'] = count(variables)
    return result

  members = [fit(protocol.build_mlp('deterministic', size, classes,
                                    seed + 10 * k), seed + 10 * k,
                 f'plain {k}') for k in range(ENSEMBLE_SIZE)]
  member_probs = [tf.nn.softmax(m(x_test)) for m in members]
  results = {MODELS[0]: scored(member_probs[0],
                               members[0].trainable_variables),
             MODELS[1]: scored(tf.reduce_mean(member_probs, 0),
                               [v for m in members
                                for v in m.trainable_variables])}
  for name, layer, passes in ((MODELS[2], tfpl.DenseRank1, NUM_PASSES),
                              (MODELS[3], tfpl.DenseBatchEnsemble, 1)):
    model = fit(ensemble_mlp(layer, size, classes, seed), seed, name)
    results[name] = scored(tfn.predictive.class_probabilities(
        model.model, x_test, passes, seed), model.trainable_variables)
  flipout = fit(protocol.build_mlp('flipout', size, classes, seed), seed,
                'Flipout')
  results[MODELS[4]] = scored(tfn.predictive.class_probabilities(
      flipout, x_test, NUM_PASSES, seed), flipout.trainable_variables)
  return results


def table(dataset: str, runs: List[Dict[str, Dict]]) -> List[str]:
  """The medians over seeds, one Markdown row per model."""
  lines = []
  for name in MODELS:
    cells = []
    for metric in METRICS:
      median = float(np.median([run[name][metric] for run in runs]))
      cells.append(f'{median:.0f}' if metric == 'params'
                   else f'{median:.4f}')
    lines.append(f'| {dataset} | {name} | ' + ' | '.join(cells) + ' |')
  return lines


def main():
  p = protocol.parser(__doc__, figures=False)
  p.add_argument('--datasets', nargs='+',
                 default=['digits', 'breast_cancer', 'synthetic', 'wine'],
                 choices=protocol.DATASETS)
  p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
  args = p.parse_args()
  print('| data set | model | accuracy | NLL | ECE | parameters |\n'
        '|---|---|---|---|---|---|', flush=True)
  for dataset in args.datasets:
    runs = [run_seed(dataset, seed, args.steps) for seed in args.seeds]
    print('\n'.join(table(dataset, runs)), flush=True)


if __name__ == '__main__':
  main()
