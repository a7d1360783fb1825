"""Laplace approximations of trained Keras 3 and `tfnx.Sequential` models.

`tfnx.laplace.Laplace(model, ...)`: fit the curvature of the trained weights
in one pass, choose the prior by the marginal likelihood, predict by the
linearized network (docs/laplace.md).
"""

from tfnx.laplace.laplace import DEFAULT_TEMPERATURE
from tfnx.laplace.laplace import LIKELIHOODS
from tfnx.laplace.laplace import Laplace
from tfnx.laplace.laplace import STRUCTURES

__all__ = ['DEFAULT_TEMPERATURE', 'LIKELIHOODS', 'Laplace', 'STRUCTURES']
