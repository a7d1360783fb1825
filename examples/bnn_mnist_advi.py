"""TFP's `bnn_mnist_advi` notebook with `tfn = tfnx`, on small synthetic images.

The workflow of `tfp.experimental.nn`'s example notebook, written against the
0.25 API (`kernel_initializer`, `tfn.losses.compute_extra_loss`): a
`Sequential` mixing lambdas, a Keras pooling layer, variational convolutions
and a local-reparameterization head ending in a `Categorical`; `summary()`;
`make_fit_op` with a gradient summary; an evaluation under
`@tfn.util.tfcompile` averaging a traced `tf.map_fn` over stochastic passes;
and `save`/`load`. Instead of EMNIST it fits images whose class is the
quadrant holding a bright blob, so it runs in seconds without downloads.

Two departures from the notebook, both TFP's and not tfnx's doing: TFP's
`tfb.Pad()` fails on NumPy >= 2.1 (`reshape(newshape=...)`), so a `tf.pad`
lambda appends the reference logit; and `tf_keras` is replaced by Keras 3.

    python examples/bnn_mnist_advi.py [--steps 30]
"""

import argparse
import os
import tempfile

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx as tfn

tfd = tfp.distributions

IMAGE_SHAPE = (12, 12, 1)
NUM_CLASSES = 4
TRAIN_SIZE = 256
BATCH_SIZE = 32


