"""Tests of the named distribution heads: parameter counts, distributions, configs, KL penalties."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx.keras as tfpl

tfd = tfp.distributions

# (layer, batch_shape, event_shape) for inputs of shape [2, params_size].
HEADS = [
    (lambda: tfpl.IndependentNormal([2, 3]), [2], [2, 3]),
    (lambda: tfpl.IndependentLogistic(3), [2], [3]),
    (lambda: tfpl.IndependentBernoulli(3), [2], [3]),
    (lambda: tfpl.IndependentPoisson(()), [2], []),
    (lambda: tfpl.MultivariateNormalTriL(3), [2], [3]),
    (lambda: tfpl.OneHotCategorical(4), [2], [4]),
    (lambda: tfpl.CategoricalMixtureOfOneHotCategorical(4, 2), [2], [4]),
    (lambda: tfpl.MixtureSameFamily(2, tfpl.IndependentNormal(3)), [2], [3]),
    (lambda: tfpl.MixtureNormal(2, [3]), [2], [3]),
    (lambda: tfpl.MixtureLogistic(3), [2], []),
]


def test_static_params_sizes_count_each_parameter():
  assert tfpl.IndependentNormal.params_size([2, 3]) == 12
  assert tfpl.IndependentBernoulli.params_size(3) == 3
  assert tfpl.MultivariateNormalTriL.params_size(3) == 3 + 6
  assert tfpl.OneHotCategorical.params_size(4) == 4
  assert tfpl.CategoricalMixtureOfOneHotCategorical.params_size(4, 2) == 10
  assert tfpl.MixtureSameFamily.params_size(2, 6) == 14
  assert tfpl.MixtureNormal.params_size(2, [3]) == 2 + 2 * 6
  assert tfpl.MixtureLogistic.params_size(3) == 3 + 3 * 2
  assert isinstance(tfpl.IndependentNormal.params_size(1), int)


@pytest.mark.parametrize('make, batch_shape, event_shape', HEADS)
def test_heads_make_distributions_of_their_shapes(make, batch_shape,
                                                  event_shape):
  layer = make()
  params = tf.random.stateless_normal([2, support.head_params_size(layer)],
                                      seed=[1, 2])
  output = layer(params, seed=4)
  assert output.batch_shape == batch_shape
  assert output.event_shape == event_shape
  assert output.shape == batch_shape + event_shape
  assert np.all(np.isfinite(output.log_prob(output.distribution.sample(
      seed=[3, 4]))))


@pytest.mark.parametrize('make, batch_shape, event_shape', HEADS)
def test_heads_config_round_trip(make, batch_shape, event_shape):
  del batch_shape, event_shape  # Shapes are pinned above.
  layer = make()
  params = tf.random.stateless_normal([2, support.head_params_size(layer)],
                                      seed=[1, 2])
  copy = type(layer).from_config(layer.get_config())
  value = layer(params, seed=1).tensor
  np.testing.assert_allclose(copy(params).log_prob(value),
                             layer(params).log_prob(value), rtol=1e-5)


def test_independent_normal_scale_is_softplus_of_its_inputs():
  params = tf.constant([[0.5, -1.0]])
  output = tfpl.IndependentNormal(1)(params)
  np.testing.assert_allclose(output.mean(), [[0.5]])
  np.testing.assert_allclose(output.stddev(), [[np.log1p(np.exp(-1.0))]],
                             rtol=1e-6)


def test_multivariate_normal_tril_covariance_is_scale_times_its_transpose():
  params = tf.constant([[0., 1., 0.3, 0.2, -0.4]])
  output = tfpl.MultivariateNormalTriL(2)(params)
  scale = output.distribution.scale.to_dense()
  np.testing.assert_allclose(output.covariance(),
                             tf.matmul(scale, scale, transpose_b=True),
                             rtol=1e-5)
  np.testing.assert_allclose(output.mean(), [[0., 1.]])


def test_mixture_normal_mean_is_weighted_component_means():
  params = tf.constant([[0., np.log(3.), -1., 0., 2., 0.]])
  output = tfpl.MixtureNormal(2)(params)
  np.testing.assert_allclose(output.mean(), [0.25 * -1. + 0.75 * 2.],
                             rtol=1e-6)


def test_wrong_parameter_count_is_a_clear_error():
  layer = tfpl.IndependentNormal(3, name='head')
  with pytest.raises(ValueError, match=r'head: expected .*6 parameters.*'
                     r'received shape \(2, 5\)'):
    layer(tf.zeros([2, 5]))


def test_kl_add_loss_is_the_exact_batch_total_kl():
  prior = tfd.Independent(tfd.Normal(tf.zeros(2), 1.), 1)
  params = tf.random.stateless_normal([3, 4], seed=[1, 2])
  head = tfpl.IndependentNormal(2)
  add_loss = tfpl.KLDivergenceAddLoss(prior, use_exact_kl=True, weight=0.5)
  output = add_loss(head(params))
  expected = 0.5 * tf.reduce_sum(tfd.kl_divergence(output.distribution, prior))
  np.testing.assert_allclose(add_loss.losses[0], expected, rtol=1e-6)


def test_kl_regularizer_monte_carlo_averages_to_the_exact_kl():
  standard = tfd.Normal(0., 1.)
  prior = tfd.Independent(tfd.Normal(tf.zeros(20000), 1.), 1)
  head = tfpl.IndependentNormal(20000, activity_regularizer=(
      tfpl.KLDivergenceRegularizer(prior, test_points_reduce_axis=None)),
      seed=7)
  loc_scale = tf.concat([0.3 * tf.ones([1, 20000]),
                         -0.5 * tf.ones([1, 20000])], axis=-1)
  output = head(loc_scale)
  # One draw of 20000 independent elements: log q - log p sums over them.
  element = tfd.Normal(0.3, tf.math.softplus(-0.5))
  per_element = (element.log_prob(output.tensor)
                 - standard.log_prob(output.tensor))
  # Keras divides an activity regularizer by the batch size (here 1).
  np.testing.assert_allclose(head.losses[0], tf.reduce_sum(per_element),
                             rtol=1e-4)
  exact = 20000. * float(tfd.kl_divergence(element, standard))
  se = float(tf.math.reduce_std(per_element)) * np.sqrt(20000.)
  assert abs(float(head.losses[0]) - exact) < 5 * se


def _trainable_prior():
  return keras.Sequential([
      tfpl.VariableLayer(shape=[2]),
      tfpl.DistributionLambda(
          lambda t: tfd.Independent(tfd.Normal(t, 1.), 1))])


@pytest.mark.parametrize('add_loss', [False, True],
                         ids=['KLDivergenceRegularizer', 'KLDivergenceAddLoss'])
def test_a_trainable_prior_of_a_kl_penalty_trains_with_the_model(add_loss):
  prior = _trainable_prior()
  layers = [keras.Input((3,)), keras.layers.Dense(4)]
  if add_loss:
    layers += [tfpl.IndependentNormal(2, seed=1),
               tfpl.KLDivergenceAddLoss(prior)]
  else:
    layers += [tfpl.IndependentNormal(2, seed=1, activity_regularizer=(
        tfpl.KLDivergenceRegularizer(prior)))]
  model = keras.Sequential(layers)
  assert id(prior.trainable_weights[0]) in {
      id(w) for w in model.trainable_weights}
  x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
  model.compile(optimizer='adam', loss=lambda y, rv: -rv.log_prob(y))
  model.fit(x, x[:, :2], epochs=1, verbose=0)
  assert np.all(prior.get_weights()[0] != 0.)


def test_event_shapes_may_be_integer_tensors_or_arrays():
  assert tfpl.IndependentNormal.params_size(tf.constant([2, 3])) == 12
  assert tfpl.MixtureNormal.params_size(2, tf.constant(3)) == 2 + 2 * 6
  params = tf.zeros([4, tfpl.MixtureLogistic.params_size(2, [3])])
  mixture = tfpl.MixtureLogistic.new(params, 2, np.array(3))
  assert mixture.event_shape == [3]


def test_one_hot_mixture_log_mean_is_each_categorys_log_probability():
  params = tf.random.stateless_normal(
      [2, tfpl.CategoricalMixtureOfOneHotCategorical.params_size(3, 2)],
      seed=[1, 2])
  mixture = tfpl.CategoricalMixtureOfOneHotCategorical.new(params, 3, 2)
  one_hots = tf.eye(3)[:, None, :]
  np.testing.assert_allclose(mixture.log_mean(),
                             tf.transpose(mixture.log_prob(one_hots)),
                             rtol=1e-5)
