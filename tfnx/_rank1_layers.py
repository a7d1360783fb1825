"""Rank-1 Bayesian and BatchEnsemble `tf.Module` layers: dense, convolution, transposed.

`ensemble_size` members share one deterministic kernel `W`; member `k` has
its own input-side vectors `s_k`, output-side vectors `r_k` and bias `b_k`,
and computes `activation_fn(r_k * apply(x * s_k, W) + b_k)` for the layer's
linear map (`tfnx.rank1`, written once, run by `_pipeline.sample_rank1`).
The vectors have a posterior over `[ensemble_size, channels]` from
`make_posterior_fn` (default `tfnx.util.make_rank1_posterior_normal`), of
which each row's vectors are an exact draw (`tfnx.rank1.factor_rows`), and
the KL to `make_prior_fn`'s prior in
`losses`; with `make_posterior_fn=None` they are points (BatchEnsemble).

Rows are routed to members in blocks (`tfnx.rank1.member_of_rows`): of `N`
rows (the batch flattened), row `i` is member `(i * ensemble_size) // N`'s;
tile a batch `ensemble_size` times (`tf.tile(x, [K, 1])`) to give every
member every example.
"""

from typing import Any, Callable, Optional, Sequence, Tuple

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _checks as checks
from tfnx import estimators as estimators_lib
from tfnx import initializers as init_lib
from tfnx import _layers as layers_lib
from tfnx import linear_maps
from tfnx import _pipeline
from tfnx import seeds as seeds_lib
from tfnx import _variational as variational
from tfnx._affine import DenseShapes
from tfnx._convolution import base_arguments
from tfnx._convolution import ConvolutionShapes
from tfnx._convolution import IntOrInts
from tfnx._convolution_geometry import ConvolutionGeometry
from tfnx._convolution_transpose import Transposed
from tfnx._convolution_transpose import transpose_geometry
from tfnx.util import kernel_bias as kernel_bias_lib

tfd = tfp.distributions

__all__ = ['AffineRank1', 'ConvolutionRank1', 'ConvolutionTransposeRank1']


def _point_vectors(in_shape: Sequence[int], out_shape: Sequence[int],
                   in_initializer: Optional[Callable],
                   out_initializer: Optional[Callable], in_batch_ndims: int,
                   out_batch_ndims: int,
                   dtype: tf.DType) -> tfd.JointDistributionSequential:
  """BatchEnsemble's vectors: variables `in_vectors`, `out_vectors` as points."""
  del in_batch_ndims, out_batch_ndims  # Random signs need no fans.
  variables = kernel_bias_lib.make_kernel_bias(
      in_shape, out_shape, in_initializer or init_lib.random_sign(),
      out_initializer or init_lib.random_sign(), dtype=dtype,
      kernel_name='in_vectors', bias_name='out_vectors')
  return tfd.JointDistributionSequential([
      tfd.Independent(tfd.Deterministic(v), reinterpreted_batch_ndims=2)
      for v in variables])


def _point_or_posterior(part: Any) -> Any:
  """A `Deterministic` part as its value, a point `tfnx.rank1` draws nothing of."""
  inner = part
  while isinstance(inner, tfd.Independent):
    inner = inner.distribution
  return inner.loc if isinstance(inner, tfd.Deterministic) else part


