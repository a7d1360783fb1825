"""The registry every conformance test runs over: one case per public layer class.

It holds the `tf.Module` layers of `tfnx` and the Keras layers of
`tfnx.keras`; a recurrent cell is registered inside the RNN layer that runs
it. Adding a layer class to either without a case here makes
`test_coverage.py` fail, so every layer goes through the same machinery.
"""

import functools
import inspect
from typing import Any, Callable, Mapping, NamedTuple, Optional, Tuple

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx as tfn
import tfnx.keras as tfpl
from tfnx import _layers as layers_lib
from tfnx import _variational as variational_lib


class Case(NamedTuple):
  """How to build one layer and feed it.

  Attributes:
    name: the case's id in test names.
    build: `(**kwargs) -> layer`, a fresh layer (kwargs go to its
      constructor, e.g. `validate_args`).
    input_shape: one example's input shape (callers add batch dimensions).
    output_shape: one example's output shape.
    variational: whether the layer learns a posterior (and takes a `seed`
      in its calls).
    keras: whether the layer is a built `tfnx.keras` layer.
    batch_dims: the least and the most batch dimensions the tests give the
      layer (Keras layers need at least one; Keras convolutions exactly one).
    valid_inputs: maps standard normal inputs to inputs the layer takes
      (whole numbers in range for an embedding); the identity by default.
    family: the module defining the layer class; `params` runs one case of
      each family in the inner loop.
    teacher: `(**kwargs) -> layer` making the targets of the training runs
      (`distributed_training.py`), one the layer can learn to match; `None`
      for `build`.
  """
  name: str
  build: Callable[..., tf.Module]
  input_shape: Tuple[int, ...]
  output_shape: Tuple[int, ...]
  variational: bool
  keras: bool = False
  batch_dims: Tuple[int, int] = (0, 3)
  valid_inputs: Callable[[tf.Tensor], tf.Tensor] = tf.identity
  family: str = ''
  teacher: Optional[Callable[..., tf.Module]] = None


def _dense(cls, variational=True):
  def build(**kwargs):
    if variational:
      kwargs.setdefault('seed', 3)
    return cls(4, 3, **kwargs)
  return Case(cls.__name__, build, (4,), (3,), variational,
              family=cls.__module__)


def _convolution(cls, variational=True, transpose=False):
  """A rank-2 case: 3x3x2 inputs; a 3x3 filter covers them (VALID)."""
  def build(**kwargs):
    if variational:
      kwargs.setdefault('seed', 3)
    return cls(2, 3, 3, rank=2, padding='VALID', **kwargs)
  output_shape = (5, 5, 3) if transpose else (1, 1, 3)
  return Case(cls.__name__, build, (3, 3, 2), output_shape, variational,
              family=cls.__module__)


def _kernel_bias(cls, variational=True):
  """A layer built on its own weights and `tf.matmul`, as TFP's extensions are.

  Its inputs take at least one batch dimension, as `tf.matmul` needs.
  """
  def build(name=None, make_prior_fn=(
      tfn.util.make_kernel_bias_prior_spike_and_slab), **kwargs):
    # The layer takes its weights ready-made: the builders' arguments
    # (`make_prior_fn`, `dtype`) go to the weights.
    name = name or cls.__name__
    dtype = kwargs.get('dtype', tf.float32)
    if not variational:
      kernel, bias = layers_lib.make_kernel_bias_in_scope(
          name, tfn.util.make_kernel_bias, [4, 3], [3], None, None, 0, dtype)
      return cls(kernel, bias, tf.matmul, name=name, **kwargs)
    kwargs.setdefault('seed', 3)
    posterior, prior = variational_lib.make_posterior_and_prior(
        name, tfn.util.make_kernel_bias_posterior_mvn_diag, make_prior_fn,
        [4, 3], [3], None, None, dtype, kwargs['seed'])
    return cls(posterior, prior, tf.matmul, name=name, **kwargs)
  return Case(cls.__name__, build, (4,), (3,), variational,
              batch_dims=(1, 3), family=cls.__module__)


