"""tfnx: Bayesian neural-network layers for TensorFlow 2, fast and reproducible.

A drop-in for `tfp.experimental.nn`: write `import tfnx as tfn` where you wrote
`tfn = tfp.experimental.nn`.
"""

from tfnx import calibration
from tfnx import conversion
from tfnx import distributions
from tfnx import estimators
from tfnx import initializers
from tfnx import linear_maps
from tfnx import rank1
from tfnx import losses
from tfnx import metrics
from tfnx import predictive
from tfnx import seeds
from tfnx import util
from tfnx._affine import Affine
from tfnx._affine import AffineVariationalFlipout
from tfnx._affine import AffineVariationalReparameterization
from tfnx._affine import AffineVariationalReparameterizationLocal
from tfnx._convolution import Convolution
from tfnx._convolution import ConvolutionVariationalFlipout
from tfnx._convolution import ConvolutionVariationalReparameterization
from tfnx._convolution_transpose import ConvolutionTranspose
from tfnx._convolution_transpose import ConvolutionTransposeVariationalFlipout
from tfnx._convolution_transpose import (
    ConvolutionTransposeVariationalReparameterization)
from tfnx._convolution_v2 import ConvolutionV2
from tfnx._convolution_v2 import ConvolutionVariationalFlipoutV2
from tfnx._convolution_v2 import ConvolutionVariationalReparameterizationV2
from tfnx._layers import KernelBiasLayer
from tfnx._rank1_layers import AffineRank1
from tfnx._rank1_layers import ConvolutionRank1
from tfnx._rank1_layers import ConvolutionTransposeRank1
from tfnx._layers import Layer
from tfnx._layers import Sequential
from tfnx._variational import VariationalFlipoutKernelBiasLayer
from tfnx._variational import VariationalLayer
from tfnx._variational import (
    VariationalLocalReparameterizationKernelBiasLayer)
from tfnx._variational import VariationalReparameterizationKernelBiasLayer

# TFP's `tfn.util.to_variational`: `tfnx.util` holds the leaves the layers
# import, and conversion sits above the layers (docs/layout.md).
util.to_variational = conversion.to_variational

__version__ = '0.1.0'

__all__ = [
    'Affine',
    'AffineRank1',
    'AffineVariationalFlipout',
    'AffineVariationalReparameterization',
    'AffineVariationalReparameterizationLocal',
    'Convolution',
    'ConvolutionRank1',
    'ConvolutionTranspose',
    'ConvolutionTransposeRank1',
    'ConvolutionTransposeVariationalFlipout',
    'ConvolutionTransposeVariationalReparameterization',
    'ConvolutionV2',
    'ConvolutionVariationalFlipout',
    'ConvolutionVariationalFlipoutV2',
    'ConvolutionVariationalReparameterization',
    'ConvolutionVariationalReparameterizationV2',
    'KernelBiasLayer',
    'Layer',
    'Sequential',
    'VariationalFlipoutKernelBiasLayer',
    'VariationalLayer',
    'VariationalLocalReparameterizationKernelBiasLayer',
    'VariationalReparameterizationKernelBiasLayer',
    'calibration',
    'conversion',
    'distributions',
    'estimators',
    'rank1',
    'initializers',
    'linear_maps',
    'losses',
    'metrics',
    'predictive',
    'seeds',
    'util',
]
