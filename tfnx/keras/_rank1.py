"""Rank-1 Bayesian and BatchEnsemble Keras layers (edward2's names, on Keras 3).

`DenseRank1`, `Conv{1,2,3}DRank1` and their BatchEnsemble siblings share one
deterministic kernel among `ensemble_size` members; member `k` multiplies
its inputs by `alpha_k` and its outputs by `gamma_k` and adds its own bias
(`tfnx.rank1`, the math written once, through `tfnx._pipeline.sample_rank1`).
In a rank-1 layer `alpha` and `gamma` have posteriors (`TrainableNormal`,
`TrainableCauchy`) and each row's are an exact draw from them, rows of a
member uncorrelated (`tfnx.rank1.factor_rows`); their KL to the prior
(`NormalKLDivergence`) is in `losses`, as the regularizer of the vectors'
weights (`_divergence_terms`). In a BatchEnsemble layer they are point
estimates (any Keras initializer).

Rows are routed to members in blocks (`tfnx.rank1.member_of_rows`): tile the
inputs with `ensemble_inputs` to give every member every example; an untiled
batch, as `model.fit` passes it, gives each member its own part of it.
"""

import functools
import math
from typing import Any, Optional, Sequence, Tuple

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _checks as checks
from tfnx import _pipeline
from tfnx import initializers as init_lib
from tfnx import losses as losses_lib
from tfnx import linear_maps
from tfnx import seeds as seeds_lib
from tfnx.keras import _call_seeds as call_seeds
from tfnx.keras import _divergence_terms as divergence_terms
from tfnx.keras import _shapes as shapes
from tfnx.keras import _variational as variational
from tfnx.keras._export import export

tfd = tfp.distributions

__all__ = ['RandomSign', 'TrainableNormal', 'TrainableCauchy',
           'NormalKLDivergence', 'ensemble_inputs', 'DenseRank1',
           'DenseBatchEnsemble', 'Conv1DRank1', 'Conv2DRank1', 'Conv3DRank1',
           'Conv1DBatchEnsemble', 'Conv2DBatchEnsemble',
           'Conv3DBatchEnsemble', 'EnsembleLayer', 'OBJECT_KEYS',
           'vectors_initializer', 'vectors_regularizer']


@export
class RandomSign(keras.initializers.Initializer):
  """An initializer of random signs: +1 with `probability`, else -1.

  Args:
    probability: the probability of +1 (edward2's `probs`); 1 gives ones.
    seed: a Python int, or `None` (the layer gives each weight its own).
  """

  def __init__(self, probability: float = 0.5, seed: Optional[int] = None):
    if not 0. <= probability <= 1.:
      raise ValueError('RandomSign: expected a probability in [0, 1]; '
                       f'received {probability!r}.')
    self.probability = float(probability)
    self.seed = seed

  def __call__(self, shape: Sequence[int], dtype: Any = None) -> tf.Tensor:
    # The tf.Module layers' initializer, drawn in float32 whatever the dtype.
    signs = init_lib.random_sign(self.probability, self.seed)(shape)
    return tf.cast(signs, dtype or keras.backend.floatx())

  def get_config(self) -> dict:
    """The constructor's arguments."""
    return {'probability': self.probability, 'seed': self.seed}


# The defaults of `examples/rank1.py`'s measurement (docs/rank1.md): an
# initial posterior scale of 0.03, means at random signs, prior N(1, 0.1).
_INITIAL_UNTRANSFORMED_STDDEV = math.log(math.expm1(0.03))


