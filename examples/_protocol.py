"""What the examples share: data sets, the MLP, a training loop with a progress bar, evaluation.

The classification protocol behind tfnx's calibration numbers: a 70/30 split,
an `inputs-128-classes` ReLU MLP, Adam 3e-3, batches of 64, 3000 steps on the
ELBO (NLL + KL / N), and predictions that average the softmax over 50
stochastic passes.
"""

import argparse
import os
from typing import Callable, Dict, Optional

import numpy as np
import tensorflow as tf
import tqdm
from sklearn import datasets, metrics as sk_metrics, model_selection

import tfnx as tfn

LAYERS = {
    'deterministic': None,
    'reparameterization': tfn.AffineVariationalReparameterization,
    'flipout': tfn.AffineVariationalFlipout,
    'local': tfn.AffineVariationalReparameterizationLocal,
}
DATASETS = ('digits', 'breast_cancer', 'synthetic', 'wine', 'iris')


def load_dataset(name: str, split_seed: int = 0):
  """One of `DATASETS` as float32 `(x_train, x_test, y_train, y_test)`.

  Digits are scaled to [0, 1]; the other sets are standardized with the
  training split's mean and standard deviation. `synthetic` is a noisy
  five-class problem (5% flipped labels), so a calibrated model must stay
  unsure on part of it. `wine` (178 examples, 3 classes) and `iris` (150, 3
  classes) are the sets the calibration defaults were checked on after being
  chosen on the others.
  """
  if name == 'digits':
    data = datasets.load_digits()
    x, y = data.data / 16., data.target
  elif name == 'breast_cancer':
    data = datasets.load_breast_cancer()
    x, y = data.data, data.target
  elif name in ('wine', 'iris'):
    data = getattr(datasets, f'load_{name}')()
    x, y = data.data, data.target
  elif name == 'synthetic':
    x, y = datasets.make_classification(
        n_samples=3000, n_features=20, n_informative=10, n_classes=5,
        n_clusters_per_class=2, flip_y=0.05, random_state=split_seed)
  else:
    raise ValueError(f'unknown data set {name!r}; expected one of {DATASETS}.')
  x_train, x_test, y_train, y_test = model_selection.train_test_split(
      x.astype(np.float32), y.astype(np.int32), test_size=0.3,
      random_state=split_seed)
  if name != 'digits':
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
  return x_train, x_test, y_train, y_test


def build_mlp(kind: str, input_size: int, output_size: int, seed: int,
              hidden: int = 128, **layer_kwargs) -> tfn.Sequential:
  """The `input-hidden-output` ReLU MLP with layers of one kind of `LAYERS`."""
  cls = LAYERS[kind]
  if cls is None:
    return tfn.Sequential([
        tfn.Affine(input_size, hidden, activation_fn=tf.nn.relu,
                   kernel_initializer=tfn.initializers.glorot_uniform(seed)),
        tfn.Affine(hidden, output_size,
                   kernel_initializer=tfn.initializers.glorot_uniform(
                       seed + 1))])
  return tfn.Sequential([
      cls(input_size, hidden, activation_fn=tf.nn.relu, seed=seed,
          **layer_kwargs),
      cls(hidden, output_size, seed=seed + 1, **layer_kwargs)])


def classification_nll(model: Callable, x: tf.Tensor, y: tf.Tensor):
  """The mean cross entropy of one stochastic pass."""
  return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=y, logits=model(x)))


def train(model: tfn.Sequential, nll_fn: Callable, x: np.ndarray,
          y: np.ndarray, steps: int = 3000, batch_size: int = 64,
          learning_rate: float = 3e-3, kl_weight: float = 1., seed: int = 0,
          desc: str = 'train') -> float:
  """Minimizes `nll_fn(model, x, y) + kl_weight * KL / N` with Adam.

  `kl_weight=1` is the ELBO; smaller values temper the KL (see docs/predictive.md). A
  progress bar shows a running mean of the loss. Returns the final one.
  """
  tf.keras.utils.set_random_seed(seed)
  optimizer = tf.keras.optimizers.Adam(learning_rate)
  variables = model.trainable_variables
  num_train = len(x)

  @tf.function
  def step(xb, yb):
    with tf.GradientTape() as tape:
      nll = nll_fn(model, xb, yb)
      loss = tfn.losses.negative_elbo(nll, model.extra_loss, num_train,
                                      kl_weight)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  rng = np.random.RandomState(seed)
  running = None
  with tqdm.trange(steps, desc=desc, ncols=80, mininterval=0.5) as bar:
    for i in bar:
      batch = rng.randint(0, num_train, size=batch_size)
      loss = float(step(x[batch], y[batch]))
      running = loss if running is None else 0.98 * running + 0.02 * loss
      if i % 50 == 0 or i == steps - 1:
        bar.set_postfix(loss=f'{running:.4f}')
  return running


def evaluate(model: tfn.Sequential, x: np.ndarray, y: np.ndarray,
             noise: Optional[np.ndarray] = None, num_samples: int = 50,
             seed: int = 0) -> Dict[str, float]:
  """Accuracy, NLL, ECE (15 bins) and, given noise inputs, the noise AUROC.

  Predictions average the softmax over `num_samples` passes of `model`; see
  `scores` for what is returned.
  """
  probs = tfn.predictive.class_probabilities(model, x, num_samples, seed)
  noise_probs = None
  if noise is not None:
    noise_probs = tfn.predictive.class_probabilities(model, noise, num_samples,
                                                     seed)
  return scores(probs, y, noise_probs)


def scores(probs, y: np.ndarray, noise_probs=None) -> Dict[str, float]:
  """Accuracy, NLL, ECE (15 bins) and, given noise predictions, the noise AUROC.

  The AUROC is how often a noise input gets higher predictive entropy than a
  test input (1: always). Also returns the probabilities and entropies.
  """
  result = {
      'probs': np.asarray(probs),
      'entropy': tfn.metrics.predictive_entropy(probs).numpy(),
      'accuracy': float(np.mean(np.argmax(probs, -1) == y)),
      'nll': float(tfn.metrics.negative_log_likelihood(probs, y)),
      'ece': float(tfn.metrics.expected_calibration_error(probs, y)),
  }
  if noise_probs is not None:
    result['noise_entropy'] = tfn.metrics.predictive_entropy(
        noise_probs).numpy()
    result['auroc'] = float(sk_metrics.roc_auc_score(
        np.r_[np.zeros(len(y)), np.ones(len(noise_probs))],
        np.r_[result['entropy'], result['noise_entropy']]))
  return result


def figures_dir(path: str) -> str:
  """Creates the figure folder and prints where it is."""
  os.makedirs(path, exist_ok=True)
  print(f'figures go to {os.path.abspath(path)}', flush=True)
  return path


def parser(doc: str, figures: bool = True) -> argparse.ArgumentParser:
  """The command line the examples share (`--figures` where they draw)."""
  p = argparse.ArgumentParser(description=doc.splitlines()[0])
  p.add_argument('--steps', type=int, default=3000)
  p.add_argument('--seed', type=int, default=0)
  if figures:
    p.add_argument('--figures', default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'figures'),
                   help='folder for the PNG figures')
  return p
