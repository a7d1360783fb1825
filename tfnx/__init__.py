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
from tfnx.layers import Layer
from tfnx.layers import Sequential
from tfnx.variational import VariationalLayer

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
    'ConvolutionVariationalFlipout',
    'ConvolutionVariationalReparameterization',
    'Layer',
    'Sequential',
    'VariationalLayer',
    'calibration',
    'initializers',
    'losses',
    'metrics',
    'predictive',
    'util',
]
