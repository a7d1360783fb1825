"""`tf.train.Checkpoint` save and restore."""

import numpy as np
import pytest
import tensorflow as tf

from conformance import cases


@pytest.mark.parametrize('case', cases.params(cases.CASES))
def test_restored_layer_gives_bit_identical_outputs(case, tmp_path):
  layer = case.build()
  x = cases.inputs(case)
  expected = cases.call(layer, x)
  path = tf.train.Checkpoint(layer=layer).save(str(tmp_path / 'ckpt'))
  fresh = case.build(**({'seed': 99} if case.variational else {}))
  assert not np.array_equal(cases.call(fresh, x), expected)
  tf.train.Checkpoint(layer=fresh).restore(path).assert_consumed()
  np.testing.assert_array_equal(cases.call(fresh, x), expected)


@pytest.mark.parametrize('case', cases.params(cases.VARIATIONAL))
def test_restore_carries_the_unseeded_stream_position(case, tmp_path):
  layer = case.build()
  x = cases.inputs(case)
  layer(x)
  path = tf.train.Checkpoint(layer=layer).save(str(tmp_path / 'ckpt'))
  expected = layer(x)
  fresh = case.build(seed=99)
  tf.train.Checkpoint(layer=fresh).restore(path).assert_consumed()
  np.testing.assert_array_equal(fresh(x), expected)


def test_restoring_into_a_differently_shaped_module_is_a_clear_error(tmp_path):
  import tfnx as tfn  # pylint: disable=g-import-not-at-top
  layer = tfn.AffineVariationalFlipout(4, 3, name='source')
  path = tf.train.Checkpoint(layer=layer).save(str(tmp_path / 'ckpt'))
  other = tfn.AffineVariationalFlipout(5, 3, name='target')
  with pytest.raises(ValueError,
                     match=r'shape \(4, 3\).*shape \(5, 3\).*target/'):
    tf.train.Checkpoint(layer=other).restore(path)


def test_restoring_into_a_differently_shaped_keras_layer_is_a_clear_error(
    tmp_path):
  import tfnx.keras as tfpl  # pylint: disable=g-import-not-at-top
  layer = tfpl.DenseFlipout(3, name='source')
  layer.build((None, 4))
  path = tf.train.Checkpoint(layer=layer).save(str(tmp_path / 'ckpt'))
  other = tfpl.DenseFlipout(3, name='target')
  other.build((None, 5))
  with pytest.raises(ValueError, match=r'shape \(4, 3\).*shape \(5, 3\)'):
    tf.train.Checkpoint(layer=other).restore(path)
