"""The dense layers: shapes, dtypes, input errors, tracing, gradients and speed structure."""

import numpy as np
import pytest
import tensorflow as tf

import tfnx as tfn

import support

ESTIMATORS = [tfn.AffineVariationalReparameterization,
              tfn.AffineVariationalFlipout,
              tfn.AffineVariationalReparameterizationLocal]


@pytest.mark.parametrize('cls', ESTIMATORS + [tfn.Affine])
def test_default_name_is_the_class_name(cls):
  assert cls(3, 2).name == cls.__name__
  assert cls(3, 2, name='dense_1').name == 'dense_1'


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_wrong_last_dimension_is_a_clear_error(cls):
  layer = cls(3, 2, name='dense_in3')
  with pytest.raises(ValueError, match=r'dense_in3.*\[\.\.\., 3\].*\(4, 5\)'):
    layer(tf.ones([4, 5]))


@pytest.mark.parametrize('cls', ESTIMATORS + [tfn.Affine])
def test_rank_zero_input_is_a_clear_error(cls):
  layer = cls(3, 2, name='dense_r0')
  with pytest.raises(ValueError, match='dense_r0.*rank at least 1'):
    layer(tf.constant(1.))


@pytest.mark.parametrize('cls', ESTIMATORS + [tfn.Affine])
@pytest.mark.parametrize('sizes', [(0, 2), (3, 0), (-1, 2), (3, 2.5)])
def test_nonpositive_sizes_are_clear_errors(cls, sizes):
  with pytest.raises(ValueError, match=f'{cls.__name__}.*positive int'):
    cls(*sizes)


def test_unknown_last_dimension_is_checked_when_the_graph_runs():
  layer = tfn.AffineVariationalFlipout(3, 2, name='dyn')
  call = tf.function(lambda x: layer(x, seed=1),
                     input_signature=[tf.TensorSpec([None, None])])
  assert call(tf.ones([4, 3])).shape == (4, 2)
  with pytest.raises(tf.errors.InvalidArgumentError, match='dyn'):
    call(tf.ones([4, 5]))


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_integer_inputs_are_cast_to_the_layer_dtype(cls):
  layer = cls(3, 2)
  ints = layer(tf.constant([[1, 2, 3]]), seed=3)
  floats = layer(tf.constant([[1., 2., 3.]]), seed=3)
  assert ints.dtype == tf.float32
  np.testing.assert_array_equal(ints, floats)


def test_float_input_of_another_dtype_is_a_clear_error():
  layer = tfn.AffineVariationalFlipout(3, 2, name='f32')
  with pytest.raises(TypeError, match='f32.*float32.*float64'):
    layer(tf.ones([1, 3], tf.float64))


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_validate_args_rejects_non_finite_inputs(cls):
  layer = cls(3, 2, validate_args=True, name='checked')
  with pytest.raises(tf.errors.InvalidArgumentError, match='checked'):
    layer(tf.constant([[1., np.nan, 0.]]))
  unchecked = cls(3, 2)
  assert np.isnan(unchecked(tf.constant([[1., np.nan, 0.]])).numpy()).any()


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_kl_losses_have_gradients_eagerly_under_a_tape(cls):
  layer = cls(3, 2)
  with tf.GradientTape() as tape:
    layer(tf.ones([2, 3]))
    loss = layer.extra_loss
  grads = tape.gradient(loss, layer.trainable_variables)
  assert all(g is not None for g in grads)
  assert len(layer.losses) == 2


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_kl_losses_have_gradients_inside_a_user_tf_function(cls):
  layer = cls(3, 2)
  optimizer = tf.keras.optimizers.SGD(0.01)

  @tf.function
  def step(x):
    with tf.GradientTape() as tape:
      y = layer(x)
      loss = tf.reduce_mean(y**2) + tf.add_n(layer.losses)
    grads = tape.gradient(loss, layer.trainable_variables)
    optimizer.apply_gradients(zip(grads, layer.trainable_variables))
    return grads

  grads = step(tf.ones([2, 3]))
  assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_properties_expose_posterior_prior_and_last_sample(cls):
  layer = cls(3, 2, activation_fn=tf.nn.relu)
  assert layer.losses == [] and layer.posterior_value is None
  layer(tf.ones([2, 3]), seed=1)
  kernel, bias = layer.unpack_weights_fn(layer.posterior.model)
  assert layer.kernel_posterior is kernel and layer.bias_posterior is bias
  kernel_prior, bias_prior = layer.unpack_weights_fn(layer.prior.model)
  assert layer.kernel_prior is kernel_prior
  assert layer.bias_prior is bias_prior
  assert layer.activation_fn is tf.nn.relu
  assert layer.dtype == tf.float32
  assert layer.posterior_value_fn is tfn.util.kernel_bias.tfd.Distribution.sample
  assert layer.posterior_value[1].shape == (2,)
  assert layer.kernel_posterior.distribution.scale.trainable_variables


def test_posterior_scale_is_a_transformed_variable_users_can_assign():
  layer = tfn.AffineVariationalFlipout(3, 2)
  scale = layer.kernel_posterior.distribution.scale
  scale.assign(tf.fill([3, 2], 0.25))
  np.testing.assert_allclose(tf.convert_to_tensor(scale), 0.25, rtol=1e-5)


