"""`ConvolutionGeometry`: one value describing a convolution layer's shapes and linear map.

Every convolution layer, `tf.Module` and Keras alike, holds one. It is built
once from the constructor's arguments (normalized and checked, with errors
naming the layer) and answers everything that depends on them: the kernel's
and bias's shapes, the `LinearMap`, the input checks and layouts, and the
output shape. Its `kind`, a `ConvolutionKind` value, tells the three kernel
layouts apart by what each declares:

- `CONVOLUTION`: kernel `[*batch, *filter_shape, in, out]`, applied by
  `tf.nn.convolution` (`tfnx.linear_maps.convolution`).
- `TRANSPOSE`: kernel `[prod(filter_shape) * in, out]`, TFP's layout,
  applied by `tf.nn.conv_transpose` (`tfnx.linear_maps.convolution_transpose`).
- `IM2ROW`: kernel `[*batch, prod(filter_shape) * in, out]`, TFP's V2
  layers (`tfnx.linear_maps.im2row`).
"""

import dataclasses
import math
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tfnx import _checks as checks
from tfnx import linear_maps
from tfnx import _convolution_args as conv_lib

__all__ = ['ConvolutionGeometry', 'ConvolutionKind', 'CONVOLUTION',
           'TRANSPOSE', 'IM2ROW']

_DATA_FORMATS = ('channels_last', 'channels_first')


@dataclasses.dataclass(frozen=True)
class ConvolutionKind:
  """A convolution's kernel layout, and what follows from it.

  Attributes:
    name: its name in messages (`'im2row'`).
    flat_kernel: whether the kernel's event is `[prod(filter_shape) * in,
      out]` (else `[*filter_shape, in, out]`).
    transposed: whether it is a transposed convolution: its outputs' lengths
      grow with the strides, and no input is too short for its filter.
    bias_spatial_axes: whether the bias has a size-1 axis per spatial axis
      (`[*batch, 1, ..., 1, out]`, TFP's V2 layout).
    broadcasts_batch: whether its linear map takes the inputs as they are,
      broadcasting a batched kernel against their leading axes (else the
      inputs are brought to `[N, *spatial, channels]` first).
    linear_map: `(geometry) -> LinearMap`, the map applying such a kernel.
  """
  name: str
  flat_kernel: bool
  transposed: bool
  bias_spatial_axes: bool
  broadcasts_batch: bool
  linear_map: Callable[['ConvolutionGeometry'], linear_maps.LinearMap]


def _convolution_map(g: 'ConvolutionGeometry') -> linear_maps.LinearMap:
  return linear_maps.convolution(g.rank, g.strides, g.padding, g.dilations)


def _transpose_map(g: 'ConvolutionGeometry') -> linear_maps.LinearMap:
  return linear_maps.convolution_transpose(g.filter_shape, g.rank, g.strides,
                                           g.padding, g.dilations,
                                           g.output_padding)


def _im2row_map(g: 'ConvolutionGeometry') -> linear_maps.LinearMap:
  return linear_maps.im2row(g.filter_shape, g.rank, g.strides, g.padding,
                            g.dilations)


CONVOLUTION = ConvolutionKind(
    name='convolution', flat_kernel=False, transposed=False,
    bias_spatial_axes=False, broadcasts_batch=False,
    linear_map=_convolution_map)
TRANSPOSE = ConvolutionKind(
    name='transpose', flat_kernel=True, transposed=True,
    bias_spatial_axes=False, broadcasts_batch=False,
    linear_map=_transpose_map)
IM2ROW = ConvolutionKind(
    name='im2row', flat_kernel=True, transposed=False,
    bias_spatial_axes=True, broadcasts_batch=True, linear_map=_im2row_map)