def _keras(cls, input_shape, output_shape, *args, variational=True,
           **defaults):
  """A built Keras layer: `cls(*args, seed=3)` on `[None, *input_shape]`.

  Dense layers take any number of batch dimensions from one; convolutions,
  as Keras', exactly one. A layer that is not variational gets no seed: two
  builds differ in their random initial weights, as two plain layers do.
  """
  def build(**kwargs):
    if variational:
      kwargs.setdefault('seed', 3)
    layer = cls(*args, **dict(defaults, **kwargs))
    layer.build((None,) + input_shape)
    return layer
  batch_dims = (1, 3) if len(input_shape) == 1 else (1, 1)
  return Case(cls.__name__, build, input_shape, output_shape, variational,
              keras=True, batch_dims=batch_dims, family=cls.__module__)


def _keras_convolution(cls, rank):
  """Inputs of 3**rank positions and 2 channels; a 3**rank filter covers them."""
  return _keras(cls, (3,) * rank + (2,), (1,) * rank + (3,), 3, 3)


KERAS_CASES = [
    _keras(tfpl.DenseFlipout, (4,), (3,), 3),
    _keras(tfpl.DenseReparameterization, (4,), (3,), 3),
    _keras(tfpl.DenseLocalReparameterization, (4,), (3,), 3),
    _keras_convolution(tfpl.Convolution1DFlipout, 1),
    _keras_convolution(tfpl.Convolution2DFlipout, 2),
    _keras_convolution(tfpl.Convolution3DFlipout, 3),
    _keras_convolution(tfpl.Convolution1DReparameterization, 1),
    _keras_convolution(tfpl.Convolution2DReparameterization, 2),
    _keras_convolution(tfpl.Convolution3DReparameterization, 3),
]


def _ensemble(cls, rank=0, variational=True):
  """A rank-1 or BatchEnsemble case of 2 members (4 for a convolution).

  The registry's batches (5 rows, nested 2 x 3, 1 to 4 per dimension) are
  not all multiples of the members: the layers route any batch to members
  in blocks. Their batch is one axis of rows: the axes a dense layer's
  inputs have between the rows and the features (a sequence's steps) share
  their row's member and vectors (tests/test_keras_rank1.py), so a nested
  batch is not a flat one. BatchEnsemble's vectors start random
  (`RandomSign`), so that its members differ.
  """
  defaults = {} if variational else {
      'alpha_initializer': tfpl.RandomSign(), 'gamma_initializer': 'he_normal'}
  if not rank:
    case = _keras(cls, (4,), (3,), 3, variational=variational,
                  ensemble_size=2, **defaults)
  else:
    case = _keras(cls, (3,) * rank + (2,), (1,) * rank + (3,), 3, 3,
                  variational=variational, ensemble_size=4, **defaults)
  agreeing = tfpl.TrainableNormal(mean_initializer='ones')
  return case._replace(batch_dims=(1, 1), teacher=functools.partial(
      case.build, alpha_initializer=agreeing, gamma_initializer=agreeing))


def _rank1_rnn(cls):
  """`tfnx.keras.VariationalRNN` of a 3-unit, 2-member cell, 4 steps of 2."""
  def build(**kwargs):
    kwargs.setdefault('seed', 3)
    layer = tfpl.VariationalRNN(cls(3, ensemble_size=2, **kwargs),
                                dtype=kwargs.get('dtype'))
    layer.build((None, 4, 2))
    return layer
  agreeing = tfpl.TrainableNormal(mean_initializer='ones')
  teacher = functools.partial(build, **{
      name + '_initializer': agreeing for name in (
          'alpha', 'gamma', 'recurrent_alpha', 'recurrent_gamma')})
  return Case(cls.__name__, build, (4, 2), (3,), True, keras=True,
              batch_dims=(1, 1), family=cls.__module__, teacher=teacher)


