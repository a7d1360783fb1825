"""The convolutional variational Keras layers: `tfp.layers`' `Convolution{1,2,3}D{Reparameterization,Flipout}`.

They are `KerasVariationalLayer`s whose shapes, linear map
(`tfnx.linear_maps.convolution`) and layouts come from one
`tfnx._convolution_geometry.ConvolutionGeometry`, as for the `tf.Module`
convolutions; channels-first inputs are brought to the map's channels-last
layout and back. `Conv1DFlipout` and the like are aliases,
as in `tfp.layers`.
"""

import textwrap
from typing import Any, Sequence, Tuple

import keras

from tfnx import estimators as estimators_lib
from tfnx import _checks as checks
from tfnx._convolution_geometry import ConvolutionGeometry
from tfnx.keras import _naming as naming
from tfnx.keras import _variational as variational
from tfnx import _convolution_args as conv_lib
from tfnx.keras._export import export

__all__ = [
    'Convolution1DReparameterization', 'Convolution2DReparameterization',
    'Convolution3DReparameterization', 'Convolution1DFlipout',
    'Convolution2DFlipout', 'Convolution3DFlipout',
    'Conv1DReparameterization', 'Conv2DReparameterization',
    'Conv3DReparameterization', 'Conv1DFlipout', 'Conv2DFlipout',
    'Conv3DFlipout']


class _ConvVariational(variational.KerasVariationalLayer):
  """The convolution layers' arguments, shapes, linear map and layout."""

  _rank = None

  def __init__(self, filters: int, kernel_size: Any, strides: Any = 1,
               padding: str = 'valid', data_format: str = 'channels_last',
               dilation_rate: Any = 1, *args, **kwargs):
    class_name = type(self).__name__
    if kwargs.get('name') is None and class_name.startswith('Convolution'):
      # TFP's class is `Conv2DFlipout`, `Convolution2DFlipout` its alias.
      kwargs['name'] = naming.default_name(
          'Conv' + class_name[len('Convolution'):])
    super().__init__(*args, **kwargs)
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

  def _weight_shapes(self, input_shape: Tuple) -> Tuple[Sequence[int],
                                                        Sequence[int]]:
    kernel_shape = self._geometry.kernel_shape(
        self._in_channels(input_shape), self.filters)
    return kernel_shape, [self.filters]

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
    if self.data_format == 'channels_first':
      spatial = input_shape[2:]
    else:
      spatial = input_shape[1:-1]
    out = self._geometry.output_spatial_shape(spatial)
    if self.data_format == 'channels_first':
      return (input_shape[0], self.filters) + out
    return (input_shape[0],) + out + (self.filters,)

  def _geometry_config(self) -> dict:
    return {'filters': self.filters, 'kernel_size': self.kernel_size,
            'strides': self.strides, 'padding': self.padding,
            'data_format': self.data_format,
            'dilation_rate': self.dilation_rate}


def _doc(rank: int, estimator: estimators_lib.Estimator) -> str:
  spatial = ('length', 'height, width', 'depth, height, width')[rank - 1]
  details = textwrap.fill(estimator.summary, 76, subsequent_indent='  ')
  how = estimator.label
  return f"""A {rank}-D convolution with a variational posterior, by {how}.

  {details}

  Inputs of shape `[batch, {spatial}, channels]` (`channels_last`) or
  `[batch, channels, {spatial}]` (`channels_first`) give outputs with
  `filters` channels; the KL terms go to `losses` (see
  `KerasVariationalLayer`).

  Args:
    filters: the number of output channels.
    kernel_size: an int or {rank} ints, the convolution window.
    strides: an int or {rank} ints; strides above 1 exclude dilation rates
      above 1.
    padding: `'valid'` or `'same'` (any case).
    data_format: `'channels_last'` (default) or `'channels_first'`.
    dilation_rate: an int or {rank} ints.
    **kwargs: those of every variational layer of `tfnx.keras`, documented
      once on their base class, `KerasVariationalLayer`.
  """


@export
class Convolution1DReparameterization(_ConvVariational):
  __doc__ = _doc(1, estimators_lib.REPARAMETERIZATION)
  _rank = 1
  _estimator = estimators_lib.REPARAMETERIZATION


@export
class Convolution2DReparameterization(_ConvVariational):
  __doc__ = _doc(2, estimators_lib.REPARAMETERIZATION)
  _rank = 2
  _estimator = estimators_lib.REPARAMETERIZATION


@export
class Convolution3DReparameterization(_ConvVariational):
  __doc__ = _doc(3, estimators_lib.REPARAMETERIZATION)
  _rank = 3
  _estimator = estimators_lib.REPARAMETERIZATION


@export
class Convolution1DFlipout(_ConvVariational):
  __doc__ = _doc(1, estimators_lib.FLIPOUT)
  _rank = 1
  _estimator = estimators_lib.FLIPOUT


@export
class Convolution2DFlipout(_ConvVariational):
  __doc__ = _doc(2, estimators_lib.FLIPOUT)
  _rank = 2
  _estimator = estimators_lib.FLIPOUT


@export
class Convolution3DFlipout(_ConvVariational):
  __doc__ = _doc(3, estimators_lib.FLIPOUT)
  _rank = 3
  _estimator = estimators_lib.FLIPOUT


def _alias(cls: type) -> type:
  """`cls`, exported under `tfp.layers`' short name too (`Conv2DFlipout`)."""
  return export(cls, name=cls.__name__.replace('Convolution', 'Conv'),
                serializable=False)


Conv1DReparameterization = _alias(Convolution1DReparameterization)
Conv2DReparameterization = _alias(Convolution2DReparameterization)
Conv3DReparameterization = _alias(Convolution3DReparameterization)
Conv1DFlipout = _alias(Convolution1DFlipout)
Conv2DFlipout = _alias(Convolution2DFlipout)
Conv3DFlipout = _alias(Convolution3DFlipout)
