"""Trains and times the models of `_models.py`: steps, timing, memory."""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, Tuple

import keras
import tensorflow as tf

import _models

# The command line, which runs measure_memory in a fresh process.
_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'training_step.py')


def training_step(
    model: _models.Model) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
  """The model's whole training step, as one `tf.function`."""
  optimizer = keras.optimizers.Adam(1e-3)
  optimizer.build(model.variables)

  @tf.function
  def step(x, y):
    with tf.GradientTape() as tape:
      nll = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=y, logits=model.logits(x)))
      loss = nll + model.divergence() / _models.NUM_EXAMPLES
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
      [sys.executable, _SCRIPT, '--memory-of', name],
      capture_output=True, text=True, check=True)
  return json.loads(result.stdout.strip().splitlines()[-1])['mb']


def _resident_mb() -> float:
  with open('/proc/self/statm', encoding='ascii') as statm:
    return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def measure_memory(name: str) -> None:
  """Prints the peak of resident memory above the level before the model.

  A thread samples the resident set every millisecond while the model is
  built, traced and trained for 20 steps (Linux's `/proc/self/statm`).
  """
  kind, build = _models.registry()[name]
  x, y = _models.batch_for(kind)
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


def table(times: Dict[str, float], kinds: Dict[str, str],
           memory: Dict[str, float]) -> str:
  floor = {'mlp': times.get('plain dense'), 'cnn': times.get('plain conv')}
  lines = ['| model | ms/step | x plain | peak MB |', '|---|---|---|---|']
  for name, ms in times.items():
    base = floor[kinds[name]]
    ratio = f'{ms / base:.2f}' if base else '-'
    mb = f'{memory[name]:.0f}' if name in memory else '-'
    lines.append(f'| {name} | {ms:.2f} | {ratio} | {mb} |')
  return '\n'.join(lines)


def scaling(rounds: int, steps_per_round: int) -> None:
  """Flipout vs plain dense MLP step times over widths and batch sizes."""
  print('| hidden | batch | plain ms | tfnx Flipout ms | ratio |')
  print('|---|---|---|---|---|')
  settings = ([(w, _models.MLP_BATCH) for w in (256, 512, 1024, 2048, 4096)]
              + [(_models.HIDDEN, b) for b in (32, 256, 1024)])
  for width, batch_size in settings:
    batch = _models.batch_for('mlp', batch_size)
    plain = training_step(_models.plain_mlp(width))
    flipout = training_step(_models.module_mlp(_models.tfnx, 'Flipout', width))
    times = time_interleaved({'plain': (plain, batch),
                              'flipout': (flipout, batch)},
                             rounds, steps_per_round)
    print(f'| {width} | {batch_size} | {times["plain"]:.2f} | '
          f'{times["flipout"]:.2f} | {times["flipout"] / times["plain"]:.2f} |',
          flush=True)


def ensembles(rounds: int, steps_per_round: int) -> None:
  """Rank-1 and BatchEnsemble MLP steps against a deep ensemble and plain dense.

  Every model trains on one batch of `ENSEMBLE_SIZE * MLP_BATCH` rows: the
  plain network on all of them, each ensemble member on its own block.
  """
  batch = _models.batch_for('mlp', _models.ENSEMBLE_SIZE * _models.MLP_BATCH)
  steps = {name: (training_step(build()), batch)
           for name, build in _models.ensembles().items()}
  times = time_interleaved(steps, rounds, steps_per_round)
  ensemble = times[f'deep ensemble of {_models.ENSEMBLE_SIZE}']
  print('| model | ms/step | x plain dense | x deep ensemble |')
  print('|---|---|---|---|')
  for name, ms in times.items():
    print(f'| {name} | {ms:.2f} | {ms / times["plain dense"]:.2f} | '
          f'{ms / ensemble:.2f} |')
