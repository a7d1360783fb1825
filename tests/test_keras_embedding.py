"""The variational embedding of tfnx.keras."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import support
import tfnx.keras as tfpl
from tfnx.util import _weights as weights_lib

IDS = np.array([[1, 4, 1], [0, 4, 2]], np.int32)
NUM_CALLS = 2000


def _layer(**kwargs):
  kwargs.setdefault('seed', 3)
  layer = tfpl.EmbeddingReparameterization(5, 2, **kwargs)
  layer.build((None, 3))
  for variable in layer.trainable_variables:
    if 'untransformed_scale' in variable.path:
      variable.assign(tf.random.stateless_uniform(
          variable.shape, (1, 1), -1., 0.5))
  return layer


def test_each_row_has_its_posterior_moments_and_rows_are_independent():
  layer = _layer()
  loc, scale = (np.asarray(tf.convert_to_tensor(t))
                for t in weights_lib.normal_loc_scale(layer.kernel_posterior))
  call = tf.function(lambda s: layer(IDS, seed=s))
  y = np.stack([call(tf.constant([i, 5])).numpy() for i in range(NUM_CALLS)])
  n = len(y)
  np.testing.assert_array_less(np.abs(y.mean(0) - loc[IDS]),
                               5 * scale[IDS] / np.sqrt(n))
  np.testing.assert_array_less(np.abs(y.var(0) - scale[IDS]**2),
                               5 * scale[IDS]**2 * np.sqrt(2. / (n - 1)))
  # Rows 1 and 2 are drawn independently: uncorrelated.
  correlation = np.corrcoef(y[:, 0, 0, 0], y[:, 1, 2, 0])[0, 1]
  assert abs(correlation) < 5 / np.sqrt(n)


def test_a_repeated_id_gets_one_row_per_call():
  y = _layer()(IDS, seed=1).numpy()
  np.testing.assert_array_equal(y[0, 0], y[0, 2])
  np.testing.assert_array_equal(y[0, 1], y[1, 1])


def _ancestors(nodes, name):
  seen, stack = set(), [name]
  while stack:
    node = nodes[stack.pop().lstrip('^').split(':')[0]]
    if node.name not in seen:
      seen.add(node.name)
      stack.extend(node.input)
  return {nodes[n].op for n in seen}


def test_only_the_rows_looked_up_are_drawn():
  layer = tfpl.EmbeddingReparameterization(100_000, 4, seed=1)
  graph_def = support.trace(layer, IDS).graph.as_graph_def()
  nodes = {node.name: node for node in graph_def.node}
  # Seeds are split with int32 draws; the noise comes from other dtypes.
  draws = [n for n in graph_def.node if n.op.startswith('StatelessRandom')
           and 'KeyCounter' not in n.op
           and n.attr['dtype'].type != tf.int32.as_datatype_enum]
  assert draws
  # How many normals are drawn is computed from the ids, not from the
  # table's 400,000 elements.
  for draw in draws:
    assert 'Placeholder' in _ancestors(nodes, draw.input[0]), draw


def test_kl_is_the_closed_form_over_the_whole_table():
  layer = _layer()
  layer(IDS, seed=1)
  (kl,) = layer.losses
  np.testing.assert_allclose(
      kl, tfpl.kl_divergence(layer.kernel_posterior, layer.kernel_prior, None),
      rtol=1e-6)


def test_seeded_calls_are_bit_identical_eager_and_traced():
  layer = _layer()
  expected = layer(IDS, seed=7)
  np.testing.assert_array_equal(layer(IDS, seed=7), expected)
  np.testing.assert_array_equal(
      tf.function(lambda i: layer(i, seed=7))(IDS), expected)
  assert not np.array_equal(layer(IDS, seed=8), expected)
  assert not set(support.op_types(support.trace(layer, IDS))) & (
      support.STATEFUL_RANDOM_OPS)


def test_non_normal_posteriors_draw_the_whole_table():
  layer = tfpl.EmbeddingReparameterization(
      5, 2, kernel_posterior_fn=tfpl.default_mean_field_normal_fn(
          is_singular=True), kernel_prior_fn=None, seed=1)
  y = layer(IDS, seed=1)
  np.testing.assert_array_equal(
      y, tf.gather(layer.kernel_posterior.mean(), IDS))


def test_float64_tables_give_float64_embeddings():
  y = _layer(dtype='float64')(IDS, seed=1)
  assert y.dtype == tf.float64


def test_mask_zero_masks_padding_for_the_next_layer():
  layer = _layer(mask_zero=True)
  np.testing.assert_array_equal(layer.compute_mask(IDS), IDS != 0)
  assert _layer().compute_mask(IDS) is None


def test_saved_model_file_reloads_with_identical_seeded_outputs(tmp_path):
  inputs = keras.Input((3,), dtype='int32')
  model = keras.Model(inputs, _layer(mask_zero=True)(inputs))
  path = str(tmp_path / 'model.keras')
  model.save(path)
  loaded = keras.models.load_model(path)
  np.testing.assert_array_equal(loaded.layers[-1](IDS, seed=2),
                                model.layers[-1](IDS, seed=2))
  assert loaded.layers[-1].mask_zero


def test_ids_out_of_range_name_the_layer():
  layer = _layer(name='words')
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r'words: expected ids in \[0, 5\)'):
    layer(np.array([[5]]), seed=1)
  with pytest.raises(tf.errors.InvalidArgumentError, match='words'):
    layer(np.array([[-1]]), seed=1)


def test_bad_sizes_and_ids_name_the_layer():
  with pytest.raises(ValueError, match='words.*output_dim.*0'):
    tfpl.EmbeddingReparameterization(5, 0, name='words')
  with pytest.raises(TypeError, match='words.*integer ids'):
    _layer(name='words')(tf.constant([['a']]), seed=1)
