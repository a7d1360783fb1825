"""`Sequential`: composition, indexing, losses, summary, and end-to-end training."""

import numpy as np
import pytest
import tensorflow as tf

import tfnx as tfn


def _model():
  return tfn.Sequential([
      tfn.AffineVariationalFlipout(3, 8, name='a'),
      tf.nn.relu,
      lambda x: 2. * x,
      tfn.AffineVariationalReparameterization(8, 4, name='b'),
      tfn.Affine(4, 2, name='c'),
  ], name='model')


def test_mixes_tfnx_layers_and_plain_callables():
  model = _model()
  assert model(tf.ones([5, 3]), seed=1).shape == (5, 2)
  assert len(model.layers) == 5 and len(model) == 5


def test_indexing_and_slicing_return_sequentials():
  model = _model()
  head = model[:2]
  single = model[3]
  assert isinstance(head, tfn.Sequential) and isinstance(single, tfn.Sequential)
  assert head.layers == model.layers[:2]
  assert single.layers == (model.layers[3],)
  assert head(tf.ones([1, 3]), seed=1).shape == (1, 8)


def test_losses_flatten_every_variational_layer_kl_and_extra_loss_sums_them():
  model = _model()
  model(tf.ones([2, 3]), seed=3)
  a, b = model.layers[0], model.layers[3]
  assert len(model.losses) == 4
  for got, want in zip(model.losses, a.losses + b.losses):
    np.testing.assert_array_equal(got, want)
  np.testing.assert_allclose(model.extra_loss, sum(a.losses + b.losses),
                             rtol=1e-6)
  np.testing.assert_allclose(tfn.losses.compute_extra_loss(model),
                             model.extra_loss)
  np.testing.assert_allclose(tfn.losses.compute_extra_loss(a), a.extra_loss)


def test_summary_is_tfps_variables_table_and_returns_the_text():
  text = _model().summary()
  lines = text.splitlines()
  assert lines[0].startswith('=== model ===')
  assert lines[1].split() == ['SIZE', 'SHAPE', 'TRAIN', 'NAME']
  # Flipout 3->8 and reparameterization 8->4: loc and scale of each kernel
  # and bias weight (2 * (24 + 8) + 2 * (32 + 4)); affine 4->2: 8 + 2.
  assert lines[-1] == 'trainable size: 146  /  0.001 MiB  /  {float32: 146}'


def test_default_name_joins_the_layers_names_sanitized_as_tfp_does():
  model = tfn.Sequential([lambda x: x, tfn.Affine(2, 2, name='a'),
                          tf.nn.relu, None])
  assert model.name == 'lambda__a_relu_NoneType'
  assert repr(model) == '<Sequential: name=lambda__a_relu_NoneType>'


def test_names_with_characters_a_scope_cannot_hold_are_sanitized():
  assert tfn.Affine(2, 1, name='my-net').name == 'my_net'
  assert tfn.AffineVariationalFlipout(2, 1, name='--bnn 1').name == 'bnn_1'
  assert tfn.Sequential([tf.nn.relu], name='my net!').name == 'my_net'


class _TrainingAware(tfn.Layer):
  """Records the `training` flag it was called with."""

  def __call__(self, x, training=False):
    self.training = training
    return x + 1. if training else x


def test_keyword_arguments_reach_the_layers_that_take_them():
  aware = _TrainingAware()
  model = tfn.Sequential([tfn.AffineVariationalFlipout(2, 2, seed=1),
                          tf.nn.relu, aware])
  x = tf.ones([3, 2])
  trained = model(x, seed=5, training=True)
  assert aware.training is True
  # The seed still reaches the variational layer, which rejects `training`.
  np.testing.assert_array_equal(trained - 1., model(x, seed=5))
  assert aware.training is False


