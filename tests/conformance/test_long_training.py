"""Long, aggressive training keeps every loss and variable finite."""

import numpy as np
import pytest
import tensorflow as tf

from conformance import cases

pytestmark = pytest.mark.slow  # Training runs.

STEPS = 1500
LEARNING_RATE = 0.05


@pytest.mark.parametrize('case', cases.params(cases.VARIATIONAL))
def test_1500_steps_at_learning_rate_0_05_stay_finite(case):
  layer = case.build()
  x = cases.inputs(case, (32,), stddev=3.)
  target = tf.random.stateless_normal((32,) + case.output_shape, seed=(5, 6))
  optimizer = tf.keras.optimizers.Adam(LEARNING_RATE)
  variables = layer.trainable_variables

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      loss = (tf.reduce_mean(tf.square(layer(x) - target))
              + cases.divergence(layer) / 32.)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  losses = np.array([step().numpy() for _ in range(STEPS)])
  assert np.isfinite(losses).all()
  for variable in layer.variables:
    assert np.isfinite(variable.numpy()).all(), variable.name
  # tfp.layers' names, and edward2's for the rank-1 layers' vectors.
  scales = [v for v in variables
            if 'scale' in v.name or 'stddev' in v.name]
  assert scales
  for pretransformed in scales:
    # The scale is softplus(v) + 1e-5 (tfp.layers' untransformed scale too):
    # finite v keeps it in (1e-5, inf).
    scale = tf.nn.softplus(pretransformed) + 1e-5
    assert np.all(scale.numpy() >= 1e-5) and np.isfinite(scale.numpy()).all()