class Rank1Layer(variational.VariationalLayer):
  """The rank-1 layers' base: shared kernel, members' biases and vectors.

  The layer is a `VariationalLayer` whose `[kernel, bias]` posterior is that
  of the vectors `[s, r]`: its seed stream, traced call, `losses` and
  `posterior` serve them; the shared kernel and the biases are deterministic
  variables (`kernel`, `bias`).
  """

  # What `tfnx.predictive` reads of it: a row's member depends on the rows
  # around it, so a batch tiled `k` times is not `k` passes.
  _estimator = estimators_lib.REPARAMETERIZATION

  def __init__(
      self,
      *,
      kernel_shape: Sequence[int],
      linear_map: linear_maps.LinearMap,
      ensemble_size: int,
      kernel_initializer: Optional[Callable],
      bias_initializer: Optional[Callable],
      make_kernel_bias_fn: Callable,
      make_posterior_fn: Optional[Callable],
      make_prior_fn: Optional[Callable],
      dtype: tf.DType,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]],
      seed: Optional[seeds_lib.SeedLike],
      validate_args: bool,
      name: str,
      use_additive_perturbation: bool,
      divergence_fn: Optional[variational.DivergenceFn]):
    self._ensemble_size = checks.check_size(name, 'ensemble_size',
                                            ensemble_size)
    dtype = tf.as_dtype(dtype)
    kernel_seed, in_seed, out_seed = (None,) * 3
    if seed is not None:
      kernel_seed, in_seed, out_seed = seeds_lib.split_seed(
          seeds_lib.sanitize_seed(seed, name), 4)[1:]
      kernel_initializer = (kernel_initializer
                            or init_lib.glorot_uniform(kernel_seed))
    vector_shapes = ([self._ensemble_size, self._input_size],
                     [self._ensemble_size, self._output_size])
    self._kernel, self._bias = layers_lib.make_kernel_bias_in_scope(
        name, make_kernel_bias_fn, kernel_shape, vector_shapes[1],
        kernel_initializer, bias_initializer, 0, dtype)
    vector_initializers = (None, None) if seed is None else (
        init_lib.random_sign(seed=in_seed), init_lib.random_sign(seed=out_seed))
    with tf.name_scope(name):
      posterior = (make_posterior_fn or _point_vectors)(
          *vector_shapes, *vector_initializers, 0, 0, dtype)
      prior = (None if make_posterior_fn is None or make_prior_fn is None
               else make_prior_fn(*vector_shapes, None, None, 0, 0, dtype))
    self._additive = bool(use_additive_perturbation)
    super().__init__(posterior=posterior, prior=prior,
                     activation_fn=activation_fn, seed=seed, dtype=dtype,
                     validate_args=validate_args, name=name,
                     apply_kernel_fn=linear_map, divergence_fn=divergence_fn)

  def _posterior_parts(self) -> Tuple[Any, Any]:
    return tuple(_point_or_posterior(p) for p in super()._posterior_parts())

  def _prior_parts(self) -> Tuple[Any, Any]:
    if self.prior is None:
      return None, None
    return super()._prior_parts()

  @property
  def in_vectors(self) -> Any:
    """The input-side vectors `s`, `[K, input_size]`: a posterior or a point."""
    return self._posterior_parts()[0]

  @property
  def out_vectors(self) -> Any:
    """The output-side vectors `r`, `[K, output_size]`: a posterior or a point."""
    return self._posterior_parts()[1]

  @property
  def kernel(self) -> Any:
    """The kernel the members share."""
    return self._kernel

  @property
  def bias(self) -> Any:
    """The members' biases, `[ensemble_size, output_size]`."""
    return self._bias

  @property
  def ensemble_size(self) -> int:
    """The number of members."""
    return self._ensemble_size

  @property
  def use_additive_perturbation(self) -> bool:
    """Whether the vectors are added (`apply(x + s, W) + r`), not multiplied."""
    return self._additive

  def _sample(self, x: tf.Tensor,
              seed: tf.Tensor) -> Tuple[tf.Tensor, _pipeline.Record]:
    ensemble = _pipeline.Ensemble(
        tf.convert_to_tensor(self._kernel),
        None if self._bias is None else tf.convert_to_tensor(self._bias),
        self._ensemble_size, self._additive)
    return _pipeline.sample_rank1(x, seed, self._linear_map, self._layout(),
                                  ensemble, self._parts())


