"""TFP's V2 convolutions: kernels in im2row form, `[*batch, prod(filter_shape) * in, out]`.

They are the convolution layers (`tfnx._convolution`) with an `IM2ROW`
`ConvolutionGeometry`, whose linear map (`tfnx.linear_maps.im2row`) runs an
unbatched kernel as one `tf.nn.convolution` and a batched one as a matmul of
the inputs' patches. A V2 layer's batch axes come before the spatial ones:
inputs `[..., *batch_shape, *spatial, input_size]` give outputs
`[..., *batch_shape, *out_spatial, output_size]` (V1 puts them after).
"""

from typing import Any, Callable, Optional, Sequence, Tuple

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
from tfnx._convolution_geometry import IM2ROW
from tfnx.util import kernel_bias as kernel_bias_lib
from tfnx.util import _weights as weights_lib

tfd = tfp.distributions

__all__ = ['ConvolutionV2', 'ConvolutionVariationalFlipoutV2',
           'ConvolutionVariationalReparameterizationV2']

def _im2row_geometry(owner: str, rank: Any, filter_shape: Any, strides: Any,
                     padding: Any, dilations: Any) -> ConvolutionGeometry:
  return ConvolutionGeometry.create(owner, rank, filter_shape, strides,
                                    padding, dilations, kind=IM2ROW)


class ConvolutionV2(DeterministicConvolutionBase):
  """A deterministic convolution with an im2row kernel, TFP's `ConvolutionV2`.

  `activation_fn(conv(x, kernel) + bias)`, the kernel of shape
  `batch_shape + [prod(filter_shape) * input_size, output_size]` and the
  bias `batch_shape + [1] * rank + [output_size]`. Inputs
  `[..., *spatial, input_size]` give `[..., *out_spatial, output_size]`; the
  kernel's batch axes (a `batch_shape`, or sample axes from a
  `make_kernel_bias_fn`) broadcast against the inputs' axes left of the
  spatial ones, size-1 and missing axes included: a kernel batch `[10]` on
  inputs `[3, 10, 28, 28, 1]` gives `[3, 10, *out_spatial, output_size]`.
  Unlike TFP's, it runs ranks 1 to 3.

  Args:
    input_size, output_size, filter_shape, rank, strides, padding, dilations:
      the geometry, as for `tfnx.Convolution`.
    kernel_initializer: `init(shape, dtype, batch_ndims)`; `None` means
      `tfnx.initializers.glorot_uniform()`.
    bias_initializer: likewise; `None` means zeros.
    make_kernel_bias_fn: builds `(kernel, bias)` variables; default
      `tfnx.util.make_kernel_bias`.
    dtype: the layer's floating dtype.
    index_dtype: accepted for TFP's signature; the patches of a batched
      kernel are strided slices, which need no index tensor.
    batch_shape: the kernel's batch shape; default `()`.
    activation_fn: applied to the outputs; `None` for the identity.
    validate_args: kept for a uniform signature.
    name: the layer's name; `None` means `'ConvolutionV2'`.
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
      kernel_initializer: Optional[Callable] = None,
      bias_initializer: Optional[Callable] = None,
      make_kernel_bias_fn: Callable = kernel_bias_lib.make_kernel_bias,
      dtype: tf.DType = tf.float32,
      index_dtype: tf.DType = tf.int32,
      batch_shape: Sequence[int] = (),
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      validate_args: bool = False,
      name: Optional[str] = None):
    del index_dtype  # Strided slices need no index tensor.
    name = name or type(self).__name__
    super().__init__(**base_arguments(
        DeterministicConvolutionBase, locals(),
        geometry=_im2row_geometry(name, rank, filter_shape, strides, padding,
                                  dilations)))


class _ConvolutionVariationalV2(VariationalConvolutionBase):
  """The variational V2 convolutions' constructor, in TFP's argument order."""

  def __init__(
      self,
      input_size: int,
      output_size: int,
      filter_shape: IntOrInts,
      rank: int = 2,
      strides: IntOrInts = 1,
      padding: str = 'VALID',
      dilations: IntOrInts = 1,
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
      divergence_fn: Optional[variational.DivergenceFn] = None):
    """Builds the im2row convolution's geometry, posterior and prior.

    Args:
      The arguments of `tfnx.ConvolutionVariationalFlipout` but
        `data_format` (see its `__init__`), and:
      index_dtype: accepted for TFP's signature; the patches of a batched
        kernel are strided slices, which need no index tensor.
    """
    del index_dtype  # Strided slices need no index tensor.
    name = name or type(self).__name__
    super().__init__(**base_arguments(
        VariationalConvolutionBase, locals(),
        geometry=_im2row_geometry(name, rank, filter_shape, strides, padding,
                                  dilations)))


class ConvolutionVariationalReparameterizationV2(_ConvolutionVariationalV2):
  """A V2 (im2row-kernel) convolution with a variational posterior, by reparameterization.

  Each call samples one kernel `[prod(filter_shape) * input_size,
  output_size]` and bias from the posterior and applies them to the whole
  batch. Inputs `[..., *spatial, input_size]` (any batch shape) give outputs
  `[..., *out_spatial, output_size]`. Unlike TFP's, it runs ranks 1 to 3.

  Args: those of the variational V2 convolutions, documented once on their
  constructor (`help(ConvolutionVariationalFlipoutV2.__init__)`).
  """

  _estimator = estimators_lib.REPARAMETERIZATION


class ConvolutionVariationalFlipoutV2(_ConvolutionVariationalV2):
  """A V2 (im2row-kernel) convolution with a variational posterior, by Flipout.

  Flipout (Wen et al., 2018) adds to the posterior-mean output one shared
  kernel perturbation, decorrelated per example by random signs on input and
  output channels, shared across spatial positions. The kernel has shape
  `[prod(filter_shape) * input_size, output_size]`. Needs an elementwise
  normal kernel posterior. Unlike TFP's, it runs ranks 1 to 3.

  Args: those of the variational V2 convolutions, documented once on their
  constructor (`help(ConvolutionVariationalFlipoutV2.__init__)`).
  """

  _estimator = estimators_lib.FLIPOUT
