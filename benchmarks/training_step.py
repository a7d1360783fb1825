"""Times one training step of Bayesian layers from tfnx, TFP and plain TF.

Two models, each built from every library's layers:

- MLP: 784-512-10 (ReLU), batch 128.
- CNN: 28x28x1 inputs, a 5x5 convolution to 32 channels (ReLU, VALID), 2x2
  max pooling, a dense layer to 10 classes; batch 64. The variational CNNs
  use one estimator for both layers.

Every model trains on the same fixed random batch with Keras 3's Adam; its
whole step (forward pass, cross entropy + KL / N, gradients, update) is one
`tf.function`. Layers keep their libraries' default arguments. The
"hand-written" MLPs write each estimator in the fewest TF ops we could, on
bare variables: the floor a layer library can reach here. Timed rounds
are interleaved (A B C ... A B C ...) so that drift of the machine hits all
models alike; the table gives each model's median milliseconds per step over
the rounds, its ratio to the plain TF model of its kind, and the peak memory
its training adds to a fresh process (measured in a subprocess per model,
Linux only).

    python benchmarks/training_step.py              # the table
    python benchmarks/training_step.py --scaling    # Flipout vs plain dense
    python benchmarks/training_step.py --only tfnx  # names containing "tfnx"

`tfp.layers` needs the legacy `tf_keras` (installed with
`tensorflow-probability[tf]`); only this script imports it, never tfnx.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, List, NamedTuple, Tuple

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np
import keras
import tensorflow as tf
import tensorflow_probability as tfp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tfnx
import tfnx.keras as tfnx_keras
from tfnx import sampling

NUM_EXAMPLES = 60000  # N in the ELBO's KL / N, as for MNIST.
MLP_BATCH, CNN_BATCH = 128, 64
HIDDEN = 512


class Model(NamedTuple):
  """A model to time.

  Attributes:
    logits: `x -> logits`, one stochastic forward pass.
    divergence: `() -> scalar`, the KL terms of the last pass (0 if none).
    variables: the trainable variables.
  """
  logits: Callable[[tf.Tensor], tf.Tensor]
  divergence: Callable[[], tf.Tensor]
  variables: List[tf.Variable]


def _no_divergence() -> tf.Tensor:
  return tf.constant(0.)


def _keras_losses(model) -> Callable[[], tf.Tensor]:
  return lambda: tf.add_n(model.losses)


def _glorot(shape, seed):
  limit = np.sqrt(6. / (np.prod(shape[:-1]) + shape[-1]))
  return tf.Variable(tf.random.stateless_uniform(shape, (seed, 0), -limit,
                                                 limit))


def _pool(x):
  return tf.nn.max_pool2d(x, 2, 2, 'VALID')


def _flatten(x):
  return tf.reshape(x, [tf.shape(x)[0], -1])


# Plain TensorFlow: the floor every ratio is taken against.


def plain_mlp(width: int = HIDDEN) -> Model:
  w1, w2 = _glorot([784, width], 1), _glorot([width, 10], 2)
  b1, b2 = tf.Variable(tf.zeros([width])), tf.Variable(tf.zeros([10]))

  def logits(x):
    return tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
  return Model(logits, _no_divergence, [w1, b1, w2, b2])


def plain_cnn() -> Model:
  k, w = _glorot([5, 5, 1, 32], 1), _glorot([12 * 12 * 32, 10], 2)
  bk, bw = tf.Variable(tf.zeros([32])), tf.Variable(tf.zeros([10]))

  def logits(x):
    h = _pool(tf.nn.relu(tf.nn.conv2d(x, k, 1, 'VALID') + bk))
    return tf.matmul(_flatten(h), w) + bw
  return Model(logits, _no_divergence, [k, bk, w, bw])


# Hand-written variational MLPs: each estimator as the fewest TF ops we could
# write for it on bare variables, with tfnx's samplers and the default
# spike-and-slab prior's closed-form density (or a standard normal prior's
# closed-form KL). No library can do much better on this machine; they bound
# what the targets can ask of one.


def handwritten_mlp(estimator: str, prior: str = 'spike-and-slab') -> Model:
  """A 784-512-10 MLP of one estimator, written directly in TF ops."""
  spike_and_slab = tfnx.distributions.SpikeAndSlabNormal()
  counter = tf.Variable([0, 0])  # Seeds from a variable: never constant-folded.
  raw_scale = float(np.log(np.expm1(1e-3)))
  layers = []
  for seed, (n_in, n_out) in enumerate(((784, HIDDEN), (HIDDEN, 10))):
    layers.append([_glorot([n_in, n_out], seed + 1),
                   tf.Variable(tf.fill([n_in, n_out], raw_scale)),
                   tf.Variable(tf.zeros([n_out])),
                   tf.Variable(tf.fill([n_out], raw_scale))])
  divergence = [tf.constant(0.)]

  def sampled_kl(w, scale):  # Entropy-form Monte Carlo KL at a sample w.
    return -tf.reduce_sum(tf.math.log(scale)) - tf.reduce_sum(
        spike_and_slab.log_prob(w))

  def kl(loc, scale, draw_seed):
    if prior == 'normal':
      return tf.reduce_sum(0.5 * (tf.square(loc) + tf.square(scale))
                           - tf.math.log(scale))
    return sampled_kl(
        loc + scale * sampling.standard_normal(tf.shape(loc), draw_seed), scale)

  def dense(x, variables, seed):
    loc, raw, bias_loc, bias_raw = variables
    scale = tf.nn.softplus(raw) + 1e-5
    bias_scale = tf.nn.softplus(bias_raw) + 1e-5
    seeds = [seed + [0, i] for i in range(5)]
    if estimator == 'Reparameterization':
      w = loc + scale * sampling.standard_normal(tf.shape(loc), seeds[0])
      b = bias_loc + bias_scale * sampling.standard_normal(
          tf.shape(bias_loc), seeds[1])
      y = tf.matmul(x, w) + b
      kernel_kl = sampled_kl(w, scale)
    elif estimator == 'Flipout':
      delta = scale * sampling.standard_normal(tf.shape(loc), seeds[0])
      signs_in = sampling.rademacher(tf.shape(x), seeds[2], x.dtype)
      perturbation = tf.matmul(x * signs_in, delta)
      signs_out = sampling.rademacher(tf.shape(perturbation), seeds[3],
                                      x.dtype)
      y = tf.matmul(x, loc) + bias_loc + perturbation * signs_out
      kernel_kl = sampled_kl(loc + delta, scale)
    else:  # Local reparameterization.
      mean = tf.matmul(x, loc) + bias_loc
      variance = (tf.matmul(tf.square(x), tf.square(scale))
                  + tf.square(bias_scale))
      y = mean + tf.sqrt(variance) * sampling.standard_normal(
          tf.shape(mean), seeds[2])
      kernel_kl = kl(loc, scale, seeds[0])
    return y, kernel_kl + kl(bias_loc, bias_scale, seeds[4])

  def logits(x):
    seed = counter.assign_add([1, 0])
    h, kl_1 = dense(x, layers[0], seed)
    out, kl_2 = dense(tf.nn.relu(h), layers[1], seed + [0, 100])
    divergence[0] = kl_1 + kl_2
    return out
  return Model(logits, lambda: divergence[0],
               [v for layer in layers for v in layer])


# tf.Module layers: tfnx and tfp.experimental.nn share their API.


def _module_divergence(library, model) -> Callable[[], tf.Tensor]:
  """The KL terms of a `Sequential`'s last call.

  tfnx layers keep them in `extra_loss`; TFP 0.25's experimental layers keep
  only the weights they drew (`posterior_value`), so their users estimate
  the KL by Monte Carlo on those, as this does.
  """
  if library is tfnx:
    return lambda: model.extra_loss

  def monte_carlo_kl():
    return tf.add_n([
        layer.posterior.log_prob(layer.posterior_value)
        - layer.prior.log_prob(layer.posterior_value)
        for layer in model.layers if hasattr(layer, 'posterior')])
  return monte_carlo_kl


def module_mlp(library, estimator: str, width: int = HIDDEN) -> Model:
  cls = getattr(library, 'AffineVariational' + estimator)
  model = library.Sequential([
      cls(784, width, activation_fn=tf.nn.relu),
      cls(width, 10),
  ])
  return Model(model, _module_divergence(library, model),
               model.trainable_variables)


def module_cnn(library, estimator: str) -> Model:
  conv = getattr(library, 'ConvolutionVariational' + estimator)
  dense = getattr(library, 'AffineVariational' + estimator)
  model = library.Sequential([
      conv(1, 32, 5, padding='VALID', activation_fn=tf.nn.relu),
      _pool,
      _flatten,
      dense(12 * 12 * 32, 10),
  ])
  return Model(model, _module_divergence(library, model),
               model.trainable_variables)


# Keras layers with tfp.layers' interface: tfnx.keras on Keras 3 and
# tfp.layers on tf_keras.


def keras_mlp(layers, keras_module, estimator: str) -> Model:
  cls = getattr(layers, 'Dense' + estimator)
  model = keras_module.Sequential([
      keras_module.Input((784,)),
      cls(HIDDEN, activation='relu'),
      cls(10),
  ])
  return Model(model, _keras_losses(model), model.trainable_variables)


def keras_cnn(layers, keras_module, estimator: str) -> Model:
  conv = getattr(layers, 'Convolution2D' + estimator)
  dense = getattr(layers, 'Dense' + estimator)
  model = keras_module.Sequential([
      keras_module.Input((28, 28, 1)),
      conv(32, 5, activation='relu'),
      keras_module.layers.MaxPooling2D(2),
      keras_module.layers.Flatten(),
      dense(10),
  ])
  return Model(model, _keras_losses(model), model.trainable_variables)


def _tf_keras():
  import tf_keras  # Only for tfp.layers, which needs it.
  return tf_keras


def _tfp_nn():
  return tfp.experimental.nn


ESTIMATORS = ('Flipout', 'ReparameterizationLocal', 'Reparameterization')
_KERAS_NAMES = {'Flipout': 'Flipout',
                'ReparameterizationLocal': 'LocalReparameterization',
                'Reparameterization': 'Reparameterization'}


def registry() -> Dict[str, Tuple[str, Callable[[], Model]]]:
  """`name -> (kind, build)` for every model; kind is 'mlp' or 'cnn'."""
  models = {'plain dense': ('mlp', plain_mlp),
            'plain conv': ('cnn', plain_cnn)}
  for estimator in ESTIMATORS:
    models[f'hand-written {estimator}'] = (
        'mlp', lambda e=estimator: handwritten_mlp(e))
  models['hand-written ReparameterizationLocal, normal prior'] = (
      'mlp', lambda: handwritten_mlp('ReparameterizationLocal', 'normal'))
  families = (('mlp', '', module_mlp, keras_mlp, ESTIMATORS),
              ('cnn', 'conv ', module_cnn, keras_cnn,
               ('Flipout', 'Reparameterization')))
  for kind, infix, module_model, keras_model, estimators in families:
    for estimator in estimators:
      keras_name = _KERAS_NAMES[estimator]
      libraries = (
          (f'tfnx {infix}{estimator}',
           lambda f=module_model, e=estimator: f(tfnx, e)),
          (f'tfnx.keras {infix}{keras_name}',
           lambda f=keras_model, e=keras_name: f(tfnx_keras, keras, e)),
          (f'tfp.experimental.nn {infix}{estimator}',
           lambda f=module_model, e=estimator: f(_tfp_nn(), e)),
          (f'tfp.layers {infix}{keras_name}',
           lambda f=keras_model, e=keras_name: f(tfp.layers, _tf_keras(), e)),
      )
      for name, build in libraries:
        models[name] = (kind, build)
  return models


def batch_for(kind: str, batch_size: int = 0) -> Tuple[tf.Tensor, tf.Tensor]:
  """A fixed random batch of inputs and labels for a model kind."""
  if kind == 'mlp':
    shape = [batch_size or MLP_BATCH, 784]
  else:
    shape = [batch_size or CNN_BATCH, 28, 28, 1]
  x = tf.random.stateless_uniform(shape, (0, 1))
  y = tf.random.stateless_uniform(shape[:1], (0, 2), 0, 10, tf.int32)
  return x, y


def training_step(model: Model) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
  """The model's whole training step, as one `tf.function`."""
  optimizer = keras.optimizers.Adam(1e-3)
  optimizer.build(model.variables)

  @tf.function
  def step(x, y):
    with tf.GradientTape() as tape:
      nll = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=y, logits=model.logits(x)))
      loss = nll + model.divergence() / NUM_EXAMPLES
    gradients = tape.gradient(loss, model.variables)
    optimizer.apply_gradients(zip(gradients, model.variables))
    return loss
  return step


