"""tfnx: Bayesian neural-network layers for TensorFlow 2, fast and reproducible.

A drop-in for `tfp.experimental.nn`: write `import tfnx as tfn` where you wrote
`tfn = tfp.experimental.nn`.
"""

from tfnx import initializers
from tfnx import losses
from tfnx import metrics
from tfnx import predictive
from tfnx import util
from tfnx.affine import Affine
from tfnx.affine import AffineVariationalFlipout
from tfnx.affine import AffineVariationalReparameterization
from tfnx.affine import AffineVariationalReparameterizationLocal
from tfnx.layers import Layer
from tfnx.layers import Sequential
from tfnx.variational import VariationalLayer

__version__ = '0.1.0'

__all__ = [
    'Affine',
    'AffineVariationalFlipout',
    'AffineVariationalReparameterization',
    'AffineVariationalReparameterizationLocal',
    'Layer',
    'Sequential',
    'VariationalLayer',
    'initializers',
    'losses',
    'metrics',
    'predictive',
    'util',
]
