"""`VariationalLayer`: a layer with a posterior over its kernel and bias.

The base class owns everything the variational layers share: the posterior
and prior, the layer's seed stream, and the call, running the pipeline it
shares with `tfnx.keras` (`tfnx._pipeline`) as one `tf.function` (inline
when a caller's function is being traced), whose KL terms `losses` computes
when read. A concrete layer only chooses an estimator (`tfnx.estimators`),
passes its linear map (`apply_kernel_fn`) and says how its inputs reach that
map's layout. TFP's extension points for layers of one's own are here too:
the `Variational*KernelBiasLayer`s.
"""

from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _pipeline
from tfnx import estimators as estimators_lib
from tfnx import initializers as init_lib
from tfnx import _checks as checks
from tfnx import _layers as layers_lib
from tfnx import linear_maps
from tfnx import losses as losses_lib
from tfnx import seeds as seeds_lib
from tfnx.util import _weights as weights_lib

tfd = tfp.distributions

__all__ = ['VariationalLayer', 'VariationalReparameterizationKernelBiasLayer',
           'VariationalFlipoutKernelBiasLayer',
           'VariationalLocalReparameterizationKernelBiasLayer',
           'make_posterior_and_prior']

DivergenceFn = losses_lib.Divergence
ApplyKernelFn = Union[linear_maps.LinearMap, Callable[[tf.Tensor, tf.Tensor],
                                                      tf.Tensor]]


def make_posterior_and_prior(
    name: str,
    make_posterior_fn: Callable,
    make_prior_fn: Callable,
    kernel_shape: Sequence[int],
    bias_shape: Sequence[int],
    kernel_initializer: Optional[Callable],
    bias_initializer: Optional[Callable],
    dtype: tf.DType,
    seed: Optional[seeds_lib.SeedLike]) -> Tuple[tfd.Distribution,
                                                tfd.Distribution]:
  """Builds a layer's posterior and prior inside its name scope.

  Variables are named `<name>/<part>` (e.g. `<name>/posterior_kernel_loc`).
  When the layer has a `seed` and no kernel initializer, the default
  initializer is seeded from it, so a seeded layer is reproducible from
  construction on.

  Args:
    name: the layer's name.
    make_posterior_fn: a `tfnx.util` builder signature function for the
      posterior.
    make_prior_fn: likewise for the prior.
    kernel_shape: the kernel's shape.
    bias_shape: the bias's shape.
    kernel_initializer: the kernel initializer, or `None` for the default.
    bias_initializer: the bias initializer, or `None` for the default.
    dtype: the weights' dtype.
    seed: the layer's seed, or `None`.

  Returns:
    The pair `(posterior, prior)`.
  """
  if kernel_initializer is None and seed is not None:
    kernel_initializer = init_lib.glorot_uniform(seeds_lib.split_seed(
        seeds_lib.sanitize_seed(seed, name), 2)[1])
  with tf.name_scope(name):
    posterior = make_posterior_fn(kernel_shape, bias_shape, kernel_initializer,
                                  bias_initializer, 0, 0, dtype)
    prior = make_prior_fn(kernel_shape, bias_shape, kernel_initializer,
                          bias_initializer, 0, 0, dtype)
  return posterior, prior


class _Untracked:
  """Holds the posterior and prior out of sight of automatic tracking.

  TFP's joint distributions cache their parts in a dict keyed by graph id,
  which `tf.train.Checkpoint` cannot save; the layer tracks the
  distributions' variables itself (`_named_variables`) instead.
  """

  __slots__ = ('value',)

  def __init__(self, value: Tuple[tfd.Distribution, ...]):
    self.value = value

  def __deepcopy__(self, memo: dict) -> '_Untracked':
    return _Untracked(tuple(layers_lib.deepcopy_value(d, memo)
                            for d in self.value))


def _inline_when_traced(function: Any) -> Callable:
  """A layer's `tf.function` method, or its Python body inside a trace.

  Called eagerly, the method runs as its own traced function. Inside a
  function being traced (a training step) a nested `tf.function` would be a
  call op of its own, with forward and backward functions that keep its
  intermediates apart from the caller's graph; its ops go straight into the
  caller's graph instead, the same ops either way, and as in the method
  never converted by AutoGraph (which a caller's trace may use).

  Args:
    function: the bound `tf.function` method (`self._call`).

  Returns:
    A callable taking the method's arguments.
  """
  if tf.inside_function():
    return tf.autograph.experimental.do_not_convert(function.python_function)
  return function


