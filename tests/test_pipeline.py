"""The variational bases' extension points and per-call pipeline."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx as tfn

tfd = tfp.distributions

KERNEL_BIAS_LAYERS = [tfn.VariationalReparameterizationKernelBiasLayer,
                      tfn.VariationalFlipoutKernelBiasLayer,
                      tfn.VariationalLocalReparameterizationKernelBiasLayer]


def _posterior_and_prior(input_size=3, output_size=2):
  return tfn.util.make_kernel_bias_posterior_mvn_diag(
      [input_size, output_size], [output_size]), (
          tfn.util.make_kernel_bias_prior_normal(
              [input_size, output_size], [output_size]))


def test_kernel_bias_layer_applies_its_map_bias_and_activation():
  kernel = tf.constant([[1., 2.], [3., 4.]])
  layer = tfn.KernelBiasLayer(kernel, tf.constant([1., -1.]), tf.matmul,
                              activation_fn=tf.nn.relu)
  y = layer([[1., 1.]], training=True)
  np.testing.assert_allclose(y, [[5., 5.]])
  np.testing.assert_allclose(tfn.KernelBiasLayer(kernel, None, tf.matmul)(
      [[1., 0.]]), [[1., 2.]])


@pytest.mark.parametrize('cls', KERNEL_BIAS_LAYERS)
def test_kernel_bias_layers_take_a_plain_apply_kernel_fn(cls):
  posterior, prior = _posterior_and_prior()
  layer = cls(posterior, prior, tf.matmul, seed=1)
  fixed = cls(posterior, prior, tfn.linear_maps.dense, seed=1)
  x = tf.ones([4, 3])
  np.testing.assert_array_equal(layer(x, seed=5), fixed(x, seed=5))
  assert layer(x).shape == [4, 2]


def test_variational_layer_takes_tfp_positional_arguments():
  posterior, prior = _posterior_and_prior()
  layer = tfn.VariationalLayer(posterior, prior, tf.nn.relu,
                               tfd.Distribution.sample, 3, tf.float32, False,
                               'custom', apply_kernel_fn=tf.matmul)
  assert layer.name == 'custom' and layer.activation_fn is tf.nn.relu
  assert np.all(layer(tf.ones([2, 3]), seed=1).numpy() >= 0.)


def test_a_plain_callable_is_a_map_with_a_sign_per_element():
  linear_map = tfn.linear_maps.as_linear_map(tf.matmul, 'owner')
  assert linear_map.apply is tf.matmul
  assert linear_map.sign_shape(tf.zeros([4, 3])).numpy().tolist() == [4, 3]
  with pytest.raises(TypeError, match='owner: expected `apply_kernel_fn`'):
    tfn.linear_maps.as_linear_map(3, 'owner')


def test_divergences_declare_whether_they_need_a_sample():
  assert not tfn.losses.needs_sample(tfn.losses.kl_divergence_exact)
  assert tfn.losses.needs_sample(tfn.losses.kl_divergence_monte_carlo)
  assert tfn.losses.needs_sample(lambda q, r, w: 0.)
  closed_form = tfn.losses.sample_free(
      lambda q, r, w: tfd.kl_divergence(q, r))
  assert not tfn.losses.needs_sample(closed_form)


def test_a_sample_free_divergence_spares_the_local_kernel_draw():
  seen = []

  def closed_form(q, r, w):
    seen.append(w)
    return tfd.kl_divergence(q, r)

  layer = tfn.AffineVariationalReparameterizationLocal(
      3, 2, make_prior_fn=tfn.util.make_kernel_bias_prior_normal,
      divergence_fn=tfn.losses.sample_free(closed_form))
  layer(tf.ones([2, 3]), seed=1)
  assert layer.extra_loss is not None and seen[0] is None
  assert layer.posterior_value[0] is None


def test_twenty_batch_sizes_trace_the_call_at_most_three_times():
  layer = tfn.AffineVariationalFlipout(3, 2, seed=1)
  for batch in range(1, 21):
    layer(tf.ones([batch, 3]))
  assert layer._call.experimental_get_tracing_count() <= 3


def test_an_activation_side_effect_runs_once_per_trace_not_per_call():
  calls = []

  def activation(y):
    calls.append(1)
    return tf.nn.relu(y)

  layer = tfn.AffineVariationalReparameterization(3, 2,
                                                  activation_fn=activation)
  for _ in range(20):
    layer(tf.ones([4, 3]))
  assert len(calls) == layer._call.experimental_get_tracing_count() == 1


def test_an_unseeded_call_steps_its_stream_outside_the_traced_call():
  # A variable update inside the layer's own `tf.function` is a
  # synchronization point that `MirroredStrategy.run` refuses (`merge_call`
  # while tracing); the stream steps in the caller, eager or traced.
  layer = tfn.AffineVariationalFlipout(3, 2, seed=1)
  x = tf.ones([2, 3])
  layer(x)  # Eager: the call runs the layer's own traced function.
  own = layer._call.get_concrete_function(x, tf.constant([1, 2]), 2)
  assert layer._call.experimental_get_tracing_count() == 1
  assert not {'AssignAddVariableOp', 'AssignVariableOp'} & set(
      support.op_types(own))
  assert 'AssignAddVariableOp' in support.op_types(
      tf.function(layer).get_concrete_function(x))


def test_the_call_ignores_keyword_arguments_such_as_training():
  layer = tfn.AffineVariationalFlipout(3, 2, seed=1)
  np.testing.assert_array_equal(layer(tf.ones([2, 3]), seed=4, training=True),
                                layer(tf.ones([2, 3]), seed=4))


def test_a_bad_shape_names_the_layer_and_both_shapes_inside_the_trace():
  layer = tfn.AffineVariationalFlipout(3, 2, name='dense_in')
  for batch in (1, 2, 3):  # A trace generalized to any size.
    layer(tf.ones([batch, 3]))
  with pytest.raises(ValueError, match=r'dense_in.*3.*\[4, 5\]|dense_in.*'
                     r'\(4, 5\)'):
    layer(tf.ones([4, 5]))


def test_a_call_checks_its_inputs_once():
  checked = []

  class Counting(tfn.AffineVariationalFlipout):

    def _check_inputs(self, x):
      checked.append(x.shape)
      return super()._check_inputs(x)

  layer = Counting(3, 2, seed=1)
  layer(tf.ones([2, 3]), seed=1)  # The first call traces the layer's call.
  assert len(checked) == 1


def test_the_pipeline_takes_the_layout_as_functions():
  layer = tfn.AffineVariationalReparameterization(3, 2, seed=1)
  flat = tfn._pipeline.Layout(  # pylint: disable=protected-access
      lambda x: (tf.reshape(x, [-1, 3]), tf.shape(x)[:-1]),
      lambda y, batch, x: tf.reshape(y, tf.concat([batch, [2]], 0)))
  x = tf.ones([4, 5, 3])
  outputs, _ = tfn._pipeline.sample(  # pylint: disable=protected-access
      x, tf.constant([1, 2]), tfn.estimators.REPARAMETERIZATION,
      tfn.linear_maps.dense, flat,
      layer._parts())  # pylint: disable=protected-access
  np.testing.assert_array_equal(outputs, layer(x, seed=[1, 2]))


@pytest.mark.parametrize('cls', [tfn.AffineVariationalFlipout,
                                 tfn.AffineVariationalReparameterizationLocal])
def test_a_seeded_call_is_bit_identical_eagerly_and_traced(cls):
  layer = cls(3, 2, seed=1)
  x = tf.random.stateless_normal([4, 3], (1, 2))
  eager = layer(x, seed=[5, 6]), layer.extra_loss
  traced = tf.function(lambda x: (layer(x, seed=[5, 6]), layer.extra_loss))(x)
  np.testing.assert_array_equal(eager[0], traced[0])
  np.testing.assert_array_equal(eager[1], traced[1])


class _CountingDivergence:
  """A Monte Carlo divergence that counts its calls."""

  def __init__(self):
    self.calls = 0

  def __call__(self, q, r, w):
    self.calls += 1
    return tfn.losses.kl_divergence_monte_carlo(q, r, w)


@pytest.mark.parametrize('cls', [tfn.AffineVariationalFlipout,
                                 tfn.AffineVariationalReparameterizationLocal])
def test_a_call_whose_losses_are_unread_computes_no_divergence(cls):
  divergence = _CountingDivergence()
  layer = cls(3, 2, seed=1, divergence_fn=divergence)
  layer(tf.ones([2, 3]))
  layer(tf.ones([2, 3]))
  assert divergence.calls == 0
  assert len(layer.losses) == 2 and divergence.calls == 2


def _hand_kl(layer):
  """The default KL of the last call, from its posterior values by hand."""
  kernel, bias = layer.posterior_value
  kernel_kl = (-layer.kernel_posterior.entropy()
               - layer.kernel_prior.log_prob(kernel))
  bias_kl = -layer.bias_posterior.entropy() - layer.bias_prior.log_prob(bias)
  return kernel_kl + bias_kl


@pytest.mark.parametrize('cls', [tfn.AffineVariationalFlipout,
                                 tfn.AffineVariationalReparameterization,
                                 tfn.AffineVariationalReparameterizationLocal])
def test_the_lazy_kl_and_its_gradients_are_those_of_the_call_sample(cls):
  layer = cls(4, 3, seed=2)
  x = tf.random.stateless_normal([5, 4], (3, 4))
  with tf.GradientTape(persistent=True) as tape:
    layer(x, seed=[7, 8])
    lazy = layer.extra_loss
    by_hand = _hand_kl(layer)
  np.testing.assert_allclose(lazy, by_hand, rtol=1e-5)
  for a, b in zip(tape.gradient(lazy, layer.trainable_variables),
                  tape.gradient(by_hand, layer.trainable_variables)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('cls, normal_draws', [
    (tfn.AffineVariationalFlipout, 2),
    (tfn.AffineVariationalReparameterization, 2),
    (tfn.AffineVariationalReparameterizationLocal, 3)])
def test_a_traced_call_with_its_losses_draws_each_weight_once(cls,
                                                              normal_draws):
  # Flipout and reparameterization draw the kernel and bias noise once, for
  # the outputs and the KL alike; local reparameterization draws the outputs'
  # noise, and the kernel and bias its Monte Carlo KL needs.
  layer = cls(3, 2, seed=1)
  graph = tf.function(lambda x: (layer(x, seed=[1, 2]), layer.extra_loss)
                      ).get_concrete_function(tf.ones([4, 3]))
  assert support.op_types(graph).count(support.NORMAL_DRAW) == normal_draws


def test_a_record_is_readable_in_its_trace_and_nested_ones_until_it_returns():
  records, readable = [], tfn._pipeline.readable  # pylint: disable=protected-access

  @tf.function
  def traced_call():
    seeds = tfn.seeds.split_seed(tf.constant([1, 2]), 2)
    records.append(tfn._pipeline.Record(  # pylint: disable=protected-access
        tuple(seeds), (None, None), (None, None)))
    nested = tf.function(lambda: tf.constant(readable(records[0])))
    return tf.constant(readable(records[0])), nested()

  assert all(traced_call())
  assert not readable(records[0])
  eager = tfn._pipeline.Record(  # pylint: disable=protected-access
      (tf.constant([1, 2]),) * 2, (None, None), (None, None))
  assert readable(eager)


def test_calls_inside_calls_not_kept_leave_the_kept_call_as_it_was():
  layer = tfn.AffineVariationalFlipout(3, 2, seed=1)
  x = tf.ones([2, 3])
  layer(x, seed=[1, 2])
  before = [w.numpy() for w in layer.posterior_value]
  with tfn._pipeline.calls_not_kept():  # pylint: disable=protected-access
    layer(x, seed=[3, 4])
  for value, kept in zip(layer.posterior_value, before):
    np.testing.assert_array_equal(value, kept)
  layer(x, seed=[3, 4])
  assert not np.array_equal(layer.posterior_value[0], before[0])
