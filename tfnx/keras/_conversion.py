"""`to_variational` for Keras 3 models: a trained network as a variational one (MOPED).

The Keras counterpart of `tfnx.util.to_variational`: `Dense` and
`Conv1D/2D/3D` layers become the matching `tfnx.keras` layers with kernel
posterior mean `w` (the trained kernel) and scale `moped_delta` times its
root mean square (or `moped_delta * |w|`), the
bias a point mass at its trained value (the layers' default bias posterior),
and every other layer a copy with its weights. Each KL term is divided by the
number of training examples (`tfnx.keras.KLPerExample`), so `model.fit`
minimizes the per-example negative ELBO.
"""

from typing import Any, Collection, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx.keras import _builders as builders
from tfnx.keras import _conv as conv
from tfnx.keras import _dense as dense
from tfnx.keras import _divergence as divergence
from tfnx.keras import _rank1 as rank1
from tfnx import conversion as conversion_lib
from tfnx.keras._export import export

tfd = tfp.distributions

__all__ = ['to_variational', 'CenteredNormalFn']

_DENSE = {'flipout': dense.DenseFlipout,
          'local': dense.DenseLocalReparameterization,
          'reparameterization': dense.DenseReparameterization,
          'rank1': rank1.DenseRank1}
_CONV = {
    keras.layers.Conv1D: {'flipout': conv.Conv1DFlipout,
                          'reparameterization': conv.Conv1DReparameterization,
                          'rank1': rank1.Conv1DRank1},
    keras.layers.Conv2D: {'flipout': conv.Conv2DFlipout,
                          'reparameterization': conv.Conv2DReparameterization,
                          'rank1': rank1.Conv2DRank1},
    keras.layers.Conv3D: {'flipout': conv.Conv3DFlipout,
                          'reparameterization': conv.Conv3DReparameterization,
                          'rank1': rank1.Conv3DRank1},
}


@export
class CenteredNormalFn:
  """A prior builder: `N(loc, scale^2)` around a fixed, non-trainable `loc`.

  Called as `fn(dtype, shape, name, trainable, add_variable_fn)`, it creates
  the non-trainable weight `<name>_loc` (zeros, until set) and returns
  `Independent(Normal(loc, scale))`. `tfnx.keras.to_variational` sets `loc`
  to the trained weights: MOPED's empirical-Bayes prior. The weight is saved
  with the model.

  Args:
    scale: the prior's standard deviation around `loc`.
  """

  def __init__(self, scale: float = 1.):
    if not scale > 0:
      raise ValueError('CenteredNormalFn: expected a positive `scale`; '
                       f'received {scale!r}.')
    self.scale = float(scale)

  def __call__(self, dtype: tf.DType, shape: Sequence[int], name: str,
               trainable: bool, add_variable_fn: Any) -> tfd.Distribution:
    """Creates `loc`; returns the prior."""
    del trainable  # The centre is fixed, whatever the layer's trainability.
    dtype = tf.as_dtype(dtype)
    loc = add_variable_fn(name=name + '_loc', shape=shape,
                          initializer='zeros', dtype=dtype, trainable=False)
    return tfd.Independent(
        tfd.Normal(loc=loc, scale=tf.constant(self.scale, dtype)),
        reinterpreted_batch_ndims=len(shape), name=name)

  def get_config(self) -> dict:
    """The constructor's arguments."""
    return {'scale': self.scale}

  @classmethod
  def from_config(cls, config: dict) -> 'CenteredNormalFn':
    """Rebuilds the builder from `get_config()`."""
    return cls(**config)


def _variational_class(layer: Any, estimator: str) -> Optional[type]:
  """The `tfnx.keras` class a layer becomes, or `None` if it stays."""
  if type(layer) is keras.layers.Dense:
    return _DENSE[estimator]
  classes = _CONV.get(type(layer))
  if classes is None:
    return None
  if estimator not in classes:
    raise ValueError(f'to_variational: {layer.name} ({type(layer).__name__}) '
                     f'has no {estimator!r} form; expected one of '
                     f'{tuple(classes)}, or `layers=` leaving it out.')
  if layer.groups != 1:
    raise ValueError(f'to_variational: {layer.name} has groups='
                     f'{layer.groups}; expected a convolution of one group.')
  return classes[estimator]


