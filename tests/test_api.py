"""`import tfnx as tfn` works where users wrote `tfn = tfp.experimental.nn`."""

import inspect
import pathlib

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx as tfn

tfp_nn = tfp.experimental.nn

DENSE = ['Affine', 'AffineVariationalFlipout',
         'AffineVariationalReparameterization',
         'AffineVariationalReparameterizationLocal']


def _parameters(fn):
  return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()
          if p.kind is not p.KEYWORD_ONLY]


@pytest.mark.parametrize('name', DENSE)
def test_dense_constructors_take_tfp_argument_names_in_order(name):
  ours = [n for n, _ in _parameters(getattr(tfn, name).__init__)]
  theirs = [n for n, _ in _parameters(getattr(tfp_nn, name).__init__)]
  assert ours == theirs


@pytest.mark.parametrize('name', DENSE)
def test_dense_constructors_keep_tfp_plain_defaults(name):
  ours = dict(_parameters(getattr(tfn, name).__init__))
  for arg, default in _parameters(getattr(tfp_nn, name).__init__):
    if default is None or isinstance(default, (bool, int, str, tuple)):
      assert ours[arg] == default, arg


def test_variational_layers_take_a_keyword_divergence_fn():
  params = inspect.signature(tfn.AffineVariationalFlipout).parameters
  assert params['divergence_fn'].kind is inspect.Parameter.KEYWORD_ONLY
  assert params['divergence_fn'].default is None


@pytest.mark.parametrize('module, names', [
    (tfn, ['Layer', 'Sequential', 'VariationalLayer', 'util', 'initializers',
           'losses', 'metrics', 'predictive'] + DENSE),
    (tfn.util, ['make_kernel_bias', 'make_kernel_bias_posterior_mvn_diag',
                'make_kernel_bias_prior_spike_and_slab',
                'make_kernel_bias_prior_normal', 'unpack_kernel_and_bias',
                'flatten_rightmost', 'make_fit_op', 'tune_dataset',
                'variables_summary']),
    (tfn.initializers, ['glorot_uniform', 'glorot_normal', 'he_uniform',
                        'he_normal']),
    (tfn.losses, ['kl_divergence_monte_carlo', 'kl_divergence_exact',
                  'negloglik', 'compute_extra_loss', 'negative_elbo']),
    (tfn.metrics, ['negative_log_likelihood', 'expected_calibration_error',
                   'calibration_bins', 'predictive_entropy']),
    (tfn.predictive, ['sample_outputs', 'class_probabilities',
                      'mean_and_stddev', 'pass_seed']),
])
def test_public_names_exist(module, names):
  missing = [n for n in names if not hasattr(module, n)]
  assert not missing


@pytest.mark.parametrize('name', ['make_kernel_bias',
                                  'make_kernel_bias_posterior_mvn_diag',
                                  'make_kernel_bias_prior_spike_and_slab'])
def test_builders_take_tfp_argument_names(name):
  ours = [n for n, _ in _parameters(getattr(tfn.util, name))]
  theirs = [n for n, _ in _parameters(getattr(tfp_nn.util, name))]
  assert ours == theirs


def test_layer_base_takes_tfp_arguments():
  assert [n for n, _ in _parameters(tfn.Layer.__init__)] == [
      n for n, _ in _parameters(tfp_nn.Layer.__init__)]
  layer = tfn.Affine(2, 1)
  assert layer.also_track == [] and layer.validate_args is False


def test_variational_layer_exposes_tfp_properties():
  for prop in ['posterior', 'prior', 'posterior_value', 'posterior_value_fn',
               'unpack_weights_fn', 'activation_fn', 'dtype',
               'kernel_posterior', 'kernel_prior', 'bias_posterior',
               'bias_prior', 'losses', 'extra_loss']:
    assert isinstance(getattr(tfn.VariationalLayer, prop), property), prop


def test_no_tfnx_module_imports_tf_keras():
  root = pathlib.Path(tfn.__file__).parent
  offenders = [str(p) for p in root.rglob('*.py')
               if 'tf_keras' in p.read_text()]
  assert not offenders


@pytest.mark.parametrize('path', ['', 'util', 'initializers', 'losses'])
def test_every_public_tfp_nn_name_exists_under_the_same_path(path):
  theirs = tfp_nn if not path else getattr(tfp_nn, path)
  ours = tfn if not path else getattr(tfn, path)
  public = {n for n in dir(theirs) if not n.startswith('_')}
  assert not {n for n in public if not hasattr(ours, n)}


@pytest.mark.parametrize('name', ['tfcompile', 'variables_save',
                                  'variables_load', 'trace', 'display_imgs',
                                  'expand_dims', 'halflife_decay',
                                  'batchify_op', 'make_fit_op',
                                  'tune_dataset', 'variables_summary'])
def test_util_functions_take_tfp_arguments_in_order(name):
  assert _parameters(getattr(tfn.util, name)) == _parameters(
      getattr(tfp_nn.util, name))


@pytest.mark.parametrize('name', ['RandomVariable', 'CallOnce'])
def test_util_classes_take_tfp_arguments_in_order(name):
  ours = [n for n, _ in _parameters(getattr(tfn.util, name).__init__)]
  assert ours == [n for n, _ in _parameters(
      getattr(tfp_nn.util, name).__init__)]


def test_layer_save_load_and_sequential_set_trace_exist():
  for method in ['save', 'load', 'summary']:
    assert callable(getattr(tfn.Layer, method))
  assert callable(tfn.Sequential.set_trace)
  params = inspect.signature(tfn.losses.compute_extra_loss).parameters
  assert list(params) == ['layer', 'loss_fn']


@pytest.mark.parametrize('size', [np.int64(3), np.int32(3), 3])
def test_sizes_may_be_numpy_or_0d_tensor_integers(size):
  layer = tfn.AffineVariationalFlipout(size, tf.constant(2))
  assert layer(tf.ones([1, 3])).shape == (1, 2)


@pytest.mark.parametrize('size', [True, 3.0, 0, np.array([3]),
                                  tf.constant(3.)])
def test_sizes_that_are_not_positive_integers_are_clear_errors(size):
  with pytest.raises(ValueError, match='expected `input_size` to be a '
                     'positive int'):
    tfn.Affine(size, 2, name='sized')
