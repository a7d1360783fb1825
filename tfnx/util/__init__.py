"""Utilities for building and training tfnx networks."""

from tfnx.util.kernel_bias import make_kernel_bias
from tfnx.util.kernel_bias import make_kernel_bias_posterior_mvn_diag
from tfnx.util.kernel_bias import make_kernel_bias_prior_normal
from tfnx.util.kernel_bias import make_kernel_bias_prior_spike_and_slab
from tfnx.util.shapes import flatten_rightmost
from tfnx.util.summary import variables_summary
from tfnx.util.training import make_fit_op
from tfnx.util.training import tune_dataset
from tfnx.util.weights import unpack_kernel_and_bias
from tfnx.util.conversion import to_variational

__all__ = [
    'flatten_rightmost',
    'make_fit_op',
    'make_kernel_bias',
    'make_kernel_bias_posterior_mvn_diag',
    'make_kernel_bias_prior_normal',
    'make_kernel_bias_prior_spike_and_slab',
    'tune_dataset',
    'unpack_kernel_and_bias',
    'variables_summary',
    'to_variational',
]
