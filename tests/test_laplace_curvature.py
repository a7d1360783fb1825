"""tfnx.laplace's math: the GGN structures, the marginal likelihood, the probit predictive.

Float64, tiny networks: each structure against `tf.hessians` of the log
likelihood or a closed form.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import support
import tfnx as tfn
import tfnx.laplace as tfl

_F64 = tf.float64


def _data(n=12, d=4, classes=3, seed=0):
  rng = np.random.RandomState(seed)
  x = rng.randn(n, d)
  return x, rng.randint(0, classes, size=n).astype(np.int32)


def _mlp(d=4, hidden=5, classes=3, seed=0):
  init = tfn.initializers.glorot_uniform
  return tfn.Sequential([
      tfn.Affine(d, hidden, activation_fn=tf.nn.tanh, dtype=_F64,
                 kernel_initializer=init(seed),
                 bias_initializer=lambda s, dtype: tf.fill(s, tf.constant(
                     0.1, dtype))),
      tfn.Affine(hidden, classes, dtype=_F64,
                 kernel_initializer=init(seed + 1))])


def _last_layer_nll_hessian(model, x, y):
  """`tf.hessians` of the summed cross entropy by the last layer's `[W; b]`."""
  hidden, last = model.layers[0], model.layers[1]
  theta = tf.reshape(tf.concat([last.kernel, last.bias[None]], 0), [-1])
  out = last.kernel.shape[-1]

  @tf.function
  def hessian(theta):
    w = tf.reshape(theta, [-1, out])
    logits = hidden(x) @ w[:-1] + w[-1]
    nll = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
        y, logits))
    return tf.hessians(nll, theta)[0]
  return hessian(theta).numpy()


def test_full_ggn_equals_hessian_of_log_likelihood_at_linear_output_layer():
  model = _mlp()
  x, y = _data()
  la = tfl.Laplace(model, hessian_structure='full').fit(x, y, batch_size=5)
  np.testing.assert_allclose(la.curvature.ggn.numpy(),
                             _last_layer_nll_hessian(model, x, y), atol=1e-6)


def test_diag_structure_is_the_diagonal_of_the_full_ggn():
  model = _mlp()
  x, y = _data()
  full = tfl.Laplace(model, subset_of_weights='all',
                     hessian_structure='full').fit(x, y)
  diag = tfl.Laplace(model, subset_of_weights='all',
                     hessian_structure='diag').fit(x, y, batch_size=5)
  np.testing.assert_allclose(diag.curvature.ggn.numpy(),
                             np.diag(full.curvature.ggn.numpy()), atol=1e-10)


def test_kron_factors_reproduce_one_examples_ggn_in_every_dense_layer():
  model = _mlp()
  x, y = _data(n=1)
  full = tfl.Laplace(model, subset_of_weights='all',
                     hessian_structure='full').fit(x, y)
  kron = tfl.Laplace(model, subset_of_weights='all',
                     hessian_structure='kron').fit(x, y)
  ggn = full.curvature.ggn.numpy()
  start = 0
  for a, g, count in zip(kron.curvature.a, kron.curvature.g,
                         kron.curvature.count):
    block = np.kron(a.numpy(), g.numpy() / count.numpy())
    size = block.shape[0]
    np.testing.assert_allclose(block, ggn[start:start + size,
                                          start:start + size], atol=1e-10)
    start += size


def test_kron_posterior_blocks_are_factor_times_kronecker_product_plus_prior():
  model = _mlp()
  x, y = _data()
  la = tfl.Laplace(model, hessian_structure='kron', prior_precision=0.7,
                   temperature=0.5).fit(x, y, batch_size=5)
  c = la.curvature
  expected = (np.kron(c.a[0].numpy(), c.g[0].numpy() / c.count[0].numpy())
              / 0.5 + 0.7 * np.eye(c.sizes[0]))
  np.testing.assert_allclose(la.posterior_precision[0].numpy(), expected,
                             atol=1e-8)
  np.testing.assert_allclose(
      la.posterior_variance.numpy(), np.diag(np.linalg.inv(expected)),
      rtol=1e-8)