def test_training_reaches_keras_layers_that_take_it():
  model = tfn.Sequential([tf.keras.layers.MaxPooling2D(2),
                          tfn.util.flatten_rightmost(3),
                          tf.keras.layers.Dropout(0.5, seed=1)])
  x = tf.ones([8, 4, 4, 1])
  np.testing.assert_array_equal(model(x), tf.ones([8, 4]))
  dropped = model(x, training=True).numpy()
  assert set(np.unique(dropped)) == {0., 2.}


def test_none_layers_are_the_identity_and_a_callable_composes():
  model = tfn.Sequential([None, lambda x: 2. * x, None])
  np.testing.assert_array_equal(model(tf.ones([2])), [2., 2.])
  composed = model(lambda x: x + 1., name='composed')
  assert isinstance(composed, tfn.Sequential) and composed.name == 'composed'
  np.testing.assert_array_equal(composed(tf.ones([2])), [4., 4.])


def test_set_trace_prints_each_layers_output_shape(capsys):
  model = tfn.Sequential([tfn.Affine(3, 4, name='first'), tf.nn.relu])
  assert model.set_trace(True) is model
  model(tf.ones([2, 3]))
  lines = capsys.readouterr().out.splitlines()
  assert len(lines) == 3
  assert 'TRACE00' in lines[1] and 'first' in lines[1] and '[2, 4]' in lines[1]
  model.set_trace(False)(tf.ones([2, 3]))
  assert not capsys.readouterr().out


def test_an_error_inside_a_layer_names_the_layer():
  model = tfn.Sequential([tf.nn.relu, tfn.Affine(3, 1, name='head')],
                         name='net')
  with pytest.raises(ValueError) as info:
    model(tf.ones([2, 5]))
  assert 'In layer 1 (head) of net.' in info.value.__notes__


def test_save_and_load_restore_every_variable(tmp_path):
  model, other = _model(), _model()
  x = tf.ones([2, 3])
  model.save(str(tmp_path / 'model.npz'))
  other.load(str(tmp_path / 'model.npz'))
  for a, b in zip(model.variables, other.variables):
    np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(model(x, seed=4), other(x, seed=4))
  layer = tfn.Affine(3, 2)
  layer.save(str(tmp_path / 'layer'))
  copy = tfn.Affine(3, 2)
  copy.load(str(tmp_path / 'layer.npz'))
  np.testing.assert_array_equal(copy.kernel, layer.kernel)
  with pytest.raises(ValueError, match='expected 2 arrays'):
    copy.load(str(tmp_path / 'model.npz'))


def test_empty_and_non_callable_layers_are_clear_errors():
  with pytest.raises(ValueError, match='at least one layer'):
    tfn.Sequential([])
  with pytest.raises(TypeError, match='layer 1 is not callable'):
    tfn.Sequential([tf.nn.relu, 3])


@pytest.mark.slow
def test_three_layer_mixed_estimator_network_regresses_a_linear_function():
  rng = np.random.RandomState(0)
  w = rng.randn(4, 1).astype(np.float32)
  x = rng.randn(512, 4).astype(np.float32)
  y = x @ w + 0.5
  model = tfn.Sequential([
      tfn.AffineVariationalFlipout(4, 16, activation_fn=tf.nn.relu, seed=1),
      tfn.AffineVariationalReparameterizationLocal(16, 16,
                                                   activation_fn=tf.nn.relu,
                                                   seed=2),
      tfn.AffineVariationalReparameterization(16, 1, seed=3),
  ])
  optimizer = tf.keras.optimizers.Adam(0.01)
  variables = model.trainable_variables

  @tf.function
  def step(xb, yb):
    with tf.GradientTape() as tape:
      pred = model(xb)
      nll = tf.reduce_mean(tf.square(pred - yb))
      loss = nll + model.extra_loss / len(x)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return nll

  for i in range(600):
    batch = slice((i * 64) % 512, (i * 64) % 512 + 64)
    step(x[batch], y[batch])
  mse = np.mean([np.mean((model(x).numpy() - y)**2) for _ in range(10)])
  assert mse < 0.05 * np.var(y), (mse, np.var(y))
