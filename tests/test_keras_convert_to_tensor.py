"""Tests of `convert_to_tensor_fn` in every form TFP accepts, for every head, through `.keras` files."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx.keras as tfpl

tfd = tfp.distributions

# (head, its family's member, what the member is of the head's inputs).
FAMILY_MEMBERS = [
    (lambda fn: tfpl.IndependentNormal([2, 3], fn), tfd.Normal.loc,
     lambda p: tf.reshape(p[:, :6], [-1, 2, 3])),
    (lambda fn: tfpl.IndependentNormal(3, fn), tfd.Normal.scale,
     lambda p: tf.math.softplus(p[:, 3:])),
    (lambda fn: tfpl.IndependentLogistic(3, fn), tfd.Logistic.loc,
     lambda p: p[:, :3]),
    (lambda fn: tfpl.IndependentBernoulli([2, 3], fn), tfd.Bernoulli.logits,
     lambda p: tf.reshape(p, [-1, 2, 3])),
    (lambda fn: tfpl.IndependentBernoulli(3, fn),
     tfd.Bernoulli.probs_parameter, tf.math.sigmoid),
    (lambda fn: tfpl.IndependentPoisson(3, fn), tfd.Poisson.log_rate,
     lambda p: p),
    (lambda fn: tfpl.OneHotCategorical(3, fn), tfd.OneHotCategorical.logits,
     lambda p: p),
    (lambda fn: tfpl.MultivariateNormalTriL(2, fn),
     tfd.MultivariateNormalTriL.loc, lambda p: p[:, :2]),
]

HEADS = [
    lambda fn: tfpl.IndependentNormal([2, 3], fn),
    lambda fn: tfpl.IndependentLogistic(3, fn),
    lambda fn: tfpl.IndependentBernoulli(3, fn),
    lambda fn: tfpl.IndependentPoisson((), fn),
    lambda fn: tfpl.MultivariateNormalTriL(3, fn),
    lambda fn: tfpl.OneHotCategorical(4, fn),
    lambda fn: tfpl.CategoricalMixtureOfOneHotCategorical(4, 2, fn),
    lambda fn: tfpl.MixtureSameFamily(2, tfpl.IndependentNormal(3), fn),
    lambda fn: tfpl.MixtureNormal(2, [3], fn),
    lambda fn: tfpl.MixtureLogistic(3, (), fn),
    lambda fn: tfpl.DistributionLambda(
        lambda t: tfd.Normal(t, 1.), convert_to_tensor_fn=fn),
]

# A form of "the mean" TFP accepts, and the name a config stores for it.
MEAN_FORMS = [
    (tfd.Distribution.mean, 'mean'),
    ('mean', 'mean'),
]


def _params(layer, rows=2):
  size = (support.head_params_size(layer) if hasattr(layer, '_params_size')
          else 3)
  return tf.random.stateless_normal([rows, size], seed=[1, 2])


def _round_trip(layer, tmp_path):
  inputs = keras.Input((_params(layer).shape[-1],))
  model = keras.Model(inputs, layer(inputs))
  path = str(tmp_path / 'm.keras')
  model.save(path)
  return keras.models.load_model(path, safe_mode=False).layers[-1]


@pytest.mark.parametrize('make, member, expected', FAMILY_MEMBERS)
def test_a_family_member_applies_to_the_distribution_a_head_wraps(
    make, member, expected, tmp_path):
  layer = make(member)
  params = _params(layer)
  np.testing.assert_allclose(layer(params).tensor, expected(params),
                             rtol=1e-6)
  loaded = _round_trip(layer, tmp_path)
  np.testing.assert_allclose(loaded(params).tensor, expected(params),
                             rtol=1e-6)


@pytest.mark.parametrize('make', HEADS)
@pytest.mark.parametrize('form, saved', MEAN_FORMS)
def test_every_head_takes_distribution_methods_and_their_names(
    make, form, saved, tmp_path):
  layer = make(form)
  params = _params(layer)
  output = layer(params)
  expected = getattr(output.distribution, saved)()
  np.testing.assert_allclose(output.tensor, expected, rtol=1e-6)
  assert layer.get_config()['convert_to_tensor_fn'] == saved
  loaded = _round_trip(layer, tmp_path)
  np.testing.assert_allclose(loaded(params).tensor, expected, rtol=1e-6)


@pytest.mark.parametrize('make', HEADS)
def test_every_head_takes_a_plain_callable(make, tmp_path):
  layer = make(lambda d: d.mean() + 1.)
  params = _params(layer)
  output = layer(params)
  np.testing.assert_allclose(output.tensor, output.distribution.mean() + 1.,
                             rtol=1e-6)
  loaded = _round_trip(layer, tmp_path)
  np.testing.assert_allclose(loaded(params).tensor,
                             output.distribution.mean() + 1., rtol=1e-6)


def test_a_family_member_is_saved_by_its_class_and_name():
  layer = tfpl.IndependentBernoulli(3, tfd.Bernoulli.logits)
  assert layer.get_config()['convert_to_tensor_fn'] == 'Bernoulli.logits'
  restored = tfpl.IndependentBernoulli.from_config(layer.get_config())
  assert restored.convert_to_tensor_fn is tfd.Bernoulli.logits.fget


def test_sample_taken_from_the_class_gets_the_calls_seed():
  layer = tfpl.IndependentNormal(3, tfd.Distribution.sample)
  params = _params(layer)
  np.testing.assert_array_equal(layer(params, seed=5).tensor,
                                layer(params, seed=5).tensor)
  assert not np.array_equal(layer(params, seed=5).tensor,
                            layer(params, seed=6).tensor)


def test_an_unknown_name_is_a_clear_error():
  with pytest.raises(ValueError, match=r"head.*Bernoulli.logits.*'nope'"):
    tfpl.IndependentNormal(3, 'nope', name='head')
  with pytest.raises(TypeError, match='head.*callable.*3'):
    tfpl.IndependentNormal(3, 3, name='head')