_RANK1_ARGS_DOC = """
    ensemble_size: the number of members `K`, a positive int.
    kernel_initializer: initializes the shared kernel; `None` means
      `tfnx.initializers.glorot_uniform()` (seeded from `seed` when given).
    bias_initializer: initializes the members' biases `[K, output_size]`;
      `None` means zeros.
    make_kernel_bias_fn: builds the shared kernel and the biases; default
      `tfnx.util.make_kernel_bias`.
    make_posterior_fn: builds the joint posterior of the vectors `[s, r]`
      (`[K, input_size]`, `[K, output_size]`) with the builders' signature,
      given random-sign initializers (seeded from `seed` when given); default
      `tfnx.util.make_rank1_posterior_normal`. `None`: point vectors
      (BatchEnsemble), variables `in_vectors` and `out_vectors` starting at
      random signs, with no prior and no KL.
    make_prior_fn: builds their prior; default
      `tfnx.util.make_rank1_prior_normal`, `N(1, 0.1)`. `None`: no KL.
    dtype: `tf.float32` (default) or `tf.float64`.
    activation_fn: applied to the outputs; `None` for the identity.
    seed: seeds the layer's own seed stream (used by calls without a seed)
      and the default initializers; `None` for non-deterministic.
    validate_args: whether every call checks that inputs are finite.
    name: the layer's name; `None` means the class name.
"""

_RANK1_KEYWORDS_DOC = """    use_additive_perturbation: keyword only: `apply(x + s_k, W) + r_k + b_k`
      instead of the product.
    divergence_fn: keyword only: `(posterior, prior, sample) -> KL` of each
      of `s` and `r`; `None` means the closed form where TFP registers one
      (the default posterior and prior), else a Monte Carlo estimate.
"""

_RANK1_CALL_DOC = """
  Each row's `s_k`, `r_k` are a draw from member `k`'s posterior, rows of a
  member uncorrelated (`tfnx.rank1.factor_rows`): call
  `layer(x, seed=s)` for a pure function of the variables, `x` and `s`. Row
  `i` of `N` (the batch flattened) belongs to member `(i * K) // N`: tile a
  batch `K` times, member-major, for every member's outputs on every
  example. `losses` holds the KL of the posteriors of `s` and of `r` from
  their priors, computed when read.
"""


class AffineRank1(DenseShapes, Rank1Layer):
  __doc__ = """A dense rank-1 Bayesian layer (Dusenberry et al., 2020), or BatchEnsemble.

  Member `k` computes `activation_fn(((x * s_k) @ W) * r_k + b_k)`: the dense
  layer of kernel `diag(s_k) W diag(r_k)`. Inputs `[..., input_size]` give
  outputs `[..., output_size]`.
""" + _RANK1_CALL_DOC + """
  Args:
    input_size: the size of the inputs' last axis.
    output_size: the size of the outputs' last axis.""" + _RANK1_ARGS_DOC + (
        _RANK1_KEYWORDS_DOC)

  def __init__(
      self,
      input_size: int,
      output_size: int,
      ensemble_size: int = 4,
      kernel_initializer: Optional[Callable] = None,
      bias_initializer: Optional[Callable] = None,
      make_kernel_bias_fn: Callable = kernel_bias_lib.make_kernel_bias,
      make_posterior_fn: Optional[Callable] = (
          kernel_bias_lib.make_rank1_posterior_normal),
      make_prior_fn: Optional[Callable] = (
          kernel_bias_lib.make_rank1_prior_normal),
      dtype: tf.DType = tf.float32,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      seed: Optional[seeds_lib.SeedLike] = None,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      use_additive_perturbation: bool = False,
      divergence_fn: Optional[variational.DivergenceFn] = None):
    name = name or type(self).__name__
    self._init_sizes(name, input_size, output_size)
    super().__init__(**base_arguments(
        Rank1Layer, locals(), kernel_shape=[input_size, output_size],
        linear_map=linear_maps.dense))


class _ConvolutionRank1Base(ConvolutionShapes, Rank1Layer):
  """The rank-1 convolutions' kernel shape and map, from their geometry."""

  def _geometry_arguments(self) -> dict:
    return {'kernel_shape': self._geometry.kernel_shape(self._input_size,
                                                        self._output_size),
            'linear_map': self._geometry.linear_map()}


