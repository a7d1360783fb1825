"""`to_variational`: a trained deterministic network as a variational one (MOPED).

Krishnan et al. (2020, "Specifying weight priors in Bayesian deep neural
networks with empirical Bayes") start variational inference where a trained
network ends: each weight's posterior mean is its trained value `w` and its
posterior scale `moped_delta * |w|` (here by default `moped_delta` times the
layer's root-mean-square weight), so the converted network predicts as the
trained one did and a short fine-tuning on the ELBO only has to learn the
noise. The prior stays the layers' default, or is centred on `w`.
"""

from typing import Any, Callable, Collection, Optional

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _affine as affine
from tfnx import _convolution as convolution
from tfnx import _convolution_transpose as transpose
from tfnx import initializers as init_lib
from tfnx import _layers as layers_lib
from tfnx import _rank1_layers as rank1_layers
from tfnx import seeds as seeds_lib
from tfnx.util import kernel_bias as kernel_bias_lib

tfd = tfp.distributions

__all__ = ['to_variational', 'check_choices', 'initial_scale', 'ESTIMATORS',
           'PRIORS', 'SCALES', 'DEFAULT_MOPED_DELTA']

ESTIMATORS = ('flipout', 'local', 'reparameterization', 'rank1')
PRIORS = ('default', 'moped')
SCALES = ('layer', 'weight')

DEFAULT_MOPED_DELTA = 0.5
"""The default ratio of posterior scale to weight (docs/calibration.md)."""

# A trained weight of exactly zero (a bias that never moved) still gets some
# noise, and the posterior's softplus floor (1e-5) stays below every scale.
_SCALE_FLOOR = 1e-4


# The layer classes each deterministic type becomes, by estimator.
_VARIATIONAL_CLASSES = {
    affine.Affine: {
        'flipout': affine.AffineVariationalFlipout,
        'local': affine.AffineVariationalReparameterizationLocal,
        'reparameterization': affine.AffineVariationalReparameterization},
    convolution.Convolution: {
        'flipout': convolution.ConvolutionVariationalFlipout,
        'reparameterization':
            convolution.ConvolutionVariationalReparameterization},
    transpose.ConvolutionTranspose: {
        'flipout': transpose.ConvolutionTransposeVariationalFlipout,
        'reparameterization':
            transpose.ConvolutionTransposeVariationalReparameterization},
}
_RANK1_CLASSES = {
    affine.Affine: rank1_layers.AffineRank1,
    convolution.Convolution: rank1_layers.ConvolutionRank1,
    transpose.ConvolutionTranspose: rank1_layers.ConvolutionTransposeRank1,
}


def _constant(value: tf.Tensor) -> Callable:
  """An initializer returning a copy of `value` (whatever shape is asked)."""
  value = tf.identity(value)

  def init(shape, dtype=tf.float32, batch_ndims: int = 0) -> tf.Tensor:
    del shape, batch_ndims  # The trained weight already has its shape.
    return tf.cast(value, dtype)
  return init


def _ones(shape, dtype=tf.float32, batch_ndims: int = 0) -> tf.Tensor:
  del batch_ndims  # Every axis gets ones.
  return tf.ones(shape, dtype)


def _vectors_at_one(in_shape, out_shape, in_initializer=None,
                    out_initializer=None, *args) -> Any:
  """A rank-1 posterior whose vectors start at 1: each member the trained layer."""
  del in_initializer, out_initializer  # The layer's random signs.
  return kernel_bias_lib.make_rank1_posterior_normal(in_shape, out_shape,
                                                     _ones, _ones, *args)


def _convert_to_rank1(layer: Any, ensemble_size: int,
                      seed: Optional[tf.Tensor]) -> Any:
  """The rank-1 layer sharing `layer`'s kernel, every member its bias."""
  input_size, output_size = _sizes(layer)
  return _RANK1_CLASSES[type(layer)](
      input_size, output_size, ensemble_size=ensemble_size,
      kernel_initializer=_constant(layer.kernel),
      bias_initializer=_constant(tf.tile(layer.bias[tf.newaxis],
                                         [ensemble_size, 1])),
      make_posterior_fn=_vectors_at_one, seed=seed, name=layer.name,
      **_geometry(layer))


