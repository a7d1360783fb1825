"""`tfnx.util`, `tfnx.initializers` and `tfnx.losses`."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx as tfn


tfd = tfp.distributions


def test_flatten_rightmost_merges_trailing_axes_and_keeps_leading_ones():
  flatten = tfn.util.flatten_rightmost(3)
  assert flatten(tf.ones([2, 5, 4, 4, 3])).shape == (2, 5, 48)
  with pytest.raises(ValueError, match='rank of at least 3'):
    flatten(tf.ones([4, 3]))


def test_unpack_kernel_and_bias_reads_sequences_and_mappings():
  unpack = tfn.util.unpack_kernel_and_bias
  assert unpack([1, 2]) == (1, 2)
  assert unpack([1]) == (1, None)
  assert unpack({'kernel': 1}) == (1, None)
  with pytest.raises(ValueError, match='at most two'):
    unpack([1, 2, 3])


@pytest.mark.parametrize('init, variance', [
    (tfn.initializers.glorot_uniform, 2. / (300 + 200)),
    (tfn.initializers.glorot_normal, 2. / (300 + 200)),
    (tfn.initializers.he_uniform, 2. / 300),
    (tfn.initializers.he_normal, 2. / 300),
])
def test_initializers_have_their_variance_and_are_seedable(init, variance):
  values = init(seed=1)([300, 200], tf.float32).numpy()
  n = values.size
  # Sample variance's standard error for these near-normal/uniform draws is
  # below variance * sqrt(2 / n); allow five.
  assert abs(values.var() - variance) < 5 * variance * np.sqrt(2. / n)
  np.testing.assert_array_equal(values, init(seed=1)([300, 200], tf.float32))
  assert not np.array_equal(values, init()([300, 200], tf.float32))


def test_initializers_count_batch_dims_out_of_the_fans():
  values = tfn.initializers.he_normal(seed=2)([50, 400, 30], tf.float64,
                                              batch_ndims=1).numpy()
  assert values.dtype == np.float64
  variance = 2. / 400
  assert abs(values.var() - variance) < 5 * variance * np.sqrt(2. / values.size)


def test_make_kernel_bias_builds_named_variables_from_initializers():
  kernel, bias = tfn.util.make_kernel_bias(
      [3, 2], [2], bias_initializer=lambda shape, dtype: tf.ones(shape, dtype))
  assert kernel.shape == (3, 2) and kernel.name.startswith('kernel')
  np.testing.assert_array_equal(bias, [1., 1.])


def test_posterior_builder_respects_float64():
  posterior = tfn.util.make_kernel_bias_posterior_mvn_diag([3, 2], [2],
                                                           dtype=tf.float64)
  sample = posterior.sample(seed=(1, 2))
  assert all(s.dtype == tf.float64 for s in sample)
  assert posterior.log_prob(sample).dtype == tf.float64


def test_normal_prior_is_standard_normal_per_weight():
  prior = tfn.util.make_kernel_bias_prior_normal([3, 2], [2])
  kernel, bias = prior.model
  assert kernel.event_shape == (3, 2) and bias.event_shape == (2,)
  np.testing.assert_allclose(kernel.log_prob(tf.zeros([3, 2])),
                             6 * tfd.Normal(0., 1.).log_prob(0.))


def test_spike_and_slab_prior_density_is_the_two_gaussian_mixture():
  prior = tfn.util.make_kernel_bias_prior_spike_and_slab([2, 1], [1])
  w = np.array([[0.3], [-40.]], np.float32)
  expected = np.sum(np.log(0.5 * tfd.Normal(0., 1.).prob(w)
                           + 0.5 * tfd.Normal(0., 2000.).prob(w)))
  np.testing.assert_allclose(prior.model[0].log_prob(w), expected, rtol=1e-5)


def test_variables_summary_tables_variables_and_trainable_size():
  layer = tfn.AffineVariationalFlipout(3, 2, name='summarized')
  text = tfn.util.variables_summary(layer.variables, 'summarized')
  assert 'summarized/posterior_kernel_loc:0' in text
  assert 'trainable size: 16' in text
  assert layer.summary() == text


def test_make_fit_op_minimizes_the_loss():
  w = tf.Variable(3.)
  fit = tfn.util.make_fit_op(lambda: (tf.square(w - 1.), w),
                             tf.keras.optimizers.SGD(0.1), [w])
  for _ in range(50):
    loss, _ = fit()
  assert loss < 1e-4
  summary_fit = tfn.util.make_fit_op(lambda: (tf.square(w), ()),
                                     tf.keras.optimizers.SGD(0.1), [w],
                                     grad_summary_fn=lambda g: g[0],
                                     tf_function=False)
  assert len(summary_fit()) == 3


def test_tune_dataset_batches_repeats_and_drops_the_remainder():
  ds = tfn.util.tune_dataset(tf.data.Dataset.range(10), batch_size=4,
                             shuffle_size=10, repeat_count=2,
                             preprocess_fn=lambda x: 2 * x)
  batches = [b.numpy() for b in ds]
  assert [len(b) for b in batches] == [4] * 5
  assert sorted(np.concatenate(batches)) == sorted([2 * i for i in range(10)] * 2)


def test_negloglik_is_the_mean_negative_log_prob():
  nll = tfn.losses.negloglik(tf.zeros([4]), tf.ones([4]),
                             lambda x: tfd.Normal(x, 1.))
  np.testing.assert_allclose(nll, -tfd.Normal(0., 1.).log_prob(1.), rtol=1e-6)


def test_kl_divergence_exact_and_monte_carlo_agree_in_expectation():
  q, r = tfd.Normal(0.5, 0.8), tfd.Normal(0., 1.)
  w = q.sample(20000, seed=(3, 4))
  mc = tfn.losses.kl_divergence_monte_carlo(q, r, w).numpy()
  exact = tfn.losses.kl_divergence_exact(q, r, None).numpy()
  assert abs(mc.mean() - exact) < 5 * mc.std() / np.sqrt(mc.size)


def test_negative_elbo_weighs_the_kl_per_example():
  np.testing.assert_allclose(
      tfn.losses.negative_elbo(tf.constant(0.5), 200., 100), 2.5)
  np.testing.assert_allclose(
      tfn.losses.negative_elbo(tf.constant(0.5), 200., 100, kl_weight=0.1),
      0.7, rtol=1e-6)
  with pytest.raises(ValueError, match='num_examples'):
    tfn.losses.negative_elbo(0.5, 1., 0)
