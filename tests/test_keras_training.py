"""End-to-end training of tfnx.keras models with `model.fit` on scikit-learn's digits."""

import keras
import numpy as np
import pytest
import tensorflow_probability as tfp
from sklearn import datasets
from sklearn import model_selection

import tfnx.keras as tfpl

pytestmark = pytest.mark.slow  # Training runs.

tfd = tfp.distributions


def _fit_digits(make_layers, image_shape, epochs):
  """Fits `Sequential(make_layers(kl_fn))` to 3/4 of the digits.

  Args:
    make_layers: `kl_fn -> layers`, given the KL divergence scaled by one
      over the number of training examples.
    image_shape: the shape each 8x8 digit is given to the model in.
    epochs: how many epochs to fit.

  Returns:
    `(losses, accuracy)`: the training loss per epoch and the held-out
    accuracy of the Monte Carlo posterior predictive (the mean of 10 sampled
    softmaxes).
  """
  x, y = datasets.load_digits(return_X_y=True)
  x = (x / 16.).astype(np.float32).reshape((-1,) + image_shape)
  x_train, x_test, y_train, y_test = model_selection.train_test_split(
      x, y, test_size=0.25, random_state=0, stratify=y)
  n = len(x_train)

  def kl_per_example(q, p, _):
    return tfd.kl_divergence(q, p) / n

  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input(image_shape)]
                           + make_layers(kl_per_example))
  model.compile(keras.optimizers.Adam(0.01),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  history = model.fit(x_train, y_train, epochs=epochs, batch_size=64,
                      verbose=0)
  probs = np.mean([keras.ops.softmax(model.predict(x_test, verbose=0))
                   for _ in range(10)], axis=0)
  return history.history['loss'], float(np.mean(probs.argmax(-1) == y_test))


def test_dense_flipout_sequential_fits_digits():
  losses, accuracy = _fit_digits(lambda kl: [
      tfpl.DenseFlipout(64, activation='relu', kernel_divergence_fn=kl,
                        seed=1),
      tfpl.DenseFlipout(10, kernel_divergence_fn=kl, seed=2),
  ], (64,), epochs=40)
  assert losses[-1] < losses[0]
  assert accuracy > 0.93


def test_convolution_flipout_and_dense_flipout_model_trains():
  losses, accuracy = _fit_digits(lambda kl: [
      tfpl.Convolution2DFlipout(8, 3, padding='same', activation='relu',
                                kernel_divergence_fn=kl, seed=1),
      keras.layers.MaxPooling2D(2),
      keras.layers.Flatten(),
      tfpl.DenseFlipout(10, kernel_divergence_fn=kl, seed=2),
  ], (8, 8, 1), epochs=10)
  assert losses[-1] < 0.5 * losses[0]
  assert accuracy > 0.9