class _TrainableLocationScale:
  """A posterior over a layer's vectors: `family(loc, softplus(u))` elementwise.

  Args:
    mean_initializer: initializes `loc`; default `RandomSign(0.5)`, each
      member's vectors near +1 or -1 (Dusenberry et al., 2020).
    stddev_initializer: initializes the unconstrained `u` whose softplus is
      the scale; default `RandomNormal(softplus^-1(0.03), 0.1)`, a scale
      near 0.03.
    mean_regularizer, mean_constraint: Keras' for `loc`.
  """

  family = None

  def __init__(self, mean_initializer: Any = None,
               stddev_initializer: Any = None,
               mean_regularizer: Any = None, mean_constraint: Any = None):
    self.mean_initializer = keras.initializers.get(
        mean_initializer or RandomSign(0.5))
    self.stddev_initializer = keras.initializers.get(
        stddev_initializer or keras.initializers.RandomNormal(
            mean=_INITIAL_UNTRANSFORMED_STDDEV, stddev=0.1))
    self.mean_regularizer = keras.regularizers.get(mean_regularizer)
    self.mean_constraint = keras.constraints.get(mean_constraint)

  def build(self, layer: 'EnsembleLayer', name: str,
            shape: Sequence[int]) -> tfd.Distribution:
    """Creates the posterior's weights on `layer`.

    Args:
      layer: the layer that owns the weights.
      name: the vectors' name (`'alpha'`, `'gamma'`).
      shape: `[ensemble_size, channels]`.

    Returns:
      The distribution, batch shape `shape`, over the weights.
    """
    loc = layer.add_vector(f'{name}_mean', shape, self.mean_initializer,
                           self.mean_regularizer, self.mean_constraint)
    untransformed = layer.add_vector(f'{name}_stddev', shape,
                                     self.stddev_initializer)
    scale = tfp.util.DeferredTensor(untransformed, tf.nn.softplus)
    return self.family(loc=loc, scale=scale)

  def get_config(self) -> dict:
    """The constructor's arguments, Keras-serialized."""
    serialize = keras.saving.serialize_keras_object
    return {'mean_initializer': serialize(self.mean_initializer),
            'stddev_initializer': serialize(self.stddev_initializer),
            'mean_regularizer': serialize(self.mean_regularizer),
            'mean_constraint': serialize(self.mean_constraint)}

  @classmethod
  def from_config(cls, config: dict) -> '_TrainableLocationScale':
    """Rebuilds the posterior builder from `get_config()`."""
    return cls(**{key: keras.saving.deserialize_keras_object(value)
                  for key, value in config.items()})


@export
class TrainableNormal(_TrainableLocationScale):
  __doc__ = _TrainableLocationScale.__doc__.replace('family', 'Normal', 1)
  family = tfd.Normal


@export
class TrainableCauchy(_TrainableLocationScale):
  __doc__ = _TrainableLocationScale.__doc__.replace('family', 'Cauchy', 1)
  family = tfd.Cauchy


@export
class NormalKLDivergence:
  """The KL of a layer's vectors to a normal prior `N(mean, stddev)`, per example.

  `kl_weight * KL(q || N(mean, stddev)) / num_examples`, summed over every
  member's vectors: the closed form where TFP registers one (a normal
  posterior), else a one-sample estimate `log q(v) - log p(v)`. Give
  `num_examples` (the training set's size) for `model.fit`, which adds
  `losses` to the batch's mean loss; without it the sum is unscaled, as in
  edward2, for loops that divide by the data set's size themselves.

  Args:
    mean: the prior's mean; 1 centres each member on the shared kernel.
    stddev: the prior's standard deviation.
    num_examples: the number of training examples, or `None`.
    kl_weight: the KL's weight.
  """

  def __init__(self, mean: float = 1., stddev: float = 0.1,
               num_examples: Optional[int] = None, kl_weight: float = 1.):
    if not stddev > 0:
      raise ValueError('NormalKLDivergence: expected a positive `stddev`; '
                       f'received {stddev!r}.')
    if num_examples is not None and (
        isinstance(num_examples, bool) or not isinstance(num_examples, int)
        or num_examples < 1):
      raise ValueError('NormalKLDivergence: expected `num_examples` to be a '
                       f'positive int or None; received {num_examples!r}.')
    self.mean = float(mean)
    self.stddev = float(stddev)
    self.num_examples = num_examples
    self.kl_weight = float(kl_weight)

  def prior(self, shape: Sequence[int], dtype: tf.DType) -> tfd.Distribution:
    """The prior over vectors of `shape`, elementwise `N(mean, stddev)`."""
    return tfd.Independent(
        tfd.Normal(tf.fill(shape, tf.constant(self.mean, dtype)),
                   tf.constant(self.stddev, dtype)),
        reinterpreted_batch_ndims=len(shape))

  def __call__(self, posterior: tfd.Distribution, prior: tfd.Distribution,
               sample: Any) -> tf.Tensor:
    """The scaled divergence of `posterior` (over `[K, channels]`)."""
    posterior = tfd.Independent(
        posterior, reinterpreted_batch_ndims=posterior.batch_shape.rank)
    try:
      divergence = tfd.kl_divergence(posterior, prior)
    except NotImplementedError:
      divergence = losses_lib.kl_divergence_monte_carlo(posterior, prior,
                                                        sample)
    scale = self.kl_weight / (self.num_examples or 1)
    return divergence * tf.constant(scale, divergence.dtype)

  def get_config(self) -> dict:
    """The constructor's arguments."""
    return {'mean': self.mean, 'stddev': self.stddev,
            'num_examples': self.num_examples, 'kl_weight': self.kl_weight}

  @classmethod
  def from_config(cls, config: dict) -> 'NormalKLDivergence':
    """Rebuilds the divergence from `get_config()`."""
    return cls(**config)


