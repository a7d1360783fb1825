"""No stateful random op in any traced call, seeded or not."""

import pytest
import tensorflow as tf

import support
from conformance import cases


@pytest.mark.parametrize('seeded', [True, False], ids=['seeded', 'unseeded'])
@pytest.mark.parametrize('case', cases.params(cases.CASES))
def test_traced_calls_contain_no_stateful_random_op(case, seeded):
  layer = case.build()
  seed = (1, 2) if seeded else None
  spec = tf.TensorSpec((None,) + case.input_shape, tf.float32)
  call = tf.function(lambda x: cases.call(layer, x, seed))
  types = set(support.op_types(call.get_concrete_function(spec)))
  assert not types & support.STATEFUL_RANDOM_OPS
  if case.variational:
    assert any(t.startswith('StatelessRandom') for t in types)
