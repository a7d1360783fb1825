"""Which weights a Laplace approximation covers: the linear maps it finds in a model.

A `LinearMap` here is one chosen layer seen as `s = rows(a) @ W + b`: its
kernel and bias variables, and how to turn its inputs into rows (patches for a
convolution) and its pre-activations into `[batch, locations, out]`. The
curvature, the posterior and the predictive only ever see these records, so a
new layer type needs one entry here.
"""

from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from tfnx import _affine as affine_lib
from tfnx import _convolution as convolution_lib
from tfnx import _layers as layers_lib
from tfnx import linear_maps

__all__ = ['LinearMap', 'select', 'SUBSETS']

SUBSETS = ('last_layer', 'all')

_KERAS_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


class LinearMap(NamedTuple):
  """One chosen layer as a linear map of rows.

  Attributes:
    name: the layer's name.
    layer: the layer object.
    kernel: its kernel variable, any shape whose last axis is `out`.
    bias: its bias variable `[out]`, or `None`.
    rows: `(inputs) -> [batch, locations, K]` (K = kernel size / out), the
      rows the kernel multiplies, channels last.
    locations: `(t) -> [n, locations, out]` for a tensor `t` laid out as the
      layer's pre-activations `[n, ...]`.
  """
  name: str
  layer: Any
  kernel: Any
  bias: Optional[Any]
  rows: Callable[[tf.Tensor], tf.Tensor]
  locations: Callable[[tf.Tensor], tf.Tensor]

  @property
  def shape(self) -> tuple:
    """`(K + 1, out)` with a bias, `(K, out)` without: the rows of `W~`."""
    out = int(self.kernel.shape[-1])
    k = int(np.prod(self.kernel.shape)) // out
    return (k + (self.bias is not None), out)


def _flat_locations(t: tf.Tensor) -> tf.Tensor:
  """`[n, ..., c]` as `[n, locations, c]`: every middle axis a location."""
  middle = t.shape[1:-1]
  locations = (int(np.prod(middle)) if middle.is_fully_defined() else -1)
  return tf.reshape(t, [tf.shape(t)[0], locations, t.shape[-1]])


def _channels_last(t: tf.Tensor) -> tf.Tensor:
  return tf.transpose(t, [0] + list(range(2, t.shape.rank)) + [1])


def _conv_rows(filter_shape: Sequence[int], strides: Sequence[int],
               padding: str, dilations: Sequence[int],
               channels_first: bool) -> Callable:
  """The patches of a convolution's inputs, `[batch, locations, K]`."""
  def rows(x: tf.Tensor) -> tf.Tensor:
    if channels_first:
      x = _channels_last(x)
    return _flat_locations(linear_maps.patches(
        x, list(filter_shape), list(strides), padding, list(dilations)))
  return rows


def _conv_locations(channels_first: bool) -> Callable:
  if channels_first:
    return lambda t: _flat_locations(_channels_last(t))
  return _flat_locations


def _keras_map(layer: Any) -> Optional[LinearMap]:
  if type(layer) is keras.layers.Dense:
    return LinearMap(layer.name, layer, layer.kernel, layer.bias,
                     _flat_locations, _flat_locations)
  if type(layer) not in _KERAS_CONV:
    return None
  if layer.groups != 1 or layer.padding == 'causal':
    raise ValueError(
        f'Laplace: {layer.name} ({type(layer).__name__}) has groups='
        f'{layer.groups}, padding={layer.padding!r}; expected one group and '
        "'valid' or 'same' padding.")
  channels_first = layer.data_format == 'channels_first'
  return LinearMap(
      layer.name, layer, layer.kernel, layer.bias,
      _conv_rows(layer.kernel_size, layer.strides, layer.padding.upper(),
                 layer.dilation_rate, channels_first),
      _conv_locations(channels_first))


def _tfn_map(layer: Any) -> Optional[LinearMap]:
  if type(layer) is affine_lib.Affine:
    if layer.kernel.shape.rank != 2:
      raise ValueError(f'Laplace: {layer.name} has a `batch_shape`; expected '
                       'an Affine of one layer (kernel of rank 2), received '
                       f'a kernel of shape {layer.kernel.shape}.')
    return LinearMap(layer.name, layer, layer.kernel, layer.bias,
                     _flat_locations, _flat_locations)
  if type(layer) is not convolution_lib.Convolution:
    return None
  if layer.data_format != 'channels_last':
    raise ValueError(f'Laplace: {layer.name} has data_format '
                     f"{layer.data_format!r}; expected 'channels_last'.")
  return LinearMap(
      layer.name, layer, layer.kernel, layer.bias,
      _conv_rows(layer.filter_shape, layer.strides, layer.padding,
                 layer.dilations, False), _flat_locations)


def candidates(model: Any) -> List[LinearMap]:
  """Every supported layer of `model`, in call order.

  Args:
    model: a Keras 3 model or a `tfnx.Sequential`.

  Returns:
    The `LinearMap`s of its `Dense`/`Conv1D/2D/3D` (Keras) or `Affine`/
    `Convolution` (tfnx) layers.

  Raises:
    TypeError: if `model` is neither.
  """
  if isinstance(model, keras.Model):
    found = [_keras_map(layer) for layer in model.layers]
  elif isinstance(model, layers_lib.Sequential):
    found = [_tfn_map(layer) for layer in model.layers]
  else:
    raise TypeError('Laplace: expected a Keras 3 model or a tfnx.Sequential; '
                    f'received {type(model).__name__}.')
  return [m for m in found if m is not None]


def select(model: Any,
           subset_of_weights: Union[str, Sequence[str]]) -> List[LinearMap]:
  """The linear maps a Laplace approximation of `model` covers.

  Args:
    model: a Keras 3 model or a `tfnx.Sequential`.
    subset_of_weights: `'last_layer'`, `'all'`, or a list of layer names.

  Returns:
    The chosen `LinearMap`s, in call order.

  Raises:
    ValueError: if `model` has no supported layer, or a name is not one of
      them, or `subset_of_weights` is none of the above.
  """
  found = candidates(model)
  if not found:
    raise ValueError(
        f'Laplace: {model.name} has no supported layer; expected Dense or '
        'Conv1D/2D/3D (Keras) or Affine or Convolution (tfnx), received '
        f'{[type(layer).__name__ for layer in model.layers]}.')
  if isinstance(subset_of_weights, str):
    if subset_of_weights not in SUBSETS:
      raise ValueError(f'Laplace: expected `subset_of_weights` one of '
                       f'{SUBSETS} or a list of layer names; received '
                       f'{subset_of_weights!r}.')
    return found[-1:] if subset_of_weights == 'last_layer' else found
  by_name = {m.name: m for m in found}
  layers = {getattr(layer, 'name', None): layer for layer in model.layers}
  for name in subset_of_weights:
    if name in layers and name not in by_name:
      raise ValueError(
          f'Laplace: {name} is a {type(layers[name]).__name__}, which has no '
          'linear map to take curvature (Kronecker factors, diagonal or '
          'full) of; expected a Dense or Conv1D/2D/3D (Keras) or Affine or '
          'Convolution (tfnx) layer.')
  if not subset_of_weights or any(n not in by_name for n in subset_of_weights):
    raise ValueError(f'Laplace: expected names of supported layers of '
                     f'{model.name}, {sorted(by_name)}; received '
                     f'{list(subset_of_weights)}.')
  return [m for m in found if m.name in set(subset_of_weights)]
