"""Times case 5 of TFP's regression tutorial: tfnx.keras' and tfp.layers' `VariationalGaussianProcess`.

The tutorial's model (a unit `Dense` map into a 40-point process with an RBF
kernel provider, float64) on its synthetic data, built once on Keras 3 with
`tfnx.keras` and once on `tf_keras` with `tfp.layers`. The script times,
interleaved in one process (A B A B ...) so that drift of the machine hits
both alike:

- the training step alone: one `tf.function` of the variational loss of a
  batch of 32 (the tutorial's `kl_weight`), its gradients and an Adam
  update;
- with `--epochs N`, each library's `model.fit` over the 150 points for N
  epochs (5 steps each), as the tutorial calls it: the step plus what each
  Keras spends per epoch (Keras 3 makes new `tf.data` iterators each epoch).

    python benchmarks/variational_gaussian_process.py
    python benchmarks/variational_gaussian_process.py --epochs 40 --rounds 3

`tfp.layers` needs the legacy `tf_keras` (installed with
`tensorflow-probability[tf]`); only benchmarks import it, never tfnx.
"""

import argparse
import importlib.util
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np
import keras
import tensorflow as tf
import tensorflow_probability as tfp

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
sys.path.insert(0, os.path.join(_ROOT, 'examples'))
import tfnx.keras as tfnx_keras
import _harness
import _models
from probabilistic_regression import load_dataset, x_range

# The example's module has this script's name: loaded by its path.
_SPEC = importlib.util.spec_from_file_location(
    'vgp_example', os.path.join(_ROOT, 'examples',
                                'variational_gaussian_process.py'))
vgp_example = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(vgp_example)

BATCH = 32
INDUCING_POINTS = 40


def kernel_provider(keras_module: Any) -> Any:
  """The tutorial's RBF kernel provider, as a layer of `keras_module`."""

  class RBFKernelFn(keras_module.layers.Layer):
    kernel = vgp_example.RBFKernelFn.kernel

    def __init__(self):
      super().__init__()
      self._amplitude = self.add_weight(
          name='amplitude', shape=(), initializer='zeros')
      self._length_scale = self.add_weight(
          name='length_scale', shape=(), initializer='zeros')

    def call(self, x):
      return x

  return RBFKernelFn()


def build_model(layers: Any, keras_module: Any, x: np.ndarray) -> Any:
  """Case 5's model from `layers` (tfnx.keras or tfp.layers)."""
  return keras_module.Sequential([
      keras_module.layers.InputLayer(input_shape=[1]),
      keras_module.layers.Dense(1, kernel_initializer='ones', use_bias=False),
      layers.VariationalGaussianProcess(
          num_inducing_points=INDUCING_POINTS,
          kernel_provider=kernel_provider(keras_module),
          event_shape=[1],
          inducing_index_points_initializer=tf.constant_initializer(
              np.linspace(*x_range, num=INDUCING_POINTS,
                          dtype=x.dtype)[..., np.newaxis]),
          unconstrained_observation_noise_variance_initializer=(
              tf.constant_initializer(np.array(0.54).astype(x.dtype)))),
  ])


def training_step(model: Any, keras_module: Any,
                  kl_weight: np.ndarray) -> Callable:
  """The variational loss of a batch, its gradients and an Adam update."""
  optimizer = keras_module.optimizers.Adam(learning_rate=0.01)

  @tf.function
  def step(x, y):
    with tf.GradientTape() as tape:
      loss = model(x).variational_loss(y, kl_weight=kl_weight)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss
  return step


def fit_seconds(models: Dict[str, Any], x: np.ndarray, y: np.ndarray,
                kl_weight: np.ndarray, epochs: int,
                rounds: int) -> Dict[str, float]:
  """Median seconds of each model's `fit` for `epochs`, interleaved."""
  loss = lambda y, rv_y: rv_y.variational_loss(y, kl_weight=kl_weight)
  for name, (model, keras_module) in models.items():
    model.compile(optimizer=keras_module.optimizers.Adam(learning_rate=0.01),
                  loss=loss)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=False)  # Trace.
  times = {name: [] for name in models}
  for _ in range(rounds):
    for name, (model, _) in models.items():
      start = time.perf_counter()
      model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=False)
      times[name].append(time.perf_counter() - start)
  return {name: statistics.median(t) for name, t in times.items()}


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument('--rounds', type=int, default=5)
  p.add_argument('--steps', type=int, default=50, help='steps per round')
  p.add_argument('--epochs', type=int, default=0,
                 help='also time model.fit for this many epochs')
  args = p.parse_args()
  tf_keras = _models.tf_keras_module()
  keras.config.set_floatx('float64')
  tf_keras.backend.set_floatx('float64')
  y, x, _ = load_dataset()
  kl_weight = np.array(BATCH, x.dtype) / x.shape[0]
  models = {'tfnx.keras': (build_model(tfnx_keras, keras, x), keras),
            'tfp.layers': (build_model(tfp.layers, tf_keras, x), tf_keras)}
  batch = (tf.constant(x[:BATCH]), tf.constant(y[:BATCH, np.newaxis]))
  steps = {name: (training_step(model, keras_module, kl_weight), batch)
           for name, (model, keras_module) in models.items()}
  step_ms = _harness.time_interleaved(steps, args.rounds, args.steps)
  fit = (fit_seconds(models, x, y, kl_weight, args.epochs, args.rounds)
         if args.epochs else {})
  steps_per_epoch = -(-len(x) // BATCH)
  print('| layer | training step (ms) | fit (ms per step) |')
  print('|---|---|---|')
  for name in models:
    per_step = (f'{1e3 * fit[name] / (args.epochs * steps_per_epoch):.1f}'
                if fit else '-')
    print(f'| {name} | {step_ms[name]:.2f} | {per_step} |')


if __name__ == '__main__':
  main()
