"""Fits a model with DenseVariational and a distribution output under `MirroredStrategy` on two logical CPUs.

Run as `python -m conformance.distributed_keras_fit` from `tests/`; prints one
JSON line: the replicas, the first and last epochs' losses, and whether the
replicas' unseeded distribution draws differ. It runs in its own process
because logical devices must be configured before TensorFlow starts.
"""

import json

import numpy as np
import tensorflow as tf


def _model(cases, tfpl, keras):
  """A regression net as users write it: small initial posterior scales."""
  def posterior(kernel_size, bias_size, dtype=None):
    n = kernel_size + bias_size
    return keras.Sequential([
        tfpl.VariableLayer(2 * n, dtype=dtype, initializer=(
            tfpl.BlockwiseInitializer(
                [keras.initializers.RandomNormal(stddev=0.1, seed=1),
                 keras.initializers.Constant(-5.)], [n, n]))),
        tfpl.IndependentNormal(n, dtype=dtype)])
  return keras.Sequential([
      keras.Input((4,)),
      tfpl.DenseVariational(2, posterior, cases.standard_normal_prior,
                            kl_weight=1. / 256, seed=1),
      tfpl.IndependentNormal(1, seed=2)])


def _replicas_draw_different_values(tfpl, strategy) -> bool:
  with strategy.scope():
    layer = tfpl.IndependentNormal(1, seed=5)
  x = tf.zeros((3, 2))
  outputs = strategy.experimental_local_results(tf.function(
      lambda: strategy.run(lambda: tf.convert_to_tensor(layer(x))))())
  return not np.array_equal(outputs[0], outputs[1])


def main() -> None:
  cpu = tf.config.list_physical_devices('CPU')[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
  # pylint: disable=g-import-not-at-top
  import keras
  from conformance import cases
  import tfnx.keras as tfpl
  # `fit` shuffles with Keras' global seed.
  keras.utils.set_random_seed(0)
  strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
  rng = np.random.RandomState(0)
  x = rng.randn(256, 4).astype(np.float32)
  y = (x[:, :1] - 2. * x[:, 1:2]).astype(np.float32)
  with strategy.scope():
    model = _model(cases, tfpl, keras)
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=lambda y, rv_y: -rv_y.log_prob(y))
    # Under a strategy Keras builds the loss on placeholders, which carry
    # no distribution; one eager loss builds it on the real output instead.
    model.compute_loss(x=x[:2], y=y[:2], y_pred=model(x[:2]))
  history = model.fit(x, y, batch_size=64, epochs=15, verbose=0)
  print(json.dumps({
      'replicas': strategy.num_replicas_in_sync,
      'first': history.history['loss'][0],
      'last': history.history['loss'][-1],
      'replicas_differ': _replicas_draw_different_values(tfpl, strategy)}))


if __name__ == '__main__':
  main()
