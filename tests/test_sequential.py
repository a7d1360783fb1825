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


def test_summary_lists_layers_with_parameter_counts():
  text = _model().summary()
  assert 'AffineVariationalFlipout' in text and 'relu' in text
  # Flipout 3->8: loc and scale of 24 kernel and 8 bias weights = 64.
  assert '64' in text.splitlines()[2]
  # Plus reparameterization 8->4 (2 * (32 + 4)) and affine 4->2 (8 + 2).
  assert 'trainable parameters: 146' in text


def test_empty_and_non_callable_layers_are_clear_errors():
  with pytest.raises(ValueError, match='at least one layer'):
    tfn.Sequential([])
  with pytest.raises(TypeError, match='layer 1 is not callable'):
    tfn.Sequential([tf.nn.relu, 3])


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
