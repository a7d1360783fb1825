"""Helpers for tests that inspect the ops a traced `tf.function` contains."""

import tensorflow as tf

STATEFUL_RANDOM_OPS = frozenset({
    'RandomStandardNormal', 'RandomUniform', 'RandomUniformInt',
    'TruncatedNormal', 'RandomGamma', 'RandomPoisson', 'RandomPoissonV2',
    'RandomShuffle', 'Multinomial', 'ParameterizedTruncatedNormal',
    'StatefulStandardNormal', 'StatefulStandardNormalV2',
    'StatefulUniform', 'StatefulUniformInt', 'StatefulUniformFullInt',
    'StatefulTruncatedNormal', 'StatefulRandomBinomial',
    'RngSkip', 'RngReadAndSkip', 'NonDeterministicInts',
})

# One of each per float32 draw of tfnx.sampling: standard normals (the cosine
# of Box-Muller) and random signs (the mask picking one bit of each word).
NORMAL_DRAW = 'Cos'
SIGN_DRAW = 'BitwiseAnd'


def op_types(concrete_function) -> list:
  """Every op type in a concrete function's graph and its nested functions."""
  graph_def = concrete_function.graph.as_graph_def()
  types = [node.op for node in graph_def.node]
  for function in graph_def.library.function:
    types.extend(node.op for node in function.node_def)
  return types


def ops_of_type(concrete_function, op_type: str) -> list:
  """The nodes of one op type, in the graph and its nested functions."""
  graph_def = concrete_function.graph.as_graph_def()
  nodes = [n for n in graph_def.node if n.op == op_type]
  for function in graph_def.library.function:
    nodes.extend(n for n in function.node_def if n.op == op_type)
  return nodes


def trace(layer, x, seed=(1, 2)):
  """Traces `layer(x, seed=seed)` in a `tf.function`; returns the concrete one."""
  return tf.function(lambda x_: layer(x_, seed=seed)).get_concrete_function(
      tf.convert_to_tensor(x))
