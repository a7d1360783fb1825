"""Convolution layers, plain and transposed: shapes, statistics, errors, a CNN."""

import inspect

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import support
import tfnx as tfn
import tfnx.keras as tfnx_keras
from tfnx import _convolution as convolution_lib
from tfnx import _convolution_geometry as geometry_lib

tfd = tfp.distributions

CONVOLUTIONS = [tfn.ConvolutionVariationalFlipout,
                tfn.ConvolutionVariationalReparameterization]
TRANSPOSES = [tfn.ConvolutionTransposeVariationalFlipout,
              tfn.ConvolutionTransposeVariationalReparameterization]
VARIATIONAL = CONVOLUTIONS + TRANSPOSES
DETERMINISTIC = [tfn.Convolution, tfn.ConvolutionTranspose]
ALL = VARIATIONAL + DETERMINISTIC
FLIPOUTS = [tfn.ConvolutionVariationalFlipout,
            tfn.ConvolutionTransposeVariationalFlipout]
# TFP's V2 layers: kernels `[prod(filter_shape) * in, out]` (no data_format).
V2_VARIATIONAL = [tfn.ConvolutionVariationalFlipoutV2,
                  tfn.ConvolutionVariationalReparameterizationV2]

# (strides, dilations): TF's convolutions take one or the other above 1.
GEOMETRIES = [(1, 1), (3, 1), (1, 2)]
CHANNELS_LAST = {1: 'NWC', 2: 'NHWC', 3: 'NDHWC'}


def _is_transposed(cls) -> bool:
  return 'Transpose' in cls.__name__


def _call(layer, x, seed=1):
  if isinstance(layer, tfn.VariationalLayer):
    return layer(x, seed=seed)
  return layer(x)


def _posterior_mean(distribution, seed=None):
  del seed  # The mean is not random.
  return distribution.mean()


def _inputs(shape, dtype=np.float32, seed=0):
  return np.random.RandomState(seed).randn(*shape).astype(dtype)


def _filter_shape(rank):
  return (3, 2, 2)[:rank]


def _conv(x, kernel, layer):
  """`tf.nn.convolution` with the layer's geometry, channels last."""
  return tf.nn.convolution(x, kernel, strides=layer.strides,
                           padding=layer.padding, dilations=layer.dilations,
                           data_format=CHANNELS_LAST[layer.rank])


def _forward_kernel(kernel, layer):
  """A transposed layer's kernel, `[prod(F) * in, out]`, as `F + [out, in]`."""
  rank = layer.rank
  kernel = tf.reshape(kernel, list(layer.filter_shape)
                      + [layer.input_size, layer.output_size])
  return tf.transpose(kernel, list(range(rank)) + [rank + 1, rank])


def _conv_adjoint(x, kernel, layer, output_shape):
  """The transposed convolution, as the gradient of `tf.nn.convolution`."""
  z = tf.zeros(output_shape, x.dtype)
  with tf.GradientTape() as tape:
    tape.watch(z)
    inner = tf.reduce_sum(_conv(z, _forward_kernel(kernel, layer), layer) * x)
  return tape.gradient(inner, z)


def _reference(x, kernel, layer, output_shape):
  if _is_transposed(type(layer)):
    return _conv_adjoint(x, kernel, layer, output_shape)
  if type(layer) in V2_VARIATIONAL:
    kernel = tf.reshape(kernel, list(layer.filter_shape)
                        + [layer.input_size, layer.output_size])
  return _conv(x, kernel, layer)


# Shapes and values ----------------------------------------------------------


