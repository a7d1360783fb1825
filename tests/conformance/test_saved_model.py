"""SavedModel export and reload serving any batch size."""

import numpy as np
import pytest
import tensorflow as tf

from conformance import cases


@pytest.mark.parametrize('case', cases.params(cases.CASES,
                                              inner_loop='library'))
def test_reloaded_saved_model_serves_any_batch_size_identically(case,
                                                                 tmp_path):
  layer = case.build()
  module = tf.Module()
  module.layer = layer
  module.serve = tf.function(
      lambda x, seed: cases.call(layer, x, seed),
      input_signature=[tf.TensorSpec((None,) + case.input_shape, tf.float32),
                       tf.TensorSpec([2], tf.int32)])
  tf.saved_model.save(module, str(tmp_path / 'model'))
  loaded = tf.saved_model.load(str(tmp_path / 'model'))
  for batch in (1, 3, 8):
    x = cases.inputs(case, (batch,))
    seed = tf.constant([batch, 4], tf.int32)
    np.testing.assert_array_equal(loaded.serve(x, seed),
                                  module.serve(x, seed))
