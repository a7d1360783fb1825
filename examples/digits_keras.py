"""Classifies scikit-learn's 8x8 digits with `tfnx.keras.DenseFlipout` layers trained by `model.fit`.

The protocol of `digits.py` (`_protocol.py`: 70/30 split, a 64-128-10 ReLU
MLP, Adam 3e-3, batches of 64, about 3000 steps on the ELBO) written with
Keras: the kernel KL divided by the number of training examples enters the
loss through `kernel_divergence_fn`, and `model.fit` shows its progress bar.
Prints accuracy, NLL, ECE and the noise AUROC of the predictive (the softmax
averaged over 50 passes), saves a reliability diagram and the model into the
folder it prints, and checks that the saved model loads with the same
predictions.

    python examples/digits_keras.py [--steps 3000] [--figures DIR]
"""

import os
from typing import Callable

import keras
import numpy as np

import digits
import _protocol as protocol
import tfnx as tfn
import tfnx.keras as tfpl

BATCH_SIZE = 64
NUM_PASSES = 50


# Loaded once: the divergence below needs the number of training examples.
X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = protocol.load_dataset('digits')


@keras.saving.register_keras_serializable(package='digits_keras')
def kl_per_example(posterior, prior, _):
  """The layers' kernel divergence: the exact KL over the training set's size.

  A named, registered function, so `model.save` records its name and
  `keras.models.load_model` finds it again.
  """
  return tfpl.kl_divergence(posterior, prior) / len(X_TRAIN)


def build_model(seed: int) -> keras.Sequential:
  """The protocol's 64-128-10 ReLU MLP of `DenseFlipout` layers, compiled."""
  kl = kl_per_example
  model = keras.Sequential([
      keras.Input((64,)),
      tfpl.DenseFlipout(128, activation='relu', kernel_divergence_fn=kl,
                        seed=seed),
      tfpl.DenseFlipout(10, kernel_divergence_fn=kl, seed=seed + 1),
  ])
  model.compile(keras.optimizers.Adam(3e-3),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  return model


def seeded(model: keras.Sequential) -> Callable:
  """`model` as a pure function `(x, seed) -> logits`.

  A Keras model drops a `seed` argument, but each variational layer takes
  one: this calls the layers in turn, each with its own seed split from
  `seed`, so `tfn.predictive` can run all passes in one graph.
  """
  def call(x, seed):
    layer_seeds = tfn.seeds.split_seed(tfn.seeds.sanitize_seed(seed),
                                       len(model.layers))
    for layer, layer_seed in zip(model.layers, layer_seeds):
      x = layer(x, seed=layer_seed)
    return x
  return call


def main():
  args = protocol.parser(__doc__).parse_args()
  figures = protocol.figures_dir(args.figures)
  noise = np.random.RandomState(args.seed).uniform(
      size=X_TEST.shape).astype(np.float32)
  keras.utils.set_random_seed(args.seed)
  model = build_model(args.seed)
  steps_per_epoch = -(-len(X_TRAIN) // BATCH_SIZE)
  model.fit(X_TRAIN, Y_TRAIN, batch_size=BATCH_SIZE,
            epochs=max(1, round(args.steps / steps_per_epoch)))

  predict = seeded(model)
  result = protocol.scores(
      tfn.predictive.class_probabilities(predict, X_TEST, NUM_PASSES,
                                         args.seed), Y_TEST,
      tfn.predictive.class_probabilities(predict, noise, NUM_PASSES,
                                         args.seed))
  print(f"\naccuracy {result['accuracy']:.3f}  NLL {result['nll']:.3f}  "
        f"ECE {result['ece']:.3f}  noise AUROC {result['auroc']:.3f}")
  digits.reliability_figure({'Keras DenseFlipout': result}, Y_TEST,
                            os.path.join(figures, 'reliability_keras.png'))

  path = os.path.join(figures, 'digits_keras.keras')
  model.save(path)
  loaded = keras.models.load_model(path)
  same = np.array_equal(predict(X_TEST, args.seed),
                        seeded(loaded)(X_TEST, args.seed))
  print(f'saved reliability_keras.png and digits_keras.keras in {figures}; '
        f'the loaded model gives the same seeded outputs: {same}')
  if not same:
    raise SystemExit('the loaded model differs from the saved one')


if __name__ == '__main__':
  main()
