"""Times one training step of Bayesian layers from tfnx, TFP and plain TF.

Two models, each built from every library's layers:

- MLP: 784-512-10 (ReLU), batch 128.
- CNN: 28x28x1 inputs, a 5x5 convolution to 32 channels (ReLU, VALID), 2x2
  max pooling, a dense layer to 10 classes; batch 64. The variational CNNs
  use one estimator for both layers.

Every model trains on the same fixed random batch with Keras 3's Adam; its
whole step (forward pass, cross entropy + KL / N, gradients, update) is one
`tf.function`. Layers keep their libraries' default arguments. The
"hand-written" models (each MLP estimator, the CNN's reparameterization)
write the estimator in the fewest TF ops we could, on bare variables: the
floor a layer library can reach here. Timed rounds are interleaved (A B C
... A B C ...) so that drift of the machine hits all models alike; the table
gives each model's median milliseconds per step over the rounds, its ratio
to the plain TF model of its kind, and the peak memory its training adds to
a fresh process (measured in a subprocess per model, Linux only).

    python benchmarks/training_step.py              # the table
    python benchmarks/training_step.py --scaling    # Flipout vs plain dense
    python benchmarks/training_step.py --ensembles  # rank-1 vs deep ensemble
    python benchmarks/training_step.py --only tfnx  # names containing "tfnx"

`tfp.layers` needs the legacy `tf_keras` (installed with
`tensorflow-probability[tf]`); only the benchmark imports it, never tfnx.

The models are in `_models.py`, the timing and memory harness in
`_harness.py`; this file is the command line.
"""

import argparse
import os

import keras
import tensorflow as tf
import tensorflow_probability as tfp

import _harness
import _models


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--rounds', type=int, default=15)
  parser.add_argument('--steps-per-round', type=int, default=20)
  parser.add_argument('--only', default='',
                      help='time only models whose name contains this')
  parser.add_argument('--no-memory', action='store_true',
                      help='skip the per-model memory subprocesses')
  parser.add_argument('--scaling', action='store_true',
                      help='report Flipout vs plain dense over sizes instead')
  parser.add_argument('--ensembles', action='store_true',
                      help='report rank-1 and BatchEnsemble MLPs against a '
                      'deep ensemble and plain dense at 512 rows instead')
  parser.add_argument('--memory-of', help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.memory_of:
    _harness.measure_memory(args.memory_of)
    return
  print(f'TensorFlow {tf.__version__}, TFP {tfp.__version__}, '
        f'Keras {keras.__version__}, {os.cpu_count()} CPUs', flush=True)
  if args.scaling:
    _harness.scaling(args.rounds, args.steps_per_round)
    return
  if args.ensembles:
    _harness.ensembles(args.rounds, args.steps_per_round)
    return
  models = {name: spec for name, spec in _models.registry().items()
            if args.only in name or name.startswith('plain')}
  steps = {}
  for name, (kind, build) in models.items():
    steps[name] = (_harness.training_step(build()), _models.batch_for(kind))
  times = _harness.time_interleaved(steps, args.rounds, args.steps_per_round)
  memory = {} if args.no_memory else {name: _harness.peak_memory_mb(name)
                                      for name in models}
  print(_harness.table(times, {n: k for n, (k, _) in models.items()}, memory))


if __name__ == '__main__':
  main()