_POSTERIORS = {'trainable_normal': TrainableNormal,
               'trainable_cauchy': TrainableCauchy}


def vectors_initializer(initializer: Any) -> Any:
  """A vectors' initializer argument as the layer keeps it.

  Args:
    initializer: `'trainable_normal'`, `'trainable_cauchy'`, a
      `TrainableNormal` or `TrainableCauchy`, or a Keras initializer.

  Returns:
    A posterior builder, or a Keras initializer.
  """
  if isinstance(initializer, str) and initializer in _POSTERIORS:
    return _POSTERIORS[initializer]()
  if isinstance(initializer, _TrainableLocationScale):
    return initializer
  return keras.initializers.get(initializer)


def vectors_regularizer(regularizer: Any) -> Any:
  """A vectors' regularizer argument as the layer keeps it.

  Args:
    regularizer: `'normal_kl_divergence'`, a `NormalKLDivergence`, a Keras
      regularizer or `None`.

  Returns:
    A `NormalKLDivergence`, a Keras regularizer or `None`.
  """
  if regularizer == 'normal_kl_divergence':
    return NormalKLDivergence()
  if isinstance(regularizer, NormalKLDivergence):
    return regularizer
  return keras.regularizers.get(regularizer)


def ensemble_inputs(inputs: Any, ensemble_size: int) -> tf.Tensor:
  """`inputs` tiled `ensemble_size` times, member-major: every member sees every row.

  Rows `[k * B, (k + 1) * B)` of the result are the `B` input rows, for
  member `k` of every rank-1 or BatchEnsemble layer (`tfnx.rank1`). Tile the
  labels the same way to train each member on every example.

  Args:
    inputs: a tensor or array whose first axis is the batch.
    ensemble_size: the number of members, a positive int.

  Returns:
    `[ensemble_size * B, ...]`.
  """
  size = checks.check_size('ensemble_inputs', 'ensemble_size', ensemble_size)
  inputs = tf.convert_to_tensor(inputs)
  multiples = tf.concat([[size], tf.ones([inputs.shape.rank - 1], tf.int32)],
                        axis=0)
  return tf.tile(inputs, multiples)


export(ensemble_inputs, serializable=False)


# The rank-1 layers' constructor arguments that are Keras objects.
OBJECT_KEYS = (
    'alpha_initializer', 'gamma_initializer', 'kernel_initializer',
    'bias_initializer', 'alpha_regularizer', 'gamma_regularizer',
    'kernel_regularizer', 'bias_regularizer', 'alpha_constraint',
    'gamma_constraint', 'kernel_constraint', 'bias_constraint')


