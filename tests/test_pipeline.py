"""The variational bases' extension points and per-call pipeline."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

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
