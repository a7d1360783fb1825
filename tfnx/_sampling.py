"""Stateless samplers for the estimators' noise: standard normals and random signs.

Both are exact in distribution and driven by a `[2]` `int32` seed; both are
built from `tf.random.stateless_uniform`'s raw 32-bit words, which TensorFlow
generates several times faster on CPU than its own normals or bounded
integers.
"""

import math

import numpy as np
import tensorflow as tf

__all__ = ['standard_normal', 'rademacher']

_MANTISSA_BITS = 24


def _random_words(count: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
  return tf.random.stateless_uniform([count], seed, minval=None, maxval=None,
                                     dtype=tf.uint32)


def standard_normal(shape: tf.Tensor, seed: tf.Tensor,
                    dtype: tf.DType = tf.float32) -> tf.Tensor:
  """Independent standard normals of `shape`.

  For float32, by the Box-Muller transform of pairs of uniforms on the open
  interval (0, 1), each made of 24 random bits (so |z| <= 5.9, as for
  TensorFlow's own 24-bit normals); other dtypes use
  `tf.random.stateless_normal`.

  Args:
    shape: the output shape, a 1-D integer tensor or a list.
    seed: an `int32` seed of shape `[2]`.
    dtype: the output's floating dtype.

  Returns:
    A tensor of `shape` and `dtype`.
  """
  if dtype != tf.float32:
    return tf.random.stateless_normal(shape, seed=seed, dtype=dtype)
  shape = tf.cast(shape, tf.int32)
  size = tf.reduce_prod(shape)
  pairs = (size + 1) // 2
  words = tf.reshape(_random_words(2 * pairs, seed), [2, pairs])
  top_bits = tf.bitwise.right_shift(
      words, tf.constant(32 - _MANTISSA_BITS, tf.uint32))
  # (k + 0.5) / 2**24 for k in [0, 2**24): never 0 or 1, so the log is finite.
  uniform = (tf.cast(top_bits, tf.float32) + 0.5) * (0.5**_MANTISSA_BITS)
  radius = tf.sqrt(-2. * tf.math.log(uniform[0]))
  angle = (2. * math.pi) * uniform[1]
  normals = tf.concat([radius * tf.cos(angle), radius * tf.sin(angle)], 0)
  return tf.reshape(normals[:size], shape)


def rademacher(shape: tf.Tensor, seed: tf.Tensor,
               dtype: tf.DType) -> tf.Tensor:
  """Independent random signs, +1 or -1 with equal probability.

  Each random 32-bit word gives 32 signs.

  Args:
    shape: the output shape, a 1-D integer tensor or a list.
    seed: an `int32` seed of shape `[2]`.
    dtype: the output's dtype.

  Returns:
    A tensor of `shape` and `dtype` whose elements are +1 or -1.
  """
  shape = tf.cast(shape, tf.int32)
  size = tf.reduce_prod(shape)
  words = _random_words((size + 31) // 32, seed)
  bits = tf.bitwise.bitwise_and(
      tf.bitwise.right_shift(words[:, tf.newaxis],
                             tf.constant(np.arange(32, dtype=np.uint32))),
      tf.constant(1, tf.uint32))
  bits = tf.reshape(bits, [-1])[:size]
  return tf.reshape(tf.cast(bits, dtype) * 2. - 1., shape)
