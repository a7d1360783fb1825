"""The TF1 `tf.contrib.bayesflow.layers` functional interface: `dense_flipout(inputs, units, ...)`, `conv2d_flipout(inputs, filters, kernel_size, ...)`, ...

Each function builds the matching `tfnx.keras` layer from its arguments (the
layer's constructor arguments, `seed` and `name` among them) and applies it
to `inputs`, a Keras functional-model tensor or an eager tensor. TF1's
variable scopes are gone, so there is nothing to reuse: `reuse=True` is an
error pointing to the layer objects, which are what to call twice to share
weights.
"""

from typing import Any, Callable, Optional

from tfnx.keras import _conv as conv
from tfnx.keras import _dense as dense
from tfnx.keras._export import export

__all__ = [
    'dense_flipout', 'dense_reparameterization',
    'dense_local_reparameterization', 'conv1d_flipout', 'conv2d_flipout',
    'conv3d_flipout', 'conv1d_reparameterization',
    'conv2d_reparameterization', 'conv3d_reparameterization'
]


def _functional(cls: type, leading: str,
                fn_name: str) -> Callable[..., Any]:
  """The functional form, called `fn_name`, of the Keras layer class `cls`."""

  def apply(inputs: Any, *args, name: Optional[str] = None,
            reuse: Optional[bool] = None, **kwargs) -> Any:
    if reuse:
      raise ValueError(
          f'{fn_name}: expected `reuse` to be None or False; received '
          f'{reuse!r}. Keras 3 has no variable scopes to reuse: build one '
          f'`tfnx.keras.{cls.__name__}({leading}, ...)` and call it on each '
          'input to share its weights.')
    return cls(*args, name=name, **kwargs)(inputs)

  apply.__doc__ = f"""Applies a new `tfnx.keras.{cls.__name__}` to `inputs`.

  Args:
    inputs: the layer's inputs.
    *args: the layer's positional arguments ({leading}, ...).
    name: the layer's name.
    reuse: `None` or `False`; `True` raises (share a layer object instead).
    **kwargs: the layer's other arguments (`activation`, `seed`, ...).

  Returns:
    The layer's outputs.
  """
  apply.__name__ = apply.__qualname__ = fn_name
  return export(apply, serializable=False)


dense_flipout = _functional(dense.DenseFlipout, 'units', 'dense_flipout')
dense_reparameterization = _functional(
    dense.DenseReparameterization, 'units', 'dense_reparameterization')
dense_local_reparameterization = _functional(
    dense.DenseLocalReparameterization, 'units',
    'dense_local_reparameterization')
conv1d_flipout = _functional(
    conv.Convolution1DFlipout, 'filters, kernel_size', 'conv1d_flipout')
conv2d_flipout = _functional(
    conv.Convolution2DFlipout, 'filters, kernel_size', 'conv2d_flipout')
conv3d_flipout = _functional(
    conv.Convolution3DFlipout, 'filters, kernel_size', 'conv3d_flipout')
conv1d_reparameterization = _functional(
    conv.Convolution1DReparameterization, 'filters, kernel_size',
    'conv1d_reparameterization')
conv2d_reparameterization = _functional(
    conv.Convolution2DReparameterization, 'filters, kernel_size',
    'conv2d_reparameterization')
conv3d_reparameterization = _functional(
    conv.Convolution3DReparameterization, 'filters, kernel_size',
    'conv3d_reparameterization')
