"""Trains a small Bayesian MLP on scikit-learn's 8x8 digits and reports test accuracy.

Two `AffineVariationalFlipout` layers, trained on the ELBO (negative log
likelihood plus KL / N) in a plain `tf.GradientTape` loop; predictions average
the softmax over several stochastic forward passes.

    python examples/digits.py [--steps 1500] [--seed 0]
"""

import argparse

import numpy as np
import tensorflow as tf
from sklearn import datasets, model_selection

import tfnx as tfn


def load_digits(seed: int):
  """Digits scaled to [0, 1], split 70/30 into train and test."""
  digits = datasets.load_digits()
  x = (digits.data / 16.).astype(np.float32)
  return model_selection.train_test_split(x, digits.target, test_size=0.3,
                                          random_state=seed)


def main(steps: int, seed: int, batch_size: int = 64, passes: int = 20):
  x_train, x_test, y_train, y_test = load_digits(seed)
  model = tfn.Sequential([
      tfn.AffineVariationalFlipout(64, 128, activation_fn=tf.nn.relu,
                                   seed=seed),
      tfn.AffineVariationalFlipout(128, 10, seed=seed + 1),
  ])
  optimizer = tf.keras.optimizers.Adam(3e-3)
  variables = model.trainable_variables
  num_train = len(x_train)

  @tf.function
  def train_step(x, y):
    with tf.GradientTape() as tape:
      logits = model(x)
      nll = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=y, logits=logits))
      loss = nll + model.extra_loss / num_train
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  rng = np.random.RandomState(seed)
  for step in range(1, steps + 1):
    batch = rng.randint(0, num_train, size=batch_size)
    loss = train_step(x_train[batch], y_train[batch])
    if step % 500 == 0 or step == steps:
      print(f'step {step:5d}  loss {float(loss):.4f}', flush=True)

  probs = np.mean([tf.nn.softmax(model(x_test, seed=(seed, i))).numpy()
                   for i in range(passes)], axis=0)
  accuracy = np.mean(probs.argmax(-1) == y_test)
  print(f'test accuracy: {accuracy:.4f}  ({passes} stochastic passes)')
  return accuracy


if __name__ == '__main__':
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=1500)
  parser.add_argument('--seed', type=int, default=0)
  args = parser.parse_args()
  main(args.steps, args.seed)
