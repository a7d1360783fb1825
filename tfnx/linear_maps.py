"""The linear maps the estimators apply: a kernel applied to inputs, plus Flipout's sign shape.

An estimator never needs to know whether it drives a dense layer or a
convolution: it calls `apply(inputs, kernel)`, and asks `sign_shape(t)` for the
shape of the random signs Flipout multiplies `t` by. The signs must be shared
by every position that shares a weight (all spatial positions of a channel in
a convolution), so that a sign-flipped perturbation is an exact sample of the
weight perturbation for each example.

The maps are plain functions with no variables or other state: `dense`, and
the builders `convolution` and `convolution_transpose` for the convolution
layers of `tfnx` and `tfnx.keras` alike.
"""

from typing import Any, Callable, NamedTuple, Sequence, Union

import tensorflow as tf

from tfnx.util import convolution as conv_lib

__all__ = ['LinearMap', 'as_linear_map', 'dense', 'convolution',
           'convolution_transpose']

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


def convolution_transpose(rank: int, strides: IntOrInts = 1,
                          padding: str = 'VALID', dilations: IntOrInts = 1,
                          output_padding: Any = None) -> LinearMap:
  """The transposed convolution `tf.nn.conv_transpose(inputs, kernel)`.

  `apply` takes inputs `[N, *spatial, in_channels]` and a kernel
  `filter_shape + [out_channels, in_channels]` (the kernel of the forward
  convolution it transposes), and returns `[N, *out_spatial, out_channels]`
  with each output length given by
  `tfnx.util.convolution.transpose_output_length`: with 'SAME' padding, the
  input's length times the stride.

  Args:
    rank: the number of spatial axes: 1, 2 or 3.
    strides: an int or `rank` ints.
    padding: `'VALID'` or `'SAME'`, in any case.
    dilations: an int or `rank` ints; must be 1 where any stride exceeds 1.
    output_padding: `None`, or an int or `rank` ints, each below its stride,
      added to the shortest output length the convolution maps back to the
      input's.

  Returns:
    The `LinearMap`; Flipout's signs are shared across spatial positions.

  Raises:
    ValueError: on a bad argument.
  """
  owner = 'tfnx.linear_maps.convolution_transpose'
  rank, strides, padding, dilations = conv_lib.prepare_geometry(
      owner, rank, strides, padding, dilations)
  output_padding = conv_lib.prepare_output_padding(output_padding, strides,
                                                   owner)
  data_format = conv_lib.CHANNELS_LAST[rank]

  def apply(inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
    kernel = _dilate_kernel(kernel, dilations)
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
