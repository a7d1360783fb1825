"""The benchmark's models: plain TF, hand-written estimators, libraries' layers.

Every model is a `Model`: a stochastic forward pass, the KL terms of its last
pass and its trainable variables. `registry()` names them all; the harness
(`_harness.py`) trains and times them.
"""

import os
import sys
from typing import Callable, Dict, List, NamedTuple, Tuple

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np
import keras
import tensorflow as tf
import tensorflow_probability as tfp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tfnx
import tfnx.keras as tfnx_keras
from tfnx import _sampling as sampling

NUM_EXAMPLES = 60000  # N in the ELBO's KL / N, as for MNIST.
MLP_BATCH, CNN_BATCH = 128, 64
HIDDEN = 512
ENSEMBLE_SIZE = 4  # Members of the ensembles, each with MLP_BATCH rows.


class Model(NamedTuple):
  """A model to time.

  Attributes:
    logits: `x -> logits`, one stochastic forward pass.
    divergence: `() -> scalar`, the KL terms of the last pass (0 if none).
    variables: the trainable variables.
  """
  logits: Callable[[tf.Tensor], tf.Tensor]
  divergence: Callable[[], tf.Tensor]
  variables: List[tf.Variable]


def _no_divergence() -> tf.Tensor:
  return tf.constant(0.)


def _keras_losses(model) -> Callable[[], tf.Tensor]:
  return lambda: tf.add_n(model.losses)


def _glorot(shape, seed):
  limit = np.sqrt(6. / (np.prod(shape[:-1]) + shape[-1]))
  return tf.Variable(tf.random.stateless_uniform(shape, (seed, 0), -limit,
                                                 limit))


def _pool(x):
  return tf.nn.max_pool2d(x, 2, 2, 'VALID')


def _flatten(x):
  return tf.reshape(x, [tf.shape(x)[0], -1])


# Plain TensorFlow: the floor every ratio is taken against.


def plain_mlp(width: int = HIDDEN, seed: int = 1) -> Model:
  w1, w2 = _glorot([784, width], seed), _glorot([width, 10], seed + 1)
  b1, b2 = tf.Variable(tf.zeros([width])), tf.Variable(tf.zeros([10]))

  def logits(x):
    return tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
  return Model(logits, _no_divergence, [w1, b1, w2, b2])


def plain_cnn() -> Model:
  k, w = _glorot([5, 5, 1, 32], 1), _glorot([12 * 12 * 32, 10], 2)
  bk, bw = tf.Variable(tf.zeros([32])), tf.Variable(tf.zeros([10]))

  def logits(x):
    h = _pool(tf.nn.relu(tf.nn.conv2d(x, k, 1, 'VALID') + bk))
    return tf.matmul(_flatten(h), w) + bw
  return Model(logits, _no_divergence, [k, bk, w, bw])


# Hand-written variational MLPs: each estimator as the fewest TF ops we could
# write for it on bare variables, with tfnx's samplers and the default
# spike-and-slab prior's closed-form density (or a standard normal prior's
# closed-form KL). No library can do much better on this machine; they bound
# what the targets can ask of one.


def _default_posterior_scale() -> Tuple[float, float]:
  """tfnx's default posterior scale: its initial variable and its floor.

  Read from the library's own builder, so the floor starts where tfnx does:
  the scale is `softplus(variable) + floor`.
  """
  posterior = tfnx.util.make_kernel_bias_posterior_mvn_diag([1], [1])
  scale = posterior.model[0].distribution.scale
  return (float(scale.pretransformed_input[0]), float(scale.bijector.low))


def _two_layers(dense: Callable, layers: List[List[tf.Variable]]) -> Model:
  """A hand-written MLP: `dense(x, variables, seed) -> (outputs, KL)` twice.

  Each pass takes a fresh seed from a counter variable (never
  constant-folded); the ReLU is between the layers.
  """
  counter = tf.Variable([0, 0])
  divergence = [tf.constant(0.)]

  def logits(x):
    seed = counter.assign_add([1, 0])
    h, kl_1 = dense(x, layers[0], seed)
    out, kl_2 = dense(tf.nn.relu(h), layers[1], seed + [0, 100])
    divergence[0] = kl_1 + kl_2
    return out
  return Model(logits, lambda: divergence[0],
               [v for layer in layers for v in layer])


