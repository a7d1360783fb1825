"""Trains a model in a custom loop under `MultiWorkerMirroredStrategy`, or alone.

Run from `tests/` as one process per worker:

    python -m conformance.multi_worker MODEL WORKER_INDEX PORT0 PORT1 DIR
    python -m conformance.multi_worker MODEL single

`MODEL` is `tfn` (a `tfnx.Sequential`) or `keras` (a `keras.Sequential` of
`tfnx.keras` layers). A worker joins a two-worker cluster on 127.0.0.1;
`single` trains the same model on the same batches with no strategy. Each
prints one JSON line: its first and last losses, a digest of its trained
variables, the outputs of an unseeded call of its replica, and whether a
checkpoint it saved restores into a fresh model.
"""

import json
import os
import sys

import numpy as np

STEPS = 150
GLOBAL_BATCH = 64
EXAMPLES = 512


def _cluster(index: int, ports) -> None:
  os.environ['TF_CONFIG'] = json.dumps({
      'cluster': {'worker': [f'127.0.0.1:{port}' for port in ports]},
      'task': {'type': 'worker', 'index': index}})


def _build(kind: str, seed: int):
  """A 4-16-1 Flipout regression model and its KL."""
  # pylint: disable=g-import-not-at-top
  import tensorflow as tf
  if kind == 'tfn':
    import tfnx as tfn
    model = tfn.Sequential([
        tfn.AffineVariationalFlipout(4, 16, activation_fn=tf.nn.relu,
                                     seed=seed),
        tfn.AffineVariationalFlipout(16, 1, seed=seed + 1)])
    return model, lambda: model.extra_loss
  import keras
  import tfnx.keras as tfpl
  model = keras.Sequential([
      keras.Input((4,)), tfpl.DenseFlipout(16, activation='relu', seed=seed),
      tfpl.DenseFlipout(1, seed=seed + 1)])
  return model, lambda: tf.add_n(model.losses)


def _data():
  rng = np.random.RandomState(0)
  x = rng.randn(EXAMPLES, 4).astype(np.float32)
  y = (3. * x @ rng.randn(4, 1)).astype(np.float32)
  return x, y


def _train(tf, strategy, model, divergence):
  """Trains `STEPS` steps of Adam; returns the mean first and last losses."""
  with strategy.scope():
    optimizer = tf.keras.optimizers.Adam(0.02)
    optimizer.build(model.trainable_variables)
  x, y = _data()
  dataset = tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(
      GLOBAL_BATCH)
  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = (
      tf.data.experimental.AutoShardPolicy.DATA)
  iterator = iter(strategy.experimental_distribute_dataset(
      dataset.with_options(options)))

  def replica_step(xb, yb):
    with tf.GradientTape() as tape:
      mse = tf.reduce_mean(tf.square(model(xb) - yb))
      loss = (mse + divergence() / EXAMPLES) / strategy.num_replicas_in_sync
    variables = model.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return mse

  @tf.function
  def step(batch):
    per_replica = strategy.run(replica_step, args=batch)
    return strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

  losses = [float(step(next(iterator))) for _ in range(STEPS)]
  return float(np.mean(losses[:5])), float(np.mean(losses[-20:]))


def _restores(tf, strategy, kind, model, directory, index) -> bool:
  """Whether a checkpoint this worker saves restores into a fresh model."""
  # Every worker saves (the save is collective); each to its own folder.
  path = tf.train.Checkpoint(model=model).save(
      os.path.join(directory, f'worker{index}', 'ckpt'))
  with strategy.scope():
    fresh, _ = _build(kind, seed=123)
  status = tf.train.Checkpoint(model=fresh).restore(path)
  status.assert_existing_objects_matched()
  return all(np.array_equal(a.numpy(), b.numpy())
             for a, b in zip(model.variables, fresh.variables))


def _unseeded_outputs(tf, strategy, model) -> list:
  x = tf.ones((2, 4))
  outputs = strategy.run(tf.function(lambda: model(x)))
  return strategy.experimental_local_results(outputs)[0].numpy().tolist()


def main(kind: str, mode: str, *cluster) -> None:
  if mode != 'single':
    _cluster(int(mode), cluster[:2])
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if mode == 'single':
    strategy = tf.distribute.get_strategy()
  else:
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
  with strategy.scope():
    model, divergence = _build(kind, seed=7)
  start, end = _train(tf, strategy, model, divergence)
  report = {'replicas': strategy.num_replicas_in_sync, 'start': start,
            'end': end,
            'digest': [float(np.sum(v.numpy())) for v in model.variables]}
  if mode != 'single':
    report['unseeded'] = _unseeded_outputs(tf, strategy, model)
    report['restores'] = _restores(tf, strategy, kind, model, cluster[2],
                                   int(mode))
  print(json.dumps(report), flush=True)


if __name__ == '__main__':
  main(*sys.argv[1:])
