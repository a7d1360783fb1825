"""`copy.deepcopy` of layers, and stable variable names."""

import copy

import numpy as np
import pytest
import tensorflow as tf

from conformance import cases


@pytest.mark.parametrize('case', cases.params(cases.CASES))
def test_deepcopy_gives_equal_outputs_and_independent_variables(case):
  layer = case.build()
  x = cases.inputs(case)
  expected = cases.call(layer, x)
  clone = copy.deepcopy(layer)
  np.testing.assert_array_equal(cases.call(clone, x), expected)
  for variable in clone.trainable_variables:
    variable.assign_add(tf.ones_like(variable))
  np.testing.assert_array_equal(cases.call(layer, x), expected)
  assert not np.array_equal(cases.call(clone, x), expected)
  assert ([v.name for v in clone.variables] ==
          [v.name for v in layer.variables])


@pytest.mark.parametrize('case', cases.params(cases.KERNEL_BIAS_VARIATIONAL))
def test_variables_have_stable_readable_names(case):
  layer = case.build(name='net')
  names = sorted(v.name for v in layer.trainable_variables)
  assert names == ['net/posterior_bias_loc:0', 'net/posterior_bias_scale:0',
                   'net/posterior_kernel_loc:0',
                   'net/posterior_kernel_scale:0']


@pytest.mark.parametrize('case', cases.params(cases.KERAS_CASES))
def test_keras_variables_have_tfp_layers_names(case):
  layer = case.build(name='net')
  # The default bias posterior is a point mass: a location and no scale.
  assert sorted(v.path for v in layer.trainable_variables) == [
      'net/bias_posterior_loc', 'net/kernel_posterior_loc',
      'net/kernel_posterior_untransformed_scale']