def handwritten_mlp(estimator: str, prior: str = 'spike-and-slab') -> Model:
  """A 784-512-10 MLP of one estimator, written directly in TF ops."""
  spike_and_slab = tfnx.distributions.SpikeAndSlabNormal()
  raw_scale, min_scale = _default_posterior_scale()
  layers = []
  for seed, (n_in, n_out) in enumerate(((784, HIDDEN), (HIDDEN, 10))):
    layers.append([_glorot([n_in, n_out], seed + 1),
                   tf.Variable(tf.fill([n_in, n_out], raw_scale)),
                   tf.Variable(tf.zeros([n_out])),
                   tf.Variable(tf.fill([n_out], raw_scale))])

  def sampled_kl(w, scale):  # Entropy-form Monte Carlo KL at a sample w.
    return -tf.reduce_sum(tf.math.log(scale)) - tf.reduce_sum(
        spike_and_slab.log_prob(w))

  def kl(loc, scale, draw_seed):
    if prior == 'normal':
      return tf.reduce_sum(0.5 * (tf.square(loc) + tf.square(scale))
                           - tf.math.log(scale))
    return sampled_kl(
        loc + scale * sampling.standard_normal(tf.shape(loc), draw_seed), scale)

  def dense(x, variables, seed):
    loc, raw, bias_loc, bias_raw = variables
    scale = tf.nn.softplus(raw) + min_scale
    bias_scale = tf.nn.softplus(bias_raw) + min_scale
    seeds = [seed + [0, i] for i in range(5)]
    if estimator == 'Reparameterization':
      w = loc + scale * sampling.standard_normal(tf.shape(loc), seeds[0])
      b = bias_loc + bias_scale * sampling.standard_normal(
          tf.shape(bias_loc), seeds[1])
      y = tf.matmul(x, w) + b
      kernel_kl = sampled_kl(w, scale)
    elif estimator == 'Flipout':
      delta = scale * sampling.standard_normal(tf.shape(loc), seeds[0])
      signs_in = sampling.rademacher(tf.shape(x), seeds[2], x.dtype)
      perturbation = tf.matmul(x * signs_in, delta)
      signs_out = sampling.rademacher(tf.shape(perturbation), seeds[3],
                                      x.dtype)
      y = tf.matmul(x, loc) + bias_loc + perturbation * signs_out
      kernel_kl = sampled_kl(loc + delta, scale)
    else:  # Local reparameterization.
      mean = tf.matmul(x, loc) + bias_loc
      variance = (tf.matmul(tf.square(x), tf.square(scale))
                  + tf.square(bias_scale))
      y = mean + tf.sqrt(variance) * sampling.standard_normal(
          tf.shape(mean), seeds[2])
      kernel_kl = kl(loc, scale, seeds[0])
    return y, kernel_kl + kl(bias_loc, bias_scale, seeds[4])
  return _two_layers(dense, layers)


def handwritten_cnn() -> Model:
  """The CNN by reparameterization, written directly in TF ops.

  The Keras layers' defaults on bare variables: kernels drawn from mean-field
  normals, point-mass biases, a standard normal prior's closed-form KL.
  """
  counter = tf.Variable([0, 0])  # Seeds from a variable: never constant-folded.
  raw_scale, min_scale = _default_posterior_scale()
  locs = [_glorot([5, 5, 1, 32], 1), _glorot([12 * 12 * 32, 10], 2)]
  raws = [tf.Variable(tf.fill(loc.shape, raw_scale)) for loc in locs]
  bk, bw = tf.Variable(tf.zeros([32])), tf.Variable(tf.zeros([10]))
  divergence = [tf.constant(0.)]

  def logits(x):
    seed = counter.assign_add([1, 0])
    kernels, kls = [], []
    for i, (loc, raw) in enumerate(zip(locs, raws)):
      scale = tf.nn.softplus(raw) + min_scale
      kernels.append(loc + scale * sampling.standard_normal(
          tf.shape(loc), seed + [0, i]))
      kls.append(tf.reduce_sum(0.5 * (tf.square(loc) + tf.square(scale))
                               - tf.math.log(scale)))
    divergence[0] = tf.add_n(kls)
    h = _pool(tf.nn.relu(tf.nn.conv2d(x, kernels[0], 1, 'VALID') + bk))
    return tf.matmul(_flatten(h), kernels[1]) + bw
  return Model(logits, lambda: divergence[0], locs + raws + [bk, bw])


# Ensembles of ENSEMBLE_SIZE members, MLP_BATCH rows each: the rows of a
# batch go to the members in blocks, as tfnx.rank1 routes them.


def deep_ensemble_mlp(members: int = ENSEMBLE_SIZE) -> Model:
  """`members` plain MLPs, each trained on its own block of the batch."""
  networks = [plain_mlp(seed=1 + 2 * k) for k in range(members)]

  def logits(x):
    return tf.concat([network.logits(block) for network, block in
                      zip(networks, tf.split(x, members))], axis=0)
  return Model(logits, _no_divergence,
               [v for network in networks for v in network.variables])