def _geometry(layer: Any) -> dict:
  if isinstance(layer, keras.layers.Dense):
    return {'units': layer.units}
  return {'filters': layer.filters, 'kernel_size': layer.kernel_size,
          'strides': layer.strides, 'padding': layer.padding,
          'data_format': layer.data_format,
          'dilation_rate': layer.dilation_rate}


def _new_rank1_layer(layer: Any, cls: type, num_examples: int,
                     ensemble_size: int,
                     seed: Optional[int]) -> keras.layers.Layer:
  """A rank-1 layer whose every member starts as the trained layer."""
  return cls(activation=layer.activation, use_bias=layer.use_bias,
             alpha_initializer=rank1.TrainableNormal(mean_initializer='ones'),
             gamma_initializer=rank1.TrainableNormal(mean_initializer='ones'),
             alpha_regularizer=rank1.NormalKLDivergence(
                 num_examples=num_examples),
             gamma_regularizer=rank1.NormalKLDivergence(
                 num_examples=num_examples),
             ensemble_size=ensemble_size, seed=seed, name=layer.name,
             dtype=layer.dtype_policy, **_geometry(layer))


def _new_layer(layer: Any, cls: type, kl: divergence.KLPerExample,
               prior: str, seed: Optional[int]) -> keras.layers.Layer:
  bias_posterior_fn = None
  if layer.use_bias:
    bias_posterior_fn = builders.MeanFieldNormalFn(is_singular=True)
  kernel_prior_fn = (CenteredNormalFn() if prior == 'moped'
                     else builders.default_multivariate_normal_fn)
  return cls(activation=layer.activation,
             kernel_posterior_fn=builders.MeanFieldNormalFn(),
             kernel_prior_fn=kernel_prior_fn, kernel_divergence_fn=kl,
             bias_posterior_fn=bias_posterior_fn, seed=seed,
             name=layer.name, dtype=layer.dtype_policy, **_geometry(layer))


def _set_weights(new: Any, old: Any, moped_delta: float,
                 posterior_scale: str) -> None:
  """Posterior means (and a centred prior's) at the trained weights."""
  kernel = np.asarray(old.kernel)
  if isinstance(new, rank1.EnsembleLayer):
    new.kernel.assign(kernel)
    if new.bias is not None:
      new.bias.assign(np.tile(np.asarray(old.bias), [new.ensemble_size, 1]))
    return
  normal = new.kernel_posterior.distribution
  normal.loc.assign(kernel)
  scale = np.asarray(conversion_lib.initial_scale(
      kernel, kernel, moped_delta, posterior_scale))
  # The layers' scale is eps + softplus(untransformed).
  eps = np.finfo(kernel.dtype).eps
  normal.scale.pretransformed_input.assign(
      tfp.math.softplus_inverse(tf.constant(scale - eps)))
  if isinstance(new.kernel_prior_fn, CenteredNormalFn):
    new.kernel_prior.distribution.loc.assign(kernel)
  if new.bias_posterior is not None:
    new.bias_posterior.distribution.loc.assign(np.asarray(old.bias))


def _chosen(model: keras.Model, layers: Optional[Collection[Any]],
            estimator: str) -> dict:
  """The layers to convert, by id, each with its new class."""
  candidates = list(model.layers)
  if layers is not None:
    by_name = {layer.name: layer for layer in model.layers}
    candidates = []
    for item in layers:
      if isinstance(item, str) and item in by_name:
        candidates.append(by_name[item])
      elif isinstance(item, int) and not isinstance(item, bool):
        candidates.append(model.layers[item])
      elif any(item is layer for layer in model.layers):
        candidates.append(item)
      else:
        raise ValueError(f'to_variational: {item!r} is not a layer, layer '
                         f'name or index of {model.name}.')
  chosen = {}
  for layer in candidates:
    cls = _variational_class(layer, estimator)
    if cls is None and layers is not None:
      raise TypeError(f'to_variational: {layer.name} is a '
                      f'{type(layer).__name__}; expected a Dense, Conv1D, '
                      'Conv2D or Conv3D.')
    if cls is not None:
      chosen[id(layer)] = cls
  return chosen


