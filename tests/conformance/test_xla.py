"""XLA: `tf.function(jit_compile=True)` around a layer call."""

import numpy as np
import pytest
import tensorflow as tf

import support
from conformance import cases

NUM_CALLS = 400


@pytest.mark.parametrize('case', cases.params(
    cases.LINEAR_VARIATIONAL, inner_loop='library'))
def test_jit_compiled_call_has_the_right_statistics(case):
  layer = case.build()
  for variable in layer.trainable_variables:
    if 'scale' in variable.name:
      variable.assign(tf.fill(variable.shape, 0.5))  # softplus^-1 ~ 0.47
  x = cases.inputs(case, (1,))
  # One compiled loop over the seeds: XLA compiles the call once.
  y = support.seeded_samples(lambda s: layer(x, seed=s), NUM_CALLS,
                             jit_compile=True)
  assert np.isfinite(y).all()
  support.assert_normal_moments(
      y, *support.closed_form_moments(layer, x, cases.linear_map(layer).apply))


@pytest.mark.parametrize('case', cases.params(cases.CASES,
                                              inner_loop='library'))
def test_jit_compiled_call_compiles_for_every_layer(case):
  layer = case.build()
  x = cases.inputs(case)
  y = tf.function(lambda x_: cases.call(layer, x_), jit_compile=True)(x)
  assert y.shape == x.shape[:1] + case.output_shape
  assert np.isfinite(y.numpy()).all()