# Rank-1 Bayesian layers and BatchEnsembles: a shared kernel, per-member
# vectors.
ENSEMBLE_CASES = [
    _ensemble(tfpl.DenseRank1),
    _ensemble(tfpl.Conv1DRank1, 1),
    _ensemble(tfpl.Conv2DRank1, 2),
    _ensemble(tfpl.Conv3DRank1, 3),
    _ensemble(tfpl.DenseBatchEnsemble, variational=False),
    _ensemble(tfpl.Conv1DBatchEnsemble, 1, variational=False),
    _ensemble(tfpl.Conv2DBatchEnsemble, 2, variational=False),
    _ensemble(tfpl.Conv3DBatchEnsemble, 3, variational=False),
    _rank1_rnn(tfpl.LSTMCellRank1),
]



def _keras_rnn(cls):
  """`tfnx.keras.VariationalRNN` of a 3-unit cell over 4 steps of 2 features.

  The kernels' locations start wider than `tfp.layers`' (0.1), whose
  outputs stay near zero through the gates: a teacher cell of this case then
  sets distributed training targets well above the posterior-noise floor.
  """
  def build(**kwargs):
    kwargs.setdefault('seed', 3)
    for kernel in ('kernel', 'recurrent_kernel'):
      kwargs.setdefault(kernel + '_posterior_fn',
                        tfpl.default_mean_field_normal_fn(
                            loc_initializer=keras.initializers.RandomNormal(
                                stddev=0.7)))
    # The RNN casts its inputs and outputs to its own dtype: it takes the
    # cell's.
    layer = tfpl.VariationalRNN(cls(3, **kwargs), dtype=kwargs.get('dtype'))
    layer.build((None, 4, 2))
    return layer
  return Case(cls.__name__, build, (4, 2), (3,), True, keras=True,
              batch_dims=(1, 1), family=cls.__module__)


def _ids_below_5(x: tf.Tensor) -> tf.Tensor:
  # Floats holding whole numbers, as `keras.Input`s feed ids.
  return tf.math.floormod(tf.floor(4. * x), 5.)


# Layers of sequences: recurrent cells and the embedding.
SEQUENCE_CASES = [
    _keras_rnn(tfpl.LSTMCellFlipout),
    _keras_rnn(tfpl.LSTMCellReparameterization),
    _keras_rnn(tfpl.GRUCellFlipout),
    _keras_rnn(tfpl.GRUCellReparameterization),
    _keras(tfpl.EmbeddingReparameterization, (3,), (3, 2), 5, 2)._replace(
        valid_inputs=_ids_below_5),
]

# Layers applying the user's `tf.matmul` to the inputs as given.
KERNEL_BIAS_CASES = [
    _kernel_bias(tfn.KernelBiasLayer, variational=False),
    _kernel_bias(tfn.VariationalReparameterizationKernelBiasLayer),
    _kernel_bias(tfn.VariationalFlipoutKernelBiasLayer),
    _kernel_bias(tfn.VariationalLocalReparameterizationKernelBiasLayer),
]

# The rank-1 layers: a posterior over vectors, not over the kernel, whose
# members are routed by a row's place in its batch.
RANK1_CASES = [
    _dense(tfn.AffineRank1),
    _convolution(tfn.ConvolutionRank1),
    _convolution(tfn.ConvolutionTransposeRank1, transpose=True),
]

MODULE_CASES = [
    _dense(tfn.Affine, variational=False),
    _dense(tfn.AffineVariationalFlipout),
    _dense(tfn.AffineVariationalReparameterization),
    _dense(tfn.AffineVariationalReparameterizationLocal),
    _convolution(tfn.Convolution, variational=False),
    _convolution(tfn.ConvolutionVariationalFlipout),
    _convolution(tfn.ConvolutionVariationalReparameterization),
    _convolution(tfn.ConvolutionTranspose, variational=False,
                 transpose=True),
    _convolution(tfn.ConvolutionTransposeVariationalFlipout, transpose=True),
    _convolution(tfn.ConvolutionTransposeVariationalReparameterization,
                 transpose=True),
    _convolution(tfn.ConvolutionV2, variational=False),
    _convolution(tfn.ConvolutionVariationalFlipoutV2),
    _convolution(tfn.ConvolutionVariationalReparameterizationV2),
] + RANK1_CASES + KERNEL_BIAS_CASES

