"""tfnx: Bayesian neural-network layers for TensorFlow 2, fast and reproducible.

A drop-in for `tfp.experimental.nn`: write `import tfnx as tfn` where you wrote
`tfn = tfp.experimental.nn`.
"""

from tfnx import calibration
from tfnx import distributions
from tfnx import initializers
from tfnx import losses
from tfnx import metrics
from tfnx import predictive
from tfnx import util
from tfnx.affine import Affine
from tfnx.affine import AffineVariationalFlipout
from tfnx.affine import AffineVariationalReparameterization
from tfnx.affine import AffineVariationalReparameterizationLocal
from tfnx.convolution import Convolution
from tfnx.convolution import ConvolutionVariationalFlipout
from tfnx.convolution import ConvolutionVariationalReparameterization
from tfnx.convolution_transpose import ConvolutionTranspose
from tfnx.convolution_transpose import ConvolutionTransposeVariationalFlipout
from tfnx.convolution_transpose import (
    ConvolutionTransposeVariationalReparameterization)
from tfnx.convolution_v2 import ConvolutionV2
from tfnx.convolution_v2 import ConvolutionVariationalFlipoutV2
from tfnx.convolution_v2 import ConvolutionVariationalReparameterizationV2
from tfnx.layers import KernelBiasLayer
from tfnx.layers import Layer
from tfnx.layers import Sequential
from tfnx.variational import VariationalFlipoutKernelBiasLayer
from tfnx.variational import VariationalLayer
from tfnx.variational import (
    VariationalLocalReparameterizationKernelBiasLayer)
from tfnx.variational import VariationalReparameterizationKernelBiasLayer

__version__ = '0.1.0'

__all__ = [
    'Affine',
    'AffineVariationalFlipout',
    'AffineVariationalReparameterization',
    'AffineVariationalReparameterizationLocal',
    'Convolution',
    'ConvolutionTranspose',
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
    'initializers',
    'losses',
    'metrics',
    'predictive',
    'util',
]
