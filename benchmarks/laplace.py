"""Times `tfnx.laplace.Laplace` on the digits MLP: one `fit`, and a probit prediction.

The model is the protocol's 64-128-10 (ReLU) MLP of `examples/_protocol.py`
(weights as initialized: neither timing depends on them) on scikit-learn's
digits, 80% of the 70% training split (1005 examples) to fit on and the 30%
test split (540) to predict. `Laplace(model, subset_of_weights='last_layer',
hessian_structure='kron')` (and the same with `'diag'` for the prediction):

- `fit`, once cold (the first call, tracing included) and then as the median
  of `--rounds` further fits;
- the probit prediction `la(x)` against one deterministic call `model(x)`,
  eager and traced, interleaved in rounds (A B C ... A B C ...), medians, for
  a batch of 1 and the test split.

    python benchmarks/laplace.py
    python benchmarks/laplace.py --rounds 5
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np
import tensorflow as tf
from sklearn import datasets, model_selection

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness
import tfnx
import tfnx.laplace as tfl


def digits():
  """The fit (80% of 70%) and test (30%) inputs and labels of digits."""
  data = datasets.load_digits()
  x_train, x_test, y_train, _ = model_selection.train_test_split(
      (data.data / 16.).astype(np.float32), data.target.astype(np.int32),
      test_size=0.3, random_state=0)
  cut = int(0.8 * len(x_train))
  return x_train[:cut], y_train[:cut], x_test


def mlp() -> tfnx.Sequential:
  init = tfnx.initializers.glorot_uniform
  return tfnx.Sequential([
      tfnx.Affine(64, 128, activation_fn=tf.nn.relu, kernel_initializer=init(0)),
      tfnx.Affine(128, 10, kernel_initializer=init(1))])


def time_fit(la: tfl.Laplace, x, y, rounds: int) -> tuple:
  """The cold fit's seconds and the median of `rounds` warm ones."""
  times = []
  for _ in range(rounds + 1):
    start = time.perf_counter()
    la.fit(x, y)
    float(la.curvature.eig_g[0][0])  # Waits for the fit.
    times.append(time.perf_counter() - start)
  return times[0], statistics.median(times[1:])


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument('--rounds', type=int, default=15)
  args = p.parse_args()
  x, y, x_test = digits()
  model = mlp()
  la = tfl.Laplace(model, subset_of_weights='last_layer',
                   hessian_structure='kron')
  cold, warm = time_fit(la, x, y, args.rounds)
  diag = tfl.Laplace(model, subset_of_weights='last_layer',
                     hessian_structure='diag').fit(x, y)
  print(f'load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores')
  print('\n| what | ms | x one eager deterministic call |\n|---|---:|---:|')
  print(f'| fit, last layer, kron, 1005 examples, first call | '
        f'{1e3 * cold:.0f} | - |')
  print(f'| fit, same, median of {args.rounds} | {1e3 * warm:.0f} | - |')
  traced = tf.function(model)
  for batch in (1, len(x_test)):
    inputs = tf.constant(x_test[:batch])
    times = _harness.time_interleaved({
        'deterministic, eager': (model, (inputs,)),
        'deterministic, traced': (traced, (inputs,)),
        'Laplace probit la(x)': (la, (inputs,)),
        'Laplace probit la(x), diag': (diag, (inputs,)),
    }, args.rounds, 20)
    base = times['deterministic, eager']
    for name, ms in times.items():
      print(f'| batch {batch}: {name} | {ms:.2f} | {ms / base:.2f} |')


if __name__ == '__main__':
  main()