@pytest.mark.parametrize('rank', [1, 2, 3])
@pytest.mark.parametrize('strides,dilations', GEOMETRIES)
@pytest.mark.parametrize('padding', ['VALID', 'same'])
def test_convolution_matches_tf_convolution_on_the_posterior_mean(
    rank, strides, dilations, padding):
  x = _inputs([2] + [7] * rank + [3])
  kwargs = dict(rank=rank, strides=strides, padding=padding,
                dilations=dilations)
  mean_layer = tfn.ConvolutionVariationalReparameterization(
      3, 4, _filter_shape(rank), posterior_value_fn=_posterior_mean, **kwargs)
  expected = (_conv(x, mean_layer.kernel_posterior.mean(), mean_layer)
              + mean_layer.bias_posterior.mean())
  np.testing.assert_allclose(mean_layer(x, seed=1), expected, rtol=1e-5,
                             atol=1e-5)
  flipout = tfn.ConvolutionVariationalFlipout(3, 4, _filter_shape(rank),
                                              **kwargs)
  assert flipout(x, seed=1).shape == expected.shape
  plain = tfn.Convolution(3, 4, _filter_shape(rank), **kwargs)
  np.testing.assert_allclose(plain(x), _conv(x, plain.kernel, plain)
                             + plain.bias, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('rank', [1, 2, 3])
@pytest.mark.parametrize('strides,dilations', GEOMETRIES)
@pytest.mark.parametrize('padding', ['VALID', 'Same'])
def test_transpose_is_the_adjoint_of_the_convolution(rank, strides,
                                                      dilations, padding):
  x = _inputs([2] + [4] * rank + [3])
  kwargs = dict(rank=rank, strides=strides, padding=padding,
                dilations=dilations)
  mean_layer = tfn.ConvolutionTransposeVariationalReparameterization(
      3, 4, _filter_shape(rank), posterior_value_fn=_posterior_mean, **kwargs)
  y = mean_layer(x, seed=1)
  expected = (_conv_adjoint(x, mean_layer.kernel_posterior.mean(), mean_layer,
                            y.shape) + mean_layer.bias_posterior.mean())
  np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
  flipout = tfn.ConvolutionTransposeVariationalFlipout(
      3, 4, _filter_shape(rank), **kwargs)
  assert flipout(x, seed=1).shape == y.shape
  plain = tfn.ConvolutionTranspose(3, 4, _filter_shape(rank), **kwargs)
  np.testing.assert_allclose(
      plain(x), _conv_adjoint(x, plain.kernel, plain, y.shape) + plain.bias,
      rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('cls', TRANSPOSES + [tfn.ConvolutionTranspose])
@pytest.mark.parametrize('rank', [1, 2, 3])
def test_same_transpose_multiplies_spatial_size_by_the_stride(cls, rank):
  strides = (2, 3, 1)[:rank]
  layer = cls(3, 2, 3, rank=rank, strides=strides, padding='SAME')
  y = _call(layer, tf.ones([2] + [5] * rank + [3]))
  assert y.shape == (2,) + tuple(5 * s for s in strides) + (2,)


@pytest.mark.parametrize('padding,filter_size,expected', [
    ('VALID', 2, [(4 - 1) * 3 + 2 + p for p in range(3)]),
    ('VALID', 5, [(4 - 1) * 3 + 5 + p for p in range(3)]),
    ('SAME', 2, [(4 - 1) * 3 + 1 + p for p in range(3)]),
])
def test_output_padding_picks_each_length_the_convolution_maps_back(
    padding, filter_size, expected):
  for output_padding, length in zip(range(3), expected):
    layer = tfn.ConvolutionTranspose(1, 1, filter_size, rank=1, strides=3,
                                     padding=padding,
                                     output_padding=output_padding)
    y = layer(tf.ones([1, 4, 1]))
    assert y.shape == (1, length, 1)
    back = tf.nn.convolution(y, tf.ones([filter_size, 1, 1]), strides=3,
                             padding=padding)
    assert back.shape == (1, 4, 1)


def test_default_transpose_lengths_follow_keras():
  valid = tfn.ConvolutionTranspose(1, 1, 2, rank=1, strides=3)
  assert valid(tf.ones([1, 4, 1])).shape == (1, 4 * 3 + max(2 - 3, 0), 1)
  wide = tfn.ConvolutionTranspose(1, 1, 5, rank=1, strides=3)
  assert wide(tf.ones([1, 4, 1])).shape == (1, 4 * 3 + 5 - 3, 1)


@pytest.mark.parametrize('cls', ALL)
def test_kernel_shape_is_tf_convolutions_or_tfp_transposed_ones(cls):
  layer = cls(3, 5, (2, 4))
  kernel = layer.kernel if cls in DETERMINISTIC else layer.kernel_posterior
  shape = kernel.shape if cls in DETERMINISTIC else kernel.event_shape
  assert shape == ((2 * 4 * 3, 5) if _is_transposed(cls) else (2, 4, 3, 5))


@pytest.mark.parametrize('cls', ALL)
def test_default_kernel_is_glorot_uniform_with_tfps_fans(cls):
  layer = cls(6, 10, (3, 3), seed=4) if cls in VARIATIONAL else cls(
      6, 10, (3, 3))
  kernel = (layer.kernel if cls in DETERMINISTIC
            else layer.kernel_posterior.distribution.loc)
  # TFP's transposed kernels are [9 * 6, 10] matrices: no receptive field.
  fans = 9 * 6 + 10 if _is_transposed(cls) else (6 + 10) * 9
  limit = np.sqrt(6. / fans)
  assert np.max(np.abs(kernel)) <= limit
  assert np.max(np.abs(kernel)) > 0.9 * limit


@pytest.mark.parametrize('cls', FLIPOUTS + DETERMINISTIC)
@pytest.mark.parametrize('rank', [1, 2, 3])
def test_channels_first_is_channels_last_transposed(cls, rank):
  def build(data_format):
    kwargs = dict(rank=rank, strides=2, padding='SAME',
                  data_format=data_format)
    if cls in VARIATIONAL:
      kwargs['seed'] = 3
    else:
      kwargs['kernel_initializer'] = tfn.initializers.glorot_uniform(3)
    return cls(3, 2, 2, **kwargs)

  x_last = _inputs([2] + [4] * rank + [3])
  to_first = [0, rank + 1] + list(range(1, rank + 1))
  to_last = [0] + list(range(2, rank + 2)) + [1]
  y_last = _call(build('channels_last'), x_last, seed=5)
  y_first = _call(build('channels_first'), np.transpose(x_last, to_first),
                  seed=5)
  np.testing.assert_allclose(np.transpose(y_first, to_last), y_last,
                             rtol=1e-6, atol=1e-6)


# The estimators' statistics -------------------------------------------------


def _set_posterior(layer, kernel_scale=(0.3, 1.), bias_scale=0.5, seed=0):
  rng = np.random.RandomState(seed)
  kernel = layer.kernel_posterior.distribution
  kernel.loc.assign(rng.randn(*kernel.loc.shape))
  kernel.scale.assign(rng.uniform(*kernel_scale, size=kernel.loc.shape))
  bias = layer.bias_posterior.distribution
  bias.loc.assign(rng.randn(*bias.loc.shape))
  bias.scale.assign(np.full(bias.loc.shape, bias_scale))


def _samples(layer, x, n):
  return np.stack([layer(x, seed=[i, 17]).numpy() for i in range(n)])


@pytest.mark.slow
@pytest.mark.parametrize('cls', VARIATIONAL + V2_VARIATIONAL)
def test_outputs_have_the_closed_form_mean_variance_and_covariance(cls):
  """Mean `conv(x, mu) + mu_b`, variance `conv(x**2, sigma**2) + sigma_b**2`.

  Covariances across spatial positions are `J diag(sigma**2) J^T +
  sigma_b**2` (J the Jacobian in the kernel): Flipout's signs, shared across
  positions, make each example's output that of one kernel sample.
  """
  n = 1000
  layer = cls(2, 2, 2, rank=2, padding='VALID')
  _set_posterior(layer)
  x = _inputs([1, 3, 3, 2], seed=1)
  y = _samples(layer, x, n)[:, 0].reshape(n, -1)
  kernel = layer.kernel_posterior.distribution
  mu, sigma = kernel.loc, tf.convert_to_tensor(kernel.scale)
  bias = layer.bias_posterior.distribution
  mu_b, sigma_b = bias.loc.numpy(), tf.convert_to_tensor(bias.scale).numpy()
  out_shape = (1,) + layer(x, seed=0).shape[1:]
  mean = (_reference(x, mu, layer, out_shape) + mu_b).numpy().ravel()
  variance = (_reference(x ** 2, sigma ** 2, layer, out_shape)
              + sigma_b ** 2).numpy().ravel()
  with tf.GradientTape() as tape:
    tape.watch(mu)
    outputs = tf.reshape(_reference(x, mu, layer, out_shape), [-1])
  jacobian = tf.reshape(tape.jacobian(outputs, mu), [outputs.shape[0], -1])
  # Outputs are flattened channels last: a bias is shared by its channel.
  channel = np.arange(len(mean)) % layer.output_size
  bias_covariance = np.where(np.equal.outer(channel, channel),
                             sigma_b[channel] ** 2, 0.)
  covariance = ((jacobian * tf.reshape(sigma ** 2, [-1])) @ tf.transpose(
      jacobian)).numpy() + bias_covariance
  np.testing.assert_allclose(np.diag(covariance), variance, rtol=1e-5)

  mean_se = np.sqrt(variance / n)
  assert np.max(np.abs(y.mean(0) - mean) / mean_se) < 5
  sample_cov = np.cov(y, rowvar=False)
  var_pairs = np.outer(variance, variance)
  cov_se = np.sqrt((var_pairs + covariance ** 2) / (n - 1))
  assert np.max(np.abs(sample_cov - covariance) / cov_se) < 5
  # The test needs correlated positions to tell shared signs from others.
  assert np.max(np.abs(covariance - np.diag(variance)) / cov_se) > 10


@pytest.mark.parametrize('cls', FLIPOUTS + V2_VARIATIONAL[:1])
def test_flipout_examples_in_a_batch_are_uncorrelated(cls):
  n = 600
  layer = cls(2, 2, 2, rank=2)
  _set_posterior(layer, kernel_scale=(0.5, 1.), bias_scale=1e-5)
  x = np.repeat(_inputs([1, 3, 3, 2], seed=2), 2, axis=0)
  y = _samples(layer, x, n).reshape(n, 2, -1)
  centered = y - y.mean(0)
  correlation = (np.sum(centered[:, 0] * centered[:, 1], 0) / np.sqrt(
      np.sum(centered[:, 0] ** 2, 0) * np.sum(centered[:, 1] ** 2, 0)))
  assert np.max(np.abs(correlation)) < 5 / np.sqrt(n)


# Seeds, tracing, dtypes, losses ---------------------------------------------


@pytest.mark.parametrize('cls', ALL)
def test_float64_runs_and_has_gradients(cls):
  # Dilated: TF's CPU kernels run dilated transposed convolutions in float32
  # only.
  layer = cls(2, 3, 2, dilations=2, padding='SAME', dtype=tf.float64)
  x = _inputs([2, 4, 4, 2], dtype=np.float64)
  with tf.GradientTape() as tape:
    y = _call(layer, x)
    loss = tf.reduce_sum(y ** 2) + getattr(layer, 'extra_loss', 0.)
  grads = tape.gradient(loss, layer.trainable_variables)
  assert y.dtype == tf.float64
  assert len(grads) == len(layer.trainable_variables) > 0
  assert all(g is not None and np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize('cls', ALL)
def test_rank3_layers_have_gradients_under_an_eager_tape(cls):
  layer = cls(2, 3, (2, 3, 2), rank=3, strides=(1, 2, 1), padding='SAME')
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(_call(layer, tf.ones([2, 3, 4, 3, 2])) ** 2)
  grads = tape.gradient(loss, layer.trainable_variables)
  assert all(g is not None and np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize('cls', VARIATIONAL)
def test_losses_hold_the_kernel_and_bias_kl(cls):
  layer = cls(3, 2, 2,
              make_prior_fn=tfn.util.make_kernel_bias_prior_normal)
  assert layer.losses == []
  with tf.GradientTape() as tape:
    layer(tf.ones([2, 5, 5, 3]), seed=1)
    extra = layer.extra_loss
  kernel_kl, bias_kl = layer.losses
  np.testing.assert_allclose(
      kernel_kl, tfd.kl_divergence(layer.kernel_posterior,
                                   layer.kernel_prior), rtol=1e-5)
  np.testing.assert_allclose(
      bias_kl, tfd.kl_divergence(layer.bias_posterior, layer.bias_prior),
      rtol=1e-5)
  np.testing.assert_allclose(extra, kernel_kl + bias_kl, rtol=1e-6)
  grads = tape.gradient(extra, layer.trainable_variables)
  assert all(g is not None for g in grads)


def test_properties_report_normalized_arguments():
  layer = tfn.ConvolutionTransposeVariationalFlipout(
      3, 2, 3, rank=3, strides=(2, 2, 3), padding='same', output_padding=1,
      data_format='channels_first')
  assert (layer.input_size, layer.output_size, layer.rank) == (3, 2, 3)
  assert layer.filter_shape == (3, 3, 3)
  assert layer.strides == (2, 2, 3)
  assert layer.dilations == (1, 1, 1)
  assert layer.padding == 'SAME'
  assert layer.output_padding == (1, 1, 1)
  assert layer.data_format == 'channels_first'


# Errors ---------------------------------------------------------------------


@pytest.mark.parametrize('cls', ALL)
def test_wrong_channel_count_is_a_clear_error(cls):
  layer = cls(3, 2, 2, name='conv_in3')
  with pytest.raises(ValueError,
                     match=r'conv_in3.*\[\.\.\., \?, \?, 3\].*\(4, 5, 5, 2\)'):
    _call(layer, tf.ones([4, 5, 5, 2]))
  first = cls(3, 2, 2, name='conv_cf', data_format='channels_first')
  with pytest.raises(ValueError, match=r'conv_cf.*\[\.\.\., 3, \?, \?\]'):
    _call(first, tf.ones([4, 5, 5, 3]))


@pytest.mark.parametrize('cls', ALL)
def test_strides_with_dilations_is_a_clear_error(cls):
  with pytest.raises(ValueError, match=f'{cls.__name__}.*strides.*dilations'):
    cls(3, 2, 3, strides=2, dilations=(1, 2))


@pytest.mark.parametrize('cls', ALL)
@pytest.mark.parametrize('kwargs,message', [
    (dict(filter_shape=(2, 2, 2)), 'filter_shape'),
    (dict(filter_shape=0), 'filter_shape'),
    (dict(strides=(1, 1, 1)), 'strides'),
    (dict(dilations='2'), 'dilations'),
    (dict(padding='FULL'), 'padding'),
    (dict(padding='CAUSAL'), 'padding'),
    (dict(rank=4), 'rank'),
    (dict(data_format='NHWC'), 'data_format'),
    (dict(output_size=0), 'output_size'),
])
def test_bad_arguments_are_clear_errors(cls, kwargs, message):
  args = dict(input_size=3, output_size=2, filter_shape=2)
  args.update(kwargs)
  with pytest.raises(ValueError, match=f'{cls.__name__}.*{message}'):
    cls(**args)


@pytest.mark.parametrize('cls', ALL)
def test_length_one_lists_and_numpy_or_tensor_ints_are_accepted_as_in_tfp(cls):
  layer = cls(3, 2, [2], rank=np.int32(2), strides=[tf.constant(2)],
              dilations=(1,))
  assert (layer.filter_shape, layer.strides, layer.dilations) == (
      (2, 2), (2, 2), (1, 1))


@pytest.mark.parametrize('cls', TRANSPOSES + [tfn.ConvolutionTranspose])
def test_output_padding_must_be_below_the_stride(cls):
  with pytest.raises(ValueError, match='output_padding'):
    cls(3, 2, 2, strides=2, output_padding=2)
  with pytest.raises(ValueError, match='method'):
    cls(3, 2, 2, method='fft')


@pytest.mark.parametrize('cls', CONVOLUTIONS + [tfn.Convolution])
def test_inputs_smaller_than_a_valid_filter_are_a_clear_error(cls):
  layer = cls(3, 2, 3, dilations=2, name='small')
  with pytest.raises(ValueError, match=r'small.*at least \(5, 5\)'):
    _call(layer, tf.ones([1, 4, 6, 3]))


@pytest.mark.parametrize('cls', ALL)
def test_too_low_a_rank_is_a_clear_error(cls):
  with pytest.raises(ValueError, match='rank at least 3'):
    _call(cls(3, 2, 2), tf.ones([5, 3]))


def test_batched_convolution_broadcasts_its_batch_between_space_and_channels():
  layer = tfn.Convolution(3, 2, 2, batch_shape=[2, 4])
  assert layer.kernel.shape == (2, 4, 2, 2, 3, 2)
  assert tfn.Convolution(3, 2, 2, batch_shape=None).kernel.shape == (2, 2, 3, 2)
  x = _inputs([5, 6, 6, 1, 4, 3])
  y = layer(x)
  assert y.shape == (5, 5, 5, 2, 4, 2)
  for i, j in [(0, 0), (1, 3)]:
    expected = _conv(x[:, :, :, 0, j], layer.kernel[i, j], layer)
    np.testing.assert_allclose(y[:, :, :, i, j], expected + layer.bias[i, j],
                               rtol=1e-5, atol=1e-5)


def test_batched_convolution_needs_channels_last():
  with pytest.raises(ValueError, match='batch_shape.*channels_first'):
    tfn.Convolution(3, 2, 2, batch_shape=[2], data_format='channels_first')


@pytest.mark.parametrize('base', [
    convolution_lib.DeterministicConvolutionBase,
    convolution_lib.VariationalConvolutionBase])
def test_the_convolution_bases_take_keyword_arguments_only(base):
  parameters = list(inspect.signature(base.__init__).parameters.values())[1:]
  assert all(p.kind is p.KEYWORD_ONLY and p.default is p.empty
             for p in parameters)
  with pytest.raises(TypeError):
    base(geometry_lib.ConvolutionGeometry.create('c', 2, 3), 3, 4)


def test_a_family_passes_each_argument_to_its_base_by_name():
  seen = {}

  def make_kernel_bias(kernel_shape, bias_shape, kernel_initializer,
                       bias_initializer, *args):
    seen.update(kernel=kernel_initializer, bias=bias_initializer)
    return tfn.util.make_kernel_bias(kernel_shape, bias_shape,
                                     kernel_initializer, bias_initializer,
                                     *args)

  kernel_init, bias_init = (tfn.initializers.he_normal(),
                            tfn.initializers.glorot_uniform())
  tfn.ConvolutionV2(2, 3, 3, kernel_initializer=kernel_init,
                    bias_initializer=bias_init,
                    make_kernel_bias_fn=make_kernel_bias)
  assert seen == {'kernel': kernel_init, 'bias': bias_init}


def test_a_convolution_kind_is_a_value_declaring_its_layout():
  kinds = (geometry_lib.CONVOLUTION, geometry_lib.TRANSPOSE,
           geometry_lib.IM2ROW)
  layouts = [(k.name, geometry_lib.ConvolutionGeometry.create(
      'c', 2, 3, kind=k).kernel_shape(4, 5)) for k in kinds]
  assert layouts == [('convolution', [3, 3, 4, 5]), ('transpose', [36, 5]),
                     ('im2row', [36, 5])]
  with pytest.raises(TypeError, match='layer: expected a ConvolutionKind'):
    geometry_lib.ConvolutionGeometry.create('layer', 2, 3, kind='im2row')


# A Bayesian CNN -------------------------------------------------------------


@pytest.mark.slow
def test_bayesian_cnn_learns_digits():
  datasets = pytest.importorskip('sklearn.datasets')
  model_selection = pytest.importorskip('sklearn.model_selection')
  digits = datasets.load_digits()
  images = (digits.images[..., None] / 16.).astype(np.float32)
  x_train, x_test, y_train, y_test = model_selection.train_test_split(
      images, digits.target, test_size=0.25, random_state=0,
      stratify=digits.target)
  model = tfn.Sequential([
      tfn.ConvolutionVariationalFlipout(1, 16, 3, strides=2, padding='SAME',
                                        activation_fn=tf.nn.relu, seed=1),
      tfn.util.flatten_rightmost(ndims=3),
      tfn.AffineVariationalFlipout(4 * 4 * 16, 10, seed=2),
  ])
  optimizer = tf.keras.optimizers.Adam(0.01)
  num_train = len(x_train)

  @tf.function
  def train_step(x, y, seed):
    with tf.GradientTape() as tape:
      logits = model(x, seed=seed)
      nll = tf.reduce_mean(
          tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
      loss = nll + model.extra_loss / num_train
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss

  rng = np.random.RandomState(0)
  for step in range(300):
    batch = rng.choice(num_train, 64, replace=False)
    train_step(x_train[batch], y_train[batch], tf.constant([step, 0]))
  probs = np.mean([tf.nn.softmax(model(x_test, seed=[s, 1])).numpy()
                   for s in range(5)], axis=0)
  accuracy = np.mean(np.argmax(probs, -1) == y_test)
  assert accuracy > 0.9


def _layout_ops_of_a_training_step(layer, x) -> dict:
  """How many Reshape, Transpose and BroadcastTo ops a layer's step traces."""
  def step(x):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(_call(layer, x)) + tf.add_n(layer.losses)
    return tape.gradient(loss, layer.trainable_variables)

  types = support.op_types(tf.function(step).get_concrete_function(x))
  return {t: types.count(t) for t in ('Reshape', 'Transpose', 'BroadcastTo')}


@pytest.mark.parametrize('estimator', ['Flipout', 'Reparameterization'])
def test_an_unbatched_convolution_steps_with_the_keras_layers_layout_ops(
    estimator):
  # The same math in both APIs: normal posteriors and priors on kernel and
  # bias, closed-form KL. The tf.Module layer adds no reshape, transpose or
  # broadcast to the Keras layer's, nested functions included.
  x = tf.ones([4, 8, 8, 2])
  module = getattr(tfn, 'ConvolutionVariational' + estimator)(
      2, 3, 3, make_prior_fn=tfn.util.make_kernel_bias_prior_normal)
  keras_layer = getattr(tfnx_keras, 'Convolution2D' + estimator)(
      3, 3, bias_posterior_fn=tfnx_keras.util.default_mean_field_normal_fn(),
      bias_prior_fn=tfnx_keras.util.default_multivariate_normal_fn)
  keras_layer.build(x.shape)
  module_ops = _layout_ops_of_a_training_step(module, x)
  keras_ops = _layout_ops_of_a_training_step(keras_layer, x)
  assert all(module_ops[t] <= keras_ops[t] for t in keras_ops), (
      module_ops, keras_ops)
