"""Times a predictive sample: 50 stochastic passes of a Flipout MLP, and one call.

The model is a 784-512-10 (ReLU) Flipout MLP with each library's default
arguments. For each batch size the script times, interleaved in one process
(A B C ... A B C ...) so that drift of the machine hits all alike:

- one eager call of the model (tfnx, tfnx.keras, tfp.experimental.nn,
  tfp.layers);
- `tfnx.predictive.class_probabilities(model, x, 50)`, which runs the passes
  as few calls as the layers allow (here one call on the inputs tiled);
- the same through tfnx's previous path, one call per pass in a traced loop
  (the model behind a lambda, a stage the predictive cannot see into);
- TFP's layers' 50 passes as their users write them: a `tf.function` of a
  `tf.map_fn` over the passes, each a call of the model.

The table gives each median in milliseconds and its ratio to one eager call
of the tfnx model.

    python benchmarks/predictive.py                   # batches 1, 64, 1000
    python benchmarks/predictive.py --batches 1 64 --rounds 3

`tfp.layers` needs the legacy `tf_keras` (installed with
`tensorflow-probability[tf]`); only benchmarks import it, never tfnx.
"""

import argparse
import os
import statistics
import sys
import time
from typing import Callable, Dict

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np
import keras
import tensorflow as tf
import tensorflow_probability as tfp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tfnx
import tfnx.keras as tfnx_keras

PASSES = 50
HIDDEN = 512


def tfnx_mlp(library=tfnx):
  """The Flipout MLP from `tf.Module` layers (tfnx or tfp.experimental.nn)."""
  return library.Sequential([
      library.AffineVariationalFlipout(784, HIDDEN, activation_fn=tf.nn.relu),
      library.AffineVariationalFlipout(HIDDEN, 10)])


def keras_mlp(layers, keras_module):
  """The Flipout MLP from Keras layers (tfnx.keras or tfp.layers)."""
  return keras_module.Sequential([
      keras_module.Input((784,)),
      layers.DenseFlipout(HIDDEN, activation='relu'),
      layers.DenseFlipout(10)])


def one_call_per_pass(model) -> Callable:
  """tfnx's previous path: the model behind a lambda gets a call per pass."""
  return lambda x, seed: model(x, seed=seed)


def stateful_passes(model) -> Callable:
  """50 passes of a model that draws its own noise, in one `tf.function`."""
  @tf.function(autograph=False)
  def passes(x):
    return tf.reduce_mean(tf.map_fn(
        lambda _: tf.nn.softmax(model(x)), tf.range(PASSES),
        fn_output_signature=tf.float32), axis=0)
  return passes


def _tfp_layers_model():
  import tf_keras  # Only for tfp.layers, which needs it.
  return keras_mlp(tfp.layers, tf_keras)


def cases(x: tf.Tensor, with_tfp_passes: bool) -> Dict[str, Callable]:
  """What to time at this batch: name -> a function of no arguments."""
  module = tfnx_mlp()
  keras_model = keras_mlp(tfnx_keras, keras)
  tfp_module = tfnx_mlp(tfp.experimental.nn)
  previous = one_call_per_pass(module)
  probabilities = tfnx.predictive.class_probabilities
  timed = {
      'tfnx: one eager call': lambda: module(x),
      'tfnx: class_probabilities, 50 passes': (
          lambda: probabilities(module, x, PASSES, seed=1)),
      'tfnx previous path: 50 passes, a call each': (
          lambda: probabilities(previous, x, PASSES, seed=1)),
      'tfnx.keras: one eager call': lambda: keras_model(x),
      'tfnx.keras: class_probabilities, 50 passes': (
          lambda: probabilities(keras_model, x, PASSES, seed=1)),
      'tfp.experimental.nn: one eager call': lambda: tfp_module(x),
  }
  tfp_layers = _tfp_layers_model()
  timed['tfp.layers: one eager call'] = lambda: tfp_layers(x)
  if with_tfp_passes:
    timed['tfp.experimental.nn: 50 passes (map_fn)'] = (
        lambda f=stateful_passes(tfp_module): f(x))
    timed['tfp.layers: 50 passes (map_fn)'] = (
        lambda f=stateful_passes(tfp_layers): f(x))
  return timed


def time_interleaved(timed: Dict[str, Callable],
                     rounds: int) -> Dict[str, float]:
  """Median milliseconds of each function over interleaved rounds."""
  for fn in timed.values():  # Trace and warm up.
    np.asarray(fn())
  times = {name: [] for name in timed}
  for _ in range(rounds):
    for name, fn in timed.items():
      start = time.perf_counter()
      np.asarray(fn())  # Waits for the result.
      times[name].append(1e3 * (time.perf_counter() - start))
  return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--batches', type=int, nargs='+', default=[1, 64, 1000])
  parser.add_argument('--rounds', type=int, default=5)
  parser.add_argument('--tfp-passes-up-to', type=int, default=64,
                      help='largest batch at which TFP\'s passes are timed')
  args = parser.parse_args()
  print('| batch | what | ms | x one tfnx eager call |')
  print('|---:|---|---:|---:|')
  for batch in args.batches:
    x = tf.constant(np.random.RandomState(0).rand(batch, 784), tf.float32)
    times = time_interleaved(cases(x, batch <= args.tfp_passes_up_to),
                             args.rounds)
    unit = times['tfnx: one eager call']
    for name, ms in times.items():
      print(f'| {batch} | {name} | {ms:.1f} | {ms / unit:.1f} |', flush=True)


if __name__ == '__main__':
  main()
