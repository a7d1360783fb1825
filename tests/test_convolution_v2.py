"""TFP's V2 convolutions: im2row kernels, their batch shapes, and the im2row map."""

import numpy as np
import pytest
import tensorflow as tf

import tfnx as tfn
from tfnx import linear_maps

CHANNELS_LAST = {1: 'NWC', 2: 'NHWC', 3: 'NDHWC'}
VARIATIONAL = [tfn.ConvolutionVariationalFlipoutV2,
               tfn.ConvolutionVariationalReparameterizationV2]


def _inputs(shape, seed=0):
  return np.random.RandomState(seed).randn(*shape).astype(np.float32)


def _conv(x, kernel, filter_shape, strides=1, padding='VALID', dilations=1):
  """`tf.nn.convolution` of an im2row kernel `[K, out]`, channels last."""
  rank = len(filter_shape)
  kernel = tf.reshape(kernel, list(filter_shape) + [-1, kernel.shape[-1]])
  return tf.nn.convolution(x, kernel, strides=strides, padding=padding,
                           dilations=dilations,
                           data_format=CHANNELS_LAST[rank])


def _mean(distribution, seed=None):
  del seed  # The mean is not random.
  return distribution.mean()


def _sampled_kernels(samples):
  """A `make_kernel_bias_fn` giving weights with `samples` leading axes."""
  def make(kernel_shape, bias_shape, *args, dtype=tf.float32, **kwargs):
    del args, kwargs  # Initializers and batch dims do not apply to draws.
    rng = np.random.RandomState(5)
    return (tf.constant(rng.randn(samples, *kernel_shape), dtype),
            tf.constant(rng.randn(samples, *bias_shape), dtype))
  return make


def test_v2_kernel_and_bias_have_tfps_im2row_shapes():
  layer = tfn.ConvolutionV2(3, 5, (2, 4), batch_shape=[6])
  assert layer.kernel.shape == (6, 2 * 4 * 3, 5)
  assert layer.bias.shape == (6, 1, 1, 5)
  for cls in VARIATIONAL:
    assert cls(3, 5, (2, 4)).kernel_posterior.event_shape == (24, 5)


@pytest.mark.parametrize('rank', [1, 2, 3])
@pytest.mark.parametrize('strides,dilations,padding', [
    (1, 1, 'VALID'), (2, 1, 'same'), (1, 2, 'SAME'), (3, 1, 'valid')])
def test_v2_layers_are_the_convolution_of_the_reshaped_kernel(
    rank, strides, dilations, padding):
  filter_shape = (3, 2, 2)[:rank]
  x = _inputs([2] + [7] * rank + [3])
  kwargs = dict(rank=rank, strides=strides, padding=padding,
                dilations=dilations)
  plain = tfn.ConvolutionV2(3, 4, filter_shape, **kwargs)
  np.testing.assert_allclose(
      plain(x), _conv(x, plain.kernel, filter_shape, strides, padding.upper(),
                      dilations) + plain.bias[0], rtol=1e-5, atol=1e-5)
  mean_layer = tfn.ConvolutionVariationalReparameterizationV2(
      3, 4, filter_shape, posterior_value_fn=_mean, **kwargs)
  expected = _conv(x, mean_layer.kernel_posterior.mean(), filter_shape,
                   strides, padding.upper(), dilations)
  np.testing.assert_allclose(
      mean_layer(x, seed=1), expected + mean_layer.bias_posterior.mean(),
      rtol=1e-5, atol=1e-5)


def test_batched_v2_kernel_broadcasts_against_size_one_and_missing_axes():
  layer = tfn.ConvolutionV2(2, 3, 3, padding='same', batch_shape=[4])
  x = _inputs([5, 1, 6, 6, 2])
  y = layer(x)
  assert y.shape == (5, 4, 6, 6, 3)
  for i in (0, 3):
    expected = _conv(x[:, 0], layer.kernel[i], (3, 3), padding='SAME')
    np.testing.assert_allclose(y[:, i], expected + layer.bias[i],
                               rtol=1e-5, atol=1e-5)
  assert layer(x[0, 0]).shape == (4, 6, 6, 3)


def test_sampled_kernel_axes_become_output_axes():
  layer = tfn.ConvolutionV2(2, 3, 3, make_kernel_bias_fn=_sampled_kernels(3))
  assert layer(_inputs([4, 1, 5, 5, 2])).shape == (4, 3, 3, 3, 3)


def test_mismatched_kernel_and_input_batches_are_an_error():
  layer = tfn.ConvolutionV2(2, 3, 3, batch_shape=[4])
  with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
    layer(_inputs([5, 3, 5, 5, 2]))


@pytest.mark.parametrize('rank', [1, 2, 3])
@pytest.mark.parametrize('strides,dilations,padding', [
    (1, 1, 'VALID'), (2, 1, 'SAME'), (1, 2, 'SAME'), (3, 1, 'SAME'),
    (2, 1, 'VALID')])
def test_im2row_patches_agree_with_the_convolution_fast_path(
    rank, strides, dilations, padding):
  filter_shape = (3, 2, 2)[:rank]
  im2row = linear_maps.im2row(filter_shape, rank, strides, padding, dilations)
  x = tf.constant(_inputs([2] + [6] * rank + [3]))
  kernel = tf.constant(_inputs([int(np.prod(filter_shape)) * 3, 4], seed=1))
  fast = im2row.apply(x, kernel)
  patched = im2row.apply(x, kernel[None])
  np.testing.assert_allclose(patched, fast, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(
      fast, _conv(x, kernel, filter_shape, strides, padding, dilations),
      rtol=1e-5, atol=1e-5)


def test_flipout_v2_shares_signs_across_positions():
  layer = tfn.ConvolutionVariationalFlipoutV2(2, 3, 2)
  outputs = tf.zeros([4, 5, 5, 3])
  assert list(layer._linear_map.sign_shape(outputs)) == [4, 1, 1, 3]  # pylint: disable=protected-access


def test_v2_rejects_bad_geometry_naming_the_layer():
  with pytest.raises(ValueError, match='ConvolutionV2.*strides'):
    tfn.ConvolutionV2(3, 2, 2, strides=(1, 1, 1))
  with pytest.raises(ValueError, match='ConvolutionVariationalFlipoutV2.*rank'):
    tfn.ConvolutionVariationalFlipoutV2(3, 2, 2, rank=4)
