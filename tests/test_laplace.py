"""tfnx.laplace.Laplace's contract: models, predictions, seeds, dtypes, checkpoints, conversion, errors.

Tiny networks, so the file runs in seconds; the curvature's math is
test_laplace_curvature.py.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import support
import tfnx as tfn
import tfnx.keras as tfpl
import tfnx.laplace as tfl


def _data(n=30, d=4, classes=3, dtype=np.float32):
  rng = np.random.RandomState(0)
  return rng.randn(n, d).astype(dtype), rng.randint(0, classes, n)


def _tfn_mlp(dtype=tf.float32):
  init = tfn.initializers.glorot_uniform
  return tfn.Sequential([
      tfn.Affine(4, 6, activation_fn=tf.nn.relu, dtype=dtype,
                 kernel_initializer=init(0)),
      tfn.Affine(6, 3, dtype=dtype, kernel_initializer=init(1))])


def _keras_mlp(functional=False):
  keras.utils.set_random_seed(0)
  if functional:
    inputs = keras.Input((4,))
    h = keras.layers.Dense(6, activation='relu', name='hidden')(inputs)
    h = keras.layers.Dropout(0.5)(h)
    return keras.Model(inputs, keras.layers.Dense(3, name='out')(h))
  return keras.Sequential([keras.Input((4,)),
                           keras.layers.Dense(6, activation='relu',
                                              name='hidden'),
                           keras.layers.Dense(3, name='out')])


def _copy_to_keras(tfn_model):
  model = _keras_mlp()
  for dense, affine in zip(model.layers, tfn_model.layers):
    dense.set_weights([affine.kernel.numpy(), affine.bias.numpy()])
  return model


@pytest.mark.parametrize('structure, functional', [
    ('kron', True), ('diag', False), ('full', False)])
def test_keras_and_tfn_models_with_the_same_weights_give_the_same_posterior(
    structure, functional):
  tfn_model = _tfn_mlp()
  keras_model = _keras_mlp(functional)
  dense = [l for l in keras_model.layers if isinstance(l, keras.layers.Dense)]
  for layer, affine in zip(dense, tfn_model.layers):
    layer.set_weights([affine.kernel.numpy(), affine.bias.numpy()])
  x, y = _data()
  results = [tfl.Laplace(m, subset_of_weights='all',
                         hessian_structure=structure).fit(x, y)
             for m in (tfn_model, keras_model)]
  np.testing.assert_allclose(results[0].posterior_variance.numpy(),
                             results[1].posterior_variance.numpy(), rtol=1e-4)
  np.testing.assert_allclose(results[0](x).numpy(), results[1](x).numpy(),
                             rtol=1e-4, atol=1e-6)


def test_layers_without_curvature_pass_through_and_names_choose_weights():
  model = _keras_mlp(functional=True)
  x, y = _data()
  la = tfl.Laplace(model, subset_of_weights=['hidden']).fit(x, y)
  assert la.layer_names == ['hidden']
  assert la.n_params == 5 * 6
  assert tfl.Laplace(model).layer_names == ['out']


def test_fit_on_a_dataset_equals_fit_on_arrays():
  model = _tfn_mlp()
  x, y = _data()
  arrays = tfl.Laplace(model).fit(x, y, batch_size=7)
  dataset = tfl.Laplace(model).fit(
      tf.data.Dataset.from_tensor_slices((x, y)).batch(11))
  np.testing.assert_allclose(arrays.posterior_variance.numpy(),
                             dataset.posterior_variance.numpy(), rtol=1e-5)
  assert dataset.num_data == len(x)


@pytest.mark.parametrize('dtype', [tf.float64, tf.float32])
def test_predictions_keep_the_models_dtype_and_are_distributions(dtype):
  model = _tfn_mlp(dtype)
  x, y = _data(dtype=dtype.as_numpy_dtype)
  la = tfl.Laplace(model).fit(x, y)
  for kwargs in ({}, {'link_approx': 'mc'}, {'pred_type': 'nn'}):
    probs = la(x, seed=1, num_samples=10, **kwargs)
    assert probs.dtype == dtype
    np.testing.assert_allclose(tf.reduce_sum(probs, -1), 1., rtol=1e-5)


def test_probit_path_has_no_random_op():
  la = tfl.Laplace(_tfn_mlp()).fit(*_data())
  concrete = tf.function(la.__call__).get_concrete_function(
      tf.TensorSpec([None, 4], tf.float32))
  ops = set(support.op_types(concrete))
  assert not {op for op in ops if 'Random' in op or 'Stateless' in op}


@pytest.mark.parametrize('pred_type', ['glm', 'nn'])
def test_seeded_samples_are_bit_identical_eager_and_traced(pred_type):
  la = tfl.Laplace(_tfn_mlp(), subset_of_weights='all').fit(*_data())
  x = _data()[0][:5]
  eager = la.predictive_samples(x, pred_type, num_samples=4, seed=3)
  again = la.predictive_samples(x, pred_type, num_samples=4, seed=3)
  other = la.predictive_samples(x, pred_type, num_samples=4, seed=4)
  np.testing.assert_array_equal(eager, again)
  assert not np.allclose(eager, other)
  if pred_type == 'glm':
    traced = tf.function(lambda v: la.predictive_samples(
        v, pred_type, num_samples=4, seed=3))(x)
    np.testing.assert_array_equal(eager, traced)


def test_traced_graphs_hold_no_stateful_random_op():
  la = tfl.Laplace(_tfn_mlp()).fit(*_data())
  concrete = tf.function(lambda v: la.predictive_samples(
      v, num_samples=4, seed=3)).get_concrete_function(
          tf.TensorSpec([None, 4], tf.float32))
  assert not set(support.op_types(concrete)) & support.STATEFUL_RANDOM_OPS


@pytest.mark.parametrize('structure', ['kron', 'diag', 'full'])
def test_weight_samples_have_the_posterior_moments(structure):
  la = tfl.Laplace(_tfn_mlp(), hessian_structure=structure).fit(*_data())
  samples = la.sample(4000, seed=5).numpy()
  support.assert_normal_moments(samples, la.mean.numpy(),
                                la.posterior_variance.numpy())


def test_network_samples_restore_the_trained_weights():
  model = _tfn_mlp()
  x, y = _data()
  before = model(x).numpy()
  la = tfl.Laplace(model, subset_of_weights='all').fit(x, y)
  la(x, pred_type='nn', num_samples=3, seed=0)
  np.testing.assert_array_equal(model(x).numpy(), before)


def test_regression_returns_mean_and_covariance_of_the_outputs():
  model = tfn.Sequential([tfn.Affine(4, 2)])
  x = _data()[0]
  y = x[:, :2] * 2.
  la = tfl.Laplace(model, 'regression', sigma_noise=0.3).fit(x, y)
  mean, cov = la(x)
  np.testing.assert_allclose(mean, model(x), rtol=1e-6)
  assert cov.shape == (len(x), 2, 2)
  # The network is linear, so its weight samples give the GLM's outputs:
  # sample variances within 5 standard errors, var * sqrt(2 / (n - 1)).
  n = 400
  _, nn_cov = la(x, pred_type='nn', num_samples=n, seed=2)
  variance = np.diagonal(cov.numpy(), axis1=1, axis2=2)
  error = np.abs(np.diagonal(nn_cov.numpy(), axis1=1, axis2=2) * n / (n - 1)
                 - variance)
  assert np.all(error < support.STANDARD_ERRORS * variance
                * np.sqrt(2. / (n - 1)))


def test_gridsearch_picks_the_prior_with_the_lowest_held_out_nll():
  x, y = _data()
  la = tfl.Laplace(_tfn_mlp()).fit(x, y)
  best = float(la.optimize_prior_precision(
      'gridsearch', val_data=(x, y), grid_size=5)[0])
  nlls = {}
  for prior in np.logspace(-4, 4, 5):
    la.prior_precision = prior
    nlls[prior] = float(tfn.metrics.negative_log_likelihood(la(x), y))
  assert np.isclose(best, min(nlls, key=nlls.get), rtol=1e-6)


def test_checkpoint_restores_the_fitted_state(tmp_path):
  model = _tfn_mlp()
  x, y = _data()
  la = tfl.Laplace(model, prior_precision=2.).fit(x, y)
  path = tf.train.Checkpoint(laplace=la).save(os.path.join(tmp_path, 'la'))
  restored = tfl.Laplace(model)
  tf.train.Checkpoint(laplace=restored).restore(path).assert_consumed()
  np.testing.assert_array_equal(restored(x), la(x))
  assert restored.num_data == len(x)


@pytest.mark.parametrize('estimator', ['flipout', 'local',
                                       'reparameterization'])
def test_to_variational_posterior_is_the_diagonal_laplace(estimator):
  model = _tfn_mlp()
  x, y = _data()
  la = tfl.Laplace(model, subset_of_weights='all',
                   hessian_structure='diag').fit(x, y)
  bnn = la.to_variational(estimator, seed=1)
  std = np.split(np.sqrt(la.posterior_variance.numpy()), [5 * 6])
  for layer, layer_std in zip(bnn.layers, std):
    kernel, bias = (p.distribution for p in layer.posterior.model)
    w = layer_std.reshape(-1, kernel.loc.shape[-1])
    np.testing.assert_allclose(kernel.scale.numpy(), w[:-1], rtol=1e-5)
    np.testing.assert_allclose(bias.scale.numpy(), w[-1], rtol=1e-5)


def test_keras_to_variational_kernel_scales_are_the_laplace_ones():
  model = _keras_mlp()
  x, y = _data()
  la = tfl.Laplace(model, hessian_structure='diag').fit(x, y)
  bnn = la.to_variational('flipout', seed=1)
  layer = bnn.get_layer('out')
  assert isinstance(layer, tfpl.DenseFlipout)
  std = np.sqrt(la.posterior_variance.numpy()).reshape(7, 3)
  normal = layer.kernel_posterior.distribution
  np.testing.assert_allclose(normal.stddev().numpy(), std[:-1], rtol=1e-4)
  np.testing.assert_allclose(normal.mean().numpy(),
                             model.get_layer('out').kernel.numpy())


# Bad input: what was expected and what was received.

def test_model_without_supported_layer_is_rejected():
  model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.1)])
  with pytest.raises(ValueError, match='no supported layer.*Dense.*Dropout'):
    tfl.Laplace(model)


@pytest.mark.parametrize('labels, match', [
    (np.zeros((30, 1)), r'shape \[30\].*received shape \(30, 1\)'),
    (np.full(30, 3), r'in \[0, 3\).*values in \[3, 3\]'),
    (np.full(30, 0.5), r'integer class labels'),
])
def test_bad_labels_are_rejected(labels, match):
  with pytest.raises(ValueError, match=match):
    tfl.Laplace(_tfn_mlp()).fit(_data()[0], labels)


def test_regression_targets_of_the_wrong_shape_are_rejected():
  model = tfn.Sequential([tfn.Affine(4, 2)])
  with pytest.raises(ValueError, match=r'shape \[30, 2\]; received \(30,\)'):
    tfl.Laplace(model, 'regression').fit(_data()[0], np.zeros(30))


@pytest.mark.parametrize('activation', ['softmax', 'sigmoid'])
def test_classifier_outputting_probabilities_is_rejected(activation):
  model = keras.Sequential([keras.Input((4,)),
                            keras.layers.Dense(3, activation=activation)])
  with pytest.raises(ValueError, match=f'output logits.*{activation}'):
    tfl.Laplace(model)


def test_predict_before_fit_is_rejected():
  with pytest.raises(ValueError, match='expected `fit` before'):
    tfl.Laplace(_tfn_mlp())(_data()[0])


def test_kron_on_a_layer_without_a_linear_map_is_rejected():
  model = _keras_mlp(functional=True)
  dropout = model.layers[2].name
  with pytest.raises(ValueError, match=f'{dropout} is a Dropout, which has '
                     'no linear map'):
    tfl.Laplace(model, subset_of_weights=[dropout], hessian_structure='kron')


@pytest.mark.parametrize('kwargs, match', [
    ({'hessian_structure': 'lowrank'}, 'hessian_structure'),
    ({'likelihood': 'poisson'}, 'likelihood'),
    ({'subset_of_weights': 'first'}, 'subset_of_weights'),
    ({'prior_precision': -1.}, 'positive `prior_precision`'),
    ({'prior_precision': [1., 2., 3.]}, 'one value per layer'),
    ({'sigma_noise': 2.}, 'classification has no noise'),
])
def test_bad_arguments_are_rejected(kwargs, match):
  with pytest.raises(ValueError, match=match):
    tfl.Laplace(_tfn_mlp(), **kwargs)


def test_to_variational_needs_the_diagonal_structure():
  la = tfl.Laplace(_tfn_mlp()).fit(*_data())
  with pytest.raises(ValueError, match="hessian_structure='diag'"):
    la.to_variational()
