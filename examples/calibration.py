"""Measures accuracy, NLL, calibration and noise detection of each estimator under the protocol.

Trains the protocol's MLP (see `_protocol.py`) with the library's default
arguments for every estimator, and a deterministic network for reference, on
one or more data sets and seeds, and prints a Markdown table of the means
(and, over several seeds, the spread). docs/calibration.md's numbers come from

    python examples/calibration.py --datasets digits breast_cancer synthetic
"""

import numpy as np

import _protocol as protocol


def measure(dataset: str, kind: str, steps: int, seed: int,
            kl_weight: float = 1.):
  """Trains one model under the protocol and returns its test metrics."""
  x_train, x_test, y_train, y_test = protocol.load_dataset(dataset)
  classes = int(y_train.max()) + 1
  model = protocol.build_mlp(kind, x_train.shape[1], classes, seed)
  protocol.train(model, protocol.classification_nll, x_train, y_train,
                 steps=steps, kl_weight=kl_weight, seed=seed,
                 desc=f'{dataset}/{kind}/{seed}')
  noise = None
  if dataset == 'digits':
    noise = np.random.RandomState(seed).uniform(
        size=x_test.shape).astype(np.float32)
  return protocol.evaluate(model, x_test, y_test, noise,
                           num_samples=1 if kind == 'deterministic' else 50,
                           seed=seed)


def main():
  p = protocol.parser(__doc__, figures=False)
  p.add_argument('--datasets', nargs='+', default=['digits'],
                 choices=protocol.DATASETS)
  p.add_argument('--kinds', nargs='+', default=list(protocol.LAYERS),
                 choices=list(protocol.LAYERS))
  p.add_argument('--seeds', type=int, default=1,
                 help='how many seeds, from --seed on')
  p.add_argument('--kl-weight', type=float, default=1.)
  args = p.parse_args()
  names = ['accuracy', 'nll', 'ece', 'auroc']
  rows = []
  for dataset in args.datasets:
    for kind in args.kinds:
      runs = [measure(dataset, kind, args.steps, seed, args.kl_weight)
              for seed in range(args.seed, args.seed + args.seeds)]
      cells = []
      for name in names:
        values = np.array([r.get(name, np.nan) for r in runs])
        if np.isnan(values).all():
          cells.append('-')
        elif len(values) > 1:
          cells.append(f'{values.mean():.3f} ± {values.std(ddof=1):.3f}')
        else:
          cells.append(f'{values[0]:.3f}')
      rows.append(f'| {dataset} | {kind} | ' + ' | '.join(cells) + ' |')
      print(rows[-1], flush=True)
  print('\n| data | layers | ' + ' | '.join(names) + ' |')
  print('|---|---|' + '---|' * len(names))
  print('\n'.join(rows))


if __name__ == '__main__':
  main()