def initial_scale(weight: Any, kernel: Any, moped_delta: float,
                  scale: str) -> Any:
  """The posterior scale a converted layer's `weight` starts from.

  Args:
    weight: the trained kernel or bias (a tensor or an array).
    kernel: the layer's trained kernel.
    moped_delta: the scale's ratio to the trained weights' size.
    scale: `'layer'`, `moped_delta` times the root mean square of `kernel`
      for every weight of the layer; `'weight'`, `moped_delta * |weight|`.

  Returns:
    The scales, of `weight`'s shape, at least 1e-4.
  """
  if scale == 'layer':
    size = tf.sqrt(tf.reduce_mean(tf.square(kernel))) + tf.zeros_like(weight)
  else:
    size = tf.abs(weight)
  return tf.maximum(moped_delta * size, _SCALE_FLOOR)


def _moped_posterior(moped_delta: float, scale: str) -> Callable:
  """A mean-field normal posterior builder with scales from `initial_scale`.

  It builds `tfnx.util.make_kernel_bias_posterior_mvn_diag` and sets each
  scale from the initial means the initializers give it.

  Args:
    moped_delta: the ratio of the posterior scales to the trained weights.
    scale: `'layer'` or `'weight'` (see `initial_scale`).

  Returns:
    A function with the signature of `tfnx.util` posterior builders.
  """
  def make(*args, **kwargs) -> tfd.JointDistributionSequential:
    posterior = kernel_bias_lib.make_kernel_bias_posterior_mvn_diag(
        *args, **kwargs)
    kernel = posterior.model[0].distribution.loc
    for part in posterior.model:
      normal = part.distribution
      normal.scale.assign(initial_scale(normal.loc, kernel, moped_delta,
                                        scale))
    return posterior
  return make


def _moped_prior(scale: float = 1.) -> Callable:
  """A prior builder: `N(w, scale^2)` centred on the initial weights `w`.

  MOPED's empirical-Bayes prior: the trained weights, which the initializers
  pass in, are its means. Its KL divergence from the mean-field posterior has
  a closed form.

  Args:
    scale: the prior's standard deviation around each weight.

  Returns:
    A function with the signature of `tfnx.util` prior builders.
  """
  def make(kernel_shape, bias_shape, kernel_initializer=None,
           bias_initializer=None, kernel_batch_ndims=0, bias_batch_ndims=0,
           dtype=tf.float32, kernel_name='prior_kernel',
           bias_name='prior_bias') -> tfd.JointDistributionSequential:
    parts = []
    for init, shape, ndims, name in (
        (kernel_initializer, kernel_shape, kernel_batch_ndims, kernel_name),
        (bias_initializer, bias_shape, bias_batch_ndims, bias_name)):
      loc = init_lib.call_initializer(init, shape, dtype, ndims)
      parts.append(tfd.Independent(
          tfd.Normal(loc=loc, scale=tf.fill(tf.shape(loc),
                                            tf.constant(scale, dtype))),
          reinterpreted_batch_ndims=len(shape) - ndims, name=name))
    return tfd.JointDistributionSequential(parts)
  return make


def _geometry(layer: Any) -> dict:
  """The constructor arguments that fix a layer's shapes and activation."""
  args = {'activation_fn': layer.activation_fn, 'dtype': layer.dtype}
  if hasattr(layer, 'filter_shape'):
    args.update(filter_shape=layer.filter_shape, rank=layer.rank,
                strides=layer.strides, padding=layer.padding,
                dilations=layer.dilations, data_format=layer.data_format)
  if hasattr(layer, 'output_padding'):
    args['output_padding'] = layer.output_padding
  return args


