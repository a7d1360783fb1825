"""`import tfnx.keras as tfpl` works where users wrote `tfpl = tfp.layers`: the names, and the public boundary."""

import inspect
import pathlib
import re

import keras
import pytest
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


# Each class's default layer name as `tfp.layers` gives it (with tf_keras),
# and arguments to make one.
TFP_DEFAULT_NAMES = [
    ('conv1d_flipout', tfpl.Convolution1DFlipout, (2, 3)),
    ('conv2d_flipout', tfpl.Conv2DFlipout, (2, 3)),
    ('conv3d_flipout', tfpl.Convolution3DFlipout, (2, 3)),
    ('conv1d_reparameterization', tfpl.Conv1DReparameterization, (2, 3)),
    ('conv2d_reparameterization', tfpl.Convolution2DReparameterization,
     (2, 3)),
    ('conv3d_reparameterization', tfpl.Conv3DReparameterization, (2, 3)),
    ('dense_flipout', tfpl.DenseFlipout, (2,)),
    ('dense_reparameterization', tfpl.DenseReparameterization, (2,)),
    ('dense_local_reparameterization', tfpl.DenseLocalReparameterization,
     (2,)),
    ('dense_variational', tfpl.DenseVariational,
     (2, tfpl.default_mean_field_normal_fn(),
      tfpl.default_mean_field_normal_fn())),
    ('variable_layer', tfpl.VariableLayer, (2,)),
    ('distribution_lambda', tfpl.DistributionLambda,
     (lambda t: tfp.distributions.Normal(t, 1.),)),
    ('independent_normal', tfpl.IndependentNormal, ()),
    ('independent_logistic', tfpl.IndependentLogistic, ()),
    ('independent_bernoulli', tfpl.IndependentBernoulli, ()),
    ('independent_poisson', tfpl.IndependentPoisson, ()),
    ('multivariate_normal_tri_l', tfpl.MultivariateNormalTriL, (2,)),
    ('one_hot_categorical', tfpl.OneHotCategorical, (2,)),
    ('categorical_mixture_of_one_hot_categorical',
     tfpl.CategoricalMixtureOfOneHotCategorical, (2, 2)),
    ('mixture_same_family', tfpl.MixtureSameFamily,
     (2, tfpl.IndependentNormal())),
    ('mixture_normal', tfpl.MixtureNormal, (2,)),
    ('mixture_logistic', tfpl.MixtureLogistic, (2,)),
    ('kl_divergence_add_loss', tfpl.KLDivergenceAddLoss,
     (tfp.distributions.Normal(0., 1.),)),
]


@pytest.mark.parametrize('name, cls, args', TFP_DEFAULT_NAMES)
def test_default_layer_names_are_tfp_layers_names(name, cls, args):
  keras.backend.clear_session()
  assert cls(*args).name == name
  assert cls(*args).name == f'{name}_1'
  assert cls(*args, name='mine').name == 'mine'
