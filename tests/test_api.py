"""`import tfnx as tfn` works where users wrote `tfn = tfp.experimental.nn`."""

import inspect
import pathlib

import pytest
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