def time_interleaved(steps: Dict[str, Tuple[Callable, Tuple]], rounds: int,
                     steps_per_round: int) -> Dict[str, float]:
  """Median ms per step of each step function, over interleaved rounds."""
  for step, batch in steps.values():  # Trace and warm up.
    for _ in range(5):
      step(*batch)
  times = {name: [] for name in steps}
  for _ in range(rounds):
    for name, (step, batch) in steps.items():
      start = time.perf_counter()
      for _ in range(steps_per_round):
        loss = step(*batch)
      loss.numpy()  # Waits for the last step.
      times[name].append(
          1e3 * (time.perf_counter() - start) / steps_per_round)
  return {name: statistics.median(t) for name, t in times.items()}


def peak_memory_mb(name: str) -> float:
  """The peak resident memory training `name` adds to a fresh process."""
  result = subprocess.run(
      [sys.executable, os.path.abspath(__file__), '--memory-of', name],
      capture_output=True, text=True, check=True)
  return json.loads(result.stdout.strip().splitlines()[-1])['mb']


def _resident_mb() -> float:
  with open('/proc/self/statm') as statm:
    return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def _measure_memory(name: str) -> None:
  """Prints the peak of resident memory above the level before the model.

  A thread samples the resident set every millisecond while the model is
  built, traced and trained for 20 steps (Linux's `/proc/self/statm`).
  """
  kind, build = registry()[name]
  x, y = batch_for(kind)
  baseline = _resident_mb()
  peak = [baseline]
  done = threading.Event()

  def sample():
    while not done.is_set():
      peak[0] = max(peak[0], _resident_mb())
      time.sleep(1e-3)

  sampler = threading.Thread(target=sample)
  sampler.start()
  step = training_step(build())
  for _ in range(20):
    step(x, y).numpy()
  done.set()
  sampler.join()
  print(json.dumps({'mb': max(peak[0], _resident_mb()) - baseline}))


