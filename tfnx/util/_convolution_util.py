"""TFP's convolution utilities (`tfn.util.im2row`, `make_convolution_fn`, ...), on tfnx's linear maps.

Same names, signatures and results as `tfp.experimental.nn.util`'s; the
operations are the `tfnx.linear_maps` the layers apply. Where TFP offers three
algorithms for one transposed convolution (`..._with_dilation`,
`..._with_subkernels`, `..._with_subkernels_matrix`), each returns TF's native
transposed convolution here, on kernels without batch axes.
"""

from typing import Any, Callable, Optional, Tuple

import tensorflow as tf

from tfnx import linear_maps
from tfnx import _convolution_args as conv_lib
from tfnx import _shapes as shapes_lib

__all__ = [
    'im2row',
    'im2row_index',
    'make_convolution_fn',
    'make_convolution_transpose_fn_with_dilation',
    'make_convolution_transpose_fn_with_subkernels',
    'make_convolution_transpose_fn_with_subkernels_matrix',
    'prepare_conv_args',
    'prepare_tuple_argument',
]

ConvolutionFn = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]

_SMALLEST_INT = -2**31


def prepare_tuple_argument(arg: Any, n: int, arg_name: str,
                           validate_args: bool = False) -> Tuple[int, ...]:
  """Expands an int, or a sequence of one, to `n` ints; checks a sequence of `n`.

  Args:
    arg: an int (Python, NumPy or 0-d tensor), or a sequence (or 1-D
      tensor of known value) of 1 or `n` ints.
    n: the number of ints wanted.
    arg_name: the argument's name, for errors.
    validate_args: accepted for TFP's signature; the checks here are static.

  Returns:
    A tuple of `n` Python ints.

  Raises:
    ValueError: if `arg` has neither 1 nor `n` ints.
  """
  del validate_args  # Every check is static.
  return conv_lib.int_tuple(arg, n, arg_name, 'prepare_tuple_argument',
                            minimum=_SMALLEST_INT)


def prepare_conv_args(
    filter_shape: Any, rank: Any, strides: Any, padding: Any, dilations: Any,
    is_transpose: bool = False, validate_args: bool = False
) -> Tuple[Tuple[int, ...], int, Tuple[int, ...], str, Tuple[int, ...]]:
  """Normalizes a convolution's arguments, as TFP's `prepare_conv_args`.

  Args:
    filter_shape: an int or `rank` ints.
    rank: 1, 2 or 3.
    strides: an int or `rank` ints.
    padding: `'VALID'` or `'SAME'`, in any case.
    dilations: an int or `rank` ints; `None` means 1.
    is_transpose: accepted for TFP's signature (strides and dilations above
      1 are never combined, transposed or not).
    validate_args: accepted for TFP's signature; the checks are static.

  Returns:
    `[filter_shape, rank, strides, padding, dilations]`, normalized.

  Raises:
    ValueError: on a bad argument, or strides and dilations both above 1.
  """
  del is_transpose, validate_args  # Checked the same way, statically.
  return conv_lib.prepare_filter_geometry(
      'prepare_conv_args', filter_shape, rank, strides, padding,
      1 if dilations is None else dilations)


def im2row(x: tf.Tensor, block_shape: Any, slice_step: Any = (1, 1),
           padding: str = 'VALID', name: Optional[str] = None) -> tf.Tensor:
  """Rearranges 2-D image blocks into rows, so a convolution is a matmul.

  `tf.nn.conv2d(x, k) == im2row(x, k.shape[:2]) @ tf.reshape(k, [-1, out])`.
  Unlike TFP's, 'SAME' padding works too.

  Args:
    x: images `[..., height, width, channels]`.
    block_shape: the filter's shape, an int or 2 ints.
    slice_step: the strides, an int or 2 ints.
    padding: `'VALID'` or `'SAME'`, in any case.
    name: the ops' name scope; `None` means `'im2row'`.

  Returns:
    `[..., out_height, out_width, prod(block_shape) * channels]`.
  """
  with tf.name_scope(name or 'im2row'):
    filter_shape, _, strides, padding, dilations = prepare_conv_args(
        block_shape, 2, slice_step, padding, 1)
    return linear_maps.patches(tf.convert_to_tensor(x), filter_shape,
                               strides, padding, dilations)


