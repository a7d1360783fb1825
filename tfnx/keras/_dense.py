"""The dense variational Keras layers: `tfp.layers`' `DenseReparameterization`, `DenseFlipout` and `DenseLocalReparameterization`.

They are `KerasVariationalLayer`s whose linear map is
`tfnx.linear_maps.dense`, applied to inputs of shape `[..., input_size]`.
"""

from typing import Sequence, Tuple

import keras

from tfnx import estimators as estimators_lib
from tfnx import _checks as checks
from tfnx import linear_maps
from tfnx.keras import _variational as variational
from tfnx.keras._export import export

__all__ = ['DenseReparameterization', 'DenseFlipout',
           'DenseLocalReparameterization']


class _DenseVariational(variational.KerasVariationalLayer):
  """The dense layers' shapes, linear map and configuration."""

  def __init__(self, units: int, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self.units = checks.check_size(self.name, 'units', units)
    self._linear_map = linear_maps.dense

  def _input_size(self, input_shape: Tuple) -> int:
    return checks.dense_input_size(self.name, input_shape)

  def _weight_shapes(self, input_shape: Tuple) -> Tuple[Sequence[int],
                                                        Sequence[int]]:
    return [self._input_size(input_shape), self.units], [self.units]

  def _make_input_spec(self, input_shape: Tuple) -> keras.layers.InputSpec:
    return keras.layers.InputSpec(
        min_ndim=2, axes={-1: self._input_size(input_shape)})

  def compute_output_shape(self, input_shape: Tuple) -> Tuple:
    """`input_shape` with its last axis replaced by `units`."""
    self._input_size(tuple(input_shape))
    return tuple(input_shape)[:-1] + (self.units,)

  def _geometry_config(self) -> dict:
    return {'units': self.units}


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
