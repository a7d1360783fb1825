"""The dense variational Keras layers: `tfp.layers`' `DenseReparameterization`, `DenseFlipout` and `DenseLocalReparameterization`.

They are `KerasVariationalLayer`s whose linear map is
`tfnx.linear_maps.dense`, applied to inputs of shape `[..., input_size]`.
"""

from typing import Sequence, Tuple

from tfnx import estimators as estimators_lib
from tfnx.keras import _shapes as shapes
from tfnx.keras import _variational as variational
from tfnx.keras._export import export

__all__ = ['DenseReparameterization', 'DenseFlipout',
           'DenseLocalReparameterization']


class _DenseVariational(shapes.DenseShapes,
                        variational.KerasVariationalLayer):
  """The dense layers' shapes, linear map and configuration."""

  def __init__(self, units: int, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self._init_dense(units)

  def _weight_shapes(self, input_shape: Tuple) -> Tuple[Sequence[int],
                                                        Sequence[int]]:
    return [self._in_channels(input_shape), self.units], [self.units]


@export
class DenseReparameterization(_DenseVariational):
  """A dense layer with a variational posterior, by reparameterization.

  Each call draws one kernel and bias from the posterior for the whole batch:
  `activation(x @ kernel + bias)` (Kingma and Welling, 2014).

  Inputs `[batch, ..., input_size]` give outputs `[batch, ..., units]`.

  Args:
    units: the size of the outputs' last axis.
    **kwargs: those of every variational layer of `tfnx.keras`, documented
      once on their base class, `KerasVariationalLayer`.
  """

  _estimator = estimators_lib.REPARAMETERIZATION


@export
class DenseFlipout(_DenseVariational):
  """A dense layer with a variational posterior, by Flipout.

  Flipout (Wen et al., 2018) adds to the posterior-mean output one kernel
  perturbation shared by the batch and decorrelated per example by random
  sign flips, so each example sees its own kernel sample, at the cost of two
  matmuls. Needs an elementwise normal kernel posterior.

  Inputs `[batch, ..., input_size]` give outputs `[batch, ..., units]`.

  Args:
    units: the size of the outputs' last axis.
    **kwargs: those of every variational layer of `tfnx.keras`, documented
      once on their base class, `KerasVariationalLayer`.
  """

  _estimator = estimators_lib.FLIPOUT


@export
class DenseLocalReparameterization(_DenseVariational):
  """A dense layer with a variational posterior, by local reparameterization.

  Each pre-activation is drawn from its exact marginal under the posterior,
  `N(x @ mu, x**2 @ sigma**2)` plus the bias (Kingma et al., 2015); no kernel
  is drawn. Needs an elementwise normal kernel posterior.

  Inputs `[batch, ..., input_size]` give outputs `[batch, ..., units]`.

  Args:
    units: the size of the outputs' last axis.
    **kwargs: those of every variational layer of `tfnx.keras`, documented
      once on their base class, `KerasVariationalLayer`.
  """

  _estimator = estimators_lib.LOCAL_REPARAMETERIZATION
