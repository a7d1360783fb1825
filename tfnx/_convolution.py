"""Convolution layers: the deterministic `Convolution` and two variational ones.

Like the dense layers, they differ from the other layer types only in their
linear map and their shapes, both given by one `ConvolutionGeometry`
(`tfnx._convolution_geometry`). The bases here serve the transposed
convolutions (`tfnx._convolution_transpose`) and TFP's V2 layers
(`tfnx._convolution_v2`) as well: each public class builds its geometry from
its own (TFP's) arguments and hands it to its base.
"""

import dataclasses
import inspect
from typing import Any, Callable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import estimators as estimators_lib
from tfnx import _checks as checks
from tfnx import _layers as layers_lib
from tfnx import seeds as seeds_lib
from tfnx import _variational as variational
from tfnx._convolution_geometry import ConvolutionGeometry
from tfnx._convolution_geometry import IM2ROW
from tfnx import _convolution_args as conv_lib
from tfnx.util import kernel_bias as kernel_bias_lib
from tfnx.util import _weights as weights_lib

tfd = tfp.distributions

__all__ = ['Convolution', 'ConvolutionVariationalFlipout',
           'ConvolutionVariationalReparameterization']

IntOrInts = Union[int, Sequence[int]]


def base_arguments(base: type, arguments: Mapping[str, Any],
                   **given: Any) -> dict:
  """The keyword arguments of `base.__init__`, by name.

  A family's constructor takes its base's arguments under the same names
  (in TFP's order, with TFP's defaults); its `locals()` give them to the
  base by keyword, so two of them cannot be swapped on the way.

  Args:
    base: the base class, whose `__init__` takes keyword arguments only.
    arguments: the constructor's `locals()`.
    **given: arguments the constructor computed (the geometry) or fixes.

  Returns:
    `{name: value}` for every argument of `base.__init__`.
  """
  names = [name for name in inspect.signature(base.__init__).parameters
           if name != 'self']
  return {name: given[name] if name in given else arguments[name]
          for name in names}


def _from_geometry(field: str, doc: str) -> property:
  """A read-only layer property: the `field` of the layer's geometry."""
  return property(lambda self: getattr(self._geometry, field), doc=doc)


class ConvolutionShapes(layers_lib.Sizes):
  """The properties, checks and layouts every convolution layer shares.

  All of them follow from the layer's `ConvolutionGeometry`, given to
  `_init_shapes` with the channel counts.
  """

  def _init_shapes(self, geometry: ConvolutionGeometry, input_size: Any,
                   output_size: Any, owner: str) -> None:
    self._geometry = geometry
    self._init_sizes(owner, input_size, output_size)

  @property
  def geometry(self) -> ConvolutionGeometry:
    """The layer's normalized convolution arguments."""
    return self._geometry

  rank = _from_geometry('rank', 'The number of spatial axes.')
  filter_shape = _from_geometry(
      'filter_shape', "The filter's spatial shape (Keras's `kernel_size`).")
  strides = _from_geometry('strides', 'The strides, one per spatial axis.')
  padding = _from_geometry('padding', "`'VALID'` or `'SAME'`.")
  dilations = _from_geometry(
      'dilations',
      "The dilations, one per spatial axis (Keras's `dilation_rate`).")
  data_format = _from_geometry(
      'data_format', "`'channels_last'` or `'channels_first'`.")

  def _check_inputs(self, x: tf.Tensor, batch_ndims: int = 0) -> tf.Tensor:
    return self._geometry.check_inputs(x, self._input_size, self.name,
                                       batch_ndims)

  def _to_map_layout(self, x: tf.Tensor) -> Tuple[tf.Tensor, Any]:
    return self._geometry.to_map_layout(x)

  def _from_map_layout(self, y: tf.Tensor, restore: Any,
                       x: tf.Tensor) -> tf.Tensor:
    return self._geometry.from_map_layout(y, restore, x)


def _batch_shape(batch_shape: Any, owner: str) -> list:
  """A layer's `batch_shape` as a list of Python ints (`None` is `()`)."""
  if batch_shape is None:
    return []
  values = (tf.get_static_value(batch_shape) if tf.is_tensor(batch_shape)
            else batch_shape)
  values = None if values is None else np.reshape(values, [-1]).tolist()
  sizes = [] if values is None else [conv_lib.static_int(v) for v in values]
  if values is None or any(d is None or d < 1 for d in sizes):
    raise ValueError(f'{owner}: expected `batch_shape` to be a shape of '
                     f'positive ints; received {batch_shape!r}.')
  return sizes


