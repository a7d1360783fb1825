"""Convolution layers: the deterministic `Convolution` and two variational ones.

Like the dense layers, they differ from the other layer types only in their
linear map (`tfnx.linear_maps.convolution`) and their shapes. The shapes,
argument checks and layouts live in `_ConvolutionShapes`, which the
transposed convolutions (`tfnx.convolution_transpose`) share.
"""

from typing import Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import estimators as estimators_lib
from tfnx import inputs as inputs_lib
from tfnx import layers as layers_lib
from tfnx import linear_maps
from tfnx import seeds as seeds_lib
from tfnx import variational
from tfnx.util import convolution as conv_lib
from tfnx.util import kernel_bias as kernel_bias_lib
from tfnx.util import weights as weights_lib

tfd = tfp.distributions

__all__ = ['Convolution', 'ConvolutionVariationalFlipout',
           'ConvolutionVariationalReparameterization']

IntOrInts = Union[int, Sequence[int]]


class _ConvolutionShapes:
  """The shapes, checks and layouts every convolution layer shares.

  A transposed layer sets `_transposed` (and `_output_padding`, before
  `_init_shapes`), which selects the transposed linear map and its kernel
  shape, `filter_shape + (output_size, input_size)`, the forward
  convolution's kernel as `tf.nn.conv_transpose` takes it.
  """

  _transposed = False
  _output_padding = None

  def _init_shapes(self, owner: str, input_size: int, output_size: int,
                   filter_shape: IntOrInts, rank: int, strides: IntOrInts,
                   padding: str, dilations: IntOrInts, data_format: str):
    self._input_size = inputs_lib.check_size(owner, 'input_size', input_size)
    self._output_size = inputs_lib.check_size(owner, 'output_size',
                                              output_size)
    self._args = conv_lib.prepare_arguments(
        owner, rank, filter_shape, strides, padding, dilations, data_format,
        self._output_padding)
    args = self._args
    if self._transposed:
      self._kernel_shape = args.filter_shape + (output_size, input_size)
      self._linear_map = linear_maps.convolution_transpose(
          args.rank, args.strides, args.padding, args.dilations,
          args.output_padding)
    else:
      self._kernel_shape = args.filter_shape + (input_size, output_size)
      self._linear_map = linear_maps.convolution(
          args.rank, args.strides, args.padding, args.dilations)

  @property
  def input_size(self) -> int:
    """The number of input channels."""
    return self._input_size

  @property
  def output_size(self) -> int:
    """The number of output channels (Keras's `filters`)."""
    return self._output_size

  @property
  def rank(self) -> int:
    """The number of spatial axes."""
    return self._args.rank

  @property
  def filter_shape(self) -> Tuple[int, ...]:
    """The filter's spatial shape (Keras's `kernel_size`)."""
    return self._args.filter_shape

  @property
  def strides(self) -> Tuple[int, ...]:
    """The strides, one per spatial axis."""
    return self._args.strides

  @property
  def padding(self) -> str:
    """`'VALID'` or `'SAME'`."""
    return self._args.padding

  @property
  def dilations(self) -> Tuple[int, ...]:
    """The dilations, one per spatial axis (Keras's `dilation_rate`)."""
    return self._args.dilations

  @property
  def data_format(self) -> str:
    """`'channels_last'` or `'channels_first'`."""
    return self._args.data_format

  def _check_inputs(self, x: tf.Tensor) -> tf.Tensor:
    rank = self._args.rank
    channels_last = self._args.data_format == 'channels_last'
    x = inputs_lib.check_trailing_shape(
        x, rank + 1, {-1 if channels_last else -rank - 1: self._input_size},
        self.name)
    spatial = x.shape[-rank - 1:-1] if channels_last else x.shape[-rank:]
    smallest = conv_lib.dilated_filter_shape(self._args.filter_shape,
                                             self._args.dilations)
    if (not self._transposed and self._args.padding == 'VALID'
        and any(n is not None and n < k for n, k in zip(spatial, smallest))):
      raise ValueError(f'{self.name}: with \'VALID\' padding, expected '
                       f'spatial sizes of at least {smallest} (the dilated '
                       f'filter); received inputs of shape {x.shape}.')
    return x

  def _to_map_layout(self, x: tf.Tensor) -> Tuple[tf.Tensor, Any]:
    return conv_lib.to_map_layout(x, self._args.rank, self._args.data_format)

  def _from_map_layout(self, y: tf.Tensor, restore: Any,
                       x: tf.Tensor) -> tf.Tensor:
    return conv_lib.from_map_layout(y, restore, x, self._args.rank,
                                    self._args.data_format)


