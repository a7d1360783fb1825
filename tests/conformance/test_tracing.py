"""New batch sizes reuse the traced graph instead of tracing a new one."""

import pytest
import tensorflow as tf

import support
from conformance import cases

_BATCH_SIZES = range(1, 7)


@pytest.mark.parametrize('case', cases.params(cases.MODULE_CASES))
def test_new_batch_sizes_do_not_retrace_the_layers_functions(case):
  layer = case.build()
  for batch in _BATCH_SIZES:
    cases.call(layer, cases.inputs(case, (batch,)), seed=(batch, 0))
  # The first size, then one generalized to any batch size.
  assert support.tracing_count(layer) <= 2


@pytest.mark.parametrize('case', cases.params(cases.KERAS_CASES))
def test_new_batch_sizes_do_not_retrace_a_keras_train_function(case):
  # Keras traces its train and predict functions with reduce_retracing.
  layer = case.build()
  step = tf.function(layer, reduce_retracing=True)
  for batch in _BATCH_SIZES:
    step(cases.inputs(case, (batch,)))
  assert step.experimental_get_tracing_count() <= 2
