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


@pytest.mark.parametrize('make', [
    tf.zeros_initializer, tf.ones_initializer,
    lambda: tf.random_normal_initializer(seed=1),
    lambda: tf.keras.initializers.HeUniform(seed=1),
    lambda: tf.zeros,
    lambda: tfn.initializers.he_normal(seed=1),
])
def test_layers_take_tf_keras_and_plain_function_initializers(make):
  layer = tfn.Affine(3, 2, kernel_initializer=make(), bias_initializer=make(),
                     dtype=tf.float64)
  assert layer.kernel.shape == (3, 2) and layer.kernel.dtype == tf.float64
  assert layer(tf.ones([1, 3], tf.float64)).shape == (1, 2)


def test_initializers_get_batch_ndims_when_they_take_it():
  calls = []

  def init(shape, dtype, batch_ndims=0):
    calls.append(batch_ndims)
    return tf.zeros(shape, dtype)

  tfn.initializers.call_initializer(init, [4, 3, 2], tf.float32, 1)
  assert calls == [1]


def test_tfcompile_traces_once_and_works_as_decorator_or_wrapper():
  traces = []

  @tfn.util.tfcompile
  def square(x):
    traces.append(1)
    return x * x

  cube = tfn.util.tfcompile(lambda x: x**3, xla_best_effort=False)
  eager = tfn.util.tfcompile(tf_function=False, xla_best_effort=False)(
      lambda x: x + 1)
  for _ in range(3):
    np.testing.assert_allclose(square(tf.constant(3.)), 9.)
  assert len(traces) == 1
  assert isinstance(square, tf.types.experimental.PolymorphicFunction)
  np.testing.assert_allclose(cube(tf.constant(2.)), 8.)
  assert eager(1) == 2
  jit = tfn.util.tfcompile(lambda x: x + 1., xla_compile_all=True)
  np.testing.assert_allclose(jit(tf.constant(1.)), 2.)


def test_variables_save_and_load_round_trip_and_check_shapes(tmp_path):
  path = str(tmp_path / 'v.npz')
  source = [tf.Variable([1., 2.]), {'b': tf.Variable([[3.]])}]
  tfn.util.variables_save(path, source)
  target = [tf.Variable([0., 0.]), {'b': tf.Variable([[0.]])}]
  tfn.util.variables_load(path, target)
  np.testing.assert_array_equal(target[0], [1., 2.])
  np.testing.assert_array_equal(target[1]['b'], [[3.]])
  with pytest.raises(ValueError, match=r'expected shape \(3,\)'):
    tfn.util.variables_load(path, [tf.Variable(tf.zeros([3])),
                                   tf.Variable([[0.]])])


def test_trace_prints_shape_and_dtype_and_returns_its_input(capsys):
  x = tf.ones([2, 3], tf.float64)
  assert tfn.util.trace('h1')(x) is x
  out = capsys.readouterr().out
  assert 'name:h1' in out and '[2, 3]' in out and 'float64' in out
  tfn.util.trace()('text')
  assert 'value:text' in capsys.readouterr().out


def test_display_imgs_draws_the_grid():
  matplotlib = pytest.importorskip('matplotlib')
  matplotlib.use('Agg')
  images = np.random.RandomState(0).rand(2, 3, 4, 5, 1)
  fig, axes = tfn.util.display_imgs(images, title='labels')
  assert axes.get_images()[0].get_array().shape == (8, 15)
  assert axes.get_title() == 'labels'
  matplotlib.pyplot.close(fig)


@pytest.mark.parametrize('axis, shape', [
    ([0], [1, 2, 3]), ([-1], [2, 3, 1]), ([0, -1], [1, 2, 3, 1]),
    ([1, 3], [2, 1, 3, 1]), ([-1, -3], [1, 2, 3, 1]), ([-1, -2], [2, 1, 3, 1]),
    (2, [2, 3, 1]),
])
def test_expand_dims_inserts_axes_like_tf_expand_dims(axis, shape):
  x = tf.reshape(tf.range(6.), [2, 3])
  y = tfn.util.expand_dims(axis)(x)
  assert y.shape == shape
  np.testing.assert_array_equal(tf.reshape(y, [-1]), tf.range(6.))
  traced = tf.function(lambda x: tfn.util.expand_dims(axis)(x),
                       input_signature=[tf.TensorSpec(None)])
  assert traced(x).shape == shape


def test_batchify_op_applies_a_one_batch_axis_op_to_any_batch_shape():
  x = tf.random.stateless_normal([2, 3, 4, 5], (1, 2))
  seen = []

  def op(z, scale):
    seen.append(z.shape.rank)
    return scale * tf.reduce_sum(z, axis=-1)

  y = tfn.util.batchify_op(op, 2, x, 2.)
  assert seen == [3] and y.shape == (2, 3, 4)
  np.testing.assert_allclose(y, 2. * tf.reduce_sum(x, -1), rtol=1e-6)


def test_halflife_decay_halves_the_distance_every_half_life():
  values = tfn.util.halflife_decay(tf.constant([0, 10, 20]), 10, 9., 1.)
  np.testing.assert_allclose(values, [9., 5., 3.])
  assert tfn.util.halflife_decay(1, 1., np.float64(2.)).dtype == tf.float64


def test_random_variable_reads_one_draw_until_reset():
  x = tfn.util.RandomVariable(tfd.Normal(tf.zeros([200]), 1.))
  first = tf.convert_to_tensor(x)
  np.testing.assert_array_equal(first + 1., x + 1.)
  assert not x.is_unset()
  x.reset()
  assert x.is_unset()
  assert not np.array_equal(first, tf.convert_to_tensor(x))
  mean = tfn.util.RandomVariable(tfd.Bernoulli(probs=[0.25, 0.5]),
                                 tfd.Distribution.mean, dtype=tf.float32,
                                 shape=[2], name='m')
  np.testing.assert_array_equal(tf.convert_to_tensor(mean), [0.25, 0.5])
  assert mean.shape == (2,) and mean.name == 'm'


def test_call_once_memoizes_and_refuses_a_value_from_another_graph():
  calls = []
  once = tfn.util.CallOnce(lambda v: calls.append(v) or v)
  assert once(1) == 1 and once(2) == 1 and calls == [1]
  once.reset()
  traced = tf.function(lambda: once(tf.constant(3.)))
  traced()
  with pytest.raises(ValueError, match='different graph context'):
    once()
  once.reset()
  assert once(4) == 4


def test_compute_extra_loss_evaluates_a_given_loss_fn_per_weight():
  inner = tfn.AffineVariationalReparameterization(3, 2, seed=1)
  model = tfn.Sequential([tfn.Sequential([inner]), tf.nn.relu])
  model(tf.ones([1, 3]))
  estimate = tfn.losses.compute_extra_loss(
      model, loss_fn=tfn.losses.kl_divergence_monte_carlo)
  kernel, bias = inner.posterior_value
  expected = (inner.kernel_posterior.log_prob(kernel)
              - inner.kernel_prior.log_prob(kernel)
              + inner.bias_posterior.log_prob(bias)
              - inner.bias_prior.log_prob(bias))
  np.testing.assert_allclose(estimate, expected, rtol=1e-5)
  np.testing.assert_allclose(tfn.losses.compute_extra_loss(model),
                             inner.extra_loss)