def _sizes(layer: Any) -> tuple:
  if not hasattr(layer, 'filter_shape'):
    kernel_shape = layer.kernel.shape
    if kernel_shape.rank != 2:
      raise ValueError(f'to_variational: {layer.name} has a `batch_shape`; '
                       'expected an Affine of one layer (kernel of rank 2), '
                       f'received a kernel of shape {kernel_shape}.')
    return int(kernel_shape[0]), int(kernel_shape[1])
  return layer.input_size, layer.output_size


def _convert_layer(layer: Any, estimator: str, moped_delta: float,
                   posterior_scale: str, prior: str, ensemble_size: int,
                   seed: Optional[tf.Tensor]) -> Any:
  if estimator == 'rank1':
    return _convert_to_rank1(layer, ensemble_size, seed)
  classes = _VARIATIONAL_CLASSES[type(layer)]
  if estimator not in classes:
    raise ValueError(f'to_variational: {layer.name} ({type(layer).__name__}) '
                     f'has no {estimator!r} form; expected one of '
                     f'{tuple(classes)}, or `layers=` leaving it out.')
  input_size, output_size = _sizes(layer)
  make_prior_fn = (_moped_prior() if prior == 'moped'
                   else kernel_bias_lib.make_kernel_bias_prior_spike_and_slab)
  return classes[estimator](
      input_size, output_size,
      kernel_initializer=_constant(layer.kernel),
      bias_initializer=_constant(layer.bias),
      make_posterior_fn=_moped_posterior(moped_delta, posterior_scale),
      make_prior_fn=make_prior_fn, seed=seed, name=layer.name,
      **_geometry(layer))


def _chosen(model: layers_lib.Sequential,
            layers: Optional[Collection[Any]]) -> set:
  """The indices of the layers to convert."""
  count = len(model.layers)
  if layers is None:
    return {i for i, layer in enumerate(model.layers)
            if type(layer) in _VARIATIONAL_CLASSES}
  chosen = set()
  for item in layers:
    if isinstance(item, int) and not isinstance(item, bool):
      if not -count <= item < count:
        raise IndexError(f'to_variational: layer index {item} is out of '
                         f'range for {model.name}, which has {count} layers.')
      index = item % count
    else:
      matches = [i for i, layer in enumerate(model.layers) if layer is item]
      if not matches:
        raise ValueError(f'to_variational: {item!r} is not a layer of '
                         f'{model.name}.')
      index = matches[0]
    if type(model.layers[index]) not in _VARIATIONAL_CLASSES:
      raise TypeError(
          f'to_variational: layer {index} of {model.name} is a '
          f'{type(model.layers[index]).__name__}; expected an Affine, '
          'Convolution or ConvolutionTranspose.')
    chosen.add(index)
  return chosen


def check_choices(estimator: str, moped_delta: float, prior: str,
                  posterior_scale: str = 'layer') -> None:
  """Checks the conversion's arguments (both `to_variational`s share them).

  Args:
    estimator: must be one of `ESTIMATORS`.
    moped_delta: must be positive.
    prior: must be one of `PRIORS`.
    posterior_scale: must be one of `SCALES`.

  Raises:
    ValueError: naming the argument, what was expected and what was received.
  """
  if estimator not in ESTIMATORS:
    raise ValueError(f'to_variational: expected `estimator` one of '
                     f'{ESTIMATORS}; received {estimator!r}.')
  if prior not in PRIORS:
    raise ValueError(f'to_variational: expected `prior` one of {PRIORS}; '
                     f'received {prior!r}.')
  if posterior_scale not in SCALES:
    raise ValueError(f'to_variational: expected `posterior_scale` one of '
                     f'{SCALES}; received {posterior_scale!r}.')
  if isinstance(moped_delta, bool) or not moped_delta > 0:
    raise ValueError('to_variational: expected a positive `moped_delta`; '
                     f'received {moped_delta!r}.')