CASES = MODULE_CASES + KERAS_CASES + SEQUENCE_CASES + ENSEMBLE_CASES


@keras.saving.register_keras_serializable(package='conformance')
def mean_field_posterior(kernel_size, bias_size, dtype=None):
  """A `DenseVariational` posterior: a mean-field normal head on a variable."""
  n = kernel_size + bias_size
  return keras.Sequential([
      tfpl.VariableLayer(2 * n, dtype=dtype, initializer=(
          keras.initializers.RandomNormal(stddev=0.5, seed=1))),
      tfpl.IndependentNormal(n, dtype=dtype)])


@keras.saving.register_keras_serializable(package='conformance')
def standard_normal_prior(kernel_size, bias_size, dtype=None):
  """A `DenseVariational` prior: the standard normal over the weights."""
  n = kernel_size + bias_size
  dtype = dtype or 'float32'
  return tfpl.DistributionLambda(
      lambda _: tfp.distributions.Independent(tfp.distributions.Normal(
          tf.zeros(n, dtype), tf.ones(n, dtype)), 1), dtype=dtype)


@keras.saving.register_keras_serializable(package='conformance')
def normal_from_params(t):
  """A `make_distribution_fn`: location and softplus scale."""
  return tfp.distributions.Normal(t[..., :1], tf.math.softplus(t[..., 1:]))


@keras.saving.register_keras_serializable(package='conformance')
class KernelProvider(keras.layers.Layer):
  """A `VariationalGaussianProcess` kernel: an RBF with a trainable scale."""

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.length_scale = self.add_weight(name='length_scale', shape=(),
                                        initializer='zeros')

  @property
  def kernel(self):
    return tfp.math.psd_kernels.ExponentiatedQuadratic(
        length_scale=tf.nn.softplus(tf.convert_to_tensor(self.length_scale)))


@keras.saving.register_keras_serializable(package='conformance')
class Made(keras.layers.Layer):
  """An `AutoregressiveTransform` MADE: output `i` sees inputs before `i`.

  One masked hidden layer, `[..., event_size] -> [..., event_size, params]`.
  """

  def __init__(self, event_size, hidden_units=8, params=2, **kwargs):
    super().__init__(**kwargs)
    self.event_size = event_size
    self.hidden_units = hidden_units
    self.params = params

  def build(self, input_shape):
    d, h = self.event_size, self.hidden_units
    inputs = np.arange(1, d + 1)
    hidden = np.arange(h) % max(d - 1, 1) + 1
    self._in_mask = (hidden[None, :] >= inputs[:, None]).astype(self.variable_dtype)
    self._out_mask = (inputs[None, :] > hidden[:, None]).astype(self.variable_dtype)
    self.w1 = self.add_weight(shape=(d, h), initializer=(
        keras.initializers.GlorotUniform(seed=1)))
    self.b1 = self.add_weight(shape=(h,), initializer='zeros')
    self.w2 = self.add_weight(shape=(h, d, self.params), initializer=(
        keras.initializers.RandomNormal(stddev=0.3, seed=2)))
    self.b2 = self.add_weight(shape=(d, self.params), initializer=(
        keras.initializers.RandomNormal(stddev=0.3, seed=3)))

  def call(self, x):
    hidden = tf.nn.relu(tf.matmul(x, self.w1 * self._in_mask) + self.b1)
    kernel = self.w2 * self._out_mask[:, :, None]
    return tf.einsum('...h,hdp->...dp', hidden, kernel) + self.b2

  def get_config(self):
    return dict(super().get_config(), event_size=self.event_size,
                hidden_units=self.hidden_units, params=self.params)