@pytest.mark.parametrize('structure', ['diag', 'kron'])
def test_last_layer_output_covariance_is_the_rows_quadratic_form(structure):
  # f = rows @ W~, so cov(f) = (rows (x) I) Sigma (rows (x) I)^T, Sigma the
  # posterior's inverse precision; the probit reads its pair variances.
  model = _mlp()
  x, y = _data()
  la = tfl.Laplace(model, hessian_structure=structure, prior_precision=0.7,
                   temperature=0.5).fit(x, y)
  precision = la.posterior_precision
  precision = (np.diag(precision.numpy()) if structure == 'diag'
               else precision[0].numpy())
  rows = np.c_[np.tanh(x @ model.layers[0].kernel.numpy()
                       + model.layers[0].bias.numpy()), np.ones(len(x))]
  jacobian = np.einsum('nk,cd->nckd', rows, np.eye(3)).reshape(len(x), 3, -1)
  expected = jacobian @ np.linalg.inv(precision) @ jacobian.transpose(0, 2, 1)
  _, f_var = la.functional_variance(x)
  np.testing.assert_allclose(f_var.numpy(), expected, rtol=1e-8, atol=1e-12)
  diag = np.diagonal(expected, axis1=1, axis2=2)
  pair_var = diag[:, :, None] + diag[:, None, :] - 2. * expected
  f = model(x).numpy()
  gaps = (f[:, :, None] - f[:, None, :]) / np.sqrt(1. + np.pi / 8. * pair_var)
  p = 1. / np.exp(-gaps).sum(-1)
  np.testing.assert_allclose(la(x).numpy(), p / p.sum(-1, keepdims=True),
                             rtol=1e-10)


@pytest.mark.parametrize('structure', ['diag', 'kron'])
def test_last_layer_probit_forms_no_jacobian_and_no_covariance(structure):
  # Only the pair variances the probit reads: no Jacobian product (Einsum),
  # no [n, c, c] covariance built (BatchMatMulV2) or read (MatrixDiagPart).
  la = tfl.Laplace(_mlp(), hessian_structure=structure).fit(*_data())
  concrete = tf.function(la.__call__).get_concrete_function(
      tf.TensorSpec([None, 4], _F64))
  ops = set(support.op_types(concrete))
  assert not ops & {'Einsum', 'BatchMatMulV2', 'MatrixDiagPartV3'}


def _keras_conv(data_format='channels_last'):
  shape = (6, 5, 2) if data_format == 'channels_last' else (2, 6, 5)
  model = keras.Sequential([
      keras.Input(shape, dtype='float64'),
      keras.layers.Conv2D(3, (3, 2), strides=(2, 1), padding='same',
                          data_format=data_format, dtype='float64'),
      keras.layers.Flatten(dtype='float64')])
  model.layers[0].kernel.assign(
      np.random.RandomState(1).randn(*model.layers[0].kernel.shape))
  return model


_CONVOLUTIONS = [
    (keras.layers.Conv2D, (6, 5, 2), dict(kernel_size=(3, 2), strides=(2, 1),
                                          padding='same')),
    (keras.layers.Conv1D, (7, 2), dict(kernel_size=3, dilation_rate=2)),
    (keras.layers.Conv3D, (4, 3, 3, 1), dict(kernel_size=2)),
]


@pytest.mark.parametrize('conv, shape, kwargs', _CONVOLUTIONS,
                         ids=lambda c: getattr(c, '__name__', ''))
def test_convolution_ggn_equals_hessian_of_squared_error(conv, shape, kwargs):
  layer = conv(2, dtype='float64', **kwargs)
  model = keras.Sequential([keras.Input(shape, dtype='float64'), layer,
                            keras.layers.Flatten(dtype='float64')])
  layer.kernel.assign(np.random.RandomState(1).randn(*layer.kernel.shape))
  x = np.random.RandomState(2).randn(3, *shape)
  y = np.random.RandomState(3).randn(3, int(model.outputs[0].shape[-1]))
  la = tfl.Laplace(model, 'regression', hessian_structure='full').fit(x, y)
  theta = tf.reshape(tf.concat([tf.reshape(layer.kernel.value, [-1, 2]),
                                layer.bias.value[None]], 0), [-1])

  @tf.function
  def hessian(theta):
    w = tf.reshape(theta, [-1, 2])
    s = layer.convolution_op(x, tf.reshape(w[:-1], layer.kernel.shape)) + w[-1]
    sse = 0.5 * tf.reduce_sum(tf.square(tf.reshape(s, [3, -1]) - y))
    return tf.hessians(sse, theta)[0]
  np.testing.assert_allclose(la.curvature.ggn.numpy(),
                             hessian(theta).numpy(), atol=1e-6)