def to_variational(model: layers_lib.Sequential,
                   estimator: str = 'flipout',
                   moped_delta: float = DEFAULT_MOPED_DELTA,
                   posterior_scale: str = 'layer',
                   prior: str = 'default',
                   layers: Optional[Collection[Any]] = None,
                   seed: Optional[seeds_lib.SeedLike] = None,
                   ensemble_size: int = 4) -> layers_lib.Sequential:
  """A variational network whose posterior means are a trained one's weights.

  Each chosen `Affine`, `Convolution` or `ConvolutionTranspose` becomes the
  variational layer of the same geometry and activation, with a mean-field
  normal posterior of mean `w` (the trained weight) and scale `moped_delta`
  times the root mean square of the layer's trained kernel (MOPED's
  `moped_delta * |w|` with `posterior_scale='weight'`), at least 1e-4; every
  other item of the `Sequential` is kept as it is (shared, not copied). The result's posterior-mean network
  computes what `model` computes; fine-tune it on the ELBO
  (`tfnx.losses.negative_elbo`) and recalibrate it with
  `tfnx.calibration.fit_temperature`.

  Args:
    model: a trained `tfnx.Sequential`.
    estimator: `'flipout'` (default), `'local'` (dense layers only),
      `'reparameterization'`, or `'rank1'`: `AffineRank1`,
      `ConvolutionRank1` and `ConvolutionTransposeRank1` layers sharing the
      trained kernel, every member's bias the trained one and its vectors'
      posteriors starting at 1 with the default scale and prior
      (`tfnx.util.make_rank1_posterior_normal`, `make_rank1_prior_normal`),
      so every member starts as the trained network; `moped_delta`,
      `posterior_scale` and `prior` do not apply.
    moped_delta: the posterior scale's ratio to the trained weights; default
      `DEFAULT_MOPED_DELTA` (0.5), chosen by measurement
      (docs/calibration.md).
    posterior_scale: `'layer'` (default): every weight and bias of a layer
      starts at one scale, `moped_delta` times the root mean square of its
      trained kernel; `'weight'`: each at `moped_delta * |w|`, MOPED's
      choice. Weights the data barely constrains are small, and the ELBO
      wants them noisy; `'weight'` gives them the least noise, and a short
      fine-tuning keeps the scales ranked by `|w|` (docs/calibration.md).
    prior: `'default'`, the layers' spike-and-slab prior, or `'moped'`,
      `N(w, 1)` centred on the trained weights (empirical Bayes).
    layers: which layers to convert: indices into `model.layers` (negative
      ones count from the end) or the layer objects; `None` converts every
      convertible layer.
    seed: seeds the new layers' seed streams (each its own, split from this
      one); `None` for non-deterministic.
    ensemble_size: the members of `'rank1'` layers.

  Returns:
    A new `tfnx.Sequential` of the same name.

  Raises:
    TypeError: if `model` is not a `tfnx.Sequential`, or a chosen layer has
      no variational form.
    ValueError: on an unknown estimator, prior or posterior scale, a
      non-positive
      `moped_delta`, or an estimator a chosen layer lacks.
  """
  if not isinstance(model, layers_lib.Sequential):
    raise TypeError('to_variational: expected a tfnx.Sequential; received '
                    f'{type(model).__name__}. For Keras models use '
                    'tfnx.keras.to_variational.')
  check_choices(estimator, moped_delta, prior, posterior_scale)
  chosen = _chosen(model, layers)
  layer_seeds = [None] * len(model.layers)
  if seed is not None:
    layer_seeds = seeds_lib.split_seed(
        seeds_lib.sanitize_seed(seed, 'to_variational'), len(model.layers))
  converted = [
      _convert_layer(layer, estimator, moped_delta, posterior_scale, prior,
                     ensemble_size, layer_seeds[i])
      if i in chosen else layer
      for i, layer in enumerate(model.layers)]
  return layers_lib.Sequential(converted, name=model.name)
