"""Times the convolution layers' training step and checks their ratios.

The CNN of `training_step.py` (28x28x1, a 5x5 convolution to 32 channels,
2x2 max pooling, a dense layer to 10 classes; batch 64, Keras 3's Adam), for
each estimator built from tfnx's `tf.Module` layers, `tfnx.keras`, plain TF
ops, Reparameterization in the fewest TF ops (`hand-written`) and, when
installed, TFP's `tfp.experimental.nn` and `tfp.layers`
(through `tf_keras`), each with its library's default arguments. All steps
are timed in one process, in interleaved rounds (A B C ... A B C ...); the
table gives the median ms per step.

The check fails (exit status 1) when a tfnx layer's step costs more than
`--api-ratio` (1.05) times the same estimator's in the other tfnx API, or,
for Reparameterization, more than `--plain-ratio` (1.1) times the plain
convolution's. Run it before and after a change to a layer's call, on a
quiet machine: the ratios are those of one run.

    python benchmarks/check_convolution.py
    python benchmarks/check_convolution.py --rounds 31 --steps-per-round 10
"""

import argparse
import os
import sys
from typing import Dict, List, Optional

import keras
import tensorflow as tf
import tensorflow_probability as tfp

import _harness
import _models

_ESTIMATORS = ('Reparameterization', 'Flipout')
_LIBRARIES = ('tfnx', 'tfnx.keras', 'plain', 'hand-written',
              'tfp.experimental.nn', 'tfp.layers')
# The floors: plain TF, and the estimator in the fewest TF ops
# (`_models.handwritten_cnn`); Reparameterization only.
_FLOORS = ('plain', 'hand-written')
_PEERS = ('tfp.experimental.nn', 'tfp.layers')


def _model_name(library: str, estimator: str) -> Optional[str]:
  """The registry's name of one cell of the table; `None` where it has none."""
  if library in _FLOORS and estimator != 'Reparameterization':
    return None
  if library == 'plain':
    return 'plain conv'
  if library in ('tfnx.keras', 'tfp.layers'):
    estimator = _models.KERAS_NAMES[estimator]
  return f'{library} conv {estimator}'


def _tf_keras_installed() -> bool:
  try:
    _models.tf_keras_module()
  except ImportError:
    return False
  return True


def libraries(with_peers: bool) -> List[str]:
  """The table's columns: tfnx's two APIs, plain TF and the installed peers."""
  return [library for library in _LIBRARIES
          if library not in _PEERS or (
              with_peers and (library != 'tfp.layers'
                              or _tf_keras_installed()))]


def measure(columns: List[str], rounds: int,
            steps_per_round: int) -> Dict[str, Dict[str, float]]:
  """`{estimator: {library: ms per step}}`, all timed in interleaved rounds."""
  registry = _models.registry()
  steps = {}
  for estimator in _ESTIMATORS:
    for library in columns:
      name = _model_name(library, estimator)
      if name is not None and name not in steps:
        kind, build = registry[name]
        steps[name] = (_harness.training_step(build()),
                       _models.batch_for(kind))
  times = _harness.time_interleaved(steps, rounds, steps_per_round)
  return {estimator: {library: times[_model_name(library, estimator)]
                      for library in columns
                      if _model_name(library, estimator) is not None}
          for estimator in _ESTIMATORS}


def table(times: Dict[str, Dict[str, float]], columns: List[str]) -> str:
  """The markdown table: a row per estimator, a column per library."""
  lines = ['| layer | ' + ' | '.join(columns) + ' |',
           '|---' * (len(columns) + 1) + '|']
  for estimator, row in times.items():
    cells = [f'{row[c]:.2f}' if c in row else '-' for c in columns]
    lines.append(f'| {estimator} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def ratios(times: Dict[str, Dict[str, float]]) -> List[str]:
  """The ratios the check bounds, `'<what>: <ratio>'`, one per line."""
  lines = []
  for estimator, row in times.items():
    lines.append(f'{estimator}: tfnx / tfnx.keras = '
                 f'{row["tfnx"] / row["tfnx.keras"]:.3f}')
    for library in ('tfnx', 'tfnx.keras'):
      for floor in _FLOORS:
        if floor in row:
          lines.append(f'{estimator}: {library} / {floor} = '
                       f'{row[library] / row[floor]:.3f}')
      for peer in _PEERS:
        if peer in row:
          lines.append(f'{estimator}: {peer} / {library} = '
                       f'{row[peer] / row[library]:.3f}')
  return lines


def failures(times: Dict[str, Dict[str, float]], api_ratio: float,
             plain_ratio: float) -> List[str]:
  """Each bound a measured ratio exceeds, as a sentence; empty if none."""
  found = []
  for estimator, row in times.items():
    for library, other in (('tfnx', 'tfnx.keras'), ('tfnx.keras', 'tfnx')):
      ratio = row[library] / row[other]
      if ratio > api_ratio:
        found.append(f'{library} {estimator} costs {ratio:.3f}x {other} '
                     f'{estimator} (at most {api_ratio}x)')
      if estimator == 'Reparameterization':
        ratio = row[library] / row['plain']
        if ratio > plain_ratio:
          found.append(f'{library} {estimator} costs {ratio:.3f}x the plain '
                       f'convolution (at most {plain_ratio}x)')
  return found


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--rounds', type=int, default=21)
  parser.add_argument('--steps-per-round', type=int, default=20)
  parser.add_argument('--api-ratio', type=float, default=1.05)
  parser.add_argument('--plain-ratio', type=float, default=1.1)
  parser.add_argument('--no-peers', action='store_true',
                      help='time only tfnx and plain TF, not TFP')
  args = parser.parse_args()
  print(f'TensorFlow {tf.__version__}, TFP {tfp.__version__}, '
        f'Keras {keras.__version__}, {os.cpu_count()} CPUs; '
        f'{args.rounds} rounds of {args.steps_per_round} steps', flush=True)
  columns = libraries(not args.no_peers)
  times = measure(columns, args.rounds, args.steps_per_round)
  print(table(times, columns))
  print('\n'.join(ratios(times)))
  found = failures(times, args.api_ratio, args.plain_ratio)
  for failure in found:
    print('FAIL: ' + failure)
  if not found:
    print('OK: every ratio within its bound')
  return 1 if found else 0


if __name__ == '__main__':
  sys.exit(main())
