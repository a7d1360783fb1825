"""Utilities for building and training tfnx networks: TFP's `nn.util` names.

The modules here are leaves the layers build on, so this package imports
nothing above `tfnx.linear_maps`. TFP's `to_variational` sits above the
layers, in `tfnx.conversion`; `tfnx/__init__.py` puts it in this namespace.
"""

from tfnx.util import _convolution_util
from tfnx.util import kernel_bias
from tfnx.util._convolution_util import im2row
from tfnx.util._convolution_util import im2row_index
from tfnx.util._convolution_util import make_convolution_fn
from tfnx.util._convolution_util import (
    make_convolution_transpose_fn_with_dilation)
from tfnx.util._convolution_util import (
    make_convolution_transpose_fn_with_subkernels)
from tfnx.util._convolution_util import (
    make_convolution_transpose_fn_with_subkernels_matrix)
from tfnx.util._convolution_util import prepare_conv_args
from tfnx.util._convolution_util import prepare_tuple_argument
from tfnx.util._display import display_imgs
from tfnx.util._display import trace
from tfnx.util.kernel_bias import make_kernel_bias
from tfnx.util.kernel_bias import make_kernel_bias_posterior_mvn_diag
from tfnx.util.kernel_bias import make_kernel_bias_prior_normal
from tfnx.util.kernel_bias import make_kernel_bias_prior_spike_and_slab
from tfnx.util.kernel_bias import make_rank1_posterior_normal
from tfnx.util.kernel_bias import make_rank1_prior_normal
from tfnx.util._random_variable import CallOnce
from tfnx.util._random_variable import RandomVariable
from tfnx.util._reshaping import batchify_op
from tfnx.util._reshaping import expand_dims
from tfnx.util._saving import variables_load
from tfnx.util._saving import variables_save
from tfnx.util._schedules import halflife_decay
from tfnx._shapes import flatten_rightmost
from tfnx.util._summary import variables_summary
from tfnx.util._training import make_fit_op
from tfnx.util._training import tfcompile
from tfnx.util._training import tune_dataset
from tfnx.util._weights import unpack_kernel_and_bias

# TFP's convolution utilities and weight builders, as their modules export
# them, and the rest of `tfp.experimental.nn.util`.
__all__ = _convolution_util.__all__ + kernel_bias.__all__ + [
    'CallOnce',
    'RandomVariable',
    'batchify_op',
    'display_imgs',
    'expand_dims',
    'flatten_rightmost',
    'halflife_decay',
    'make_fit_op',
    'tfcompile',
    'trace',
    'tune_dataset',
    'unpack_kernel_and_bias',
    'variables_load',
    'variables_save',
    'variables_summary',
    'to_variational',
]