def handwritten_rank1_mlp(members: int = ENSEMBLE_SIZE,
                          per_row: bool = True) -> Model:
  """The rank-1 MLP in the fewest TF ops: each row draws its member's vectors.

  The Keras layers' defaults on bare variables: a shared kernel, members'
  biases, normal posteriors over `alpha` and `gamma` (locations 1,
  scales softplus(-3)) and the closed-form KL to `N(1, 0.1)`. With
  `per_row=False` each member draws one pair of vectors a call, which all
  its rows share: what the per-row draws cost.
  """
  layers = []
  for seed, (n_in, n_out) in enumerate(((784, HIDDEN), (HIDDEN, 10))):
    layers.append([_glorot([n_in, n_out], seed + 1),
                   tf.Variable(tf.zeros([members, n_out]))]
                  + [tf.Variable(tf.fill([members, n], value))
                     for n in (n_in, n_out) for value in (1., -3.)])

  def kl(loc, scale):
    return tf.reduce_sum(tf.math.log(0.1 / scale) + (
        tf.square(scale) + tf.square(loc - 1.)) / (2. * 0.1**2) - 0.5)

  def dense(x, variables, seed):
    kernel, bias, alpha_loc, alpha_raw, gamma_loc, gamma_raw = variables
    rows = tf.shape(x)[0]
    member = tf.range(rows) * members // rows
    vectors, kls = [], []
    for i, (loc, raw) in enumerate(((alpha_loc, alpha_raw),
                                    (gamma_loc, gamma_raw))):
      scale = tf.nn.softplus(raw)
      kls.append(kl(loc, scale))
      if per_row:
        rows_loc = tf.gather(loc, member)
        vectors.append(rows_loc + tf.gather(scale, member) * (
            sampling.standard_normal(tf.shape(rows_loc), seed + [0, i])))
      else:
        vectors.append(tf.gather(loc + scale * sampling.standard_normal(
            tf.shape(loc), seed + [0, i]), member))
    outputs = tf.matmul(x * vectors[0], kernel) * vectors[1]
    return outputs + tf.gather(bias, member), tf.add_n(kls)
  return _two_layers(dense, layers)


def module_rank1_mlp(members: int = ENSEMBLE_SIZE) -> Model:
  """The MLP of tfnx's `tf.Module` `AffineRank1` layers, their defaults."""
  model = tfnx.Sequential([
      tfnx.AffineRank1(784, HIDDEN, members, activation_fn=tf.nn.relu,
                       seed=1),
      tfnx.AffineRank1(HIDDEN, 10, members, seed=2),
  ])
  return Model(model, _module_divergence(tfnx, model),
               model.trainable_variables)


def keras_ensemble_mlp(kind: str, members: int = ENSEMBLE_SIZE) -> Model:
  """The MLP of `tfnx.keras`' `Dense` + `kind` (`'Rank1'`, `'BatchEnsemble'`)."""
  cls = getattr(tfnx_keras, 'Dense' + kind)
  model = keras.Sequential([
      keras.Input((784,)),
      cls(HIDDEN, activation='relu', ensemble_size=members, seed=1),
      cls(10, ensemble_size=members, seed=2),
  ])
  return Model(model, _keras_losses(model) if kind == 'Rank1'
               else _no_divergence, model.trainable_variables)


def ensembles() -> Dict[str, Callable[[], Model]]:
  """The ensemble benchmark's models, all trained on the same 512 rows."""
  return {
      'plain dense': plain_mlp,
      f'deep ensemble of {ENSEMBLE_SIZE}': deep_ensemble_mlp,
      'hand-written rank-1': handwritten_rank1_mlp,
      'hand-written rank-1, a draw per member': (
          lambda: handwritten_rank1_mlp(per_row=False)),
      'tfnx AffineRank1': module_rank1_mlp,
      'tfnx.keras DenseRank1': lambda: keras_ensemble_mlp('Rank1'),
      'tfnx.keras DenseBatchEnsemble': (
          lambda: keras_ensemble_mlp('BatchEnsemble')),
  }


# tf.Module layers: tfnx and tfp.experimental.nn share their API.


def _module_divergence(library, model) -> Callable[[], tf.Tensor]:
  """The KL terms of a `Sequential`'s last call.

  tfnx layers keep them in `extra_loss`; TFP 0.25's experimental layers keep
  only the weights they drew (`posterior_value`), so their users estimate
  the KL by Monte Carlo on those, as this does.
  """
  if library is tfnx:
    return lambda: model.extra_loss

  def monte_carlo_kl():
    return tf.add_n([
        layer.posterior.log_prob(layer.posterior_value)
        - layer.prior.log_prob(layer.posterior_value)
        for layer in model.layers if hasattr(layer, 'posterior')])
  return monte_carlo_kl


