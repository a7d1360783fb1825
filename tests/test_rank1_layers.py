"""The rank-1 tf.Module layers: shapes, seeds, dtypes, checkpoints, members, KL, errors."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx as tfn

tfd = tfp.distributions

K = 3


def _dense(ensemble_size=K, **kwargs):
  return tfn.AffineRank1(4, 3, ensemble_size=ensemble_size, **kwargs)


def _convolution(rank=2, ensemble_size=K, **kwargs):
  return tfn.ConvolutionRank1(2, 3, 3, rank=rank, padding='SAME',
                              ensemble_size=ensemble_size, **kwargs)


def _transpose(rank=2, ensemble_size=K, **kwargs):
  return tfn.ConvolutionTransposeRank1(2, 3, 3, rank=rank, strides=2,
                                       padding='SAME',
                                       ensemble_size=ensemble_size, **kwargs)


# (build, inputs shape, outputs shape): one batch of 2 * K rows.
CASES = {
    'dense': (_dense, (2 * K, 4), (2 * K, 3)),
    'dense_batch_axes': (_dense, (K, 2, 4), (K, 2, 3)),
    'convolution_1d': (lambda **kw: _convolution(1, **kw), (2 * K, 5, 2),
                       (2 * K, 5, 3)),
    'convolution_2d': (_convolution, (2 * K, 5, 4, 2), (2 * K, 5, 4, 3)),
    'convolution_3d': (lambda **kw: _convolution(3, **kw),
                       (2 * K, 3, 4, 2, 2), (2 * K, 3, 4, 2, 3)),
    'transpose_1d': (lambda **kw: _transpose(1, **kw), (2 * K, 5, 2),
                     (2 * K, 10, 3)),
    'transpose_2d': (_transpose, (2 * K, 3, 2, 2), (2 * K, 6, 4, 3)),
    'transpose_3d': (lambda **kw: _transpose(3, **kw), (2 * K, 2, 3, 1, 2),
                     (2 * K, 4, 6, 2, 3)),
}


def _inputs(shape, dtype=tf.float32):
  return tf.random.stateless_normal(shape, seed=(4, 2), dtype=dtype)


@pytest.mark.parametrize('case', CASES, ids=list(CASES))
def test_outputs_have_the_geometry_s_shape(case):
  build, input_shape, output_shape = CASES[case]
  layer = build(seed=1)
  assert layer(_inputs(input_shape), seed=(1, 2)).shape == output_shape
  assert len(layer.losses) == 2


@pytest.mark.parametrize('case', ['dense', 'convolution_2d', 'transpose_1d'])
def test_a_seeded_call_is_the_same_eagerly_and_traced(case):
  build, input_shape, _ = CASES[case]
  layer = build(seed=1)
  x = _inputs(input_shape)
  eager = layer(x, seed=(5, 6))
  traced = tf.function(lambda x: layer(x, seed=(5, 6)))(x)
  np.testing.assert_array_equal(eager, traced)
  assert not np.array_equal(eager, layer(x, seed=(5, 7)))


@pytest.mark.parametrize('case', ['dense', 'convolution_1d', 'transpose_2d'])
def test_float64_layers_keep_float64_throughout(case):
  build, input_shape, _ = CASES[case]
  layer = build(seed=1, dtype=tf.float64)
  y = layer(_inputs(input_shape, tf.float64), seed=(1, 2))
  assert y.dtype == tf.float64
  assert all(v.dtype == tf.float64 for v in layer.trainable_variables)
  assert all(kl.dtype == tf.float64 for kl in layer.losses)


def test_a_checkpoint_restores_the_weights_and_the_seed_stream(tmp_path):
  x = _inputs((2 * K, 4))
  layer = _dense(seed=1)
  path = tf.train.Checkpoint(layer=layer).write(str(tmp_path / 'ckpt'))
  expected = layer(x)
  other = _dense(seed=2)
  tf.train.Checkpoint(layer=other).read(path).assert_consumed()
  np.testing.assert_array_equal(other(x), expected)
  np.testing.assert_array_equal(other.kernel, layer.kernel)


def _powers_of_two(shape, seed):
  exponents = tf.random.stateless_uniform(shape, seed, -2, 3, tf.int32)
  signs = tf.where(tf.random.stateless_uniform(shape, seed[::-1]) < 0.5,
                   -1., 1.)
  return signs * tf.pow(2., tf.cast(exponents, tf.float32))


def _members_as_layers(layer, reference, kernel_of):
  """Sets point vectors to powers of two; yields member `k` and its own layer."""
  layer.in_vectors.assign(_powers_of_two(layer.in_vectors.shape, (1, 2)))
  layer.out_vectors.assign(_powers_of_two(layer.out_vectors.shape, (3, 4)))
  layer.bias.assign(_inputs(layer.bias.shape))
  for k in range(K):
    reference.kernel.assign(kernel_of(layer.kernel, layer.in_vectors[k],
                                      layer.out_vectors[k]))
    reference.bias.assign(layer.bias[k])
    yield k, reference


def _assert_members_are_layers(layer, reference, kernel_of, input_shape):
  x = _inputs(input_shape)
  batch = input_shape[0]
  for k, member in _members_as_layers(layer, reference, kernel_of):
    expected = member(x)
    outputs = layer(tf.tile(x, [K] + [1] * (x.shape.rank - 1)), seed=(1, 2))
    np.testing.assert_array_equal(outputs[k * batch:(k + 1) * batch],
                                  expected)


def _scaled_kernel(kernel, s, r):
  # diag(s) W diag(r): s on the input channels' axis, r on the outputs'.
  return kernel * s[:, None] * r


def test_a_point_member_is_the_dense_layer_of_its_scaled_kernel():
  layer = _dense(make_posterior_fn=None, seed=1)
  _assert_members_are_layers(layer, tfn.Affine(4, 3), _scaled_kernel,
                             (5, 4))


def test_a_point_member_is_the_convolution_of_its_scaled_kernel():
  layer = _convolution(make_posterior_fn=None, seed=1)
  reference = tfn.Convolution(2, 3, 3, padding='SAME')
  _assert_members_are_layers(layer, reference, _scaled_kernel, (2, 5, 4, 2))


def test_a_point_member_is_the_transposed_convolution_of_its_scaled_kernel():
  layer = _transpose(make_posterior_fn=None, seed=1)
  reference = tfn.ConvolutionTranspose(2, 3, 3, strides=2, padding='SAME')
  # TFP's flat kernel: rows run over the filter's positions, then channels.
  _assert_members_are_layers(
      layer, reference,
      lambda w, s, r: _scaled_kernel(w, tf.tile(s, [9]), r), (2, 3, 2, 2))


def test_point_vectors_have_no_prior_and_no_kl():
  layer = _dense(make_posterior_fn=None)
  layer(_inputs((K, 4)))
  assert layer.prior is None
  assert [float(kl) for kl in layer.losses] == [0., 0.]
  assert {v.name.split('/')[-1] for v in layer.trainable_variables} == {
      'kernel:0', 'bias:0', 'in_vectors:0', 'out_vectors:0'}


def test_the_kl_is_tfp_s_of_the_vectors_posterior_and_prior():
  layer = _convolution(seed=1)
  layer(_inputs((K, 3, 3, 2)))
  prior = tfd.Normal(1., 0.1)
  for kl, vectors in zip(layer.losses, [layer.in_vectors,
                                        layer.out_vectors]):
    normal = vectors.distribution
    posterior = tfd.Normal(tf.convert_to_tensor(normal.loc),
                           tf.convert_to_tensor(normal.scale))
    np.testing.assert_allclose(
        kl, tf.reduce_sum(tfd.kl_divergence(posterior, prior)), rtol=1e-6)
  np.testing.assert_allclose(layer.extra_loss, sum(layer.losses), rtol=1e-6)


def test_the_default_posterior_starts_at_random_signs_with_a_small_scale():
  layer = _dense(seed=1)
  loc = tf.convert_to_tensor(layer.in_vectors.distribution.loc).numpy()
  scale = tf.convert_to_tensor(layer.in_vectors.distribution.scale).numpy()
  assert set(np.unique(loc)) == {-1., 1.}
  np.testing.assert_allclose(scale, 0.03, rtol=1e-4)


def test_the_outputs_mean_and_variance_match_their_closed_form():
  layer = tfn.AffineRank1(3, 2, ensemble_size=2, seed=1)
  for vectors in (layer.in_vectors, layer.out_vectors):
    vectors.distribution.scale.assign(
        tf.fill(vectors.distribution.scale.shape, 0.3))
  x = tf.constant([[1., -2., 0.5], [0.5, 1., 2.]])
  n = 4000
  seeds = tf.stack([tf.range(n), tf.fill([n], 9)], axis=1)
  samples = tf.function(lambda seeds: tf.map_fn(
      lambda seed: layer(x, seed=seed), seeds,
      fn_output_signature=tf.float32))(seeds)
  samples = samples.numpy()
  s, r = layer.in_vectors.distribution, layer.out_vectors.distribution
  a, sa = s.mean().numpy(), s.stddev().numpy()
  g, sg = r.mean().numpy(), r.stddev().numpy()
  w, b = layer.kernel.numpy(), layer.bias.numpy()
  # Row i is member i; u = (x * s) @ W is normal, y = r * u + b.
  mu = (x.numpy() * a) @ w
  var_u = (x.numpy() ** 2 * sa ** 2) @ w ** 2
  mean = g * mu + b
  variance = (g ** 2 + sg ** 2) * (mu ** 2 + var_u) - (g * mu) ** 2
  centred = samples - samples.mean(0)
  fourth = (centred ** 4).mean(0)
  np.testing.assert_array_less(np.abs(samples.mean(0) - mean),
                               5 * np.sqrt(variance / n))
  np.testing.assert_array_less(np.abs(samples.var(0, ddof=1) - variance),
                               5 * np.sqrt((fourth - variance ** 2) / n))


def test_a_sequential_of_rank1_layers_trains_every_weight():
  model = tfn.Sequential([
      tfn.AffineRank1(4, 5, ensemble_size=K, activation_fn=tf.nn.relu,
                      seed=1),
      tfn.AffineRank1(5, 2, ensemble_size=K, make_posterior_fn=None, seed=2),
  ])
  x = _inputs((2 * K, 4))
  with tf.GradientTape() as tape:
    y = model(x, seed=(3, 4))
    loss = tf.reduce_mean(y ** 2) + model.extra_loss
  gradients = tape.gradient(loss, model.trainable_variables)
  assert y.shape == (2 * K, 2)
  assert len(model.losses) == 4
  assert all(g is not None for g in gradients)
  np.testing.assert_array_equal(model(x, seed=(3, 4)), y)


@pytest.mark.parametrize('build', [_dense, _convolution, _transpose])
@pytest.mark.parametrize('size', [0, -1, 2.5])
def test_a_bad_ensemble_size_is_an_error_naming_the_layer(build, size):
  with pytest.raises(ValueError, match='ens_layer.*ensemble_size.*positive'):
    build(ensemble_size=size, name='ens_layer')


@pytest.mark.parametrize('case', ['dense', 'convolution_2d', 'transpose_2d'])
def test_wrong_channels_are_an_error_naming_the_layer(case):
  build, input_shape, _ = CASES[case]
  layer = build(name='rank1_layer')
  with pytest.raises(ValueError, match='rank1_layer'):
    layer(tf.ones(input_shape[:-1] + (input_shape[-1] + 1,)))


def test_variables_have_stable_readable_names():
  layer = _convolution(name='net')
  assert sorted(v.name for v in layer.trainable_variables) == [
      'net/bias:0', 'net/kernel:0', 'net/posterior_in_vectors_loc:0',
      'net/posterior_in_vectors_scale:0', 'net/posterior_out_vectors_loc:0',
      'net/posterior_out_vectors_scale:0']


def test_to_variational_rank1_starts_every_member_as_the_trained_network():
  trained = tfn.Sequential([
      tfn.Affine(4, 6, activation_fn=tf.nn.relu,
                 kernel_initializer=tfn.initializers.glorot_uniform(0),
                 bias_initializer=lambda shape, dtype: tf.fill(shape, 0.3)),
      tfn.Affine(6, 3,
                 kernel_initializer=tfn.initializers.glorot_uniform(1))])
  x = tf.random.stateless_normal([5, 4], [1, 2])
  converted = tfn.util.to_variational(trained, estimator='rank1',
                                      ensemble_size=3, seed=0)
  assert [type(layer).__name__ for layer in converted.layers] == [
      'AffineRank1', 'AffineRank1']
  first = converted.layers[0]
  np.testing.assert_array_equal(first.kernel, trained.layers[0].kernel)
  np.testing.assert_array_equal(first.bias,
                                np.tile(trained.layers[0].bias, [3, 1]))
  for layer in converted.layers:
    for vectors in (layer.in_vectors, layer.out_vectors):
      np.testing.assert_array_equal(vectors.distribution.loc, 1.)
      # Just above the posterior's softplus floor (1e-5).
      vectors.distribution.scale.assign(
          tf.fill(vectors.distribution.scale.shape, 2e-5))
  members = converted(tf.tile(x, [3, 1]), seed=4).numpy().reshape(3, 5, 3)
  np.testing.assert_allclose(members, np.stack([trained(x)] * 3),
                             rtol=1e-3, atol=1e-4)