def _table(times: Dict[str, float], kinds: Dict[str, str],
           memory: Dict[str, float]) -> str:
  floor = {'mlp': times.get('plain dense'), 'cnn': times.get('plain conv')}
  lines = ['| model | ms/step | x plain | peak MB |', '|---|---|---|---|']
  for name, ms in times.items():
    base = floor[kinds[name]]
    ratio = f'{ms / base:.2f}' if base else '-'
    mb = f'{memory[name]:.0f}' if name in memory else '-'
    lines.append(f'| {name} | {ms:.2f} | {ratio} | {mb} |')
  return '\n'.join(lines)


def _scaling(rounds: int, steps_per_round: int) -> None:
  """Flipout vs plain dense MLP step times over widths and batch sizes."""
  print('| hidden | batch | plain ms | tfnx Flipout ms | ratio |')
  print('|---|---|---|---|---|')
  settings = ([(w, MLP_BATCH) for w in (256, 512, 1024, 2048, 4096)]
              + [(HIDDEN, b) for b in (32, 256, 1024)])
  for width, batch_size in settings:
    batch = batch_for('mlp', batch_size)
    times = time_interleaved(
        {'plain': (training_step(plain_mlp(width)), batch),
         'flipout': (training_step(module_mlp(tfnx, 'Flipout', width)),
                     batch)}, rounds, steps_per_round)
    print(f'| {width} | {batch_size} | {times["plain"]:.2f} | '
          f'{times["flipout"]:.2f} | {times["flipout"] / times["plain"]:.2f} |',
          flush=True)


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
  parser.add_argument('--memory-of', help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.memory_of:
    _measure_memory(args.memory_of)
    return
  print(f'TensorFlow {tf.__version__}, TFP {tfp.__version__}, '
        f'Keras {keras.__version__}, {os.cpu_count()} CPUs', flush=True)
  if args.scaling:
    _scaling(args.rounds, args.steps_per_round)
    return
  models = {name: spec for name, spec in registry().items()
            if args.only in name or name.startswith('plain')}
  steps = {}
  for name, (kind, build) in models.items():
    steps[name] = (training_step(build()), batch_for(kind))
  times = time_interleaved(steps, args.rounds, args.steps_per_round)
  memory = {} if args.no_memory else {name: peak_memory_mb(name)
                                      for name in models}
  print(_table(times, {n: k for n, (k, _) in models.items()}, memory))


if __name__ == '__main__':
  main()