class _DeterministicConvolution(_ConvolutionShapes, layers_lib.KernelBiasLayer):
  """The deterministic convolutions' constructor, weights and call."""

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
      batch_shape: Sequence[int] = (),
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      data_format: str = 'channels_last'):
    name = name or type(self).__name__
    if batch_shape is not None and np.size(batch_shape):
      raise NotImplementedError(
          f'{name}: a `batch_shape` of independent convolutions is not '
          f'supported; received {batch_shape!r}.')
    self._init_shapes(name, input_size, output_size, filter_shape, rank,
                      strides, padding, dilations, data_format)
    kernel, bias = layers_lib.make_kernel_bias_in_scope(
        name, make_kernel_bias_fn, self._kernel_shape, [output_size],
        kernel_initializer, bias_initializer, 0, dtype)
    super().__init__(kernel, bias, self._linear_map,
                     activation_fn=activation_fn, dtype=dtype,
                     validate_args=validate_args, name=name)

  def __call__(self, inputs) -> tf.Tensor:
    """Applies the layer to inputs of shape `[..., *spatial, input_size]`.

    Args:
      inputs: channels last, `[..., *spatial, input_size]`, or channels
        first, `[..., input_size, *spatial]`, with any batch shape.

    Returns:
      The outputs, in the layout of the inputs.
    """
    x = self._check_inputs(
        inputs_lib.convert_inputs(inputs, self._dtype, self.name))
    map_inputs, restore = self._to_map_layout(x)
    y = self._linear_map.apply(map_inputs, self._kernel) + self._bias
    return self._activate(self._from_map_layout(y, restore, x))


GEOMETRY_ARGS_DOC = """
  Args:
    input_size: the number of input channels.
    output_size: the number of output channels (Keras's `filters`).
    filter_shape: the filter's spatial shape: an int or `rank` ints (Keras's
      `kernel_size`).
    rank: the number of spatial axes: 1, 2 (default) or 3.
    strides: an int or `rank` ints; default 1.
    padding: `'VALID'` (default) or `'SAME'`, in any case.
    dilations: an int or `rank` ints; default 1. Dilations above 1 cannot be
      combined with strides above 1."""

DATA_FORMAT_DOC = """
    data_format: keyword only: `'channels_last'` (default), inputs
      `[..., *spatial, channels]`, or `'channels_first'`,
      `[..., channels, *spatial]`. Either runs on a CPU."""

VARIATIONAL_ARGS_DOC = """
    kernel_initializer: initializes the kernel posterior's mean; `None` means
      `tfnx.initializers.glorot_uniform()` (seeded from `seed` when given).
    bias_initializer: initializes the bias posterior's mean; `None` means
      zeros.
    make_posterior_fn: builds the joint `[kernel, bias]` posterior; default
      `tfnx.util.make_kernel_bias_posterior_mvn_diag`.
    make_prior_fn: builds the joint `[kernel, bias]` prior; default
      `tfnx.util.make_kernel_bias_prior_spike_and_slab`.
    posterior_value_fn: `(distribution, seed=...) -> weights`; default
      `tfd.Distribution.sample`.
    unpack_weights_fn: splits `[kernel, bias]` structures; default
      `tfnx.util.unpack_kernel_and_bias`.
    dtype: `tf.float32` (default) or `tf.float64`.{extra}
    activation_fn: applied to the outputs; `None` for the identity.
    seed: seeds the layer's own seed stream (used by calls without a seed)
      and the default kernel initializer; `None` for non-deterministic.
    validate_args: whether every call checks that inputs are finite.
    name: the layer's name; `None` means the class name.""" + DATA_FORMAT_DOC + """
    divergence_fn: keyword only: `(posterior, prior, sample) -> KL` for each
      of kernel and bias; `None` means the closed form where TFP registers
      one, else the Monte Carlo estimate on the call's sampled weights.
"""


