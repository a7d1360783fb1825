"""The dense and convolution families' arguments, shapes, input specs and layouts, once for every Keras layer kind.

`DenseShapes` and `ConvolutionShapes` are mixins of a Keras layer: the
variational layers (`_dense`, `_conv`) and the rank-1 and BatchEnsemble
layers (`_rank1`) take their geometry from here, and add their own weights.
Each sets `self._linear_map` to the family's `tfnx.linear_maps.LinearMap`.
"""

from typing import Any, Sequence, Tuple

import keras

from tfnx import _checks as checks
from tfnx import _convolution_args as conv_lib
from tfnx import linear_maps
from tfnx._convolution_geometry import ConvolutionGeometry

__all__ = ['DenseShapes', 'ConvolutionShapes']


class DenseShapes:
  """A dense family's shapes: `[batch, ..., in]` to `[batch, ..., units]`."""

  def _init_dense(self, units: int) -> None:
    self.units = checks.check_size(self.name, 'units', units)
    self._linear_map = linear_maps.dense

  def _in_channels(self, input_shape: Tuple) -> int:
    return checks.dense_input_size(self.name, input_shape)

  def _out_channels(self) -> int:
    return self.units

  def _kernel_shape(self, in_channels: int) -> Sequence[int]:
    return [in_channels, self.units]

  def _make_input_spec(self, input_shape: Tuple) -> keras.layers.InputSpec:
    return keras.layers.InputSpec(min_ndim=2,
                                  axes={-1: self._in_channels(input_shape)})

  def compute_output_shape(self, input_shape: Tuple) -> Tuple:
    """`input_shape` with its last axis replaced by `units`."""
    self._in_channels(tuple(input_shape))
    return tuple(input_shape)[:-1] + (self.units,)

  def _to_map_layout(self, x: Any) -> Tuple[Any, Any]:
    return x, None

  def _from_map_layout(self, y: Any, restore: Any, x: Any) -> Any:
    del restore, x  # Nothing to undo here.
    return y

  def _geometry_config(self) -> dict:
    return {'units': self.units}


class ConvolutionShapes:
  """A convolution family's arguments and shapes, on `ConvolutionGeometry`.

  The class sets `_rank`; channels-first inputs are brought to the map's
  channels-last layout and back.
  """

  _rank = None

  def _init_convolution(self, filters: int, kernel_size: Any, strides: Any,
                        padding: str, data_format: str,
                        dilation_rate: Any) -> None:
    self.rank = self._rank
    self.filters = checks.check_size(self.name, 'filters', filters)
    # Checked under the Keras names first, so errors say what users wrote.
    kernel_size = conv_lib.int_tuple(kernel_size, self.rank, 'kernel_size',
                                     self.name)
    dilation_rate = conv_lib.int_tuple(dilation_rate, self.rank,
                                       'dilation_rate', self.name)
    self._geometry = ConvolutionGeometry.create(
        self.name, self.rank, kernel_size, strides, padding, dilation_rate,
        data_format)
    self.kernel_size = self._geometry.filter_shape
    self.strides = self._geometry.strides
    self.padding = self._geometry.padding.lower()
    self.data_format = self._geometry.data_format
    self.dilation_rate = self._geometry.dilations
    self._linear_map = self._geometry.linear_map()

  @property
  def _channel_axis(self) -> int:
    return 1 if self.data_format == 'channels_first' else -1

  def _in_channels(self, input_shape: Tuple) -> int:
    if (len(input_shape) != self.rank + 2
        or input_shape[self._channel_axis] is None):
      raise ValueError(
          f'{self.name}: expected inputs of rank {self.rank + 2} '
          f'({self.data_format}) with a known channel axis; received shape '
          f'{input_shape}.')
    return int(input_shape[self._channel_axis])

  def _out_channels(self) -> int:
    return self.filters

  def _kernel_shape(self, in_channels: int) -> Sequence[int]:
    return self._geometry.kernel_shape(in_channels, self.filters)

  def _make_input_spec(self, input_shape: Tuple) -> keras.layers.InputSpec:
    return keras.layers.InputSpec(
        ndim=self.rank + 2,
        axes={self._channel_axis: self._in_channels(input_shape)})

  def _to_map_layout(self, x):
    return self._geometry.to_map_layout(x)

  def _from_map_layout(self, y, restore, x):
    return self._geometry.from_map_layout(y, restore, x)

  def compute_output_shape(self, input_shape: Tuple) -> Tuple:
    """The outputs' shape: spatial axes convolved, channels `filters`."""
    input_shape = tuple(input_shape)
    self._in_channels(input_shape)
    first = self.data_format == 'channels_first'
    spatial = input_shape[2:] if first else input_shape[1:-1]
    out = self._geometry.output_spatial_shape(spatial)
    if first:
      return (input_shape[0], self.filters) + out
    return (input_shape[0],) + out + (self.filters,)

  def _geometry_config(self) -> dict:
    return {'filters': self.filters, 'kernel_size': self.kernel_size,
            'strides': self.strides, 'padding': self.padding,
            'data_format': self.data_format,
            'dilation_rate': self.dilation_rate}
