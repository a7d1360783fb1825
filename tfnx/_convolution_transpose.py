"""Transposed convolutions: a deterministic layer and two variational ones.

They are the convolution layers (`tfnx._convolution`) with a `TRANSPOSE`
`ConvolutionGeometry`: the linear map `tfnx.linear_maps.convolution_transpose`
and TFP's kernel shape, `[prod(filter_shape) * input_size, output_size]`
(so TFP's initializers see TFP's fans), brought to `tf.nn.conv_transpose`'s
layout only where it is applied. With 'SAME' padding an output's spatial size
is the input's times the stride.

Beyond TFP's (rank 2 only, no `output_padding`), these run ranks 1 to 3,
take `output_padding`, and run dilated kernels in float64 on every device.
"""

from typing import Any, Callable, Optional, Tuple

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import estimators as estimators_lib
from tfnx import seeds as seeds_lib
from tfnx import _variational as variational
from tfnx._convolution import IntOrInts
from tfnx._convolution import base_arguments
from tfnx._convolution import DeterministicConvolutionBase
from tfnx._convolution import VariationalConvolutionBase
from tfnx._convolution_geometry import ConvolutionGeometry
from tfnx._convolution_geometry import TRANSPOSE
from tfnx.util import kernel_bias as kernel_bias_lib
from tfnx.util import _weights as weights_lib

tfd = tfp.distributions

__all__ = ['ConvolutionTranspose', 'ConvolutionTransposeVariationalFlipout',
           'ConvolutionTransposeVariationalReparameterization']

_METHODS = ('auto', 'subkernels', 'subkernel_matrix', 'dilation')


def transpose_geometry(owner: str, rank: Any, filter_shape: Any,
                        strides: Any, padding: Any, dilations: Any,
                        output_padding: Any, method: str,
                        data_format: Any) -> ConvolutionGeometry:
  """The transposed layers' geometry; checks TFP's `method` too."""
  if method not in _METHODS:
    raise ValueError(f'{owner}: expected `method` one of {_METHODS}; '
                     f'received {method!r}.')
  return ConvolutionGeometry.create(owner, rank, filter_shape, strides,
                                    padding, dilations, data_format,
                                    TRANSPOSE, output_padding)


class Transposed:
  """What the transposed layers add to their convolution base classes."""

  @property
  def output_padding(self) -> Optional[Tuple[int, ...]]:
    """The output padding, one int per spatial axis, or `None`."""
    return self._geometry.output_padding


class ConvolutionTranspose(Transposed, DeterministicConvolutionBase):
  """A deterministic transposed convolution, `conv_transpose(x, kernel) + bias`.

  Inputs `[..., *spatial, input_size]` (any batch shape) give outputs
  `[..., *out_spatial, output_size]`. The kernel has TFP's shape
  `[prod(filter_shape) * input_size, output_size]`; it is reshaped to
  `filter_shape + (output_size, input_size)`, as `tf.nn.conv_transpose`
  takes it, where it is applied. Unlike TFP's, it takes ranks 1 to 3,
  `output_padding` and float64.

  Args:
    input_size, output_size, filter_shape, rank, strides, padding, dilations:
      the geometry, as for `tfnx.Convolution`.
    output_padding: `None` (default), or an int or `rank` ints, each below
      its stride: the output's extra length beyond the shortest one the
      forward convolution maps back to the input's. `None` gives the input's
      length times the stride with 'SAME' padding.
    method: accepted for TFP's signature (`'auto'`, `'subkernels'`,
      `'subkernel_matrix'` or `'dilation'`); tfnx always runs TF's native
      transposed convolution.
    kernel_initializer: `init(shape, dtype, batch_ndims)`; `None` means
      `tfnx.initializers.glorot_uniform()`.
    bias_initializer: likewise; `None` means zeros.
    make_kernel_bias_fn: builds `(kernel, bias)` variables; default
      `tfnx.util.make_kernel_bias`.
    dtype: the layer's floating dtype.
    index_dtype: accepted for TFP's signature; unused.
    activation_fn: applied to the outputs; `None` for the identity.
    validate_args: kept for a uniform signature.
    name: the layer's name; `None` means `'ConvolutionTranspose'`.
    data_format: keyword only: `'channels_last'` (default), inputs
      `[..., *spatial, channels]`, or `'channels_first'`,
      `[..., channels, *spatial]`. Either runs on a CPU.
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
    name = name or type(self).__name__
    super().__init__(**base_arguments(
        DeterministicConvolutionBase, locals(), batch_shape=(),
        geometry=transpose_geometry(name, rank, filter_shape, strides,
                                     padding, dilations, output_padding,
                                     method, data_format)))


class _ConvolutionTransposeVariational(Transposed,
                                       VariationalConvolutionBase):
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
    """Builds the transposed convolution's geometry, posterior and prior.

    Args:
      The arguments of `tfnx.ConvolutionVariationalFlipout` (see its
        `__init__`), and:
      output_padding, method: as for `tfnx.ConvolutionTranspose`.
      index_dtype: accepted for TFP's signature; unused.
    """
    del index_dtype  # TF's native op needs no index arithmetic of ours.
    name = name or type(self).__name__
    super().__init__(**base_arguments(
        VariationalConvolutionBase, locals(),
        geometry=transpose_geometry(name, rank, filter_shape, strides,
                                     padding, dilations, output_padding,
                                     method, data_format)))


class ConvolutionTransposeVariationalReparameterization(
    _ConvolutionTransposeVariational):
  """A transposed convolution with a variational posterior, by reparameterization.

  Each call samples one kernel and bias from the posterior and applies them
  to the whole batch: `activation_fn(conv_transpose(x, kernel) + bias)`.
  Inputs `[..., *spatial, input_size]` (any batch shape) give outputs
  `[..., *out_spatial, output_size]`; the kernel has TFP's shape
  `[prod(filter_shape) * input_size, output_size]`. Unlike TFP's, it takes
  ranks 1 to 3, `output_padding` and float64.

  Args: those of the variational transposed convolutions, documented once on
  their constructor (`help(ConvolutionTransposeVariationalFlipout.__init__)`).
  """

  _estimator = estimators_lib.REPARAMETERIZATION


class ConvolutionTransposeVariationalFlipout(_ConvolutionTransposeVariational):
  """A transposed convolution with a variational posterior, by Flipout.

  Flipout (Wen et al., 2018) adds to the posterior-mean output one shared
  kernel perturbation, decorrelated per example by random signs on input and
  output channels, shared across spatial positions: each example's outputs
  are those of a kernel sample of its own. Needs an elementwise normal
  kernel posterior.

  Args: those of the variational transposed convolutions, documented once on
  their constructor (`help(ConvolutionTransposeVariationalFlipout.__init__)`).
  """

  _estimator = estimators_lib.FLIPOUT