def _named_variables(*distributions: Optional[tfd.Distribution]) -> dict:
  """The distributions' variables by readable name (`posterior_kernel_loc`).

  A missing distribution (`None`: a rank-1 layer's point vectors have no
  prior) has none.
  """
  named = {}
  for variable in (v for d in distributions if d is not None
                   for v in d.variables):
    key = variable.name.split(':')[0].rsplit('/', 1)[-1]
    while key in named:
      key += '_'
    named[key] = variable
  return named


class VariationalLayer(layers_lib.MapLayout, layers_lib.Layer):
  """A layer whose kernel and bias have a learned posterior distribution.

  Calling the layer samples outputs with its estimator (reparameterization
  here; subclasses choose Flipout or local reparameterization) on the linear
  map `apply_kernel_fn`. `losses` then holds the KL divergence of each
  weight's posterior from its prior, and `posterior_value` the weights the
  call sampled, both computed when read (`tfnx._pipeline`): a closed-form KL
  from the current posterior and prior, a Monte Carlo one from the call's
  sample.

  Randomness is explicit and stateless: `layer(x, seed=s)` is a pure function
  of the variables, `x` and `s`; `layer(x)` draws a fresh seed from the
  layer's own stream, seeded by the constructor's `seed`.

  Args:
    posterior: a joint distribution over `[kernel, bias]` with trainable
      variables (see `tfnx.util.make_kernel_bias_posterior_mvn_diag`).
    prior: a joint distribution over `[kernel, bias]` of the same structure.
    activation_fn: applied to the outputs; `None` for the identity.
    posterior_value_fn: `(distribution, seed=...) -> weights`, how a weight
      is drawn from its posterior; applied to the kernel and to the bias
      posteriors. Default: `tfd.Distribution.sample`.
    seed: the seed of the layer's own stream (see `tfnx.seeds.SeedStream`);
      `None` for a non-deterministic one.
    dtype: the layer's floating dtype, `tf.float32` or `tf.float64`.
    validate_args: whether to check at every call that inputs are finite.
    name: the layer's name; `None` means the class name.
    apply_kernel_fn: keyword only: the linear map the estimator applies, a
      `tfnx.linear_maps.LinearMap` or a callable `(inputs, kernel) ->
      outputs` (given a sign per element, see
      `tfnx.linear_maps.as_linear_map`). Required to call the layer.
    unpack_weights_fn: keyword only: splits a `[kernel, bias]` structure (of
      distributions or of samples) into `(kernel, bias)`.
    divergence_fn: keyword only: `(posterior, prior, sample) -> scalar`, the
      divergence of each of the kernel and bias posteriors from their priors.
      A weight is drawn for it only if it needs one
      (`tfnx.losses.needs_sample`). `None` (the default) uses the
      closed-form KL where TFP registers one for the pair, else the Monte
      Carlo estimate on the weights sampled in the call.
  """

  _estimator = estimators_lib.REPARAMETERIZATION

  def __init__(
      self,
      posterior: tfd.Distribution,
      prior: tfd.Distribution,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      posterior_value_fn: Callable[..., Any] = tfd.Distribution.sample,
      seed: Optional[seeds_lib.SeedLike] = None,
      dtype: tf.DType = tf.float32,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      apply_kernel_fn: Optional[ApplyKernelFn] = None,
      unpack_weights_fn: Callable[[Any], Tuple[Any, Any]] = (
          weights_lib.unpack_kernel_and_bias),
      divergence_fn: Optional[DivergenceFn] = None):
    super().__init__(validate_args=validate_args, name=name)
    self._dtype = tf.as_dtype(dtype)
    if not self._dtype.is_floating:
      raise ValueError(f'{self.name}: expected a floating dtype; received '
                       f'{self._dtype.name}.')
    self._linear_map = (None if apply_kernel_fn is None else
                        linear_maps.as_linear_map(apply_kernel_fn, self.name))
    self._distributions = _Untracked((posterior, prior))
    self._weights = _named_variables(posterior, prior)
    self._activation_fn = activation_fn
    self._posterior_value_fn = posterior_value_fn
    self._unpack_weights_fn = unpack_weights_fn
    self._seed = seed
    with self.name_scope:
      self._seed_stream = seeds_lib.SeedStream(seed, owner=self.name)
    kernel_posterior, bias_posterior = self._posterior_parts()
    kernel_prior, bias_prior = self._prior_parts()
    estimators_lib.check_kernel_posterior(self._estimator, kernel_posterior,
                                          self.name)
    if divergence_fn is None:
      self._divergence_fns = (
          losses_lib.default_divergence(kernel_posterior, kernel_prior),
          losses_lib.default_divergence(bias_posterior, bias_prior))
    else:
      self._divergence_fns = (divergence_fn, divergence_fn)
    self._divergence_fn = divergence_fn
    self._last_call = _pipeline.KeptCall()

  def _posterior_parts(self) -> Tuple[Any, Any]:
    return self._unpack_weights_fn(
        weights_lib.joint_parts(self.posterior, self.name))

  def _prior_parts(self) -> Tuple[Any, Any]:
    return self._unpack_weights_fn(
        weights_lib.joint_parts(self.prior, self.name))

  @property
  def dtype(self) -> tf.DType:
    """The layer's floating dtype."""
    return self._dtype

  @property
  def posterior(self) -> tfd.Distribution:
    """The joint posterior over `[kernel, bias]`."""
    return self._distributions.value[0]

  @property
  def prior(self) -> tfd.Distribution:
    """The joint prior over `[kernel, bias]`."""
    return self._distributions.value[1]

  @property
  def kernel_posterior(self) -> tfd.Distribution:
    """The kernel's posterior distribution."""
    return self._posterior_parts()[0]

  @property
  def bias_posterior(self) -> Optional[tfd.Distribution]:
    """The bias's posterior distribution, or `None`."""
    return self._posterior_parts()[1]

  @property
  def kernel_prior(self) -> tfd.Distribution:
    """The kernel's prior distribution."""
    return self._prior_parts()[0]

  @property
  def bias_prior(self) -> Optional[tfd.Distribution]:
    """The bias's prior distribution, or `None`."""
    return self._prior_parts()[1]

  @property
  def activation_fn(self) -> Optional[Callable[[tf.Tensor], tf.Tensor]]:
    """The activation applied to the outputs, or `None`."""
    return self._activation_fn

  @property
  def posterior_value_fn(self) -> Callable[..., Any]:
    """How a weight is drawn from its posterior."""
    return self._posterior_value_fn

  @property
  def unpack_weights_fn(self) -> Callable[[Any], Tuple[Any, Any]]:
    """Splits a `[kernel, bias]` structure into `(kernel, bias)`."""
    return self._unpack_weights_fn

  @property
  def divergence_fn(self) -> Optional[DivergenceFn]:
    """The divergence given to the constructor (`None`: the default)."""
    return self._divergence_fn

  @property
  def seed(self) -> Optional[seeds_lib.SeedLike]:
    """The constructor's seed of the layer's own stream."""
    return self._seed

  @property
  def posterior_value(self) -> Optional[List[Optional[tf.Tensor]]]:
    """`[kernel, bias]` sampled by the last call.

    Flipout's kernel is the perturbed kernel `mu + dW`. A part the call did
    not draw is `None`: local reparameterization with a closed-form KL draws
    no kernel (with a Monte Carlo KL, the kernel its KL uses is drawn when
    this is read, from the call's seed). `None` before the first call.
    """
    if not self._last_call.called:
      return None
    parts = self._parts()
    return _pipeline.weight_values(self._last_call.record(parts), parts)

  @property
  def losses(self) -> List[tf.Tensor]:
    """`[kernel KL, bias KL]` (empty before any call), computed when read.

    A closed-form KL is that of the current posterior and prior; a Monte
    Carlo one uses the last call's sample: read it where the call was made
    (under the same `GradientTape`, in the same `tf.function`) for its
    gradients. A call whose losses are never read computes no KL.
    """
    if not self._last_call.called:
      return []
    return _inline_when_traced(self._losses_of)(
        self._last_call.record(self._parts()))

  # One traced function, so that an eager read is not op by op.
  @tf.function(reduce_retracing=True, autograph=False)
  def _losses_of(self, record: _pipeline.Record) -> List[tf.Tensor]:
    return [tf.zeros([], self._dtype) if kl is None else kl
            for kl in _pipeline.divergences(record, self._parts(),
                                            self._dtype)]

  def _parts(self) -> Tuple[_pipeline.Part, _pipeline.Part]:
    return tuple(_pipeline.Part(posterior, prior, divergence_fn,
                                self._posterior_value_fn)
                 for posterior, prior, divergence_fn in zip(
                     self._posterior_parts(), self._prior_parts(),
                     self._divergence_fns))

  def __call__(self, inputs, seed: Optional[seeds_lib.SeedLike] = None,
               **kwargs) -> tf.Tensor:
    """Samples the layer's outputs, in one `tf.function` (inline in a trace).

    Args:
      inputs: a tensor of the shape the layer takes (e.g. `[..., input_size]`
        for a dense layer); integer inputs are cast to the layer's dtype.
      seed: `None` to draw from the layer's own seed stream, or an int, a pair
        of ints or an int tensor of shape `[2]`, making the outputs a pure
        function of the variables, `inputs` and `seed`.
      **kwargs: ignored (`training=True` and the like, which TFP's
        `Sequential` passes on).

    Returns:
      The sampled outputs, after `activation_fn`.
    """
    del kwargs  # Accepted as TFP's layers accept them.
    if self._linear_map is None:
      raise TypeError(f'{self.name}: expected an `apply_kernel_fn` at '
                      'construction to call the layer; received None.')
    # Converted and checked here, once, outside the trace: Python and NumPy
    # values become tensors, so that the trace sees a tensor signature rather
    # than a value to specialize on, and the caller sees the shapes it
    # passed (a trace generalized to other sizes would find a wrong size only
    # at run time, with a less readable error).
    inputs = self._check_inputs(
        checks.convert_inputs(inputs, self._dtype, self.name))
    # The stream's step is a variable update: inside the traced call it would
    # be a synchronization point within a nested `tf.function`, which a
    # distribution strategy's `run` refuses.
    if seed is None:
      seed = self._seed_stream.next()
    else:
      seed = seeds_lib.sanitize_seed(seed, self.name)
    # The rank, a Python int, keeps inputs of different ranks in traces of
    # their own: `reduce_retracing` then generalizes only sizes, never to an
    # unknown rank the layer's checks could not read.
    outputs, record = _inline_when_traced(self._call)(
        inputs, seed, inputs.shape.rank)
    self._last_call.keep(record)
    return outputs

  @property
  def estimator(self) -> estimators_lib.Estimator:
    """The layer's estimator (`tfnx.estimators.Estimator`)."""
    return self._estimator

  @property
  def linear_map(self) -> Optional[linear_maps.LinearMap]:
    """The `LinearMap` the estimator applies (`None` without one)."""
    return self._linear_map

  def output_moments(self, inputs,
                     seed: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """Each output's mean and stddev before the activation.

    Meaningful where the estimator declares `rows_normal` for the layer's
    map; `tfnx.predictive` computes them once for many passes over the same
    inputs (`tfnx._pipeline.moments`).

    Args:
      inputs: the layer's inputs.
      seed: an `int32` seed of shape `[2]`, drawing a bias posterior that is
        not normal.

    Returns:
      `(mean, stddev)`, each shaped as the layer's outputs.
    """
    x = self._finite(self._check_inputs(
        checks.convert_inputs(inputs, self._dtype, self.name)))
    return _pipeline.moments(x, seed, self._linear_map, self._layout(),
                             self._parts())

  def _layout(self) -> _pipeline.Layout:
    return _pipeline.Layout(self._to_map_layout, self._from_map_layout)

  def _finite(self, x: tf.Tensor) -> tf.Tensor:
    """`x`, checked to be finite where the layer validates its arguments."""
    if self._validate_args:
      x = tf.debugging.assert_all_finite(
          x, message=f'{self.name}: inputs must be finite')
    return x

  def _sample(self, x: tf.Tensor,
              seed: tf.Tensor) -> Tuple[tf.Tensor, _pipeline.Record]:
    """The pipeline's outputs (before the activation) and the call's record.

    The estimator's `_pipeline.sample` here; the rank-1 layers run
    `_pipeline.sample_rank1` instead.
    """
    return _pipeline.sample(x, seed, self._estimator, self._linear_map,
                            self._layout(), self._parts())

  @tf.function(reduce_retracing=True, autograph=False)
  def _call(self, inputs, seed, rank):
    del rank  # Part of the trace's signature only.
    outputs, record = self._sample(self._finite(inputs), seed)
    if self._activation_fn is not None:
      outputs = self._activation_fn(outputs)
    return outputs, record


_KERNEL_BIAS_ARGS_DOC = """
  Args:
    posterior: a joint distribution over `[kernel, bias]` with trainable
      variables.
    prior: a joint distribution over `[kernel, bias]` of the same structure.
    apply_kernel_fn: the linear map, a `tfnx.linear_maps.LinearMap` or a
      callable `(inputs, kernel) -> outputs` such as `tf.matmul`.
    activation_fn: applied to the outputs; `None` for the identity.
    posterior_value_fn: `(distribution, seed=...) -> weights`; default
      `tfd.Distribution.sample`.
    unpack_weights_fn: splits `[kernel, bias]` structures; default
      `tfnx.util.unpack_kernel_and_bias`.
    seed: seeds the layer's own seed stream; `None` for non-deterministic.
    dtype: `tf.float32` (default) or `tf.float64`.
    validate_args: whether every call checks that inputs are finite.
    name: the layer's name; `None` means the class name.
    divergence_fn: keyword only: `(posterior, prior, sample) -> KL`; `None`
      means the closed form where TFP registers one, else a Monte Carlo
      estimate.
"""


class _KernelBiasVariational(VariationalLayer):
  """TFP's constructor of the variational kernel/bias layers."""

  def __init__(
      self,
      posterior: tfd.Distribution,
      prior: tfd.Distribution,
      apply_kernel_fn: ApplyKernelFn,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      posterior_value_fn: Callable[..., Any] = tfd.Distribution.sample,
      unpack_weights_fn: Callable[[Any], Tuple[Any, Any]] = (
          weights_lib.unpack_kernel_and_bias),
      seed: Optional[seeds_lib.SeedLike] = None,
      dtype: tf.DType = tf.float32,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      divergence_fn: Optional[DivergenceFn] = None):
    super().__init__(posterior=posterior, prior=prior,
                     activation_fn=activation_fn,
                     posterior_value_fn=posterior_value_fn, seed=seed,
                     dtype=dtype, validate_args=validate_args, name=name,
                     apply_kernel_fn=apply_kernel_fn,
                     unpack_weights_fn=unpack_weights_fn,
                     divergence_fn=divergence_fn)


class VariationalReparameterizationKernelBiasLayer(_KernelBiasVariational):
  __doc__ = """A variational layer on any linear map, by reparameterization.

  Each call draws one kernel and bias from the posterior and returns
  `activation_fn(apply_kernel_fn(x, kernel) + bias)`.
""" + _KERNEL_BIAS_ARGS_DOC

  _estimator = estimators_lib.REPARAMETERIZATION


class VariationalFlipoutKernelBiasLayer(_KernelBiasVariational):
  __doc__ = """A variational layer on any linear map, by Flipout.

  One kernel perturbation is shared by the batch and decorrelated per
  example by random signs (`tfnx.estimators.flipout`). Needs an elementwise
  normal kernel posterior; pass a `LinearMap` whose `sign_shape` shares a
  sign across positions that share a weight (a convolution's).
""" + _KERNEL_BIAS_ARGS_DOC

  _estimator = estimators_lib.FLIPOUT


class VariationalLocalReparameterizationKernelBiasLayer(
    _KernelBiasVariational):
  __doc__ = """A variational layer on any linear map, by local reparameterization.

  Each output is drawn from its marginal under the posterior
  (`tfnx.estimators.local_reparameterization`); no kernel is drawn. Needs an
  elementwise normal kernel posterior. A tfnx addition to TFP's two.
""" + _KERNEL_BIAS_ARGS_DOC

  _estimator = estimators_lib.LOCAL_REPARAMETERIZATION
