"""float64 layers: variables, outputs, KL terms and gradients all float64."""

import numpy as np
import pytest
import tensorflow as tf

import tfnx as tfn
from conformance import cases


def _float64_step(case, **kwargs):
  """One float64 call under a tape; returns the layer, output and gradients."""
  layer = case.build(dtype=tf.float64, **kwargs)
  x = tf.cast(cases.inputs(case), tf.float64)
  with tf.GradientTape() as tape:
    y = cases.call(layer, x)
    loss = tf.reduce_sum(y**2)
    if case.variational:
      loss += cases.divergence(layer)
  return layer, y, tape.gradient(loss, layer.trainable_variables)


@pytest.mark.parametrize('case', cases.params(cases.CASES))
def test_float64_runs_end_to_end(case):
  layer, y, grads = _float64_step(case)
  assert y.dtype == tf.float64
  assert all(v.dtype == tf.float64 for v in layer.trainable_variables)
  if case.variational:
    assert cases.divergence(layer).dtype == tf.float64
  assert len(grads) == len(layer.trainable_variables) > 0
  for grad in grads:
    assert grad is not None and grad.dtype == tf.float64
    assert np.isfinite(tf.convert_to_tensor(grad).numpy()).all()


@pytest.mark.parametrize('case', cases.params(cases.MODULE_VARIATIONAL))
def test_float64_with_a_sampled_kl_runs_end_to_end(case):
  # The spike-and-slab prior has no closed-form KL: it is estimated from a
  # posterior draw, which must be float64 too.
  layer, y, grads = _float64_step(
      case, make_prior_fn=tfn.util.make_kernel_bias_prior_spike_and_slab)
  assert y.dtype == tf.float64
  assert all(kl.dtype == tf.float64 for kl in layer.losses)
  assert all(g is not None and np.isfinite(tf.convert_to_tensor(g)).all()
             for g in grads)