class EnsembleLayer(keras.layers.Layer):
  """The rank-1 and BatchEnsemble layers' base: weights, seeds, call, KL, config.

  Args:
    activation: a Keras activation or its name; `None` for the identity.
    use_bias: whether each member adds its own bias.
    alpha_initializer: the input-side vectors: `'trainable_normal'`,
      `'trainable_cauchy'` or a `TrainableNormal`/`TrainableCauchy` for a
      posterior (rank-1), or any Keras initializer for a point
      (BatchEnsemble).
    gamma_initializer: the output-side vectors, as `alpha_initializer`.
    kernel_initializer: the shared kernel's Keras initializer.
    bias_initializer: the members' biases' Keras initializer.
    alpha_regularizer: for a posterior, `'normal_kl_divergence'` or a
      `NormalKLDivergence` (its KL goes to `losses`), or `None`; for a
      point, a Keras regularizer or `None`.
    gamma_regularizer: as `alpha_regularizer`.
    kernel_regularizer, bias_regularizer, activity_regularizer: Keras'.
    alpha_constraint, gamma_constraint: Keras constraints of point vectors.
    kernel_constraint, bias_constraint: Keras'.
    use_additive_perturbation: add the vectors (`apply(x + alpha, W) +
      gamma`) instead of multiplying.
    min_perturbation_value, max_perturbation_value: drawn vectors are
      clipped to this range (points are not).
    ensemble_size: the number of members.
    seed: a Python int seeding the calls' draws and the unseeded random
      initializers; `None` draws one from Python's `random`.
    **kwargs: Keras layer arguments (`name`, `dtype`).
  """

  # The constructor's arguments that `get_config` serializes as objects.
  _object_keys = OBJECT_KEYS

  def __init__(self, activation: Any = None, use_bias: bool = True,
               alpha_initializer: Any = 'trainable_normal',
               gamma_initializer: Any = 'trainable_normal',
               kernel_initializer: Any = 'glorot_uniform',
               bias_initializer: Any = 'zeros',
               alpha_regularizer: Any = 'normal_kl_divergence',
               gamma_regularizer: Any = 'normal_kl_divergence',
               kernel_regularizer: Any = None, bias_regularizer: Any = None,
               activity_regularizer: Any = None,
               alpha_constraint: Any = None, gamma_constraint: Any = None,
               kernel_constraint: Any = None, bias_constraint: Any = None,
               use_additive_perturbation: bool = False,
               min_perturbation_value: float = -10.,
               max_perturbation_value: float = 10.,
               ensemble_size: int = 4, seed: Optional[int] = None,
               **kwargs):
    super().__init__(activity_regularizer=activity_regularizer, **kwargs)
    variational.check_dtype_policy(self)
    self.ensemble_size = checks.check_size(self.name, 'ensemble_size',
                                           ensemble_size)
    self.activation = keras.activations.get(activation)
    self.use_bias = bool(use_bias)
    self.alpha_initializer = vectors_initializer(alpha_initializer)
    self.gamma_initializer = vectors_initializer(gamma_initializer)
    self.kernel_initializer = keras.initializers.get(kernel_initializer)
    self.bias_initializer = keras.initializers.get(bias_initializer)
    self.alpha_regularizer = vectors_regularizer(alpha_regularizer)
    self.gamma_regularizer = vectors_regularizer(gamma_regularizer)
    self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
    self.bias_regularizer = keras.regularizers.get(bias_regularizer)
    self.alpha_constraint = keras.constraints.get(alpha_constraint)
    self.gamma_constraint = keras.constraints.get(gamma_constraint)
    self.kernel_constraint = keras.constraints.get(kernel_constraint)
    self.bias_constraint = keras.constraints.get(bias_constraint)
    self.use_additive_perturbation = bool(use_additive_perturbation)
    if not min_perturbation_value < max_perturbation_value:
      raise ValueError(
          f'{self.name}: expected min_perturbation_value < '
          f'max_perturbation_value; received {min_perturbation_value!r} and '
          f'{max_perturbation_value!r}.')
    self.min_perturbation_value = float(min_perturbation_value)
    self.max_perturbation_value = float(max_perturbation_value)
    self.seed = seed
    self._seed_generator = call_seeds.make_seed_generator(self.name, seed)
    # As an attribute its state is in `tf.train.Checkpoint`s.
    self._seed_state = self._seed_generator.state.value
    self._linear_map: Optional[linear_maps.LinearMap] = None
    self._last_call = _pipeline.KeptCall()
    self.kernel = None
    self.bias = None
    self._alpha = None
    self._gamma = None
    self._parts_built: Tuple[_pipeline.Part, ...] = ()

  @property
  def alpha(self) -> Any:
    """The input-side vectors `[ensemble_size, in]`: a posterior or a weight."""
    return self._alpha

  @property
  def gamma(self) -> Any:
    """The output-side vectors `[ensemble_size, out]`: a posterior or a weight."""
    return self._gamma

  def add_vector(self, name: str, shape: Sequence[int], initializer: Any,
                 regularizer: Any = None, constraint: Any = None
                 ) -> tf.Variable:
    """Adds one of the layer's weights; returns its backing `tf.Variable`.

    An unseeded random initializer is given a seed derived from the layer's
    `seed` and the weight's name (`_call_seeds.seeded_initializer`).

    Args:
      name: the weight's name.
      shape: its shape.
      initializer, regularizer, constraint: Keras'.

    Returns:
      The variable, which TFP distributions keep by reference.
    """
    weight = self.add_weight(
        name=name, shape=tuple(shape),
        initializer=call_seeds.seeded_initializer(initializer, self.seed,
                                                  name),
        regularizer=regularizer, constraint=constraint,
        dtype=self.variable_dtype, autocast=False)
    return weight.value

  def _factor(self, name: str, initializer: Any, regularizer: Any,
              constraint: Any, channels: int) -> Tuple[Any, _pipeline.Part]:
    """Builds `alpha` or `gamma`: a posterior with its KL part, or a point."""
    shape = [self.ensemble_size, channels]
    if isinstance(initializer, _TrainableLocationScale):
      if regularizer is not None and not isinstance(regularizer,
                                                    NormalKLDivergence):
        raise TypeError(
            f'{self.name}: expected `{name}_regularizer` to be a '
            'NormalKLDivergence (or None) for a posterior over the vectors; '
            f'received {regularizer!r}.')
      posterior = initializer.build(self, name, shape)
      prior = None if regularizer is None else regularizer.prior(
          shape, tf.as_dtype(self.variable_dtype))
      return posterior, _pipeline.Part(posterior, prior, regularizer,
                                       tfd.Distribution.sample)
    if isinstance(regularizer, NormalKLDivergence):
      raise TypeError(
          f'{self.name}: expected a Keras regularizer for point vectors '
          f'`{name}` (a Keras `{name}_initializer`); received a '
          'NormalKLDivergence, which needs a posterior (`trainable_normal`).')
    weight = self.add_vector(name, shape, initializer, regularizer,
                             constraint)
    return weight, _pipeline.Part(weight, None, None, tfd.Distribution.sample)

  def build(self, input_shape) -> None:
    """Creates the shared kernel, the members' vectors and biases."""
    input_shape = tuple(input_shape)
    with tf.init_scope():
      self._parts_built = self._build_weights(input_shape)
    self.input_spec = self._make_input_spec(input_shape)
    divergence_terms.carry(
        self, [functools.partial(self._divergence, index)
               for index, part in enumerate(self._parts_built)
               if _pipeline.has_divergence(part)])

  def _build_weights(self, input_shape: Tuple) -> Tuple[_pipeline.Part, ...]:
    """Creates the weights; returns the vectors' `Part`s, as calls use them."""
    in_channels = self._in_channels(input_shape)
    out_channels = self._out_channels()
    self.kernel = self.add_vector(
        'kernel', self._kernel_shape(in_channels), self.kernel_initializer,
        self.kernel_regularizer, self.kernel_constraint)
    if self.use_bias:
      self.bias = self.add_vector(
          'bias', (self.ensemble_size, out_channels), self.bias_initializer,
          self.bias_regularizer, self.bias_constraint)
    self._alpha, alpha_part = self._factor(
        'alpha', self.alpha_initializer, self.alpha_regularizer,
        self.alpha_constraint, in_channels)
    self._gamma, gamma_part = self._factor(
        'gamma', self.gamma_initializer, self.gamma_regularizer,
        self.gamma_constraint, out_channels)
    return alpha_part, gamma_part

  def _divergence(self, index: int) -> tf.Tensor:
    parts = self._parts_built
    return _pipeline.divergence(self._last_call.record(parts), parts, index,
                                self.compute_dtype)

  def call(self, inputs, seed: Optional[seeds_lib.SeedLike] = None
           ) -> tf.Tensor:
    """Each row's outputs under its member, its vectors drawn from `seed`.

    Args:
      inputs: rows in member blocks (see `tfnx.rank1`).
      seed: `None` for the next seed of the layer's generator; or an int, a
        pair or an `int32` tensor of shape `[2]`, making the call a pure
        function of the weights, `inputs` and `seed`.

    Returns:
      The outputs.
    """
    x = checks.convert_inputs(inputs, tf.as_dtype(self.compute_dtype),
                              self.name)
    outputs, record = _pipeline.sample_rank1(
        x, call_seeds.call_seed(self._seed_generator, seed, self),
        self._linear_map, self._layout(), self._ensemble(), self._parts_built)
    self._last_call.keep(record)
    return self.activation(outputs)

  def _ensemble(self) -> _pipeline.Ensemble:
    return _pipeline.Ensemble(
        tf.convert_to_tensor(self.kernel),
        None if self.bias is None else tf.convert_to_tensor(self.bias),
        self.ensemble_size, self.use_additive_perturbation,
        (self.min_perturbation_value, self.max_perturbation_value))

  def _layout(self) -> _pipeline.Layout:
    return _pipeline.Layout(self._to_map_layout, self._from_map_layout)

  def get_config(self) -> dict:
    """The constructor's arguments, Keras-serialized."""
    serialize = keras.saving.serialize_keras_object
    config = super().get_config()
    config.update(self._geometry_config())
    config.update({
        'activation': keras.activations.serialize(self.activation),
        'use_bias': self.use_bias,
        'use_additive_perturbation': self.use_additive_perturbation,
        'min_perturbation_value': self.min_perturbation_value,
        'max_perturbation_value': self.max_perturbation_value,
        'ensemble_size': self.ensemble_size, 'seed': self.seed})
    for key in self._object_keys:
      config[key] = serialize(getattr(self, key))
    return config

  @classmethod
  def from_config(cls, config: dict) -> 'EnsembleLayer':
    """Rebuilds a layer from `get_config()`."""
    config = dict(config)
    for key in cls._object_keys:
      config[key] = keras.saving.deserialize_keras_object(config[key])
    return cls(**config)