class Convolution(_DeterministicConvolution):
  __doc__ = """A deterministic convolution, `activation_fn(conv(x, kernel) + bias)`.

  Inputs `[..., *spatial, input_size]` (any batch shape) give outputs
  `[..., *out_spatial, output_size]`. The kernel has shape
  `filter_shape + (input_size, output_size)`.
""" + GEOMETRY_ARGS_DOC + """
    kernel_initializer: `init(shape, dtype, batch_ndims)`; `None` means
      `tfnx.initializers.glorot_uniform()`.
    bias_initializer: likewise; `None` means zeros.
    make_kernel_bias_fn: builds `(kernel, bias)` variables; default
      `tfnx.util.make_kernel_bias`.
    dtype: the layer's floating dtype.
    batch_shape: must be `()` (accepted for TFP's signature).
    activation_fn: applied to the outputs; `None` for the identity.
    validate_args: kept for a uniform signature.
    name: the layer's name; `None` means `'Convolution'`.""" + DATA_FORMAT_DOC


class _ConvolutionVariational(_ConvolutionShapes, variational.VariationalLayer):
  """The variational convolutions' shared constructor."""

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
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      seed: Optional[seeds_lib.SeedLike] = None,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      data_format: str = 'channels_last',
      divergence_fn: Optional[variational.DivergenceFn] = None):
    name = name or type(self).__name__
    self._init_shapes(name, input_size, output_size, filter_shape, rank,
                      strides, padding, dilations, data_format)
    posterior, prior = variational.make_posterior_and_prior(
        name, make_posterior_fn, make_prior_fn, list(self._kernel_shape),
        [output_size], kernel_initializer, bias_initializer,
        tf.as_dtype(dtype), seed)
    self._make_posterior_fn = make_posterior_fn
    self._make_prior_fn = make_prior_fn
    super().__init__(posterior, prior, activation_fn=activation_fn,
                     posterior_value_fn=posterior_value_fn, seed=seed,
                     dtype=dtype, validate_args=validate_args, name=name,
                     apply_kernel_fn=self._linear_map,
                     unpack_weights_fn=unpack_weights_fn,
                     divergence_fn=divergence_fn)


_CONVOLUTION_ARGS_DOC = (GEOMETRY_ARGS_DOC
                         + VARIATIONAL_ARGS_DOC.format(extra=''))


class ConvolutionVariationalReparameterization(_ConvolutionVariational):
  __doc__ = """A convolution with a variational posterior, by reparameterization.

  Each call samples one kernel and bias from the posterior and applies them
  to the whole batch: `activation_fn(conv(x, kernel) + bias)`. Inputs
  `[..., *spatial, input_size]` (any batch shape) give outputs
  `[..., *out_spatial, output_size]`; the kernel has shape
  `filter_shape + (input_size, output_size)`.
""" + _CONVOLUTION_ARGS_DOC

  _estimator = staticmethod(estimators_lib.reparameterization)


class ConvolutionVariationalFlipout(_ConvolutionVariational):
  __doc__ = """A convolution with a variational posterior, by Flipout.

  Flipout (Wen et al., 2018) adds to the posterior-mean output one shared
  kernel perturbation, decorrelated per example by random signs on input and
  output channels, shared across spatial positions: each example's outputs
  are those of a kernel sample of its own, at the cost of two convolutions.
  Needs an elementwise normal kernel posterior.
""" + _CONVOLUTION_ARGS_DOC

  _estimator = staticmethod(estimators_lib.flipout)
