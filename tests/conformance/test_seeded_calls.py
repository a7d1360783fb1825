"""A seeded call is a pure function; a constructor seed fixes the stream."""

import numpy as np
import pytest
import tensorflow as tf

from conformance import cases

# tfnx.keras' local reparameterization rounds differently op by op than in a
# graph (3e-8 apart): eager Keras calls run outside tfnx's traced function.
_NOT_BIT_IDENTICAL_EAGERLY = {'DenseLocalReparameterization': (
    pytest.mark.xfail(reason='rounds differently eagerly than traced',
                      strict=False))}


# The inner loop runs each family with a pair; how the other forms of a seed
# become one is each layer's same call to `tfnx.seeds` (`test_seeds.py`).
@pytest.mark.parametrize('seed', [
    pytest.param(7, id='int', marks=pytest.mark.slow),
    pytest.param((3, 4), id='pair'),
    pytest.param(tf.constant([3, 4], tf.int64), id='tensor',
                 marks=pytest.mark.slow)])
@pytest.mark.parametrize('case', cases.params(
    cases.VARIATIONAL, _NOT_BIT_IDENTICAL_EAGERLY))
def test_seeded_call_is_bit_identical_eagerly_and_traced(case, seed):
  layer = case.build()
  x = cases.inputs(case)
  eager = [cases.call(layer, x, seed).numpy() for _ in range(2)]
  traced = tf.function(lambda x_: cases.call(layer, x_, seed))
  np.testing.assert_array_equal(eager[0], eager[1])
  np.testing.assert_array_equal(traced(x), eager[0])
  np.testing.assert_array_equal(traced(x), eager[0])


@pytest.mark.parametrize('case', cases.params(cases.VARIATIONAL))
def test_different_seeds_give_different_outputs(case):
  layer = case.build()
  x = cases.inputs(case)
  assert not np.array_equal(cases.call(layer, x, (3, 4)),
                            cases.call(layer, x, (3, 5)))


@pytest.mark.parametrize('case', cases.params(cases.VARIATIONAL))
def test_a_seed_bypasses_the_layers_own_stream(case):
  layer = case.build()
  x = cases.inputs(case)
  first = cases.call(layer, x, (3, 4)).numpy()
  layer(x)  # Advances the layer's own stream.
  np.testing.assert_array_equal(cases.call(layer, x, (3, 4)), first)


@pytest.mark.parametrize('case', cases.params(cases.VARIATIONAL))
def test_a_constructor_seed_fixes_the_weights_and_the_unseeded_calls(case):
  first, second, other = case.build(), case.build(), case.build(seed=4)
  for a, b in zip(first.variables, second.variables):
    np.testing.assert_array_equal(a, b)
  x = cases.inputs(case)
  outputs = [[layer(x).numpy() for _ in range(3)]
             for layer in (first, second, other)]
  np.testing.assert_array_equal(outputs[0], outputs[1])
  assert not np.array_equal(outputs[0][0], outputs[0][1])  # Fresh each call.
  assert not np.array_equal(outputs[0][0], outputs[2][0])
