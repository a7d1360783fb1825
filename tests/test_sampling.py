"""The estimators' samplers: exact standard normals and random signs from random words."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from tfnx import _sampling as sampling

import support

N = 200_001  # Odd, so one Box-Muller pair is cut in half.


def test_standard_normals_have_the_normal_distribution():
  z = sampling.standard_normal([N], tf.constant([3, 4])).numpy()
  assert z.dtype == np.float32 and z.shape == (N,)
  assert abs(z.mean()) < 5 / np.sqrt(N)
  assert abs(z.var() - 1.) < 5 * np.sqrt(2. / N)
  assert abs(stats.kurtosis(z)) < 5 * np.sqrt(24. / N)
  assert stats.kstest(z, 'norm').pvalue > 1e-3


def test_standard_normals_are_uncorrelated_within_and_across_pairs():
  z = sampling.standard_normal([N], tf.constant([5, 6])).numpy()
  half = N // 2
  # Neighbours, and the cosine and sine halves of the same pairs.
  for a, b in [(z[:-1], z[1:]), (z[:half], z[half:2 * half])]:
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(len(a))
  # Box-Muller's radius: the squares of a pair are exponential with mean 2.
  radius_squared = z[:half]**2 + z[half:2 * half]**2
  assert stats.kstest(radius_squared, 'expon', args=(0, 2)).pvalue > 1e-3


@pytest.mark.parametrize('dtype', [tf.float32, tf.float64])
def test_standard_normals_are_a_pure_function_of_the_seed(dtype):
  draw = lambda seed: sampling.standard_normal([3, 5], tf.constant(seed),
                                               dtype).numpy()
  np.testing.assert_array_equal(draw([1, 2]), draw([1, 2]))
  assert not np.allclose(draw([1, 2]), draw([1, 3]))
  assert draw([1, 2]).dtype == dtype.as_numpy_dtype


def test_random_signs_are_fair_independent_and_plus_or_minus_one():
  signs = sampling.rademacher([7, N // 7], tf.constant([7, 8]),
                              tf.float32).numpy().ravel()
  assert set(np.unique(signs)) == {-1., 1.}
  assert abs(signs.mean()) < 5 / np.sqrt(len(signs))
  # Bits of one word (lag 1) and the same bit of neighbouring words (lag 32).
  for lag in (1, 32):
    assert abs(np.mean(signs[:-lag] * signs[lag:])) < 5 / np.sqrt(len(signs))


def test_samplers_use_only_stateless_random_ops():
  concrete = tf.function(lambda s: (
      sampling.standard_normal([4, 3], s),
      sampling.rademacher([4, 3], s, tf.float32))).get_concrete_function(
          tf.TensorSpec([2], tf.int32))
  assert not support.STATEFUL_RANDOM_OPS & set(support.op_types(concrete))
