"""Transposed convolutions: a deterministic layer and two variational ones.

They are the convolution layers (`tfnx.convolution`) with the linear map
`tfnx.linear_maps.convolution_transpose` and its kernel shape,
`filter_shape + (output_size, input_size)`. With 'SAME' padding an output's
spatial size is the input's times the stride.
"""

from typing import Any, Callable, Optional, Tuple

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import estimators as estimators_lib
from tfnx import seeds as seeds_lib
from tfnx import variational
from tfnx.convolution import DATA_FORMAT_DOC
from tfnx.convolution import GEOMETRY_ARGS_DOC
from tfnx.convolution import IntOrInts
from tfnx.convolution import VARIATIONAL_ARGS_DOC
from tfnx.convolution import _ConvolutionVariational
from tfnx.convolution import _DeterministicConvolution
from tfnx.util import kernel_bias as kernel_bias_lib
from tfnx.util import weights as weights_lib

tfd = tfp.distributions

__all__ = ['ConvolutionTranspose', 'ConvolutionTransposeVariationalFlipout',
           'ConvolutionTransposeVariationalReparameterization']

_METHODS = ('auto', 'subkernels', 'subkernel_matrix', 'dilation')

_TRANSPOSE_ARGS_DOC = """
    output_padding: `None` (default), or an int or `rank` ints, each below
      its stride: the output's extra length beyond the shortest one the
      forward convolution maps back to the input's. `None` gives the input's
      length times the stride with 'SAME' padding.
    method: accepted for TFP's signature (`'auto'`, `'subkernels'`,
      `'subkernel_matrix'` or `'dilation'`); tfnx always runs TF's native
      transposed convolution."""

_INDEX_DTYPE_DOC = """
    index_dtype: accepted for TFP's signature; unused."""


class _Transposed:
  """What the transposed layers add to their convolution base classes."""

  _transposed = True

  def _init_transposed(self, output_padding: Optional[IntOrInts], method: str,
                       owner: str) -> None:
    """Records `output_padding` for `_init_shapes`; checks `method`."""
    if method not in _METHODS:
      raise ValueError(f'{owner}: expected `method` one of {_METHODS}; '
                       f'received {method!r}.')
    self._output_padding = output_padding

  @property
  def output_padding(self) -> Optional[Tuple[int, ...]]:
    """The output padding, one int per spatial axis, or `None`."""
    return self._args.output_padding


class ConvolutionTranspose(_Transposed, _DeterministicConvolution):
  __doc__ = """A deterministic transposed convolution, `conv_transpose(x, kernel) + bias`.

  Inputs `[..., *spatial, input_size]` (any batch shape) give outputs
  `[..., *out_spatial, output_size]`. The kernel has shape
  `filter_shape + (output_size, input_size)`, as `tf.nn.conv_transpose`
  takes it.
""" + GEOMETRY_ARGS_DOC + _TRANSPOSE_ARGS_DOC + """
    kernel_initializer: `init(shape, dtype, batch_ndims)`; `None` means
      `tfnx.initializers.glorot_uniform()`.
    bias_initializer: likewise; `None` means zeros.
    make_kernel_bias_fn: builds `(kernel, bias)` variables; default
      `tfnx.util.make_kernel_bias`.
    dtype: the layer's floating dtype.""" + _INDEX_DTYPE_DOC + """
    activation_fn: applied to the outputs; `None` for the identity.
    validate_args: kept for a uniform signature.
    name: the layer's name; `None` means `'ConvolutionTranspose'`.""" + (
        DATA_FORMAT_DOC)

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
      kernel_initializer: Optional[Callable] = None,
      bias_initializer: Optional[Callable] = None,
      make_kernel_bias_fn: Callable = kernel_bias_lib.make_kernel_bias,
      dtype: tf.DType = tf.float32,
      index_dtype: tf.DType = tf.int32,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      data_format: str = 'channels_last'):
    del index_dtype  # TF's native op needs no index arithmetic of ours.
    self._init_transposed(output_padding, method, name or type(self).__name__)
    super().__init__(
        input_size, output_size, filter_shape, rank=rank, strides=strides,
        padding=padding, dilations=dilations,
        kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer,
        make_kernel_bias_fn=make_kernel_bias_fn, dtype=dtype,
        activation_fn=activation_fn, validate_args=validate_args, name=name,
        data_format=data_format)


class _ConvolutionTransposeVariational(_Transposed, _ConvolutionVariational):
  """The variational transposed convolutions' shared constructor."""

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
      kernel_initializer: Optional[Callable] = None,
      bias_initializer: Optional[Callable] = None,
      make_posterior_fn: Callable = (
          kernel_bias_lib.make_kernel_bias_posterior_mvn_diag),
      make_prior_fn: Callable = (
          kernel_bias_lib.make_kernel_bias_prior_spike_and_slab),
      posterior_value_fn: Callable[..., Any] = tfd.Distribution.sample,
      unpack_weights_fn: Callable[[Any], Tuple[Any, Any]] = (
          weights_lib.unpack_kernel_and_bias),
      dtype: tf.DType = tf.float32,
      index_dtype: tf.DType = tf.int32,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      seed: Optional[seeds_lib.SeedLike] = None,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      data_format: str = 'channels_last',
      divergence_fn: Optional[variational.DivergenceFn] = None):
    del index_dtype  # TF's native op needs no index arithmetic of ours.
    self._init_transposed(output_padding, method, name or type(self).__name__)
    super().__init__(
        input_size, output_size, filter_shape, rank=rank, strides=strides,
        padding=padding, dilations=dilations,
        kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer, make_posterior_fn=make_posterior_fn,
        make_prior_fn=make_prior_fn, posterior_value_fn=posterior_value_fn,
        unpack_weights_fn=unpack_weights_fn, dtype=dtype,
        activation_fn=activation_fn, seed=seed, validate_args=validate_args,
        name=name, data_format=data_format, divergence_fn=divergence_fn)


_TRANSPOSE_VARIATIONAL_ARGS_DOC = (
    GEOMETRY_ARGS_DOC + _TRANSPOSE_ARGS_DOC
    + VARIATIONAL_ARGS_DOC.format(extra=_INDEX_DTYPE_DOC))


class ConvolutionTransposeVariationalReparameterization(
    _ConvolutionTransposeVariational):
  __doc__ = """A transposed convolution with a variational posterior, by reparameterization.

  Each call samples one kernel and bias from the posterior and applies them
  to the whole batch: `activation_fn(conv_transpose(x, kernel) + bias)`.
  Inputs `[..., *spatial, input_size]` (any batch shape) give outputs
  `[..., *out_spatial, output_size]`; the kernel has shape
  `filter_shape + (output_size, input_size)`.
""" + _TRANSPOSE_VARIATIONAL_ARGS_DOC

  _estimator = staticmethod(estimators_lib.reparameterization)


class ConvolutionTransposeVariationalFlipout(_ConvolutionTransposeVariational):
  __doc__ = """A transposed convolution with a variational posterior, by Flipout.

  Flipout (Wen et al., 2018) adds to the posterior-mean output one shared
  kernel perturbation, decorrelated per example by random signs on input and
  output channels, shared across spatial positions: each example's outputs
  are those of a kernel sample of its own. Needs an elementwise normal
  kernel posterior.
""" + _TRANSPOSE_VARIATIONAL_ARGS_DOC

  _estimator = staticmethod(estimators_lib.flipout)
