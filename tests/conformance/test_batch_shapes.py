"""Batch dimensions: an example's outputs do not depend on the batch's shape."""

import numpy as np
import pytest

from conformance import cases

_NESTED = [c for c in cases.CASES if c.batch_dims[1] >= 2]
_UNBATCHED = [c for c in cases.CASES if c.batch_dims[0] == 0]


@pytest.mark.parametrize('case', cases.params(_NESTED))
def test_extra_batch_dims_give_the_same_outputs_as_a_flat_batch(case):
  layer = case.build()
  x = cases.inputs(case, (2, 3))
  nested = cases.call(layer, x, seed=(4, 7)).numpy()
  flat = cases.call(layer, np.reshape(x, (6,) + case.input_shape), seed=(4, 7))
  # Keras layers run op by op eagerly, where a matrix product of another
  # shape may round differently in the last bit; tfnx's modules run traced.
  # The kernel/bias layers hand the inputs as given to the user's map, here
  # `tf.matmul`, whose batched product of `[2, 3, 4]` runs another kernel
  # than the flat one of `[6, 4]` and rounds differently in the last bit.
  # That bit is one of the summands' scale, not the sum's: a sum that nearly
  # cancels differs relatively more, so the bound is on the outputs' scale.
  exact = not case.keras and case not in cases.KERNEL_BIAS_CASES
  scale = 0. if exact else 1e-6 * np.abs(flat).max()
  np.testing.assert_allclose(nested.reshape(flat.shape), flat, rtol=0.,
                             atol=scale)


@pytest.mark.parametrize('case', cases.params(_UNBATCHED))
def test_unbatched_inputs_give_the_outputs_of_a_batch_of_one(case):
  layer = case.build()
  x = cases.inputs(case, (1,))
  batch = cases.call(layer, x, seed=(4, 7))
  np.testing.assert_array_equal(cases.call(layer, x[0], seed=(4, 7)), batch[0])