class _DenseEnsemble(shapes.DenseShapes, EnsembleLayer):
  """The dense family: `[rows, ..., in]` to `[rows, ..., units]`."""

  def __init__(self, units: int, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self._init_dense(units)


class _ConvEnsemble(shapes.ConvolutionShapes, EnsembleLayer):
  """The convolution family, rows on the first axis."""

  def __init__(self, filters: int, kernel_size: Any, strides: Any = 1,
               padding: str = 'valid', data_format: str = 'channels_last',
               dilation_rate: Any = 1, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self._init_convolution(filters, kernel_size, strides, padding,
                           data_format, dilation_rate)


_BATCH_ENSEMBLE_DEFAULTS = {
    'alpha_initializer': RandomSign(0.5), 'gamma_initializer': RandomSign(0.5),
    'alpha_regularizer': None, 'gamma_regularizer': None}


def _batch_ensemble(cls: type) -> type:
  """`cls` with point vectors by default: BatchEnsemble (Wen et al., 2020)."""

  def __init__(self, *args, **kwargs):
    for key, value in _BATCH_ENSEMBLE_DEFAULTS.items():
      kwargs.setdefault(key, value)
    cls.__init__(self, *args, **kwargs)

  return __init__


_RANK1_DOC = """{what} rank-1 Bayesian layer (Dusenberry et al., 2020).

  `ensemble_size` members share one kernel `W`; member `k`'s outputs are
  `activation(gamma_k * apply(x * alpha_k, W) + bias_k)`, with `alpha_k` and
  `gamma_k` drawn for each row from their posterior (default
  `TrainableNormal`: near +1 or -1, small scale) and their KL to the prior
  (default `NormalKLDivergence()`: `N(1, 0.1)`; give it `num_examples` for
  `model.fit`) in `losses`. Row `i` of `N` belongs to member
  `(i * ensemble_size) // N`; `ensemble_inputs` tiles inputs so that every
  member sees every row.

  Args:
{args}    **kwargs: those of every rank-1 layer, documented on its base
      (`tfnx.keras._rank1.EnsembleLayer`): the vectors' initializers,
      regularizers and constraints, `use_additive_perturbation`, the
      perturbation bounds, `ensemble_size`, `seed`, and Keras' own.
"""

_BATCH_ENSEMBLE_DOC = """{what} BatchEnsemble layer (Wen et al., 2020).

  `ensemble_size` members share one kernel `W`; member `k`'s outputs are
  `activation(gamma_k * apply(x * alpha_k, W) + bias_k)` with point vectors
  `alpha_k`, `gamma_k` (default initializer `RandomSign(0.5)`, so members
  differ from the start; edward2's default is `'ones'`): exactly
  `ensemble_size` layers with kernels
  `diag(alpha_k) W diag(gamma_k)`. Row `i` of `N` belongs to member
  `(i * ensemble_size) // N`; `ensemble_inputs` tiles inputs so that every
  member sees every row.

  Args:
{args}    **kwargs: as for `DenseRank1`.
"""

_DENSE_ARGS = '    units: the size of the outputs\' last axis.\n'
_CONV_ARGS = """    filters: the number of output channels.
    kernel_size: an int or rank ints, the convolution window.
    strides: an int or rank ints.
    padding: `'valid'` or `'same'`.
    data_format: `'channels_last'` or `'channels_first'`.
    dilation_rate: an int or rank ints.
"""


@export
class DenseRank1(_DenseEnsemble):
  __doc__ = _RANK1_DOC.format(what='A dense', args=_DENSE_ARGS)


@export
class DenseBatchEnsemble(_DenseEnsemble):
  __doc__ = _BATCH_ENSEMBLE_DOC.format(what='A dense', args=_DENSE_ARGS)
  __init__ = _batch_ensemble(_DenseEnsemble)


def _conv_classes(rank: int) -> Tuple[type, type]:
  what = f'A {rank}-D convolution'
  rank1 = type(f'Conv{rank}DRank1', (_ConvEnsemble,), {
      '__doc__': _RANK1_DOC.format(what=what, args=_CONV_ARGS),
      '_rank': rank, '__module__': __name__})
  batch = type(f'Conv{rank}DBatchEnsemble', (_ConvEnsemble,), {
      '__doc__': _BATCH_ENSEMBLE_DOC.format(what=what, args=_CONV_ARGS),
      '_rank': rank, '__module__': __name__,
      '__init__': _batch_ensemble(_ConvEnsemble)})
  return export(rank1), export(batch)


Conv1DRank1, Conv1DBatchEnsemble = _conv_classes(1)
Conv2DRank1, Conv2DBatchEnsemble = _conv_classes(2)
Conv3DRank1, Conv3DBatchEnsemble = _conv_classes(3)
