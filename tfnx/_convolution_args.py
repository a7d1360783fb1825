"""Convolution arguments and layouts, shared by every convolution layer and linear map.

Normalizes the int-or-tuple arguments (`filter_shape`, `strides`,
`dilations`, `output_padding`), the padding and the data format once, with
errors naming their owner; computes a transposed convolution's output length;
and brings inputs of any batch shape and either data format to the one layout
TF's convolutions run in on every device, `[N, *spatial, channels]`.
"""

import numbers
from typing import Any, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from tfnx import _shapes as shapes_lib

__all__ = ['CHANNELS_LAST', 'prepare_geometry', 'prepare_filter_geometry',
           'int_tuple', 'static_int',
           'prepare_output_padding', 'dilated_filter_shape',
           'transpose_output_length', 'to_map_layout', 'from_map_layout']

# TF's names of the channels-last layouts, by rank. The convolution ops are
# always given one explicitly: the eager gradient of a 3-D convolution made
# without it fails reading the attribute.
CHANNELS_LAST = {1: 'NWC', 2: 'NHWC', 3: 'NDHWC'}

_PADDINGS = ('VALID', 'SAME')

Length = Union[int, tf.Tensor]


def static_int(value: Any) -> Optional[int]:
  """`value` as a Python int if it is one: an int, a NumPy or 0-d tensor int.

  Returns `None` for anything else, `bool`s included.
  """
  if tf.is_tensor(value) or isinstance(value, np.ndarray):
    value = tf.get_static_value(value)
    if value is None or np.ndim(value) != 0:
      return None
    value = value.item() if isinstance(value, np.ndarray) else value
  if isinstance(value, (bool, np.bool_)) or not isinstance(
      value, numbers.Integral):
    return None
  return int(value)


def int_tuple(value: Any, rank: int, what: str, owner: str,
              minimum: int = 1) -> Tuple[int, ...]:
  """Expands an int (or a sequence of one) to `rank` copies, or checks `rank` ints.

  Ints may be Python, NumPy or 0-d tensor ints, as TFP accepts them.

  Args:
    value: an int, or a sequence of 1 or `rank` ints.
    rank: the number of spatial axes.
    what: the argument's name, for errors.
    owner: the caller's name, for errors.
    minimum: the smallest value allowed.

  Returns:
    A tuple of `rank` Python ints.

  Raises:
    ValueError: on a wrong length, a non-int, or a value below `minimum`.
  """
  if static_int(value) is not None:
    values = (value,)
  elif tf.is_tensor(value) or isinstance(value, np.ndarray):
    values = tf.get_static_value(value)
    values = None if values is None else list(np.reshape(values, [-1]))
  else:
    try:
      values = tuple(value)
    except TypeError:
      values = None
  ints = None if values is None else [static_int(v) for v in values]
  if ints is not None and len(ints) == 1:
    ints = ints * rank
  if (ints is None or len(ints) != rank
      or not all(v is not None and v >= minimum for v in ints)):
    raise ValueError(f'{owner}: expected `{what}` to be an int >= {minimum} or '
                     f'a sequence of 1 or {rank} of them; received {value!r}.')
  return tuple(ints)


def prepare_geometry(owner: str, rank: Any, strides: Any, padding: Any,
                     dilations: Any) -> Tuple[int, Tuple[int, ...], str,
                                              Tuple[int, ...]]:
  """Normalizes what a convolution op needs besides its kernel.

  Args:
    owner: the caller's name, for errors.
    rank: 1, 2 or 3.
    strides: an int or `rank` ints.
    padding: `'VALID'` or `'SAME'`, in any case.
    dilations: an int or `rank` ints.

  Returns:
    `(rank, strides, padding, dilations)`, with `padding` upper-case.

  Raises:
    ValueError: on a bad value, or on strides and dilations both above 1,
      which TF's convolutions cannot combine.
  """
  if static_int(rank) not in CHANNELS_LAST:
    raise ValueError(f'{owner}: expected `rank` 1, 2 or 3; received {rank!r}.')
  rank = static_int(rank)
  strides = int_tuple(strides, rank, 'strides', owner)
  dilations = int_tuple(dilations, rank, 'dilations', owner)
  if max(strides) > 1 and max(dilations) > 1:
    raise ValueError(f'{owner}: strides > 1 cannot be combined with dilations '
                     f'> 1 (TF\'s convolutions support one or the other); '
                     f'received strides={strides}, dilations={dilations}.')
  if not isinstance(padding, str) or padding.upper() not in _PADDINGS:
    raise ValueError(f'{owner}: expected `padding` \'VALID\' or \'SAME\' (in '
                     f'any case); received {padding!r}.')
  return rank, strides, padding.upper(), dilations