def im2row_index(input_shape: Any, block_shape: Any, rank: int = 2,
                 slice_step: Any = (1, 1), dilations: Any = (1, 1),
                 dtype: tf.DType = tf.int32, transpose: bool = False,
                 validate_args: bool = False,
                 name: Optional[str] = None) -> Tuple[tf.Tensor, tf.Tensor]:
  """Indices into a flattened `[height * width * channels]` image for `im2row`.

  Args:
    input_shape: `[..., height, width, channels]`.
    block_shape: the filter's shape, an int or 2 ints.
    rank: must be 2, as in TFP.
    slice_step: the strides, an int or 2 ints.
    dilations: an int or 2 ints.
    dtype: the indices' integer dtype.
    transpose: whether to list each block's taps in reverse (the flipped
      filter of a transposed convolution).
    validate_args: accepted for TFP's signature.
    name: the ops' name scope; `None` means `'im2row_index'`.

  Returns:
    `(index, shape)`: `index` of shape `[out_height * out_width,
    prod(block_shape) * channels]`, and the im2row result's shape
    `[..., out_height, out_width, prod(block_shape) * channels]`.

  Raises:
    NotImplementedError: if `rank` is not 2.
  """
  del validate_args  # Every check is static.
  if conv_lib.static_int(rank) != 2:
    raise NotImplementedError(f'im2row_index: `rank` must be 2; received '
                              f'{rank!r}.')
  with tf.name_scope(name or 'im2row_index'):
    (fh, fw), (sh, sw), (dh, dw) = (
        prepare_tuple_argument(a, 2, n) for a, n in
        ((block_shape, 'block_shape'), (slice_step, 'slice_step'),
         (dilations, 'dilations')))
    shape = tf.cast(tf.reshape(input_shape, [-1]), dtype)
    h, w, c = shape[-3], shape[-2], shape[-1]
    rows, cols = tf.range(fh, dtype=dtype) * dh, tf.range(fw, dtype=dtype) * dw
    if transpose:
      rows, cols = tf.reverse(rows, [0]), tf.reverse(cols, [0])
    taps = ((rows[:, None, None] * w + cols[None, :, None]) * c
            + tf.range(c, dtype=dtype)[None, None, :])
    out_h = (h - (fh - 1) * dh - 1) // sh + 1
    out_w = (w - (fw - 1) * dw - 1) // sw + 1
    starts = (tf.range(out_h, dtype=dtype)[:, None] * sh * w
              + tf.range(out_w, dtype=dtype)[None, :] * sw) * c
    index = tf.reshape(starts, [-1, 1]) + tf.reshape(taps, [1, -1])
    return index, tf.concat([shape[:-3], [out_h, out_w, fh * fw * c]], 0)


def make_convolution_fn(filter_shape: Any, rank: Any, strides: Any,
                        padding: Any, dilations: Any = None,
                        dtype: tf.DType = tf.int32,
                        validate_args: bool = False,
                        name: Optional[str] = None) -> ConvolutionFn:
  """A convolution `op(x, kernel)` of im2row kernels `[*batch, K, out]`.

  `K = prod(filter_shape) * channels`; the kernel's batch axes broadcast
  against the inputs' axes left of the spatial ones, and a kernel without
  them runs as one `tf.nn.convolution` (`tfnx.linear_maps.im2row`). Unlike
  TFP's, ranks 1 and 3 work too.

  Args:
    filter_shape, rank, strides, padding, dilations: as for
      `prepare_conv_args`.
    dtype: accepted for TFP's signature (no index tensor is built).
    validate_args: accepted for TFP's signature.
    name: accepted for TFP's signature.

  Returns:
    `op(x, kernel)`, taking `x` `[..., *spatial, channels]`.
  """
  del dtype, validate_args, name  # No index tensor; static checks.
  filter_shape, rank, strides, padding, dilations = prepare_conv_args(
      filter_shape, rank, strides, padding, dilations)
  return _common_dtype(linear_maps.im2row(filter_shape, rank, strides,
                                          padding, dilations).apply)


def _common_dtype(apply: ConvolutionFn) -> ConvolutionFn:
  """`apply` on `x` and `kernel` converted to one floating dtype, as TFP does."""
  def op(x: Any, kernel: Any) -> tf.Tensor:
    dtype = next((t.dtype for t in (x, kernel) if tf.is_tensor(t)
                  and t.dtype.is_floating), tf.float32)
    return apply(tf.convert_to_tensor(x, dtype), tf.convert_to_tensor(
        kernel, dtype))
  return op


def _make_convolution_transpose_fn(
    filter_shape: Any, strides: Any, padding: Any, rank: Any = 2,
    dilations: Any = None, dtype: tf.DType = tf.int32,
    validate_args: bool = False, name: Optional[str] = None) -> ConvolutionFn:
  """A transposed convolution `op(x, kernel)` of a kernel `[K, out]`.

  `K = prod(filter_shape) * channels`, TFP's layout; `x` is
  `[..., *spatial, channels]` with any batch shape. Kernels with batch axes
  are not supported.

  Args:
    filter_shape: an int or `rank` ints.
    strides: an int or `rank` ints.
    padding: `'VALID'` or `'SAME'`, in any case.
    rank: 1, 2 (default) or 3.
    dilations: an int or `rank` ints; `None` means 1.
    dtype: accepted for TFP's signature (no index tensor is built).
    validate_args: accepted for TFP's signature.
    name: accepted for TFP's signature.

  Returns:
    `op(x, kernel)`.
  """
  del dtype, validate_args, name  # No index tensor; static checks.
  filter_shape, rank, strides, padding, dilations = prepare_conv_args(
      filter_shape, rank, strides, padding, dilations, is_transpose=True)
  transpose = linear_maps.convolution_transpose(filter_shape, rank, strides,
                                                padding, dilations)

  def apply(x: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
    if kernel.shape.rank != 2:
      raise NotImplementedError(
          'tfnx.util transposed convolutions: expected a kernel [K, out] '
          f'without batch axes; received shape {kernel.shape}.')
    flat, batch_shape = shapes_lib.flatten_batch(x, rank + 1)
    return shapes_lib.restore_batch(transpose.apply(flat, kernel),
                                    batch_shape, x, rank + 1)

  return _common_dtype(apply)


make_convolution_transpose_fn_with_dilation = _make_convolution_transpose_fn
make_convolution_transpose_fn_with_subkernels = _make_convolution_transpose_fn
make_convolution_transpose_fn_with_subkernels_matrix = (
    _make_convolution_transpose_fn)
