"""Bad input, unknown dimensions, and property tests of shapes."""

import hypothesis
from hypothesis import strategies as st
import numpy as np
import pytest
import tensorflow as tf

from conformance import cases


@pytest.mark.parametrize('case', cases.params(cases.MODULE_VARIATIONAL))
def test_non_finite_input_with_validate_args_names_the_layer(case):
  layer = case.build(validate_args=True, name='validated')
  x = cases.inputs(case).numpy()
  x.flat[3] = np.inf
  with pytest.raises(tf.errors.InvalidArgumentError, match='validated'):
    layer(x, seed=1)


@pytest.mark.parametrize('case', cases.params(cases.CASES))
def test_unknown_dimensions_when_traced_are_handled(case):
  layer = case.build()
  rank = 1 + len(case.input_shape)
  unknown = tf.function(lambda x: cases.call(layer, x),
                        input_signature=[tf.TensorSpec([None] * rank)])
  # Against a trace with known shapes: a Keras layer called eagerly runs op
  # by op, whose rounding may differ from a graph's in the last bit.
  known = tf.function(lambda x: cases.call(layer, x))
  x = cases.inputs(case, (3,))
  np.testing.assert_array_equal(unknown(x), known(x))


@pytest.mark.parametrize('case', cases.params(cases.CASES,
                                              inner_loop='library'))
def test_any_batch_shape_gives_the_matching_output_shape(case):
  layer = case.build()

  @hypothesis.settings(max_examples=15, deadline=None)
  @hypothesis.given(st.lists(st.integers(1, 4), min_size=case.batch_dims[0],
                            max_size=case.batch_dims[1]))
  def check(batch):
    x = cases.inputs(case, tuple(batch))
    y = cases.call(layer, x)
    assert tuple(y.shape) == tuple(batch) + case.output_shape

  check()


@pytest.mark.slow
@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(st.integers(1, 6), st.integers(1, 6),
                  st.lists(st.integers(1, 3), min_size=1, max_size=3),
                  st.sampled_from(cases.DENSE_VARIATIONAL + cases.KERAS_DENSE))
def test_random_dense_sizes_and_ranks_give_the_right_shapes(
    input_size, output_size, batch, case):
  cls = type(case.build())
  # A Keras layer learns its input size from its first call.
  layer = (cls(output_size, seed=1) if case.keras
           else cls(input_size, output_size, seed=1))
  y = layer(tf.ones(batch + [input_size]), seed=2)
  assert y.shape == tuple(batch) + (output_size,)
  wrong = tf.ones(batch + [input_size + 1])
  with pytest.raises(ValueError, match=str(input_size)):
    layer(wrong, seed=2)