class ConvolutionRank1(_ConvolutionRank1Base):
  __doc__ = """A rank-1 Bayesian convolution (Dusenberry et al., 2020), or BatchEnsemble.

  Member `k` computes `activation_fn(conv(x * s_k, W) * r_k + b_k)`, its
  vectors one value per channel shared by every position: the convolution
  of kernel `diag(s_k) W diag(r_k)` on its channel axes. Inputs
  `[..., *spatial, input_size]` give `[..., *out_spatial, output_size]`;
  `W` has shape `filter_shape + (input_size, output_size)`.
""" + _RANK1_CALL_DOC + """
  Args:
    input_size, output_size, filter_shape, rank, strides, padding,
      dilations: the geometry, as for `tfnx.Convolution`.""" + (
          _RANK1_ARGS_DOC) + _RANK1_KEYWORDS_DOC + """    data_format: keyword only, as for `tfnx.Convolution`.
"""

  def __init__(
      self,
      input_size: int,
      output_size: int,
      filter_shape: IntOrInts,
      rank: int = 2,
      strides: IntOrInts = 1,
      padding: str = 'VALID',
      dilations: IntOrInts = 1,
      ensemble_size: int = 4,
      kernel_initializer: Optional[Callable] = None,
      bias_initializer: Optional[Callable] = None,
      make_kernel_bias_fn: Callable = kernel_bias_lib.make_kernel_bias,
      make_posterior_fn: Optional[Callable] = (
          kernel_bias_lib.make_rank1_posterior_normal),
      make_prior_fn: Optional[Callable] = (
          kernel_bias_lib.make_rank1_prior_normal),
      dtype: tf.DType = tf.float32,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      seed: Optional[seeds_lib.SeedLike] = None,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      data_format: str = 'channels_last',
      use_additive_perturbation: bool = False,
      divergence_fn: Optional[variational.DivergenceFn] = None):
    name = name or type(self).__name__
    self._init_shapes(ConvolutionGeometry.create(
        name, rank, filter_shape, strides, padding, dilations, data_format),
                      input_size, output_size, name)
    super().__init__(**base_arguments(Rank1Layer, locals(),
                                      **self._geometry_arguments()))


class ConvolutionTransposeRank1(Transposed, _ConvolutionRank1Base):
  __doc__ = """A rank-1 Bayesian transposed convolution, or BatchEnsemble.

  Member `k` computes `activation_fn(conv_transpose(x * s_k, W) * r_k + b_k)`
  (Dusenberry et al., 2020). Inputs `[..., *spatial, input_size]` give
  `[..., *out_spatial, output_size]`; `W` has TFP's shape
  `[prod(filter_shape) * input_size, output_size]`.
""" + _RANK1_CALL_DOC + """
  Args:
    input_size, output_size, filter_shape, rank, strides, padding,
      dilations, output_padding, method: the geometry, as for
      `tfnx.ConvolutionTranspose`.""" + _RANK1_ARGS_DOC + (
          _RANK1_KEYWORDS_DOC) + """    data_format: keyword only, as for `tfnx.Convolution`.
"""

  def __init__(
      self,
      input_size: int,
      output_size: int,
      filter_shape: IntOrInts,
      rank: int = 2,
      strides: IntOrInts = 1,
      padding: str = 'VALID',
      dilations: IntOrInts = 1,
      output_padding: Optional[IntOrInts] = None,
      method: str = 'auto',
      ensemble_size: int = 4,
      kernel_initializer: Optional[Callable] = None,
      bias_initializer: Optional[Callable] = None,
      make_kernel_bias_fn: Callable = kernel_bias_lib.make_kernel_bias,
      make_posterior_fn: Optional[Callable] = (
          kernel_bias_lib.make_rank1_posterior_normal),
      make_prior_fn: Optional[Callable] = (
          kernel_bias_lib.make_rank1_prior_normal),
      dtype: tf.DType = tf.float32,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      seed: Optional[seeds_lib.SeedLike] = None,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      data_format: str = 'channels_last',
      use_additive_perturbation: bool = False,
      divergence_fn: Optional[variational.DivergenceFn] = None):
    name = name or type(self).__name__
    self._init_shapes(transpose_geometry(
        name, rank, filter_shape, strides, padding, dilations,
        output_padding, method, data_format), input_size, output_size, name)
    super().__init__(**base_arguments(Rank1Layer, locals(),
                                      **self._geometry_arguments()))
