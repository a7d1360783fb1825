"""Rank-1 and BatchEnsemble math (`tfnx.rank1`), through the Keras layers.

Members are exact (BatchEnsemble is `K` networks, bit for bit), the rank-1
outputs' moments match their closed forms within standard errors, rows route
to members in blocks, and the predictive helpers run every member.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx as tfn
import tfnx.keras as tfpl
from tfnx import rank1 as rank1_lib

tfd = tfp.distributions

K = 3


def _weights(layer) -> dict:
  return {w.name: w for w in layer.weights}


def _powers_of_two(rng, shape) -> np.ndarray:
  return rng.choice([-2., -1., -0.5, 0.5, 1., 2.], size=shape)


@pytest.mark.parametrize('rows', range(1, 14))
@pytest.mark.parametrize('ensemble_size', [1, 2, 3, 4])
def test_rows_go_to_members_in_consecutive_blocks(rows, ensemble_size):
  members = rank1_lib.member_of_rows(tf.constant(rows), ensemble_size).numpy()
  assert members.shape == (rows,)
  assert (np.diff(members) >= 0).all()
  assert members.min() >= 0 and members.max() < ensemble_size
  counts = np.bincount(members, minlength=ensemble_size)
  assert counts.max() - counts.min() <= 1
  if rows % ensemble_size == 0:
    np.testing.assert_array_equal(
        members, np.repeat(np.arange(ensemble_size), rows // ensemble_size))


def test_ensemble_inputs_tile_the_batch_member_major():
  x = np.arange(6.).reshape(3, 2)
  tiled = tfpl.ensemble_inputs(x, 4).numpy()
  np.testing.assert_array_equal(tiled, np.concatenate([x] * 4))
  members = rank1_lib.member_of_rows(tf.constant(12), 4).numpy()
  for k in range(4):
    np.testing.assert_array_equal(tiled[members == k], x)


def _batch_ensemble_dense(units, **kwargs):
  return tfpl.DenseBatchEnsemble(units, ensemble_size=K, dtype='float64',
                                 **kwargs)


def _set_points(layer, rng, in_size):
  w = _weights(layer)
  w['kernel'].assign(rng.normal(size=w['kernel'].shape))
  w['bias'].assign(rng.normal(size=w['bias'].shape))
  w['alpha'].assign(_powers_of_two(rng, (K, in_size)))
  w['gamma'].assign(_powers_of_two(rng, (K, layer.units)))
  return w


def test_batch_ensemble_member_is_the_dense_layer_of_its_scaled_kernel():
  rng = np.random.default_rng(0)
  layer = _batch_ensemble_dense(4)
  x = rng.normal(size=(5, 3))
  layer.build((None, 3))
  w = _set_points(layer, rng, 3)
  outputs = layer(tfpl.ensemble_inputs(x, K)).numpy().reshape(K, 5, 4)
  for k in range(K):
    kernel = (w['alpha'].numpy()[k][:, None] * w['kernel'].numpy()
              * w['gamma'].numpy()[k][None, :])
    expected = tf.linalg.matmul(x, kernel) + w['bias'].numpy()[k]
    np.testing.assert_array_equal(outputs[k], expected.numpy())


def test_batch_ensemble_network_is_k_networks_bit_for_bit():
  rng = np.random.default_rng(1)
  first = _batch_ensemble_dense(6, activation='relu')
  second = _batch_ensemble_dense(2)
  model = keras.Sequential([keras.Input((3,), dtype='float64'), first,
                            second])
  w1, w2 = _set_points(first, rng, 3), _set_points(second, rng, 6)
  x = rng.normal(size=(7, 3))
  outputs = model(tfpl.ensemble_inputs(x, K)).numpy().reshape(K, 7, 2)
  for k in range(K):
    hidden = tf.nn.relu(
        (tf.linalg.matmul(x * w1['alpha'].numpy()[k], w1['kernel'])
         * w1['gamma'].numpy()[k]) + w1['bias'].numpy()[k])
    member = (tf.linalg.matmul(hidden * w2['alpha'].numpy()[k], w2['kernel'])
              * w2['gamma'].numpy()[k]) + w2['bias'].numpy()[k]
    np.testing.assert_array_equal(outputs[k], member.numpy())


def test_batch_ensemble_convolution_member_uses_its_scaled_kernel():
  rng = np.random.default_rng(2)
  layer = tfpl.Conv2DBatchEnsemble(3, 2, ensemble_size=K, dtype='float64',
                                   padding='same')
  layer.build((None, 4, 4, 2))
  w = _weights(layer)
  w['kernel'].assign(rng.normal(size=w['kernel'].shape))
  w['bias'].assign(rng.normal(size=w['bias'].shape))
  w['alpha'].assign(_powers_of_two(rng, (K, 2)))
  w['gamma'].assign(_powers_of_two(rng, (K, 3)))
  x = rng.normal(size=(2, 4, 4, 2))
  outputs = layer(tfpl.ensemble_inputs(x, K)).numpy().reshape(K, 2, 4, 4, 3)
  for k in range(K):
    kernel = (w['kernel'].numpy() * w['alpha'].numpy()[k][:, None]
              * w['gamma'].numpy()[k])
    expected = tf.nn.convolution(x, kernel, padding='SAME') + w['bias'][k]
    np.testing.assert_array_equal(outputs[k], expected.numpy())


def _rank1_dense(rng, stddev_s, stddev_r, **kwargs):
  layer = tfpl.DenseRank1(2, ensemble_size=2, dtype='float64', **kwargs)
  layer.build((None, 3))
  w = _weights(layer)
  inverse_softplus = lambda s: np.log(np.expm1(s))
  w['kernel'].assign(rng.normal(size=(3, 2)))
  w['bias'].assign(rng.normal(size=(2, 2)))
  w['alpha_mean'].assign(rng.choice([-1., 1.], size=(2, 3)) + 0.1)
  w['alpha_stddev'].assign(np.full((2, 3), inverse_softplus(stddev_s)))
  w['gamma_mean'].assign(rng.choice([-1., 1.], size=(2, 2)) - 0.2)
  w['gamma_stddev'].assign(np.full((2, 2), inverse_softplus(stddev_r)))
  return layer, {name: v.numpy() for name, v in w.items()}


def _draws(layer, x, num_calls, rows_per_member=1):
  """Each member's outputs for input `x` over `num_calls` seeded calls.

  Returns `[members, num_calls * rows_per_member, outputs]`: the rows of
  one call share their member's noise draw (up to signs), so moments are
  taken over calls.
  """
  rows = np.repeat(x[None], 2 * rows_per_member, 0)
  seeds = tf.stack([tf.range(num_calls), tf.fill([num_calls], 5)], axis=1)
  outputs = tf.function(lambda seeds: tf.map_fn(
      lambda seed: layer(rows, seed=seed), seeds,
      fn_output_signature=tf.float64))(seeds).numpy()
  outputs = outputs.reshape(num_calls, 2, rows_per_member, -1)
  return outputs.transpose(1, 0, 2, 3).reshape(2, -1, outputs.shape[-1])


def _standard_error_of_variance(samples: np.ndarray) -> np.ndarray:
  centred = samples - samples.mean(0)
  return np.sqrt(np.var(centred**2, axis=0) / len(samples))


def test_rank1_dense_output_moments_match_their_closed_forms():
  rng = np.random.default_rng(3)
  layer, w = _rank1_dense(rng, 0.3, 0.2)
  x = np.array([0.5, -1.2, 2.0])
  n = 20000
  samples = _draws(layer, x, n)
  s_mean, s_std = w['alpha_mean'], np.log1p(np.exp(w['alpha_stddev']))
  r_mean, r_std = w['gamma_mean'], np.log1p(np.exp(w['gamma_stddev']))
  for k in range(2):
    z_mean = (x * s_mean[k]) @ w['kernel']
    z_var = (x**2 * s_std[k]**2) @ w['kernel']**2
    mean = r_mean[k] * z_mean + w['bias'][k]
    variance = ((r_mean[k]**2 + r_std[k]**2) * (z_var + z_mean**2)
                - r_mean[k]**2 * z_mean**2)
    y = samples[k]
    assert np.all(np.abs(y.mean(0) - mean) < 5 * y.std(0) / np.sqrt(n))
    assert np.all(np.abs(y.var(0) - variance)
                  < 5 * _standard_error_of_variance(y))
    # Two outputs of one row share its input vector `s`.
    covariance = (r_mean[k][0] * r_mean[k][1]
                  * np.sum(x**2 * s_std[k]**2 * w['kernel'][:, 0]
                           * w['kernel'][:, 1]))
    products = (y[:, 0] - y[:, 0].mean()) * (y[:, 1] - y[:, 1].mean())
    assert abs(products.mean() - covariance) < 5 * products.std() / np.sqrt(n)


def test_rank1_rows_of_a_member_are_uncorrelated():
  rng = np.random.default_rng(4)
  layer, _ = _rank1_dense(rng, 0.3, 0.3)
  n = 20000
  samples = _draws(layer, np.array([1., -1., 0.5]), n, rows_per_member=2)[0]
  first, second = samples[0::2, 0], samples[1::2, 0]
  correlation = np.corrcoef(first, second)[0, 1]
  assert abs(correlation) < 5 / np.sqrt(n)


def test_rank1_additive_outputs_mean_matches_its_closed_form():
  rng = np.random.default_rng(5)
  layer, w = _rank1_dense(rng, 0.3, 0.2, use_additive_perturbation=True)
  x = np.array([0.5, -1.2, 2.0])
  n = 20000
  samples = _draws(layer, x, n)
  for k in range(2):
    mean = (x + w['alpha_mean'][k]) @ w['kernel'] + w['gamma_mean'][k] + (
        w['bias'][k])
    y = samples[k]
    assert np.all(np.abs(y.mean(0) - mean) < 5 * y.std(0) / np.sqrt(n))


def test_cauchy_vectors_are_drawn_from_their_members_cauchy():
  n = 40000
  loc = tf.constant([[1., -1.], [0.5, 2.]], tf.float64)
  scale = tf.constant([[0.1, 0.2], [0.3, 0.05]], tf.float64)
  members = rank1_lib.member_of_rows(tf.constant(2), 2)
  seeds = tf.stack([tf.range(n), tf.fill([n], 3)], axis=1)
  draws = tf.function(lambda seeds: tf.map_fn(
      lambda seed: rank1_lib.factor_rows(tfd.Cauchy(loc, scale), members,
                                         seed, tf.float64),
      seeds, fn_output_signature=tf.float64))(seeds).numpy()
  for k in range(2):
    for q in (0.25, 0.5, 0.75):
      quantile = loc[k] + scale[k] * np.tan(np.pi * (q - 0.5))
      fraction = (draws[:, k] <= quantile.numpy()).mean(0)
      assert np.all(np.abs(fraction - q) < 5 * np.sqrt(q * (1 - q) / n))


def test_drawn_vectors_are_clipped_to_the_perturbation_bounds():
  layer = tfpl.DenseRank1(2, ensemble_size=2, alpha_initializer=(
      tfpl.TrainableCauchy()), alpha_regularizer=None,
                          min_perturbation_value=-0.5,
                          max_perturbation_value=0.5, seed=0)
  x = tf.ones([400, 3])
  layer.build(x.shape)
  _weights(layer)['alpha_stddev'].assign(tf.fill([2, 3], 3.))
  seed = tf.constant([3, 4])
  unclipped = rank1_lib.rank1(x, layer.kernel, layer.alpha, tf.ones([2, 2]),
                              None, tfn.linear_maps.dense, 2, seed)
  assert np.abs(unclipped.in_factors.numpy()).max() > 0.5
  clipped = rank1_lib.rank1(x, layer.kernel, layer.alpha, tf.ones([2, 2]),
                            None, tfn.linear_maps.dense, 2, seed,
                            bounds=(-0.5, 0.5))
  assert np.abs(clipped.in_factors.numpy()).max() <= 0.5


def test_rank1_kl_is_the_normal_kl_per_example():
  layer = tfpl.DenseRank1(
      4, ensemble_size=2, seed=0, dtype='float64',
      alpha_regularizer=tfpl.NormalKLDivergence(1., 0.2, num_examples=50),
      gamma_regularizer=tfpl.NormalKLDivergence(1., 0.5))
  layer.build((None, 3))
  alpha_kl, gamma_kl = layer.losses
  prior = tfd.Normal(tf.constant(1., tf.float64), 0.2)
  expected = tf.reduce_sum(tfd.kl_divergence(layer.alpha, prior)) / 50
  np.testing.assert_allclose(alpha_kl, expected, rtol=1e-12)
  expected = tf.reduce_sum(tfd.kl_divergence(
      layer.gamma, tfd.Normal(tf.constant(1., tf.float64), 0.5)))
  np.testing.assert_allclose(gamma_kl, expected, rtol=1e-12)


def test_kl_per_example_scales_in_the_divergence_dtype():
  q = tfd.Normal(tf.constant([0.3], tf.float64), 0.7)
  p = tfd.Normal(tf.constant([1.], tf.float64), 1.)
  scaled = tfpl.KLPerExample(num_examples=50)(q, p, None)
  np.testing.assert_allclose(scaled, tfd.kl_divergence(q, p) / 50.,
                             rtol=1e-15)


def test_batch_ensemble_has_no_kl_and_keras_regularizers_apply():
  layer = tfpl.DenseBatchEnsemble(
      2, ensemble_size=2, alpha_regularizer=keras.regularizers.L2(0.5))
  layer.build((None, 3))
  (penalty,) = layer.losses
  np.testing.assert_allclose(
      penalty, 0.5 * tf.reduce_sum(tf.square(layer.alpha)), rtol=1e-6)


def test_a_seeded_rank1_call_is_a_pure_function_of_its_seed():
  layer = tfpl.DenseRank1(3, ensemble_size=2, seed=0)
  x = tf.random.stateless_normal([4, 5], [0, 1])
  first = layer(x, seed=7)
  np.testing.assert_array_equal(layer(x, seed=7), first)
  np.testing.assert_array_equal(tf.function(lambda x: layer(x, seed=7))(x),
                                first)
  assert not np.array_equal(layer(x, seed=8), first)


@pytest.mark.parametrize('kwargs, message', [
    ({'ensemble_size': 0}, 'ensemble_size'),
    ({'alpha_regularizer': keras.regularizers.L2(1.)}, 'NormalKLDivergence'),
    ({'alpha_initializer': 'ones'}, 'posterior'),
    ({'min_perturbation_value': 1., 'max_perturbation_value': 1.},
     'min_perturbation_value'),
])
def test_bad_rank1_arguments_are_named_in_the_error(kwargs, message):
  with pytest.raises((ValueError, TypeError), match=message):
    layer = tfpl.DenseRank1(2, name='r1', **kwargs)
    layer.build((None, 3))


def _batch_ensemble_model(rng):
  first = tfpl.DenseBatchEnsemble(5, activation='relu', ensemble_size=K,
                                  alpha_initializer=tfpl.RandomSign(0.5),
                                  seed=1)
  second = tfpl.DenseBatchEnsemble(3, ensemble_size=K,
                                   gamma_initializer=tfpl.RandomSign(0.5),
                                   seed=2)
  model = keras.Sequential([keras.Input((4,)), first, second])
  x = rng.normal(size=(6, 4)).astype(np.float32)
  return model, x


def test_predictive_passes_run_every_member():
  model, x = _batch_ensemble_model(np.random.default_rng(6))
  members = model(tfpl.ensemble_inputs(x, K)).numpy().reshape(K, 6, 3)
  samples = tfn.predictive.sample_outputs(model, x, num_samples=2, seed=0)
  assert samples.shape == (2 * K, 6, 3)
  np.testing.assert_allclose(samples[:K], members, atol=1e-6)
  np.testing.assert_allclose(samples[K:], members, atol=1e-6)
  probabilities = tfn.predictive.class_probabilities(model, x, 3, seed=0)
  np.testing.assert_allclose(
      probabilities, tf.nn.softmax(members).numpy().mean(0), atol=1e-6)


def test_predictive_samples_of_rank1_layers_are_seeded_and_per_member():
  layer = tfpl.DenseRank1(3, ensemble_size=2, seed=0)
  model = keras.Sequential([keras.Input((4,)), layer])
  x = np.ones((5, 4), np.float32)
  first = tfn.predictive.sample_probabilities(model, x, 4, seed=3)
  assert first.shape == (8, 5, 3)
  np.testing.assert_array_equal(
      tfn.predictive.sample_probabilities(model, x, 4, seed=3), first)


def test_a_model_mixing_ensemble_sizes_is_refused():
  model = keras.Sequential([keras.Input((4,)),
                            tfpl.DenseBatchEnsemble(3, ensemble_size=2),
                            tfpl.DenseBatchEnsemble(3, ensemble_size=3)])
  with pytest.raises(ValueError, match='one ensemble_size'):
    tfn.predictive.sample_outputs(model, np.ones((2, 4), np.float32), 2,
                                  seed=0)


def test_to_variational_rank1_shares_the_trained_kernel_in_every_member():
  rng = np.random.default_rng(7)
  trained = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(6, activation='relu'),
                              keras.layers.Dropout(0.1),
                              keras.layers.Dense(3)])
  x = rng.normal(size=(5, 4)).astype(np.float32)
  converted = tfpl.to_variational(trained, num_examples=100,
                                  estimator='rank1', ensemble_size=K, seed=0)
  assert [type(layer).__name__ for layer in converted.layers] == [
      'DenseRank1', 'Dropout', 'DenseRank1']
  first = converted.layers[0]
  np.testing.assert_array_equal(first.kernel, trained.layers[0].kernel)
  np.testing.assert_array_equal(
      first.bias, np.tile(trained.layers[0].bias, [K, 1]))
  assert len(converted.losses) == 4
  for layer in (converted.layers[0], converted.layers[2]):
    _weights(layer)['alpha_stddev'].assign(tf.fill(layer.alpha.batch_shape,
                                                   -30.))
    _weights(layer)['gamma_stddev'].assign(tf.fill(layer.gamma.batch_shape,
                                                   -30.))
  members = converted(tfpl.ensemble_inputs(x, K), training=False)
  np.testing.assert_allclose(members.numpy().reshape(K, 5, 3),
                             np.stack([trained(x)] * K), rtol=1e-5,
                             atol=1e-6)


def test_predictive_passes_run_every_member_of_a_tfn_model():
  model = tfn.Sequential([
      tfn.AffineRank1(4, 6, ensemble_size=K, activation_fn=tf.nn.relu,
                      make_posterior_fn=None, seed=0),
      tfn.AffineRank1(6, 2, ensemble_size=K, make_posterior_fn=None,
                      seed=1)])
  x = tf.random.stateless_normal([5, 4], [1, 2])
  members = model(tf.tile(x, [K, 1]), seed=0).numpy().reshape(K, 5, 2)
  samples = tfn.predictive.sample_outputs(model, x, num_samples=2, seed=0)
  assert samples.shape == (2 * K, 5, 2)
  np.testing.assert_array_equal(samples[:K], members)
  np.testing.assert_array_equal(samples[K:], members)
