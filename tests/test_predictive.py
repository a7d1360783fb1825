"""`tfnx.predictive`: many stochastic passes in one traced loop."""

import numpy as np
import pytest
import tensorflow as tf

import support
import tfnx as tfn
from tfnx import predictive

ESTIMATORS = [tfn.AffineVariationalReparameterization,
              tfn.AffineVariationalFlipout,
              tfn.AffineVariationalReparameterizationLocal]


def _model(cls):
  return tfn.Sequential([cls(3, 8, activation_fn=tf.nn.relu, seed=1),
                         cls(8, 4, seed=2)])


def _inputs():
  return np.random.RandomState(0).normal(size=(5, 3)).astype(np.float32)


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_passes_equal_seeded_calls(cls):
  model, x = _model(cls), _inputs()
  samples = tfn.predictive.sample_outputs(model, x, 4, seed=7)
  assert samples.shape == (4, 5, 4)
  for i in range(4):
    np.testing.assert_allclose(
        samples[i], model(x, seed=tfn.predictive.pass_seed(7, i)),
        rtol=1e-6, atol=1e-6)
  assert not np.allclose(samples[0], samples[1])


def test_more_passes_extend_the_same_sample():
  model, x = _model(tfn.AffineVariationalFlipout), _inputs()
  few = tfn.predictive.sample_outputs(model, x, 2, seed=3)
  many = tfn.predictive.sample_outputs(model, x, 6, seed=3)
  np.testing.assert_allclose(many[:2], few, rtol=1e-6, atol=1e-6)


def test_one_trace_serves_every_number_of_passes():
  model, x = _model(tfn.AffineVariationalReparameterization), _inputs()
  tfn.predictive.sample_outputs(model, x, 2, seed=1)
  traces = predictive._sample_passes.experimental_get_tracing_count()
  for num_samples in [1, 5, 17]:
    out = tfn.predictive.sample_outputs(model, x, num_samples, seed=1)
    assert out.shape[0] == num_samples
  assert predictive._sample_passes.experimental_get_tracing_count() == traces


def test_the_traced_loop_has_no_stateful_random_op():
  model, x = _model(tfn.AffineVariationalFlipout), _inputs()
  concrete = predictive._sample_passes.get_concrete_function(
      model, tf.constant(x), tf.constant(3), tf.constant([1, 2]), None)
  assert not set(support.op_types(concrete)) & support.STATEFUL_RANDOM_OPS


def test_class_probabilities_average_the_softmax_of_the_passes():
  model, x = _model(tfn.AffineVariationalFlipout), _inputs()
  probs = tfn.predictive.class_probabilities(model, x, 5, seed=4)
  expected = np.mean([tf.nn.softmax(model(
      x, seed=tfn.predictive.pass_seed(4, i))) for i in range(5)], axis=0)
  np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(np.sum(probs, -1), 1., rtol=1e-6)


def test_mean_and_stddev_summarize_the_passes():
  model, x = _model(tfn.AffineVariationalReparameterizationLocal), _inputs()
  mean, stddev = tfn.predictive.mean_and_stddev(model, x, 6, seed=5)
  passes = np.stack([model(x, seed=tfn.predictive.pass_seed(5, i))
                     for i in range(6)])
  np.testing.assert_allclose(mean, passes.mean(0), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(stddev, passes.std(0), rtol=1e-4, atol=1e-6)


def test_passes_leave_the_models_last_call_as_it_was():
  model, x = _model(tfn.AffineVariationalFlipout), _inputs()
  model(x, seed=1)
  before = [loss.numpy() for loss in model.losses]
  tfn.predictive.sample_outputs(model, x, 3, seed=2)
  np.testing.assert_array_equal([loss.numpy() for loss in model.losses],
                                before)


def test_unseeded_passes_are_reproducible_from_python_random():
  model, x = _model(tfn.AffineVariationalFlipout), _inputs()
  tf.keras.utils.set_random_seed(3)
  first = tfn.predictive.sample_outputs(model, x, 2)
  tf.keras.utils.set_random_seed(3)
  np.testing.assert_array_equal(tfn.predictive.sample_outputs(model, x, 2),
                                first)


def test_nested_lists_are_one_input():
  model = _model(tfn.AffineVariationalFlipout)
  x = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
  np.testing.assert_allclose(
      tfn.predictive.sample_outputs(model, x, 2, seed=1),
      tfn.predictive.sample_outputs(model, np.float32(x), 2, seed=1))


def test_bad_number_of_passes_is_a_clear_error():
  with pytest.raises(ValueError, match='num_samples'):
    tfn.predictive.sample_outputs(_model(tfn.AffineVariationalFlipout),
                                  _inputs(), 0)