def module_mlp(library, estimator: str, width: int = HIDDEN) -> Model:
  cls = getattr(library, 'AffineVariational' + estimator)
  model = library.Sequential([
      cls(784, width, activation_fn=tf.nn.relu),
      cls(width, 10),
  ])
  return Model(model, _module_divergence(library, model),
               model.trainable_variables)


def module_cnn(library, estimator: str) -> Model:
  conv = getattr(library, 'ConvolutionVariational' + estimator)
  dense = getattr(library, 'AffineVariational' + estimator)
  model = library.Sequential([
      conv(1, 32, 5, padding='VALID', activation_fn=tf.nn.relu),
      _pool,
      _flatten,
      dense(12 * 12 * 32, 10),
  ])
  return Model(model, _module_divergence(library, model),
               model.trainable_variables)


# Keras layers with tfp.layers' interface: tfnx.keras on Keras 3 and
# tfp.layers on tf_keras.


def keras_mlp(layers, keras_module, estimator: str) -> Model:
  cls = getattr(layers, 'Dense' + estimator)
  model = keras_module.Sequential([
      keras_module.Input((784,)),
      cls(HIDDEN, activation='relu'),
      cls(10),
  ])
  return Model(model, _keras_losses(model), model.trainable_variables)


def keras_cnn(layers, keras_module, estimator: str) -> Model:
  """The CNN of one estimator from a `tfp.layers`-like module."""
  conv = getattr(layers, 'Convolution2D' + estimator)
  dense = getattr(layers, 'Dense' + estimator)
  model = keras_module.Sequential([
      keras_module.Input((28, 28, 1)),
      conv(32, 5, activation='relu'),
      keras_module.layers.MaxPooling2D(2),
      keras_module.layers.Flatten(),
      dense(10),
  ])
  return Model(model, _keras_losses(model), model.trainable_variables)


def tf_keras_module():
  """The legacy `tf_keras`, imported only here: `tfp.layers` needs it."""
  import tf_keras
  return tf_keras


def _tfp_nn():
  return tfp.experimental.nn


ESTIMATORS = ('Flipout', 'ReparameterizationLocal', 'Reparameterization')
KERAS_NAMES = {'Flipout': 'Flipout',
               'ReparameterizationLocal': 'LocalReparameterization',
               'Reparameterization': 'Reparameterization'}


def registry() -> Dict[str, Tuple[str, Callable[[], Model]]]:
  """`name -> (kind, build)` for every model; kind is 'mlp' or 'cnn'."""
  models = {'plain dense': ('mlp', plain_mlp),
            'plain conv': ('cnn', plain_cnn)}
  for estimator in ESTIMATORS:
    models[f'hand-written {estimator}'] = (
        'mlp', lambda e=estimator: handwritten_mlp(e))
  models['hand-written ReparameterizationLocal, normal prior'] = (
      'mlp', lambda: handwritten_mlp('ReparameterizationLocal', 'normal'))
  models['hand-written conv Reparameterization'] = ('cnn', handwritten_cnn)
  families = (('mlp', '', module_mlp, keras_mlp, ESTIMATORS),
              ('cnn', 'conv ', module_cnn, keras_cnn,
               ('Flipout', 'Reparameterization')))
  for kind, infix, module_model, keras_model, estimators in families:
    for estimator in estimators:
      keras_name = KERAS_NAMES[estimator]
      libraries = (
          (f'tfnx {infix}{estimator}',
           lambda f=module_model, e=estimator: f(tfnx, e)),
          (f'tfnx.keras {infix}{keras_name}',
           lambda f=keras_model, e=keras_name: f(tfnx_keras, keras, e)),
          (f'tfp.experimental.nn {infix}{estimator}',
           lambda f=module_model, e=estimator: f(_tfp_nn(), e)),
          (f'tfp.layers {infix}{keras_name}',
           lambda f=keras_model, e=keras_name: f(tfp.layers, tf_keras_module(), e)),
      )
      for name, build in libraries:
        models[name] = (kind, build)
  return models


def batch_for(kind: str, batch_size: int = 0) -> Tuple[tf.Tensor, tf.Tensor]:
  """A fixed random batch of inputs and labels for a model kind."""
  if kind == 'mlp':
    shape = [batch_size or MLP_BATCH, 784]
  else:
    shape = [batch_size or CNN_BATCH, 28, 28, 1]
  x = tf.random.stateless_uniform(shape, (0, 1))
  y = tf.random.stateless_uniform(shape[:1], (0, 2), 0, 10, tf.int32)
  return x, y
