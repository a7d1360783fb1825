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

from tfnx import estimators as estimators_lib
from tfnx.keras import _naming as naming
from tfnx.keras import _shapes as shapes
from tfnx.keras import _variational as variational
from tfnx.keras._export import export

__all__ = [
    'Convolution1DReparameterization', 'Convolution2DReparameterization',
    'Convolution3DReparameterization', 'Convolution1DFlipout',
    'Convolution2DFlipout', 'Convolution3DFlipout',
    'Conv1DReparameterization', 'Conv2DReparameterization',
    'Conv3DReparameterization', 'Conv1DFlipout', 'Conv2DFlipout',
    'Conv3DFlipout']


class _ConvVariational(shapes.ConvolutionShapes,
                       variational.KerasVariationalLayer):
  """The convolution layers' arguments, shapes, linear map and layout."""

  def __init__(self, filters: int, kernel_size: Any, strides: Any = 1,
               padding: str = 'valid', data_format: str = 'channels_last',
               dilation_rate: Any = 1, *args, **kwargs):
    class_name = type(self).__name__
    if kwargs.get('name') is None and class_name.startswith('Convolution'):
      # TFP's class is `Conv2DFlipout`, `Convolution2DFlipout` its alias.
      kwargs['name'] = naming.default_name(
          'Conv' + class_name[len('Convolution'):])
    super().__init__(*args, **kwargs)
    self._init_convolution(filters, kernel_size, strides, padding,
                           data_format, dilation_rate)

  def _weight_shapes(self, input_shape: Tuple) -> Tuple[Sequence[int],
                                                        Sequence[int]]:
    return (self._kernel_shape(self._in_channels(input_shape)),
            [self.filters])


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