class DeterministicConvolutionBase(ConvolutionShapes,
                                   layers_lib.KernelBiasLayer):
  """The deterministic convolutions' weights and call, for any geometry.

  The kernel's leading axes beyond its layout's (a `batch_shape`, or sample
  axes a `make_kernel_bias_fn` added) are batch axes, broadcast against the
  inputs' as TFP's standards promise: for the `IM2ROW` (V2) layout against
  the inputs' axes left of the spatial ones, for `CONVOLUTION` (V1)
  against as many axes between the spatial axes and the channels.
  """

  def __init__(self, *, geometry: ConvolutionGeometry, input_size: Any,
               output_size: Any, kernel_initializer: Optional[Callable],
               bias_initializer: Optional[Callable],
               make_kernel_bias_fn: Callable, dtype: tf.DType,
               batch_shape: Any, activation_fn: Optional[Callable],
               validate_args: bool, name: str):
    self._init_shapes(geometry, input_size, output_size, name)
    batch_shape = _batch_shape(batch_shape, name)
    if batch_shape and geometry.data_format != 'channels_last':
      raise ValueError(f'{name}: a `batch_shape` needs channels-last '
                       f'inputs; received data_format='
                       f'{geometry.data_format!r}.')
    kernel, bias = layers_lib.make_kernel_bias_in_scope(
        name, make_kernel_bias_fn,
        geometry.kernel_shape(self._input_size, self._output_size,
                              batch_shape),
        geometry.bias_shape(self._output_size, batch_shape),
        kernel_initializer, bias_initializer, len(batch_shape), dtype)
    super().__init__(kernel=kernel, bias=bias,
                     apply_kernel_fn=geometry.linear_map(),
                     activation_fn=activation_fn, dtype=dtype,
                     validate_args=validate_args, name=name)

  def _kernel_batch_ndims(self) -> int:
    return self._kernel.shape.rank - self._geometry.kernel_event_ndims()

  def __call__(self, inputs, **kwargs) -> tf.Tensor:
    """Applies the layer to inputs of shape `[..., *spatial, input_size]`.

    Args:
      inputs: channels last, `[..., *spatial, input_size]`, or channels
        first, `[..., input_size, *spatial]`, with any batch shape (and,
        with a batched V1 kernel, its batch axes before the channels).
      **kwargs: ignored (`training=...`), as TFP's layers accept them.

    Returns:
      The outputs, in the layout of the inputs.
    """
    del kwargs  # Accepted as TFP's layers accept them.
    x = checks.convert_inputs(inputs, self._dtype, self.name)
    batch_ndims = self._kernel_batch_ndims()
    kind = self._geometry.kind
    if batch_ndims and not kind.flat_kernel:
      x = self._check_inputs(x, batch_ndims)
      y = _batched_convolution(self._geometry, x, self._kernel, batch_ndims)
      return self._activate(y + self._bias)
    if kind.broadcasts_batch:
      y = self._linear_map.apply(self._check_inputs(x), self._kernel)
      return self._activate(y + self._bias)
    x = self._check_inputs(x)
    map_inputs, restore = self._to_map_layout(x)
    y = self._linear_map.apply(map_inputs, self._kernel) + self._bias
    return self._activate(self._from_map_layout(y, restore, x))


def _batched_convolution(geometry: ConvolutionGeometry, x: tf.Tensor,
                         kernel: tf.Tensor, batch_ndims: int) -> tf.Tensor:
  """TFP's V1 batched convolution: `[..., *S, *B, c]` by `[*B, *F, c, out]`.

  The kernel's batch axes `B` move before the spatial ones, where the im2row
  map broadcasts them, and back after.
  """
  rank, k = geometry.rank, batch_ndims
  n = x.shape.rank - rank - k - 1
  x = tf.transpose(x, list(range(n)) + list(range(n + rank, n + rank + k))
                   + list(range(n, n + rank)) + [n + rank + k])
  shape = tf.shape(kernel)
  kernel = tf.reshape(kernel, tf.concat([shape[:k], [-1], shape[-1:]], 0))
  y = dataclasses.replace(geometry, kind=IM2ROW).linear_map().apply(x, kernel)
  m = y.shape.rank - rank - k - 1
  return tf.transpose(y, list(range(m)) + list(range(m + k, m + k + rank))
                      + list(range(m, m + k)) + [m + k + rank])


