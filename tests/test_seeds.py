"""Explicit stateless seeds: reproducible calls, per-layer streams, no stateful ops."""

import numpy as np
import pytest
import tensorflow as tf

import tfnx as tfn
from tfnx import seeds as seeds_lib

import graph_ops

ESTIMATORS = [tfn.AffineVariationalReparameterization,
              tfn.AffineVariationalFlipout,
              tfn.AffineVariationalReparameterizationLocal]
X = np.random.RandomState(0).randn(5, 3).astype(np.float32)


@pytest.mark.parametrize('cls', ESTIMATORS)
@pytest.mark.parametrize('seed', [7, (3, 4), [3, 4],
                                  tf.constant([3, 4], tf.int32),
                                  tf.constant([3, 4], tf.int64)])
def test_seeded_call_is_bit_identical_eager_and_in_tf_function(cls, seed):
  layer = cls(3, 2)
  eager = [layer(X, seed=seed).numpy() for _ in range(2)]
  graph = tf.function(lambda x: layer(x, seed=seed))
  traced = [graph(X).numpy() for _ in range(2)]
  np.testing.assert_array_equal(eager[0], eager[1])
  np.testing.assert_array_equal(eager[0], traced[0])
  np.testing.assert_array_equal(traced[0], traced[1])


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_different_seeds_give_different_outputs(cls):
  layer = cls(3, 2)
  assert not np.array_equal(layer(X, seed=1), layer(X, seed=2))


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_layers_with_the_same_constructor_seed_give_the_same_sequence(cls):
  a, b = cls(3, 2, seed=42), cls(3, 2, seed=42)
  for va, vb in zip(a.trainable_variables, b.trainable_variables):
    np.testing.assert_array_equal(va, vb)
  outputs_a = [a(X).numpy() for _ in range(3)]
  outputs_b = [b(X).numpy() for _ in range(3)]
  for ya, yb in zip(outputs_a, outputs_b):
    np.testing.assert_array_equal(ya, yb)
  assert not np.array_equal(outputs_a[0], outputs_a[1])  # fresh each call


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_unseeded_layers_are_not_deterministic(cls):
  a = cls(3, 2, kernel_initializer=tfn.initializers.glorot_uniform(1))
  b = cls(3, 2, kernel_initializer=tfn.initializers.glorot_uniform(1))
  assert not np.array_equal(a(X), b(X))


def test_unseeded_calls_in_tf_function_advance_the_stream():
  layer = tfn.AffineVariationalFlipout(3, 2, seed=1)
  call = tf.function(lambda x: layer(x))
  assert not np.array_equal(call(X), call(X))


@pytest.mark.parametrize('cls', ESTIMATORS)
@pytest.mark.parametrize('seeded', [True, False])
def test_graph_has_no_stateful_random_op(cls, seeded):
  layer = cls(3, 2)
  call = (lambda x: layer(x, seed=(1, 2))) if seeded else (lambda x: layer(x))
  concrete = tf.function(call).get_concrete_function(tf.constant(X))
  types = set(graph_ops.op_types(concrete))
  assert not types & graph_ops.STATEFUL_RANDOM_OPS
  assert any(t.startswith('StatelessRandom') for t in types)


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
