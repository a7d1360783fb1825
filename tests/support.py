"""What the tests share: graph inspection, tracing counts, statistics, KLs.

Family test files and the conformance suite import this one module; the
registry of layers to run through the conformance suite is
`conformance/cases.py`.
"""

from typing import Callable, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

# Every TensorFlow op that draws from a hidden, stateful generator. tfnx's
# graphs may hold none of them: seeded calls must be pure functions.
STATEFUL_RANDOM_OPS = frozenset({
    'RandomStandardNormal', 'RandomUniform', 'RandomUniformInt',
    'TruncatedNormal', 'RandomGamma', 'RandomPoisson', 'RandomPoissonV2',
    'RandomShuffle', 'Multinomial', 'ParameterizedTruncatedNormal',
    'StatefulStandardNormal', 'StatefulStandardNormalV2',
    'StatefulUniform', 'StatefulUniformInt', 'StatefulUniformFullInt',
    'StatefulTruncatedNormal', 'StatefulRandomBinomial',
    'RngSkip', 'RngReadAndSkip', 'NonDeterministicInts',
})

# One of each per float32 draw of tfnx._sampling: standard normals (the cosine
# of Box-Muller) and random signs (the mask picking one bit of each word).
NORMAL_DRAW = 'Cos'
SIGN_DRAW = 'BitwiseAnd'

# Five standard errors: a correct estimate fails with negligible probability
# (fixed seeds make every run the same anyway), a wrong one reliably.
STANDARD_ERRORS = 5.


def op_types(concrete_function) -> list:
  """Every op type in a concrete function's graph and its nested functions."""
  return [node.op for node in _nodes(concrete_function)]


def ops_of_type(concrete_function, op_type: str) -> list:
  """The nodes of one op type, in the graph and its nested functions."""
  return [node for node in _nodes(concrete_function) if node.op == op_type]


def _nodes(concrete_function) -> list:
  graph_def = concrete_function.graph.as_graph_def()
  nodes = list(graph_def.node)
  for function in graph_def.library.function:
    nodes.extend(function.node_def)
  return nodes


def trace(layer, x, seed=(1, 2)):
  """The concrete function of `layer(x, seed=seed)` in a `tf.function`."""
  return tf.function(lambda x_: layer(x_, seed=seed)).get_concrete_function(
      tf.convert_to_tensor(x))


def tracing_count(layer) -> int:
  """How many times the `tf.function`s a layer owns have traced, summed.

  Found by what they are, not by name, so a layer may hold any number of
  them under any names.
  """
  count = 0
  for name in dir(type(layer)):
    attribute = getattr(type(layer), name, None)
    if hasattr(attribute, 'experimental_get_tracing_count'):
      count += getattr(layer, name).experimental_get_tracing_count()
  return count


def head_params_size(layer) -> int:
  """How many parameters a `tfnx.keras` distribution head takes per row.

  A `MixtureSameFamily`'s is its components' head's, times the components,
  plus their logits.
  """
  component = getattr(layer, 'component_layer', None)
  if component is not None:
    return layer.params_size(layer.num_components,
                             head_params_size(component))
  return layer._params_size()  # pylint: disable=protected-access


def posterior_mean(distribution, seed=None):
  """A deterministic `*_posterior_tensor_fn` (or `posterior_value_fn`)."""
  del seed  # The mean is not random.
  return distribution.mean()


def assert_losses_are_exact_kls(layer, rtol=1e-6):
  """Checks `layer.losses` against the closed-form kernel and bias KLs."""
  kernel_kl, bias_kl = layer.losses
  np.testing.assert_allclose(
      kernel_kl, tfd.kl_divergence(layer.kernel_posterior, layer.kernel_prior),
      rtol=rtol)
  np.testing.assert_allclose(
      bias_kl, tfd.kl_divergence(layer.bias_posterior, layer.bias_prior),
      rtol=rtol)


def seeded_samples(call: Callable[[tf.Tensor], tf.Tensor], num_samples: int,
                   jit_compile: bool = False) -> np.ndarray:
  """`[call(seed) for num_samples seeds]`, stacked, from one traced loop."""
  seeds = tf.stack([tf.range(num_samples),
                    tf.fill([num_samples], 17)], axis=1)
  loop = tf.function(
      lambda s: tf.map_fn(call, s, fn_output_signature=tf.float32),
      jit_compile=jit_compile)
  return loop(seeds).numpy()


def assert_normal_moments(samples: np.ndarray, mean: np.ndarray,
                          variance: np.ndarray) -> None:
  """Checks normal samples' mean and variance within 5 standard errors.

  Args:
    samples: `[n, ...]` independent draws of normal outputs.
    mean: their expected mean, of shape `samples.shape[1:]`.
    variance: their expected variance, of the same shape.
  """
  n = len(samples)
  mean_error = np.abs(samples.mean(0) - mean)
  np.testing.assert_array_less(
      mean_error, STANDARD_ERRORS * np.sqrt(variance / n))
  # The sample variance of normal draws has standard error
  # variance * sqrt(2 / (n - 1)).
  variance_error = np.abs(samples.var(0, ddof=1) - variance)
  np.testing.assert_array_less(
      variance_error, STANDARD_ERRORS * variance * np.sqrt(2. / (n - 1)))


def traced_op_types(function: Callable, *specs: Sequence[tf.TensorSpec]) -> set:
  """The op types of `function` traced for `specs`."""
  return set(op_types(tf.function(function).get_concrete_function(*specs)))


def closed_form_moments(layer, x, apply) -> tuple:
  """The outputs' mean and variance implied by a layer's posterior.

  Args:
    layer: a variational layer whose kernel and bias posteriors are
      independent normals (or a point mass for the bias).
    x: the inputs.
    apply: `(inputs, kernel) -> outputs`, the layer's linear map.

  Returns:
    `(mean, variance)` of the outputs before the activation, as arrays.
  """
  kernel, bias = layer.kernel_posterior, layer.bias_posterior
  flat, restore = layer._to_map_layout(x)  # pylint: disable=protected-access
  mean = apply(flat, kernel.mean()) + bias.mean()
  variance = apply(tf.square(flat), kernel.variance()) + bias.variance()
  return tuple(
      layer._from_map_layout(m, restore, x).numpy()  # pylint: disable=protected-access
      for m in (mean, variance))
