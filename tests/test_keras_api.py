"""`import tfnx.keras as tfpl` works where users wrote `tfpl = tfp.layers`: the names, and the public boundary."""

import inspect
import pathlib
import re

import keras
import tensorflow_probability as tfp

import tfnx.keras as tfpl

def _tfp_layers_names():
  # Read, not imported: importing `tfp.layers` needs `tf_keras`.
  init = (pathlib.Path(tfp.__file__).parent / 'python' / 'layers' /
          '__init__.py').read_text()
  return set(re.findall(r'^from \S+ import (\w+)$', init, re.MULTILINE))


def test_every_tfp_layers_name_is_in_tfnx_keras():
  names = _tfp_layers_names()
  assert len(names) > 25
  assert not names - set(dir(tfpl)), sorted(names - set(dir(tfpl)))


def test_initializers_module_holds_blockwise_initializer_as_tfp_layers():
  assert tfpl.initializers.BlockwiseInitializer is tfpl.BlockwiseInitializer


def test_all_lists_the_public_names():
  public = {n for n in dir(tfpl) if not n.startswith('_')
            and not inspect.ismodule(getattr(tfpl, n))}
  assert public == set(tfpl.__all__) - {'util', 'initializers'}
  assert inspect.ismodule(tfpl.util)
  assert inspect.ismodule(tfpl.initializers)


def test_util_has_tfp_layers_util_builders():
  for name in ('default_loc_scale_fn', 'default_mean_field_normal_fn',
               'default_multivariate_normal_fn', 'serialize_function',
               'deserialize_function'):
    assert callable(getattr(tfpl.util, name))
  assert tfpl.util.default_mean_field_normal_fn is (
      tfpl.default_mean_field_normal_fn)


def test_layer_classes_are_keras_layers():
  for name in ('DenseVariational', 'VariableLayer', 'DistributionLambda',
               'IndependentNormal', 'KLDivergenceAddLoss'):
    assert issubclass(getattr(tfpl, name), keras.layers.Layer)


def test_util_serializes_and_loads_a_registered_function():
  loaded = tfpl.util.deserialize_function(
      tfpl.util.serialize_function(tfpl.default_multivariate_normal_fn))
  assert loaded is tfpl.default_multivariate_normal_fn