@export(serializable=False)
def to_variational(model: keras.Model, num_examples: int,
                   estimator: str = 'flipout',
                   moped_delta: float = conversion_lib.DEFAULT_MOPED_DELTA,
                   posterior_scale: str = 'layer',
                   prior: str = 'default',
                   layers: Optional[Collection[Any]] = None,
                   seed: Optional[int] = None,
                   ensemble_size: int = 4) -> keras.Model:
  """A variational Keras model whose posterior means are a trained one's weights.

  Works on built `Sequential` and functional models (through
  `keras.models.clone_model`). Each chosen `Dense` or `Conv1D/2D/3D` becomes
  the `tfnx.keras` layer of the estimator, with the same name, geometry and
  activation: kernel posterior of mean `w` and scale `moped_delta` times the
  kernel's root mean square (at least 1e-4), bias a point mass at the trained bias, KL divided by `num_examples`. Other
  layers are copies with the trained weights. The result is not compiled.

  Args:
    model: a trained, built Keras 3 model.
    num_examples: the number of training examples; each layer's KL is
      divided by it (`tfnx.keras.KLPerExample`).
    estimator: `'flipout'` (default), `'local'` (`Dense` only),
      `'reparameterization'`, or `'rank1'`: `DenseRank1` and
      `Conv{1,2,3}DRank1` layers sharing the trained kernel, every member's
      bias the trained one and its vectors' posteriors `TrainableNormal`s
      around 1 (each member starts as the trained network), their KL to
      `NormalKLDivergence`'s `N(1, 0.1)` divided by `num_examples`;
      `moped_delta`, `posterior_scale` and `prior` do not apply. Tile the
      inputs (`tfnx.keras.ensemble_inputs`) or use `tfnx.predictive` to run
      every member.
    moped_delta: the posterior scale's ratio to each trained weight; the
      default is `tfnx.util.to_variational`'s.
    posterior_scale: `'layer'` (default), one scale per kernel, or
      `'weight'`, `moped_delta * |w|` (as in `tfnx.util.to_variational`).
    prior: `'default'`, the layers' standard normal kernel prior, or
      `'moped'`, `N(w, 1)` around the trained kernel (`CenteredNormalFn`).
    layers: which layers to convert: layer names, indices into
      `model.layers` or the layers; `None` converts every `Dense` and
      `Conv1D/2D/3D`.
    seed: a Python int seeding the new layers (`seed + i` for the `i`-th);
      `None` for non-deterministic.
    ensemble_size: the members of `'rank1'` layers.

  Returns:
    The new model.
  """
  conversion_lib.check_choices(estimator, moped_delta, prior,
                                posterior_scale)
  if not isinstance(model, keras.Model) or not model.built:
    raise ValueError('to_variational: expected a built Keras model (with '
                     f'known input shapes); received {model!r}.')
  kl = divergence.KLPerExample(num_examples)
  chosen = _chosen(model, layers, estimator)
  pairs = []

  def clone(layer):
    layer_seed = None if seed is None else seed + len(pairs)
    if id(layer) in chosen and estimator == 'rank1':
      new = _new_rank1_layer(layer, chosen[id(layer)], num_examples,
                             ensemble_size, layer_seed)
    elif id(layer) in chosen:
      new = _new_layer(layer, chosen[id(layer)], kl, prior, layer_seed)
    else:
      new = layer.__class__.from_config(layer.get_config())
    pairs.append((new, layer))
    return new

  converted = keras.models.clone_model(model, clone_function=clone)
  for new, old in pairs:
    if id(old) in chosen:
      _set_weights(new, old, moped_delta, posterior_scale)
    elif old.weights:
      new.set_weights(old.get_weights())
  return converted
