"""End-to-end training of tfnx.keras models with `model.fit`."""

import keras
import numpy as np
import tensorflow_probability as tfp
from sklearn import datasets
from sklearn import model_selection

import tfnx.keras as tfpl

tfd = tfp.distributions


def _predictive_accuracy(model, x, labels, draws=10):
  """Accuracy of the Monte Carlo posterior predictive (mean of `draws` softmaxes)."""
  probs = np.mean([keras.ops.softmax(model.predict(x, verbose=0)).numpy()
                   for _ in range(draws)], axis=0)
  return float(np.mean(probs.argmax(-1) == labels))


def test_dense_flipout_sequential_fits_digits():
  x, y = datasets.load_digits(return_X_y=True)
  x = (x / 16.).astype(np.float32)
  x_train, x_test, y_train, y_test = model_selection.train_test_split(
      x, y, test_size=0.25, random_state=0, stratify=y)
  n = len(x_train)

  def kl_per_example(q, p, _):
    return tfd.kl_divergence(q, p) / n

  keras.utils.set_random_seed(0)
  model = keras.Sequential([
      keras.Input((64,)),
      tfpl.DenseFlipout(64, activation='relu',
                        kernel_divergence_fn=kl_per_example, seed=1),
      tfpl.DenseFlipout(10, kernel_divergence_fn=kl_per_example, seed=2),
  ])
  model.compile(keras.optimizers.Adam(0.01),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  history = model.fit(x_train, y_train, epochs=40, batch_size=64, verbose=0)
  assert history.history['loss'][-1] < history.history['loss'][0]
  assert _predictive_accuracy(model, x_test, y_test) > 0.93
