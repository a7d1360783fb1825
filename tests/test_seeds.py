"""Seed streams: unseeded layers, streams in tf.function, Sequential, bad seeds.

That seeded calls are pure and graphs stateless is pinned for every layer in
conformance/test_seeded_calls.py and conformance/test_random_ops.py.
"""

import numpy as np
import pytest
import tensorflow as tf

import tfnx as tfn
from tfnx import seeds as seeds_lib


ESTIMATORS = [tfn.AffineVariationalReparameterization,
              tfn.AffineVariationalFlipout,
              tfn.AffineVariationalReparameterizationLocal]
X = np.random.RandomState(0).randn(5, 3).astype(np.float32)


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_unseeded_layers_are_not_deterministic(cls):
  a = cls(3, 2, kernel_initializer=tfn.initializers.glorot_uniform(1))
  b = cls(3, 2, kernel_initializer=tfn.initializers.glorot_uniform(1))
  assert not np.array_equal(a(X), b(X))


def test_unseeded_calls_in_tf_function_advance_the_stream():
  layer = tfn.AffineVariationalFlipout(3, 2, seed=1)
  call = tf.function(lambda x: layer(x))
  assert not np.array_equal(call(X), call(X))


def test_sequential_derives_one_seed_per_layer_from_its_seed():
  layer = tfn.AffineVariationalReparameterization(3, 3, seed=0)
  model = tfn.Sequential([layer, tf.nn.relu, layer])
  y = model(X, seed=5)
  np.testing.assert_array_equal(y, model(X, seed=5))
  s0, _, s2 = seeds_lib.split_seed(seeds_lib.sanitize_seed(5), 3)
  assert not np.array_equal(s0, s2)
  expected = layer(tf.nn.relu(layer(X, seed=s0)), seed=s2)
  np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize('seed', [(1, 2, 3), [1], 'abc', 1.5,
                                  tf.constant([1., 2.]),
                                  tf.constant(3), tf.constant([1, 2, 3])])
def test_bad_seeds_are_clear_errors_naming_the_layer(seed):
  layer = tfn.AffineVariationalFlipout(3, 2, name='my_layer')
  with pytest.raises((TypeError, ValueError), match='my_layer'):
    layer(X, seed=seed)