def make_images(n: int, seed: int):
  """Noisy images whose label is the quadrant of their bright 3x3 blob."""
  rng = np.random.RandomState(seed)
  labels = rng.randint(NUM_CLASSES, size=n).astype(np.int32)
  images = 0.2 * rng.rand(n, *IMAGE_SHAPE).astype(np.float32)
  for image, label in zip(images, labels):
    row = 6 * (label // 2) + rng.randint(4)
    col = 6 * (label % 2) + rng.randint(4)
    image[row:row + 3, col:col + 3] = 1.
  return images, labels


def make_datasets():
  """Training and evaluation `tf.data` pipelines, tuned as the notebook's."""
  train = tf.data.Dataset.from_tensor_slices(make_images(TRAIN_SIZE, 0))
  train = tfn.util.tune_dataset(train, batch_size=BATCH_SIZE,
                                shuffle_size=TRAIN_SIZE // 7)
  evaluation = tf.data.Dataset.from_tensor_slices(make_images(128, 1))
  evaluation = tfn.util.tune_dataset(evaluation, repeat_count=None)
  return train, evaluation


def batchnorm(axis):
  """Standardizes activations over `axis` (the notebook's parameter-free BN)."""
  def fn(x):
    m = tf.math.reduce_mean(x, axis=axis, keepdims=True)
    v = tf.math.reduce_variance(x, axis=axis, keepdims=True)
    return (x - m) / tf.math.sqrt(v + 1e-6)
  return fn


def conv(input_size, output_size, name):
  return tfn.ConvolutionVariationalReparameterization(
      input_size=input_size,
      output_size=output_size,
      filter_shape=3,
      padding='SAME',
      kernel_initializer=tf.keras.initializers.HeUniform(),
      name=name)


def make_bnn():
  """The notebook's BNN, scaled to 12x12 images and four classes."""
  max_pool = tf.keras.layers.MaxPooling2D(  # Has no tf.Variables.
      pool_size=(2, 2), strides=(2, 2), padding='SAME',
      data_format='channels_last')
  maybe_batchnorm = batchnorm(axis=[-4, -3, -2])
  return tfn.Sequential([
      lambda x: 2. * tf.cast(x, tf.float32) - 1.,  # Center.
      conv(1, 4, 'conv1'),
      maybe_batchnorm,
      tf.nn.leaky_relu,
      conv(4, 8, 'conv2'),
      maybe_batchnorm,
      tf.nn.leaky_relu,
      max_pool,  # [12, 12, 8] -> [6, 6, 8]
      conv(8, 8, 'conv3'),
      maybe_batchnorm,
      tf.nn.leaky_relu,
      max_pool,  # [6, 6, 8] -> [3, 3, 8]
      tfn.util.flatten_rightmost(ndims=3),
      tfn.AffineVariationalReparameterizationLocal(
          input_size=3 * 3 * 8,
          output_size=NUM_CLASSES - 1,
          name='affine1'),
      lambda x: tf.pad(x, [[0, 0], [0, 1]]),  # What `tfb.Pad()` does.
      lambda x: tfd.Categorical(logits=x, dtype=tf.int32),
  ], name='BNN')


def compute_loss(bnn, x, y, beta=1.):
  d = bnn(x)
  nll = -tf.reduce_mean(d.log_prob(y), axis=-1)
  kl = tfn.losses.compute_extra_loss(bnn) / TRAIN_SIZE
  return nll + beta * kl, (nll, kl), d


def make_eval(bnn, eval_iter):
  """An evaluation averaging `num_inferences` passes, compiled whole."""
  @tfn.util.tfcompile
  def eval_bnn(num_inferences=5):
    x, y = next(eval_iter)
    loss, (nll, kl), _ = compute_loss(bnn, x, y)
    log_probs = tf.map_fn(
        lambda _: tf.math.log_softmax(bnn(x).logits, axis=-1),
        elems=tf.range(num_inferences),
        fn_output_signature=loss.dtype)
    d = tfd.Categorical(logits=tfp.math.reduce_logmeanexp(log_probs, axis=0))
    hit = tf.equal(y, tf.cast(tf.argmax(d.logits, axis=-1), y.dtype))
    ece = tfp.stats.expected_calibration_error_quantiles(
        hit, tf.reduce_max(d.logits, axis=-1), num_buckets=5,
        log_space_buckets=True)[0]
    accuracy = tf.reduce_mean(tf.cast(hit, tf.float32))
    return loss, (nll, kl, accuracy, ece)
  return eval_bnn


def check_save_and_load(bnn, directory):
  """Saves the trained weights and loads them into a freshly built BNN."""
  path = os.path.join(directory, 'bnn.npz')
  bnn.save(path)
  restored = make_bnn()
  restored.load(path)
  for saved, loaded in zip(bnn.variables, restored.variables):
    np.testing.assert_array_equal(saved, loaded)
  print(f'saved and reloaded {len(bnn.variables)} variables ({path})')


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=30)
  args = parser.parse_args()
  train, evaluation = make_datasets()
  x, y = next(iter(evaluation.batch(8)))
  fig, _ = tfn.util.display_imgs(x[tf.newaxis], y.numpy())
  plt.close(fig)

  bnn = make_bnn()
  print(bnn.summary())
  train_iter = iter(train)

  def train_loss():
    x, y = next(train_iter)
    loss, (nll, kl), _ = compute_loss(bnn, x, y)
    return loss, (nll, kl)

  fit_bnn = tfn.util.make_fit_op(
      train_loss, tf.keras.optimizers.Adam(learning_rate=0.01),
      bnn.trainable_variables,
      grad_summary_fn=lambda gs: tf.nest.map_structure(tf.norm, gs))
  eval_bnn = make_eval(bnn, iter(evaluation.batch(64).repeat()))
  for i in range(args.steps):
    trn_loss, (trn_nll, trn_kl), g = fit_bnn()
    if i % 10 == 0 or i == args.steps - 1:
      tst_loss, (_, _, tst_acc, tst_ece) = eval_bnn()
      print(f'it:{i:4}  trn_loss:{float(trn_loss):7.4f}  '
            f'trn_nll:{float(trn_nll):7.4f}  trn_kl:{float(trn_kl):7.4f}  '
            f'tst_loss:{float(tst_loss):7.4f}  tst_acc:{float(tst_acc):.3f}  '
            f'tst_ece:{float(tst_ece):.3f}  sum_norm_grad:{float(sum(g)):.3f}')
  with tempfile.TemporaryDirectory() as directory:
    check_save_and_load(bnn, directory)


if __name__ == '__main__':
  main()
