"""The linear maps the estimators apply: a kernel applied to inputs, plus Flipout's sign shape.

An estimator never needs to know whether it drives a dense layer or a
convolution: it calls `apply(inputs, kernel)`, and asks `sign_shape(t)` for the
shape of the random signs Flipout multiplies `t` by. The signs must be shared
by every position that shares a weight (all spatial positions of a channel in
a convolution), so that a sign-flipped perturbation is an exact sample of the
weight perturbation for each example.

The maps are plain functions with no variables or other state: `dense`, and
the builders `convolution`, `im2row` and `convolution_transpose` for the
convolution layers of `tfnx` and `tfnx.keras` alike.
"""

import itertools
from typing import Any, Callable, NamedTuple, Sequence, Union

import numpy as np
import tensorflow as tf

from tfnx import _convolution_args as conv_lib
from tfnx import _shapes as shapes_lib

__all__ = ['LinearMap', 'as_linear_map', 'dense', 'convolution', 'im2row',
           'convolution_transpose', 'patches']

IntOrInts = Union[int, Sequence[int]]


class LinearMap(NamedTuple):
  """A linear map `apply(inputs, kernel)` and the sign shape of its operands.

  Attributes:
    apply: `(inputs, kernel) -> outputs`, linear in each argument.
    sign_shape: `(t) -> shape`: the shape of the random sign tensor that
      multiplies `t` (inputs or outputs of `apply`), broadcastable to `t`.
  """
  apply: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
  sign_shape: Callable[[tf.Tensor], tf.Tensor]


