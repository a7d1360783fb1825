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


@pytest.mark.parametrize('case', cases.params(cases.MODULE_CASES))
def test_a_layer_called_inside_an_outer_function_adds_no_function_call(case):
  # Its traced call and its losses go straight into the caller's graph: a
  # nested function would be a call op per layer, with forward and backward
  # functions of its own in the caller's gradient.
  layer = case.build()

  def step(x):
    with tf.GradientTape() as tape:
      loss = (tf.reduce_sum(cases.call(layer, x))
              + tf.cast(cases.divergence(layer), tf.float32))
    return tape.gradient(loss, layer.trainable_variables)

  concrete = tf.function(step).get_concrete_function(cases.inputs(case))
  assert not concrete.graph.as_graph_def().library.function
  assert not {'PartitionedCall', 'StatefulPartitionedCall'} & set(
      support.op_types(concrete))