@dataclasses.dataclass(frozen=True)
class ConvolutionGeometry:
  """A convolution's normalized arguments, and what follows from them.

  Build one with `create`, which checks the arguments.

  Attributes:
    rank: 1, 2 or 3, the number of spatial axes.
    filter_shape: `rank` positive ints.
    strides: `rank` positive ints.
    padding: `'VALID'` or `'SAME'`.
    dilations: `rank` positive ints; all 1 where any stride exceeds 1.
    data_format: `'channels_last'` or `'channels_first'`.
    kind: the kernel layout, `CONVOLUTION`, `TRANSPOSE` or `IM2ROW`.
    output_padding: `rank` ints below the strides, or `None` (transposed
      convolutions only).
  """
  rank: int
  filter_shape: Tuple[int, ...]
  strides: Tuple[int, ...]
  padding: str
  dilations: Tuple[int, ...]
  data_format: str = 'channels_last'
  kind: ConvolutionKind = CONVOLUTION
  output_padding: Optional[Tuple[int, ...]] = None

  @classmethod
  def create(cls, owner: str, rank: Any, filter_shape: Any, strides: Any = 1,
             padding: Any = 'VALID', dilations: Any = 1,
             data_format: Any = 'channels_last',
             kind: ConvolutionKind = CONVOLUTION,
             output_padding: Any = None) -> 'ConvolutionGeometry':
    """Normalizes and checks a convolution layer's arguments.

    Ints may be Python, NumPy or 0-d tensor ints, and a sequence of one int
    stands for `rank` copies, as in TFP.

    Args:
      owner: the layer's name, for errors.
      rank: 1, 2 or 3.
      filter_shape: an int or `rank` ints.
      strides: an int or `rank` ints.
      padding: `'VALID'` or `'SAME'`, in any case.
      dilations: an int or `rank` ints.
      data_format: `'channels_last'` or `'channels_first'`.
      kind: the kernel layout, a `ConvolutionKind`.
      output_padding: `None`, or (transposed only) an int or `rank` ints
        below the strides.

    Returns:
      The `ConvolutionGeometry`.

    Raises:
      ValueError: on any bad argument.
    """
    if not isinstance(kind, ConvolutionKind):
      raise TypeError(f'{owner}: expected a ConvolutionKind; received '
                      f'{kind!r}.')
    filter_shape, rank, strides, padding, dilations = (
        conv_lib.prepare_filter_geometry(owner, filter_shape, rank, strides,
                                         padding, dilations))
    if data_format not in _DATA_FORMATS:
      raise ValueError(f'{owner}: expected `data_format` \'channels_last\' or '
                       f'\'channels_first\'; received {data_format!r}.')
    return cls(
        rank=rank, filter_shape=filter_shape, strides=strides,
        padding=padding, dilations=dilations, data_format=data_format,
        kind=kind,
        output_padding=conv_lib.prepare_output_padding(output_padding,
                                                       strides, owner))

  def kernel_shape(self, input_size: int, output_size: int,
                   batch_shape: Sequence[int] = ()) -> list:
    """The kernel's shape in this geometry's layout."""
    if self.kind.flat_kernel:
      event = [int(np.prod(self.filter_shape)) * input_size, output_size]
    else:
      event = list(self.filter_shape) + [input_size, output_size]
    return list(batch_shape) + event

  def kernel_event_ndims(self) -> int:
    """The number of the kernel's axes that are not batch axes."""
    return 2 if self.kind.flat_kernel else self.rank + 2

  def bias_shape(self, output_size: int,
                 batch_shape: Sequence[int] = ()) -> list:
    """The bias's shape in this geometry's layout."""
    spatial = [1] * self.rank if self.kind.bias_spatial_axes else []
    return list(batch_shape) + spatial + [output_size]

  def linear_map(self) -> linear_maps.LinearMap:
    """The `LinearMap` applying a kernel of `kernel_shape`, channels last."""
    return self.kind.linear_map(self)

  @property
  def dilated_filter_shape(self) -> Tuple[int, ...]:
    """Each filter axis's extent once `dilations - 1` gaps separate its taps."""
    return conv_lib.dilated_filter_shape(self.filter_shape, self.dilations)

  def check_inputs(self, x: tf.Tensor, input_size: int, owner: str,
                   batch_ndims: int = 0) -> tf.Tensor:
    """Checks the rank, channels and (VALID) spatial sizes of inputs.

    Args:
      x: the inputs.
      input_size: the number of input channels.
      owner: the layer's name, for errors.
      batch_ndims: how many kernel batch axes sit between the spatial axes
        and the channels (TFP's V1 batched convolutions).

    Returns:
      `x`, with its checked sizes set statically.
    """
    rank = self.rank
    channels_last = self.data_format == 'channels_last'
    x = checks.check_trailing_shape(
        x, rank + 1 + batch_ndims,
        {-1 if channels_last else -rank - 1: input_size}, owner)
    end = -1 - batch_ndims
    spatial = x.shape[end - rank:end] if channels_last else x.shape[-rank:]
    smallest = self.dilated_filter_shape
    if (not self.kind.transposed and self.padding == 'VALID'
        and any(n is not None and n < k for n, k in zip(spatial, smallest))):
      raise ValueError(f'{owner}: with \'VALID\' padding, expected '
                       f'spatial sizes of at least {smallest} (the dilated '
                       f'filter); received inputs of shape {x.shape}.')
    return x

  def to_map_layout(self, x: tf.Tensor) -> Tuple[tf.Tensor, Any]:
    """Inputs to `[N, *spatial, channels]`; also returns what undoes it."""
    return conv_lib.to_map_layout(x, self.rank, self.data_format)

  def from_map_layout(self, y: tf.Tensor, restore: Any,
                      x: tf.Tensor) -> tf.Tensor:
    """Undoes `to_map_layout` on the linear map's outputs."""
    return conv_lib.from_map_layout(y, restore, x, self.rank,
                                    self.data_format)

  def output_spatial_shape(
      self, spatial: Sequence[Optional[int]]) -> Tuple[Optional[int], ...]:
    """The outputs' spatial shape for inputs of this spatial shape."""
    return tuple(self._output_length(n, i) for i, n in enumerate(spatial))

  def _output_length(self, length: Optional[int], axis: int) -> Optional[int]:
    if length is None:
      return None
    kernel, stride = self.dilated_filter_shape[axis], self.strides[axis]
    if self.kind.transposed:
      return conv_lib.transpose_output_length(
          length, stride, kernel, self.padding,
          None if self.output_padding is None else self.output_padding[axis])
    if self.padding == 'SAME':
      return math.ceil(length / stride)
    return max(length - kernel, -1) // stride + 1