def prepare_filter_geometry(
    owner: str, filter_shape: Any, rank: Any, strides: Any, padding: Any,
    dilations: Any) -> Tuple[Tuple[int, ...], int, Tuple[int, ...], str,
                             Tuple[int, ...]]:
  """`prepare_geometry`, and the filter's spatial shape checked against `rank`.

  Args:
    owner: the caller's name, for errors.
    filter_shape: an int or `rank` ints.
    rank: 1, 2 or 3.
    strides: an int or `rank` ints.
    padding: `'VALID'` or `'SAME'`, in any case.
    dilations: an int or `rank` ints.

  Returns:
    `(filter_shape, rank, strides, padding, dilations)`, normalized.

  Raises:
    ValueError: as `prepare_geometry`, or on a bad `filter_shape`.
  """
  rank, strides, padding, dilations = prepare_geometry(
      owner, rank, strides, padding, dilations)
  filter_shape = int_tuple(filter_shape, rank, 'filter_shape', owner)
  return filter_shape, rank, strides, padding, dilations


def prepare_output_padding(output_padding: Any, strides: Tuple[int, ...],
                           owner: str) -> Optional[Tuple[int, ...]]:
  """Checks a transposed convolution's `output_padding` against its strides.

  Args:
    output_padding: `None`, an int or `len(strides)` ints.
    strides: the normalized strides.
    owner: the caller's name, for errors.

  Returns:
    `None`, or a tuple of ints, each in `[0, stride)`.

  Raises:
    ValueError: on a negative value, or one not below its stride.
  """
  if output_padding is None:
    return None
  padding = int_tuple(output_padding, len(strides), 'output_padding', owner,
                      minimum=0)
  if any(p >= s for p, s in zip(padding, strides)):
    raise ValueError(f'{owner}: expected each `output_padding` below its '
                     f'stride {strides}; received {output_padding!r}.')
  return padding


def dilated_filter_shape(filter_shape: Tuple[int, ...],
                         dilations: Tuple[int, ...]) -> Tuple[int, ...]:
  """Each filter axis's extent once `dilations - 1` gaps separate its taps."""
  return tuple((k - 1) * d + 1 for k, d in zip(filter_shape, dilations))


def transpose_output_length(length: Length, stride: int, dilated_filter: int,
                            padding: str,
                            output_padding: Optional[int]) -> Length:
  """The output length of a transposed convolution along one spatial axis.

  A transposed convolution's output of length `L` must be one that the
  forward convolution maps back to `length`; `stride` lengths qualify. The
  shortest is `(length - 1) * stride + 1` for 'SAME' padding and
  `(length - 1) * stride + dilated_filter` for 'VALID'; `output_padding`
  adds to it. Without `output_padding`, 'SAME' gives `length * stride` and
  'VALID' `(length - 1) * stride + max(dilated_filter, stride)`, as Keras
  does.

  Args:
    length: the input length, a Python int or a scalar int tensor.
    stride: the stride.
    dilated_filter: the dilated filter's extent.
    padding: `'VALID'` or `'SAME'`.
    output_padding: an int in `[0, stride)`, or `None`.

  Returns:
    The output length, of the type of `length`.
  """
  shortest = (length - 1) * stride + (1 if padding == 'SAME'
                                      else dilated_filter)
  if output_padding is not None:
    return shortest + output_padding
  if padding == 'SAME':
    return shortest + stride - 1
  return shortest + max(stride - dilated_filter, 0)


def to_map_layout(x: tf.Tensor, rank: int,
                  data_format: str) -> Tuple[tf.Tensor, Optional[tf.Tensor]]:
  """`[..., *spatial, C]` or `[..., C, *spatial]` to `[N, *spatial, C]`.

  TF's CPU kernels have no channels-first convolution, so channels-first
  inputs are transposed rather than handed to the op as they are.

  Args:
    x: inputs with `rank` spatial axes and one channel axis, after any
      number of batch axes.
    rank: the number of spatial axes.
    data_format: `'channels_last'` or `'channels_first'`.

  Returns:
    `(inputs, batch_shape)`: the inputs in the convolution ops' layout, and
    what `from_map_layout` needs to restore the batch shape.
  """
  flat, batch_shape = shapes_lib.flatten_batch(x, rank + 1)
  if data_format == 'channels_first':
    flat = tf.transpose(flat, [0] + list(range(2, rank + 2)) + [1])
  return flat, batch_shape


def from_map_layout(y: tf.Tensor, batch_shape: Optional[tf.Tensor],
                    x: tf.Tensor, rank: int, data_format: str) -> tf.Tensor:
  """Undoes `to_map_layout` on outputs `y` of shape `[N, *spatial, C]`.

  Args:
    y: the convolution's outputs.
    batch_shape: what `to_map_layout` returned with the inputs.
    x: the inputs given to `to_map_layout`.
    rank: the number of spatial axes.
    data_format: `'channels_last'` or `'channels_first'`.

  Returns:
    The outputs with `x`'s batch shape, in `data_format`.
  """
  if data_format == 'channels_first':
    y = tf.transpose(y, [0, rank + 1] + list(range(1, rank + 1)))
  return shapes_lib.restore_batch(y, batch_shape, x, rank + 1)