def test_flipout_uses_one_plain_matmul_per_kernel_term_and_no_batched_matvec():
  layer = tfn.AffineVariationalFlipout(3, 2)
  concrete = support.trace(layer, tf.ones([2, 5, 3]))
  types = support.op_types(concrete)
  assert types.count('MatMul') == 2
  assert not {'BatchMatMulV2', 'BatchMatMulV3', 'BatchMatMul'} & set(types)
  # One normal draw each for the kernel's and the bias's perturbation, one
  # sign draw each for the inputs and the outputs.
  assert types.count(support.NORMAL_DRAW) == 2
  assert types.count(support.SIGN_DRAW) == 2
  assert not {'StatelessRandomNormalV2', 'StatelessRandomUniformIntV2'} & set(
      types)


def test_local_reparameterization_samples_only_outputs_with_a_closed_form_kl():
  layer = tfn.AffineVariationalReparameterizationLocal(
      3, 2, make_prior_fn=tfn.util.make_kernel_bias_prior_normal)
  types = support.op_types(support.trace(layer, tf.ones([4, 3])))
  assert types.count(support.NORMAL_DRAW) == 1  # The outputs' noise.
  assert types.count('MatMul') == 2


def test_affine_is_a_deterministic_matmul_plus_bias():
  layer = tfn.Affine(3, 2, activation_fn=tf.nn.relu)
  x = np.random.RandomState(0).randn(2, 4, 3).astype(np.float32)
  expected = np.maximum(x @ layer.kernel.numpy() + layer.bias.numpy(), 0)
  np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-6)
  assert layer.kernel.shape == (3, 2) and layer.bias.shape == (2,)


def test_affine_batch_shape_holds_independent_layers():
  layer = tfn.Affine(3, 2, batch_shape=[4])
  assert layer.kernel.shape == (4, 3, 2)
  x = np.random.RandomState(0).randn(5, 4, 3).astype(np.float32)
  expected = np.einsum('nbi,bio->nbo', x, layer.kernel.numpy()) + layer.bias
  np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-6)


def test_affine_wrong_input_size_is_a_clear_error():
  with pytest.raises(ValueError, match=r'Affine.*\[\.\.\., 3\]'):
    tfn.Affine(3, 2)(tf.ones([2, 4]))


@pytest.mark.parametrize('kernel_batch,input_batch,expected', [
    ((2, 3), (8, 1, 1), (8, 2, 3)),
    ((6,), (2, 2), None),
    ((2, 2), (4, 2, 2), (4, 2, 2)),
    ((4,), (), (4,)),
])
def test_affine_kernel_batch_broadcasts_against_the_inputs_batch(
    kernel_batch, input_batch, expected):
  layer = tfn.Affine(3, 2, batch_shape=kernel_batch)
  x = np.random.RandomState(0).randn(*input_batch, 3).astype(np.float32)
  if expected is None:
    with pytest.raises(ValueError, match=r'Affine.*broadcasts'):
      layer(x)
    return
  y = layer(x)
  assert y.shape == expected + (2,)
  reference = np.squeeze(x[..., None, :] @ layer.kernel.numpy(), -2)
  np.testing.assert_allclose(y, reference + layer.bias, rtol=1e-5, atol=1e-5)


def test_sampled_kernels_give_outputs_with_their_sample_axis():
  def three_samples(kernel_shape, bias_shape, *args, dtype=tf.float32,
                    **kwargs):
    del args, kwargs  # Initializers and batch dims do not apply to draws.
    rng = np.random.RandomState(4)
    return (tf.constant(rng.randn(3, *kernel_shape), dtype),
            tf.constant(rng.randn(3, *bias_shape), dtype))

  layer = tfn.Affine(5, 10, make_kernel_bias_fn=three_samples)
  x = np.random.RandomState(1).randn(4, 1, 5).astype(np.float32)
  y = layer(x)
  assert y.shape == (4, 3, 10)
  np.testing.assert_allclose(
      y[:, 1], x[:, 0] @ layer.kernel[1].numpy() + layer.bias[1], rtol=1e-5,
      atol=1e-5)
  mixture = tfn.Affine(5, 10, make_kernel_bias_fn=three_samples,
                       batch_shape=6)
  assert mixture(x[:, :, None]).shape == (4, 3, 6, 10)


def test_unbatched_affine_is_one_2d_matmul():
  layer = tfn.Affine(3, 2)
  graph = tf.function(layer).get_concrete_function(
      tf.TensorSpec([None, 4, 3])).graph
  ops = [op.type for op in graph.get_operations()]
  assert ops.count('MatMul') == 1 and 'BatchMatMulV2' not in ops


@pytest.mark.parametrize('cls', [tfn.Affine] + ESTIMATORS)
def test_sizes_are_the_first_two_constructor_arguments(cls):
  layer = cls(3, 2)
  assert (layer.input_size, layer.output_size) == (3, 2)
  with pytest.raises(ValueError, match=f'{cls.__name__}.*output_size'):
    cls(3, 0)