class DistributionCase(NamedTuple):
  """How to build and feed a layer of the distribution family.

  Attributes:
    name: the case's id in test names.
    build: `(**kwargs) -> layer` (kwargs go to its constructor).
    input_shape: one example's input shape.
    prepare: `(inputs) -> layer inputs`, e.g. a distribution; `None` for
      the inputs themselves.
    family: the module defining the layer class, as `Case.family`.
  """
  name: str
  build: Callable[..., keras.layers.Layer]
  input_shape: Tuple[int, ...]
  prepare: Optional[Callable[[Any], Any]] = None
  family: str = ''


def _distribution_case(cls, input_shape, *args, prepare=None, seeded=True):
  def build(**kwargs):
    if seeded:
      kwargs.setdefault('seed', 3)
    return cls(*args, **kwargs)
  return DistributionCase(cls.__name__, build, input_shape, prepare,
                          cls.__module__)


def _independent_normal_of(x):
  distribution = tfpl.IndependentNormal.new(x, [2])
  return tfpl.DistributionTensor(distribution, distribution.mean())


def _gaussian_process(**kwargs):
  kwargs.setdefault('seed', 3)
  provider = KernelProvider(dtype=kwargs.get('dtype'))
  return tfpl.VariationalGaussianProcess(3, provider, **kwargs)


def _autoregressive_transform(**kwargs):
  kwargs.setdefault('seed', 3)
  return tfpl.AutoregressiveTransform(Made(2, dtype=kwargs.get('dtype')),
                                      **kwargs)


DISTRIBUTION_CASES = [
    _distribution_case(tfpl.DenseVariational, (4,), 3, mean_field_posterior,
                       standard_normal_prior),
    _distribution_case(tfpl.VariableLayer, (4,), 3, seeded=False),
    _distribution_case(tfpl.DistributionLambda, (2,), normal_from_params),
    _distribution_case(tfpl.IndependentNormal, (6,), 3),
    _distribution_case(tfpl.IndependentLogistic, (6,), 3),
    _distribution_case(tfpl.IndependentBernoulli, (3,), 3),
    _distribution_case(tfpl.IndependentPoisson, (3,), 3),
    _distribution_case(tfpl.MultivariateNormalTriL, (5,), 2),
    _distribution_case(tfpl.OneHotCategorical, (3,), 3),
    _distribution_case(tfpl.CategoricalMixtureOfOneHotCategorical, (8,), 3,
                       2),
    _distribution_case(tfpl.MixtureSameFamily, (6,), 2,
                       tfpl.IndependentNormal(1)),
    _distribution_case(tfpl.MixtureNormal, (6,), 2),
    _distribution_case(tfpl.MixtureLogistic, (6,), 2),
    DistributionCase('VariationalGaussianProcess', _gaussian_process, (4,),
                     family=tfpl.VariationalGaussianProcess.__module__),
    _distribution_case(
        tfpl.KLDivergenceAddLoss, (4,), standard_normal_prior(2, 0),
        prepare=_independent_normal_of, seeded=False),
    DistributionCase('AutoregressiveTransform', _autoregressive_transform,
                     (4,), _independent_normal_of,
                     tfpl.AutoregressiveTransform.__module__),
]


def call_distribution_layer(case: DistributionCase, layer, x, seed=None):
  """Calls a distribution-family layer on `x`; returns its value tensor."""
  if case.prepare is not None:
    x = case.prepare(x)
  if seed is not None and 'seed' in inspect.signature(layer.call).parameters:
    return tf.convert_to_tensor(layer(x, seed=seed))
  return tf.convert_to_tensor(layer(x))


def distribution_inputs(case: DistributionCase, batch=(5,), dtype='float32'):
  """Standard normal inputs for `case`."""
  return tf.cast(tf.random.stateless_normal(batch + case.input_shape,
                                            seed=(0, 1)), dtype)
