"""Trains layers under `MirroredStrategy` on two logical CPUs and on one device.

Run as `python -m conformance.distributed_training CASE...` from `tests/`;
prints one JSON line per case with both runs' first and last losses, and
whether replicas' unseeded calls draw different noise (or the case's error).
It runs in its own process because logical devices must be configured before
TensorFlow starts its runtime; one process serves every case, as TensorFlow's
start is most of a small case's time.
"""

import json
import sys
import traceback

import numpy as np
import tensorflow as tf

STEPS = 300
BATCH = 64


def _train(cases, case, strategy):
  with strategy.scope():
    layer = case.build()
    optimizer = tf.keras.optimizers.Adam(0.02)
    # Keras 3 optimizers must create their slots in the strategy's scope
    # before the first distributed step.
    optimizer.build(layer.trainable_variables)
  rng = np.random.RandomState(0)
  x = case.valid_inputs(
      rng.randn(BATCH * 8, *case.input_shape).astype(np.float32)).numpy()
  # A teacher of the same kind makes targets the student can represent;
  # tripled (a linear layer's kernel can triple too), they stand well above
  # the floor the posterior's noise sets, which small initial kernels (as
  # tfp.layers' are) would otherwise sit close to.
  y = 3. * (case.teacher or case.build)(seed=99)(x, seed=(0, 0)).numpy()
  dataset = tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(BATCH)
  iterator = iter(strategy.experimental_distribute_dataset(dataset))

  def replica_step(xb, yb):
    with tf.GradientTape() as tape:
      mse = tf.reduce_mean(tf.square(layer(xb) - yb))
      loss = ((mse + cases.divergence(layer) / len(x))
              / strategy.num_replicas_in_sync)
    variables = layer.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return mse

  @tf.function
  def step(batch):
    per_replica = strategy.run(replica_step, args=batch)
    return strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

  losses = [float(step(next(iterator))) for _ in range(STEPS)]
  return float(np.mean(losses[:5])), float(np.mean(losses[-30:]))


def _replicas_draw_different_noise(case, strategy) -> bool:
  """Whether unseeded calls on the same inputs differ between replicas."""
  with strategy.scope():
    layer = case.build()
  x = tf.ones((4,) + case.input_shape)
  outputs = strategy.experimental_local_results(
      tf.function(lambda: strategy.run(lambda: layer(x)))())
  return not np.array_equal(outputs[0], outputs[1])


def _report(cases, case, mirrored) -> dict:
  """One case's runs: mirrored, then on the default (single) device."""
  mirrored_start, mirrored_end = _train(cases, case, mirrored)
  single_start, single_end = _train(cases, case, tf.distribute.get_strategy())
  return {'replicas': mirrored.num_replicas_in_sync,
          'replicas_differ': _replicas_draw_different_noise(case, mirrored),
          'mirrored_start': mirrored_start, 'mirrored': mirrored_end,
          'single_start': single_start, 'single': single_end}


def main(case_names) -> None:
  cpu = tf.config.list_physical_devices('CPU')[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
  from conformance import cases  # pylint: disable=g-import-not-at-top
  by_name = {c.name: c for c in cases.VARIATIONAL}
  mirrored = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
  for name in case_names:
    try:
      report = _report(cases, by_name[name], mirrored)
    except Exception:  # pylint: disable=broad-except
      # One case's failure is its own test's, not every other case's.
      report = {'error': traceback.format_exc()}
    print(json.dumps(dict(report, case=name)), flush=True)


if __name__ == '__main__':
  main(sys.argv[1:])