class Convolution(DeterministicConvolutionBase):
  """A deterministic convolution, `activation_fn(conv(x, kernel) + bias)`.

  Inputs `[..., *spatial, input_size]` (any batch shape) give outputs
  `[..., *out_spatial, output_size]`. The kernel has shape
  `filter_shape + (input_size, output_size)`.

  Args:
    input_size: the number of input channels.
    output_size: the number of output channels (Keras's `filters`).
    filter_shape: the filter's spatial shape: an int or `rank` ints (Keras's
      `kernel_size`).
    rank: the number of spatial axes: 1, 2 (default) or 3.
    strides: an int or `rank` ints; default 1.
    padding: `'VALID'` (default) or `'SAME'`, in any case.
    dilations: an int or `rank` ints; default 1. Dilations above 1 cannot be
      combined with strides above 1.
    kernel_initializer: `init(shape, dtype, batch_ndims)`; `None` means
      `tfnx.initializers.glorot_uniform()`.
    bias_initializer: likewise; `None` means zeros.
    make_kernel_bias_fn: builds `(kernel, bias)` variables; default
      `tfnx.util.make_kernel_bias`.
    dtype: the layer's floating dtype.
    batch_shape: a shape of independent convolutions in one: the kernel has
      shape `batch_shape + filter_shape + [input_size, output_size]`, the
      bias `batch_shape + [output_size]`, and inputs
      `[..., *spatial, *batch_shape, input_size]` (TFP's layout; size-1 axes
      broadcast) give `[..., *out_spatial, *batch_shape, output_size]`.
      Channels last only. Default `()`: one convolution.
    activation_fn: applied to the outputs; `None` for the identity.
    validate_args: kept for a uniform signature.
    name: the layer's name; `None` means `'Convolution'`.
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
    super().__init__(**base_arguments(
        DeterministicConvolutionBase, locals(),
        geometry=ConvolutionGeometry.create(name, rank, filter_shape, strides,
                                            padding, dilations, data_format)))


class VariationalConvolutionBase(ConvolutionShapes,
                                 variational.VariationalLayer):
  """The variational convolutions' weights, for any geometry."""

  def __init__(
      self,
      *,
      geometry: ConvolutionGeometry,
      input_size: int,
      output_size: int,
      kernel_initializer: Optional[Callable],
      bias_initializer: Optional[Callable],
      make_posterior_fn: Callable,
      make_prior_fn: Callable,
      posterior_value_fn: Callable[..., Any],
      unpack_weights_fn: Callable[[Any], Tuple[Any, Any]],
      dtype: tf.DType,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]],
      seed: Optional[seeds_lib.SeedLike],
      validate_args: bool,
      name: str,
      divergence_fn: Optional[variational.DivergenceFn]):
    self._init_shapes(geometry, input_size, output_size, name)
    posterior, prior = variational.make_posterior_and_prior(
        name=name, make_posterior_fn=make_posterior_fn,
        make_prior_fn=make_prior_fn,
        kernel_shape=geometry.kernel_shape(self._input_size,
                                           self._output_size),
        bias_shape=[self._output_size], kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer, dtype=tf.as_dtype(dtype),
        seed=seed)
    super().__init__(posterior=posterior, prior=prior,
                     activation_fn=activation_fn,
                     posterior_value_fn=posterior_value_fn, seed=seed,
                     dtype=dtype, validate_args=validate_args, name=name,
                     apply_kernel_fn=geometry.linear_map(),
                     unpack_weights_fn=unpack_weights_fn,
                     divergence_fn=divergence_fn)


class _ConvolutionVariationalV1(VariationalConvolutionBase):
  """The variational convolutions' constructor, in TFP's argument order."""

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
    """Builds the convolution's geometry, posterior and prior.

    Args:
      input_size, output_size, filter_shape, rank, strides, padding,
        dilations: the geometry, as for `tfnx.Convolution`.
      kernel_initializer, bias_initializer, make_posterior_fn,
        make_prior_fn, posterior_value_fn, unpack_weights_fn, dtype,
        activation_fn, seed, validate_args, name: the posterior, its prior
        and the call, as for the dense layers
        (`help(tfnx.AffineVariationalFlipout.__init__)`).
      data_format: keyword only, as for `tfnx.Convolution`.
      divergence_fn: keyword only, as for the dense layers.
    """
    name = name or type(self).__name__
    super().__init__(**base_arguments(
        VariationalConvolutionBase, locals(),
        geometry=ConvolutionGeometry.create(name, rank, filter_shape, strides,
                                            padding, dilations, data_format)))


class ConvolutionVariationalReparameterization(_ConvolutionVariationalV1):
  """A convolution with a variational posterior, by reparameterization.

  Each call samples one kernel and bias from the posterior and applies them
  to the whole batch: `activation_fn(conv(x, kernel) + bias)`. Inputs
  `[..., *spatial, input_size]` (any batch shape) give outputs
  `[..., *out_spatial, output_size]`; the kernel has shape
  `filter_shape + (input_size, output_size)`.

  Args: those of the variational convolutions, documented once on their
  constructor (`help(ConvolutionVariationalFlipout.__init__)`).
  """

  _estimator = estimators_lib.REPARAMETERIZATION


class ConvolutionVariationalFlipout(_ConvolutionVariationalV1):
  """A convolution with a variational posterior, by Flipout.

  Flipout (Wen et al., 2018) adds to the posterior-mean output one shared
  kernel perturbation, decorrelated per example by random signs on input and
  output channels, shared across spatial positions: each example's outputs
  are those of a kernel sample of its own, at the cost of two convolutions.
  Needs an elementwise normal kernel posterior.

  Args: those of the variational convolutions, documented once on their
  constructor (`help(ConvolutionVariationalFlipout.__init__)`).
  """

  _estimator = estimators_lib.FLIPOUT