VARIATIONAL = [c for c in CASES if c.variational]
# Layers whose outputs are one linear map of normal weights (a rank-1
# layer's are products of its vectors: tests/test_rank1.py and
# tests/test_rank1_layers.py pin their moments).
LINEAR_VARIATIONAL = [c for c in VARIATIONAL
                      if c not in SEQUENCE_CASES + RANK1_CASES
                      + ENSEMBLE_CASES]
MODULE_VARIATIONAL = [c for c in VARIATIONAL if not c.keras]
# Those with a posterior over `[kernel, bias]`.
KERNEL_BIAS_VARIATIONAL = [c for c in MODULE_VARIATIONAL
                           if c not in RANK1_CASES]
DENSE_VARIATIONAL = [c for c in MODULE_VARIATIONAL
                     if c.name.startswith('AffineVariational')]
KERAS_DENSE = [c for c in KERAS_CASES if len(c.input_shape) == 1]


def ids(cases):
  return [c.name for c in cases]


# The inner loop's case of each family where a test's cases hold it: between
# them they run the three estimators (flipout, reparameterization, local
# reparameterization) through every family of layers.
_REPRESENTATIVES = frozenset({
    'AffineVariationalFlipout',
    'ConvolutionVariationalReparameterization',
    'ConvolutionTransposeVariationalFlipout',
    'ConvolutionVariationalReparameterizationV2',
    'VariationalLocalReparameterizationKernelBiasLayer',
    'DenseFlipout',
    'Convolution2DReparameterization',
    'GRUCellReparameterization',
    'MixtureSameFamily',
})


def params(case_list, marks: Optional[Mapping[str, Any]] = None, *,
           inner_loop: str = 'family') -> list:
  """`case_list` as pytest parameters, one case per family in the inner loop.

  A property holds for every case in CI's full run; `pytest -m "not slow"`
  checks it on one case of each family (the layers one module defines,
  which share their code), and marks the family's other cases slow.

  Args:
    case_list: `Case`s or `DistributionCase`s.
    marks: an extra pytest mark by case name, e.g. an expected failure.
    inner_loop: `'family'` keeps a case of each family in the inner loop;
      `'library'`, for the slow machinery every family goes through the same
      way (XLA compilation, SavedModel export), one case of `tfnx` and one of
      `tfnx.keras`.

  Returns:
    One `pytest.param` per case, with the case's name as its id.
  """
  group = {'family': lambda c: c.family, 'library': lambda c: c.keras}[
      inner_loop]
  marks = marks or {}
  chosen = {}
  for case in sorted(case_list, key=lambda c: c.name not in _REPRESENTATIVES):
    chosen.setdefault(group(case), case.name)
  return [pytest.param(case, id=case.name, marks=(
      [marks[case.name]] if case.name in marks else []) + (
          [] if chosen[group(case)] == case.name else [pytest.mark.slow]))
          for case in case_list]


def call(layer, x, seed=(1, 2)):
  """Calls a layer, with `seed` where it takes one."""
  if isinstance(layer, tfn.VariationalLayer) or (
      isinstance(layer, keras.layers.Layer)
      and 'seed' in inspect.signature(layer.call).parameters):
    return layer(x, seed=seed)
  return layer(x)


def divergence(layer) -> tf.Tensor:
  """The KL terms a variational layer's last call added, summed."""
  if isinstance(layer, keras.layers.Layer):
    return tf.add_n(layer.losses)
  return layer.extra_loss


def linear_map(layer):
  """The `tfnx.linear_maps.LinearMap` a variational layer applies."""
  return layer.linear_map


def inputs(case: Case, batch: Tuple[int, ...] = (5,), seed=(0, 1),
           stddev: float = 1.):
  """Inputs for `case` with the given batch shape, from normals of `stddev`."""
  return case.valid_inputs(stddev * tf.random.stateless_normal(
      batch + case.input_shape, seed=seed))
