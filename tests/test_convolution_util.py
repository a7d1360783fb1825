"""`tfn.util`'s convolution names: TFP's signatures, our convolutions."""

import numpy as np
import pytest
import tensorflow as tf

import tfnx as tfn


def _inputs(shape, seed=0):
  return np.random.RandomState(seed).randn(*shape).astype(np.float32)


@pytest.mark.parametrize('padding', ['VALID', 'same'])
def test_im2row_times_the_flattened_kernel_is_conv2d(padding):
  x = _inputs([2, 7, 6, 3])
  kernel = _inputs([3, 2, 3, 4], seed=1)
  rows = tfn.util.im2row(x, (3, 2), slice_step=2, padding=padding)
  np.testing.assert_allclose(
      rows @ tf.reshape(kernel, [-1, 4]),
      tf.nn.conv2d(x, kernel, 2, padding.upper()), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('transpose', [False, True])
def test_im2row_index_gathers_each_block_from_the_flat_image(transpose):
  x = _inputs([2, 7, 6, 3])
  index, shape = tfn.util.im2row_index(x.shape, (3, 2), slice_step=(2, 1),
                                       dilations=1, transpose=transpose)
  assert list(shape) == [2, 3, 5, 18]
  rows = tf.reshape(tf.gather(tf.reshape(x, [2, -1]), index, axis=-1), shape)
  blocks = tfn.util.im2row(x, (3, 2), slice_step=(2, 1)).numpy()
  if transpose:  # Taps in reverse order: the flipped filter.
    blocks = blocks.reshape(2, 3, 5, 3, 2, 3)[:, :, :, ::-1, ::-1]
  np.testing.assert_array_equal(rows, blocks.reshape(shape))
  with pytest.raises(NotImplementedError, match='rank'):
    tfn.util.im2row_index(x.shape, 2, rank=1)


def test_make_convolution_fn_broadcasts_a_batch_of_im2row_kernels():
  conv = tfn.util.make_convolution_fn(3, rank=2, strides=1, padding='SAME')
  x = _inputs([5, 1, 6, 6, 2])
  kernels = _inputs([4, 3 * 3 * 2, 3], seed=1)
  y = conv(x, kernels)
  assert y.shape == (5, 4, 6, 6, 3)
  for i in (0, 3):
    expected = tf.nn.conv2d(x[:, 0], tf.reshape(kernels[i], [3, 3, 2, 3]), 1,
                            'SAME')
    np.testing.assert_allclose(y[:, i], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('make', [
    tfn.util.make_convolution_transpose_fn_with_dilation,
    tfn.util.make_convolution_transpose_fn_with_subkernels,
    tfn.util.make_convolution_transpose_fn_with_subkernels_matrix])
@pytest.mark.parametrize('padding', ['VALID', 'SAME'])
def test_transpose_fns_are_the_transposed_layers_map(make, padding):
  x = _inputs([2, 4, 4, 3])
  layer = tfn.ConvolutionTranspose(3, 5, 3, strides=2, padding=padding)
  op = make(3, strides=2, padding=padding)
  np.testing.assert_allclose(op(x, layer.kernel), layer(x) - layer.bias,
                             rtol=1e-5, atol=1e-5)
  with pytest.raises(NotImplementedError, match='batch'):
    op(x, layer.kernel[None])


def test_prepare_arguments_are_as_lenient_as_tfps():
  assert tfn.util.prepare_tuple_argument(np.int64(3), 2, 'x') == (3, 3)
  assert tfn.util.prepare_tuple_argument([tf.constant(2)], 3, 'x') == (2,) * 3
  assert tfn.util.prepare_conv_args([3], np.int32(2), [2], 'same', None) == (
      (3, 3), 2, (2, 2), 'SAME', (1, 1))
  with pytest.raises(ValueError, match='strides'):
    tfn.util.prepare_conv_args(3, 2, (1, 2, 3), 'SAME', 1)
  with pytest.raises(ValueError, match='x'):
    tfn.util.prepare_tuple_argument((1, 2), 3, 'x')