def _dense_apply(inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
  return tf.linalg.matmul(inputs, kernel)


dense = LinearMap(apply=_dense_apply, sign_shape=tf.shape)
"""`[batch, in] @ [in, out]`: one matmul; every element gets its own sign."""


def as_linear_map(apply_kernel_fn: Any, owner: str) -> LinearMap:
  """A layer's `apply_kernel_fn` as a `LinearMap`.

  Args:
    apply_kernel_fn: a `LinearMap`, or a plain callable `(inputs, kernel) ->
      outputs` (TFP's form), which gets a sign for every element: right for
      maps such as `tf.matmul` whose weights are not shared across positions.
    owner: the layer's name, for errors.

  Returns:
    The `LinearMap`.

  Raises:
    TypeError: if `apply_kernel_fn` is neither.
  """
  if isinstance(apply_kernel_fn, LinearMap):
    return apply_kernel_fn
  if callable(apply_kernel_fn):
    return LinearMap(apply=apply_kernel_fn, sign_shape=tf.shape)
  raise TypeError(f'{owner}: expected `apply_kernel_fn` to be a LinearMap or '
                  'a callable `(inputs, kernel) -> outputs`; received '
                  f'{apply_kernel_fn!r}.')


def _channel_sign_shape(t: tf.Tensor) -> tf.Tensor:
  """`[N, 1, ..., 1, channels]`: one sign per example and channel.

  A convolution applies each weight at every spatial position, so a sign
  must be shared by all positions for the flipped perturbation to be one
  kernel sample per example.
  """
  shape = tf.shape(t)
  return tf.concat([shape[:1], tf.ones([t.shape.rank - 2], tf.int32),
                    shape[-1:]], axis=0)


def convolution(rank: int, strides: IntOrInts = 1, padding: str = 'VALID',
                dilations: IntOrInts = 1) -> LinearMap:
  """The convolution `tf.nn.convolution(inputs, kernel)`, channels last.

  `apply` takes inputs `[N, *spatial, in_channels]` and a kernel
  `filter_shape + [in_channels, out_channels]`, and returns
  `[N, *out_spatial, out_channels]`.

  Args:
    rank: the number of spatial axes: 1, 2 or 3.
    strides: an int or `rank` ints.
    padding: `'VALID'` or `'SAME'`, in any case.
    dilations: an int or `rank` ints; must be 1 where any stride exceeds 1.

  Returns:
    The `LinearMap`; Flipout's signs are shared across spatial positions.

  Raises:
    ValueError: on a bad argument.
  """
  rank, strides, padding, dilations = conv_lib.prepare_geometry(
      'tfnx.linear_maps.convolution', rank, strides, padding, dilations)
  data_format = conv_lib.CHANNELS_LAST[rank]

  def apply(inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
    return tf.nn.convolution(inputs, kernel, strides=strides, padding=padding,
                             dilations=dilations, data_format=data_format)

  return LinearMap(apply=apply, sign_shape=_channel_sign_shape)


def convolution_transpose(filter_shape: IntOrInts, rank: int,
                          strides: IntOrInts = 1, padding: str = 'VALID',
                          dilations: IntOrInts = 1,
                          output_padding: Any = None) -> LinearMap:
  """The transposed convolution `tf.nn.conv_transpose(inputs, kernel)`.

  `apply` takes inputs `[N, *spatial, in_channels]` and a kernel in TFP's
  layout, `[prod(filter_shape) * in_channels, out_channels]`, and returns
  `[N, *out_spatial, out_channels]` with each output length given by
  `tfnx._convolution_args.transpose_output_length`: with 'SAME' padding, the
  input's length times the stride. The kernel is brought to the layout
  `tf.nn.conv_transpose` takes, `filter_shape + [out, in]`, inside `apply`.

  Args:
    filter_shape: an int or `rank` ints.
    rank, strides, padding, dilations: as for `convolution`.
    output_padding: `None`, or an int or `rank` ints, each below its stride,
      added to the shortest output length the convolution maps back to the
      input's.

  Returns:
    The `LinearMap`, as `convolution`'s.

  Raises:
    ValueError: on a bad argument.
  """
  owner = 'tfnx.linear_maps.convolution_transpose'
  filter_shape, rank, strides, padding, dilations = (
      conv_lib.prepare_filter_geometry(owner, filter_shape, rank, strides,
                                       padding, dilations))
  output_padding = conv_lib.prepare_output_padding(output_padding, strides,
                                                   owner)
  data_format = conv_lib.CHANNELS_LAST[rank]

  def apply(inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
    kernel = _dilate_kernel(_tf_transpose_kernel(kernel, filter_shape),
                            dilations)
    dynamic_shape = tf.shape(inputs)
    lengths = [conv_lib.transpose_output_length(
        inputs.shape[1 + i] or dynamic_shape[1 + i], strides[i],
        kernel.shape[i], padding,
        None if output_padding is None else output_padding[i])
               for i in range(rank)]
    batch = inputs.shape[0] or dynamic_shape[0]
    output_shape = tf.stack([batch] + lengths + [kernel.shape[-2]])
    return tf.nn.conv_transpose(inputs, kernel, output_shape, strides=strides,
                                padding=padding, data_format=data_format)

  return LinearMap(apply=apply, sign_shape=_channel_sign_shape)


def _tf_transpose_kernel(kernel: tf.Tensor,
                         filter_shape: Sequence[int]) -> tf.Tensor:
  """`[prod(filter_shape) * in, out]` to `filter_shape + [out, in]`."""
  rank = len(filter_shape)
  kernel = tf.reshape(kernel, list(filter_shape) + [-1, kernel.shape[-1]])
  return tf.transpose(kernel, list(range(rank)) + [rank + 1, rank])


def im2row(filter_shape: IntOrInts, rank: int, strides: IntOrInts = 1,
           padding: str = 'VALID', dilations: IntOrInts = 1) -> LinearMap:
  """The convolution of a kernel in im2row form, `[*batch, K, out]`, K = prod(filter_shape) * in.

  `apply` takes inputs `[*batch, *spatial, in_channels]` and a kernel
  `[*kernel_batch, prod(filter_shape) * in_channels, out_channels]`, the two
  batch shapes broadcasting against each other, and returns
  `[*broadcast_batch, *out_spatial, out_channels]`. A kernel with no batch
  axes is reshaped to `filter_shape + [in, out]` and runs as one
  `tf.nn.convolution` on the flattened batch; a batched kernel multiplies
  the inputs' patches (`patches`), one matmul broadcast over the batches.

  Args:
    filter_shape: an int or `rank` ints.
    rank, strides, padding, dilations: as for `convolution`.

  Returns:
    The `LinearMap`, as `convolution`'s.

  Raises:
    ValueError: on a bad argument.
  """
  filter_shape, rank, strides, padding, dilations = (
      conv_lib.prepare_filter_geometry('tfnx.linear_maps.im2row', filter_shape,
                                       rank, strides, padding, dilations))
  forward = convolution(rank, strides, padding, dilations)

  def apply(inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
    if kernel.shape.rank == 2:
      flat, batch_shape = shapes_lib.flatten_batch(inputs, rank + 1)
      kernel = tf.reshape(kernel, list(filter_shape) + [-1, kernel.shape[-1]])
      return shapes_lib.restore_batch(forward.apply(flat, kernel),
                                      batch_shape, inputs, rank + 1)
    rows = patches(inputs, filter_shape, strides, padding, dilations)
    shape = tf.shape(rows)
    flat_rows = tf.reshape(rows, tf.concat(
        [shape[:-rank - 1], [-1], shape[-1:]], axis=0))
    outputs = tf.linalg.matmul(flat_rows, kernel)
    return tf.reshape(outputs, tf.concat(
        [tf.shape(outputs)[:-2], shape[-rank - 1:-1],
         tf.shape(kernel)[-1:]], axis=0))

  return LinearMap(apply=apply, sign_shape=_channel_sign_shape)


def patches(x: tf.Tensor, filter_shape: Sequence[int], strides: Sequence[int],
            padding: str, dilations: Sequence[int]) -> tf.Tensor:
  """The im2row rows of `x`: each output position's receptive field, flattened.

  Args:
    x: inputs `[*batch, *spatial, channels]`, `len(filter_shape)` spatial
      axes.
    filter_shape: the filter's spatial shape.
    strides: one int per spatial axis.
    padding: `'VALID'` or `'SAME'` (TF's placement of the zeros).
    dilations: one int per spatial axis.

  Returns:
    `[*batch, *out_spatial, prod(filter_shape) * channels]`: row-major over
    the filter's taps, channels fastest, so that a kernel
    `filter_shape + [channels, out]` reshaped to two axes multiplies it.
  """
  rank = len(filter_shape)
  dilated = conv_lib.dilated_filter_shape(filter_shape, dilations)
  shape = tf.shape(x)
  lengths = [x.shape[i - rank - 1] or shape[i - rank - 1]
             for i in range(rank)]
  if padding == 'SAME':
    pads = [_same_padding(n, k, s) for n, k, s in zip(lengths, dilated,
                                                     strides)]
    x = tf.pad(x, tf.concat([tf.zeros([x.shape.rank - rank - 1, 2], tf.int32),
                             tf.cast(tf.stack(pads), tf.int32),
                             tf.zeros([1, 2], tf.int32)], axis=0))
    lengths = [(n + s - 1) // s for n, s in zip(lengths, strides)]
  else:
    lengths = [(n - k) // s + 1 for n, k, s in zip(lengths, dilated, strides)]
  taps = []
  for tap in itertools.product(*(range(k) for k in filter_shape)):
    starts = [t * d for t, d in zip(tap, dilations)]
    index = tuple(slice(b, b + (n - 1) * s + 1, s)
                  for b, n, s in zip(starts, lengths, strides))
    taps.append(x[(Ellipsis,) + index + (slice(None),)])
  rows = tf.stack(taps, axis=-2)
  channels = x.shape[-1] or tf.shape(x)[-1]
  return tf.reshape(rows, tf.concat(
      [tf.shape(rows)[:-2], [int(np.prod(filter_shape)) * channels]], axis=0))


def _same_padding(length, dilated_filter: int, stride: int):
  """TF's 'SAME' zeros before and after an axis: `[before, after]`."""
  out = (length + stride - 1) // stride
  total = tf.maximum((out - 1) * stride + dilated_filter - length, 0)
  return tf.stack([total // 2, total - total // 2])


def _dilate_kernel(kernel: tf.Tensor, dilations: Sequence[int]) -> tf.Tensor:
  """Spreads the taps of each spatial axis `dilation` apart, zeros between.

  TF's CPU kernels run dilated transposed convolutions only in float32 (with
  oneDNN); a transposed convolution with a kernel dilated here runs in every
  floating dtype, on every device.
  """
  for axis, dilation in enumerate(dilations):
    if dilation == 1:
      continue
    shape = kernel.shape.as_list()
    gaps = [[0, 0]] * (len(shape) + 1)
    gaps[axis + 1] = [0, dilation - 1]
    spread = tf.reshape(tf.pad(tf.expand_dims(kernel, axis + 1), gaps),
                        shape[:axis] + [shape[axis] * dilation]
                        + shape[axis + 1:])
    size = list(shape)
    size[axis] = (shape[axis] - 1) * dilation + 1
    kernel = tf.slice(spread, [0] * len(shape), size)
  return kernel
