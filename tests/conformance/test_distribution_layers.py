"""The distribution family of `tfnx.keras` (DenseVariational, VariableLayer, DistributionLambda and its heads, KLDivergenceAddLoss, AutoregressiveTransform) through the conformance machinery."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from conformance import cases
import support

CASES = cases.DISTRIBUTION_CASES


def _call(case, layer, x, seed=None):
  return cases.call_distribution_layer(case, layer, x, seed)


@pytest.mark.parametrize('case', cases.params(CASES))
def test_seeded_call_is_bit_identical_eagerly_and_traced(case):
  layer = case.build()
  x = cases.distribution_inputs(case)
  eager = _call(case, layer, x, seed=(4, 5))
  traced = tf.function(lambda x: _call(case, layer, x, seed=(4, 5)))(x)
  np.testing.assert_array_equal(traced, eager)


@pytest.mark.parametrize('case', cases.params(CASES))
def test_unseeded_traced_call_has_no_stateful_random_op(case):
  layer = case.build()
  x = cases.distribution_inputs(case)
  _call(case, layer, x)
  graph = tf.function(lambda x: _call(case, layer, x)).get_concrete_function(
      tf.TensorSpec(x.shape)).graph.as_graph_def()
  types = {node.op for node in graph.node}
  for function in graph.library.function:
    types |= {node.op for node in function.node_def}
  assert not types & support.STATEFUL_RANDOM_OPS


@pytest.mark.parametrize('case', cases.params(CASES))
def test_checkpoint_restores_weights_and_the_seed_stream(case, tmp_path):
  layer = case.build()
  x = cases.distribution_inputs(case)
  _call(case, layer, x)
  path = tf.train.Checkpoint(layer=layer).save(str(tmp_path / 'ckpt'))
  expected = _call(case, layer, x)
  fresh = case.build(**({'seed': 99} if 'seed' in layer.get_config() else {}))
  _call(case, fresh, x)
  tf.train.Checkpoint(layer=fresh).restore(path)
  np.testing.assert_array_equal(_call(case, fresh, x), expected)


@pytest.mark.parametrize('case', cases.params(CASES))
def test_keras_file_round_trip_keeps_weights_and_seeded_outputs(case,
                                                               tmp_path):
  layer = case.build()
  x = cases.distribution_inputs(case)
  _call(case, layer, x)
  model = keras.Sequential([layer])
  model.build((None,) + case.input_shape) if case.prepare is None else None
  path = str(tmp_path / 'layer.keras')
  model.save(path)
  loaded = keras.models.load_model(path, safe_mode=False).layers[0]
  if not loaded.built:
    _call(case, loaded, x)
  assert len(loaded.get_weights()) == len(layer.get_weights())
  for a, b in zip(layer.get_weights(), loaded.get_weights()):
    np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(_call(case, loaded, x, seed=(6, 7)),
                                _call(case, layer, x, seed=(6, 7)))


@pytest.mark.parametrize('case', cases.params(CASES))
def test_float64_layer_gives_float64_values(case):
  layer = case.build(dtype='float64')
  x = cases.distribution_inputs(case, dtype='float64')
  if case.prepare is not None:
    pytest.skip('the prepared distribution fixes the dtype')
  value = _call(case, layer, x, seed=(1, 1))
  assert value.dtype == tf.float64 or not value.dtype.is_floating


@pytest.mark.slow
def test_mirrored_fit_of_a_distribution_output_model_learns():
  tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [tests_dir, os.path.dirname(tests_dir)] + sys.path))
  result = subprocess.run(
      [sys.executable, '-m', 'conformance.distributed_keras_fit'],
      cwd=tests_dir, env=env, capture_output=True, text=True, timeout=300,
      check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report['replicas'] == 2
  assert report['replicas_differ'], report
  assert np.isfinite(report['last']) and report['last'] < report['first'] / 2