def test_tfn_and_keras_convolutions_with_the_same_weights_agree():
  keras_model = _keras_conv()
  conv = keras_model.layers[0]
  tfn_conv = tfn.Convolution(
      2, 3, filter_shape=(3, 2), rank=2, strides=(2, 1), padding='SAME',
      dtype=_F64,
      kernel_initializer=lambda *a, **k: tf.constant(conv.kernel.numpy()))
  tfn_model = tfn.Sequential([tfn_conv, tf.keras.layers.Flatten()])
  x = np.random.RandomState(2).randn(3, 6, 5, 2)
  y = np.random.RandomState(3).randn(3, 45)
  curvatures = [
      tfl.Laplace(m, 'regression', hessian_structure='kron').fit(x, y)
      .curvature for m in (keras_model, tfn_model)]
  for a, b in zip(curvatures[0].trainable_variables + curvatures[0].variables,
                  curvatures[1].trainable_variables + curvatures[1].variables):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-10)


@pytest.mark.parametrize('structure', ['full', 'kron'])
def test_log_marginal_likelihood_of_linear_gaussian_model_is_closed_form(
    structure):
  rng = np.random.RandomState(0)
  n, d, sigma, prior = 20, 3, 0.5, 2.0
  x = rng.randn(n, d)
  y = x @ rng.randn(d, 1) + sigma * rng.randn(n, 1)
  features = np.c_[x, np.ones(n)]
  cov_w = np.linalg.inv(features.T @ features / sigma**2
                        + prior * np.eye(d + 1))
  w_map = cov_w @ features.T @ y / sigma**2  # The MAP the Laplace is at.
  model = tfn.Sequential([tfn.Affine(
      d, 1, dtype=_F64,
      kernel_initializer=lambda *a, **k: tf.constant(w_map[:d]),
      bias_initializer=lambda *a, **k: tf.constant(w_map[d]))])
  la = tfl.Laplace(model, 'regression', hessian_structure=structure,
                   prior_precision=prior, sigma_noise=sigma,
                   temperature=1.).fit(x, y)
  cov_y = sigma**2 * np.eye(n) + features @ features.T / prior
  _, log_det = np.linalg.slogdet(2 * np.pi * cov_y)
  closed_form = -0.5 * (log_det + y[:, 0] @ np.linalg.solve(cov_y, y[:, 0]))
  np.testing.assert_allclose(float(la.log_marginal_likelihood()),
                             closed_form, rtol=1e-10)


def _probit_and_monte_carlo(prior_precision):
  """The probit, 20,000 GLM samples' mean and standard error, pair variances."""
  model = _mlp()
  x, y = _data(n=200)
  la = tfl.Laplace(model, prior_precision=prior_precision,
                   temperature=1.).fit(x, y)
  _, f_var = la.functional_variance(x[:8])
  diag = np.diagonal(f_var.numpy(), axis1=1, axis2=2)
  pair_var = diag[:, :, None] + diag[:, None, :] - 2. * f_var.numpy()
  samples = la.predictive_samples(x[:8], num_samples=20000, seed=4).numpy()
  error = samples.std(0) / np.sqrt(len(samples))
  return la(x[:8]).numpy(), samples.mean(0), error, pair_var.max()


def test_probit_agrees_with_monte_carlo_glm_predictive_at_small_variance():
  # The probit's bias grows as the variances of the logits' differences
  # (a shift of all logits changes no probability), the Monte Carlo standard
  # error as their square root over 20000: 5 of them bound the bias only
  # where those are small, as for a posterior of many examples.
  probit, mean, error, pair_var = _probit_and_monte_carlo(1e3)
  assert 1e-3 < pair_var < 1e-2
  assert np.all(np.abs(probit - mean) <= support.STANDARD_ERRORS * error)


def test_probit_misses_monte_carlo_beyond_its_variance_range():
  # The limit docs/laplace.md states: at pair variances of 0.2 the probit's
  # bias is about 10 standard errors of 20,000 samples, outside the 5 the
  # agreement above allows.
  probit, mean, error, pair_var = _probit_and_monte_carlo(10.)
  assert 0.1 < pair_var < 0.3
  assert np.max(np.abs(probit - mean) / error) > support.STANDARD_ERRORS


@pytest.mark.parametrize('prior_structure', ['scalar', 'layerwise'])
def test_optimized_prior_precision_is_a_stationary_point_of_the_marglik(
    prior_structure):
  model = _mlp()
  x, y = _data(n=40)
  la = tfl.Laplace(model, subset_of_weights='all',
                   hessian_structure='kron').fit(x, y)
  la.optimize_prior_precision(prior_structure=prior_structure, n_steps=300)
  shape = [] if prior_structure == 'scalar' else [2]
  log_prior = tf.Variable(tf.reshape(tf.math.log(la.prior_precision)[
      :1 if prior_structure == 'scalar' else 2], shape))
  with tf.GradientTape() as tape:
    lml = la.log_marginal_likelihood(tf.exp(log_prior))
  np.testing.assert_array_less(np.abs(tape.gradient(lml, log_prior)), 1e-3)
