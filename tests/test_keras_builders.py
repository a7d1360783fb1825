"""Tests of tfnx.keras builders: tfp.layers-style builders on Keras 3 variables."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx.keras as tfpl

tfd = tfp.distributions

_ADD_VARIABLE_KEYS = {'name', 'shape', 'initializer', 'regularizer',
                      'constraint', 'dtype', 'trainable'}


class _RecordingAddVariable:
  """An `add_variable_fn` as tfp.layers calls it, recording each call."""

  def __init__(self):
    self.calls = []

  def __call__(self, **kwargs):
    self.calls.append(kwargs)
    value = kwargs['initializer'](kwargs['shape'], dtype=kwargs['dtype'])
    return tf.Variable(value, name=kwargs['name'],
                       trainable=kwargs['trainable'])


def test_mean_field_normal_fn_calls_add_variable_fn_as_tfp_layers_does():
  add_variable = _RecordingAddVariable()
  dist = tfpl.default_mean_field_normal_fn()(
      tf.float32, [3, 2], 'kernel_posterior', True, add_variable)
  assert [c['name'] for c in add_variable.calls] == [
      'kernel_posterior_loc', 'kernel_posterior_untransformed_scale']
  for call in add_variable.calls:
    assert set(call) == _ADD_VARIABLE_KEYS
    assert list(call['shape']) == [3, 2]
  assert isinstance(dist, tfd.Independent)
  assert isinstance(dist.distribution, tfd.Normal)
  assert dist.event_shape == [3, 2]


def test_mean_field_scale_is_eps_plus_softplus_of_untransformed():
  add_variable = _RecordingAddVariable()
  dist = tfpl.default_mean_field_normal_fn()(
      tf.float64, [4], 'w', True, add_variable)
  untransformed = dist.distribution.scale.pretransformed_input
  untransformed.assign([-50., -3., 0., 2.])
  expected = np.finfo(np.float64).eps + np.log1p(np.exp([-50., -3., 0., 2.]))
  np.testing.assert_allclose(tf.convert_to_tensor(dist.distribution.scale),
                             expected, rtol=1e-12)
  assert float(dist.distribution.scale[0]) > 0.


def test_singular_builder_is_deterministic_with_one_variable():
  add_variable = _RecordingAddVariable()
  dist = tfpl.default_mean_field_normal_fn(is_singular=True)(
      tf.float32, [5], 'bias_posterior', True, add_variable)
  assert [c['name'] for c in add_variable.calls] == ['bias_posterior_loc']
  assert isinstance(dist.distribution, tfd.Deterministic)
  loc = dist.distribution.loc
  np.testing.assert_array_equal(dist.sample(seed=[1, 2]), loc.numpy())


def test_loc_scale_fn_returns_loc_and_scale():
  loc, scale = tfpl.default_loc_scale_fn()(
      tf.float32, [2], 'w', True, _RecordingAddVariable())
  assert isinstance(loc, tf.Variable)
  assert tf.convert_to_tensor(scale).shape == [2]
  loc, scale = tfpl.default_loc_scale_fn(is_singular=True)(
      tf.float32, [2], 'w', True, _RecordingAddVariable())
  assert scale is None


def test_multivariate_normal_fn_is_a_standard_normal_without_variables():
  add_variable = _RecordingAddVariable()
  dist = tfpl.default_multivariate_normal_fn(tf.float32, [3, 4], 'prior',
                                             True, add_variable)
  assert not add_variable.calls
  assert dist.event_shape == [3, 4] and dist.batch_shape == []
  np.testing.assert_array_equal(dist.mean(), np.zeros([3, 4]))
  np.testing.assert_array_equal(dist.stddev(), np.ones([3, 4]))


def test_default_initializers_follow_tfp_layers():
  # tfp.layers: loc ~ N(0, 0.1), untransformed scale ~ N(-3, 0.1).
  layer = tfpl.DenseFlipout(200, seed=11)
  layer.build((None, 100))
  n = 100 * 200
  loc = layer.kernel_posterior.distribution.loc.numpy().ravel()
  untransformed = (layer.kernel_posterior.distribution.scale
                   .pretransformed_input.numpy().ravel())
  for values, mean in ((loc, 0.), (untransformed, -3.)):
    assert abs(values.mean() - mean) < 5 * 0.1 / np.sqrt(n)
    assert abs(values.std() - 0.1) < 5 * 0.1 / np.sqrt(2 * n)


def test_builders_round_trip_through_keras_serialization():
  builder = tfpl.default_mean_field_normal_fn(
      loc_initializer=keras.initializers.Zeros(), loc_regularizer='l2',
      untransformed_scale_constraint='non_neg')
  restored = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(builder))
  assert type(restored) is tfpl.MeanFieldNormalFn
  assert restored.get_config() == builder.get_config()
  for fn in (tfpl.default_multivariate_normal_fn, tfpl.kl_divergence,
             tfpl.posterior_sample):
    assert keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(fn)) is fn


def test_regularizers_and_constraints_reach_the_keras_weights():
  layer = tfpl.DenseReparameterization(
      3, kernel_posterior_fn=tfpl.default_mean_field_normal_fn(
          loc_regularizer=keras.regularizers.L2(0.5),
          untransformed_scale_constraint=keras.constraints.NonNeg()))
  layer.build((None, 2))
  loc = layer.kernel_posterior.distribution.loc
  # The loc carries its own regularizer; the KL term rides on another weight.
  np.testing.assert_allclose(layer.losses[0], 0.5 * np.sum(loc.numpy()**2),
                             rtol=1e-6)
  scale_weight = [w for w in layer.weights
                  if w.name == 'kernel_posterior_untransformed_scale'][0]
  assert isinstance(scale_weight.constraint, keras.constraints.NonNeg)


def test_untrainable_layer_creates_untrainable_weights():
  layer = tfpl.DenseFlipout(3, trainable=False)
  layer.build((None, 2))
  assert not layer.trainable_weights
  assert len(layer.non_trainable_weights) == 3


@pytest.mark.parametrize('seed', [None, 3])
def test_each_variable_gets_its_own_initial_values(seed):
  # One shared default initializer must not give equal-shaped weights of
  # two layers (or two variables of one layer) the same values.
  first = tfpl.DenseFlipout(4, seed=seed)
  second = tfpl.DenseFlipout(4, seed=None if seed is None else seed + 1)
  first.build((None, 4))
  second.build((None, 4))
  values = [w.numpy() for w in first.weights[:1] + second.weights[:1]]
  assert not np.allclose(values[0], values[1])
