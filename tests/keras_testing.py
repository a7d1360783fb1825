"""Checks shared by the tfnx.keras tests."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

STATEFUL_RANDOM_OPS = frozenset({
    'RandomStandardNormal', 'RandomUniform', 'RandomUniformInt',
    'TruncatedNormal', 'RandomShuffle', 'RandomGamma', 'RandomPoisson',
    'RandomPoissonV2', 'Multinomial', 'StatefulUniform',
    'StatefulStandardNormalV2', 'StatefulUniformInt',
    'StatefulUniformFullInt', 'StatefulTruncatedNormal',
    'StatefulRandomBinomial', 'RngSkip', 'RngReadAndSkip'})


def posterior_mean(distribution, seed=None):
  """A deterministic `*_posterior_tensor_fn`."""
  del seed
  return distribution.mean()


def assert_only_stateless_random_ops(layer, input_shape):
  """Traces a call of the built `layer`; checks its graph's random ops."""
  graph_def = tf.function(layer).get_concrete_function(
      tf.TensorSpec(input_shape, tf.float32)).graph.as_graph_def()
  types = {node.op for node in graph_def.node}
  for function in graph_def.library.function:
    types |= {node.op for node in function.node_def}
  assert any(t.startswith('StatelessRandom') for t in types)
  assert not types & STATEFUL_RANDOM_OPS


def assert_losses_are_exact_kls(layer):
  """Checks `layer.losses` against the closed-form kernel and bias KLs."""
  kernel_kl, bias_kl = layer.losses
  np.testing.assert_allclose(
      kernel_kl, tfd.kl_divergence(layer.kernel_posterior, layer.kernel_prior),
      rtol=1e-6)
  np.testing.assert_allclose(
      bias_kl, tfd.kl_divergence(layer.bias_posterior, layer.bias_prior),
      rtol=1e-6)
