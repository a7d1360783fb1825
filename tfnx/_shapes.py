"""Shape helpers: `flatten_rightmost` for a `tfnx.Sequential`, batch flattening for layers.

Layers act on their rightmost (event) axes and accept any batch shape before
them; `flatten_batch` brings such inputs to the single batch axis TF's ops
take, and `restore_batch` gives the outputs the inputs' batch shape back.
"""

from typing import Callable, Optional, Tuple

import numpy as np
import tensorflow as tf

__all__ = ['flatten_rightmost', 'flatten_batch', 'restore_batch']


def flatten_rightmost(ndims: int = 3) -> Callable[[tf.Tensor], tf.Tensor]:
  """Returns a function that flattens the rightmost `ndims` axes into one.

  Useful between convolutions and dense layers: with `ndims=3`, inputs of
  shape `[..., height, width, channels]` become `[..., height*width*channels]`.

  Args:
    ndims: how many rightmost axes to merge.

  Returns:
    `flatten(x)`, keeping every leading axis.
  """
  def flatten_rightmost_(x):
    x = tf.convert_to_tensor(x)
    if x.shape.rank is not None and x.shape.rank < ndims:
      raise ValueError(f'flatten_rightmost: expected a rank of at least '
                       f'{ndims}; received shape {x.shape}.')
    shape = tf.shape(x)
    leading = shape[:tf.rank(x) - ndims]
    y = tf.reshape(x, tf.concat([leading, [-1]], axis=0))
    if x.shape.rank is not None:
      trailing = x.shape[x.shape.rank - ndims:]
      size = (int(np.prod(trailing.as_list()))
              if trailing.is_fully_defined() else None)
      y.set_shape(x.shape[:x.shape.rank - ndims].concatenate([size]))
    return y
  return flatten_rightmost_


def flatten_batch(x: tf.Tensor,
                  event_ndims: int) -> Tuple[tf.Tensor, Optional[tf.Tensor]]:
  """Merges every axis left of the rightmost `event_ndims` into one batch axis.

  Args:
    x: a tensor of rank at least `event_ndims`; its static rank may be
      unknown (as in a `tf.function` that generalized over ranks).
    event_ndims: how many rightmost axes to keep, at least 1.

  Returns:
    `(flat, batch_shape)`: `flat` of shape `[N, *event_shape]`, and the batch
    shape to hand to `restore_batch`, or `None` when `x` already has exactly
    one batch axis (and `flat` is `x`).
  """
  rank = x.shape.rank
  if rank == event_ndims + 1:
    return x, None
  shape = tf.shape(x)
  flat = tf.reshape(x, tf.concat([[-1], shape[-event_ndims:]], axis=0))
  event_shape = (x.shape[-event_ndims:] if rank is not None
                 else tf.TensorShape([None] * event_ndims))
  flat.set_shape(tf.TensorShape([None]).concatenate(event_shape))
  return flat, shape[:-event_ndims]


def restore_batch(y: tf.Tensor, batch_shape: Optional[tf.Tensor],
                  x: tf.Tensor, event_ndims: int) -> tf.Tensor:
  """Undoes `flatten_batch` on outputs `y` of shape `[N, *out_event_shape]`.

  Args:
    y: the outputs computed from `flatten_batch(x, event_ndims)[0]`.
    batch_shape: the batch shape `flatten_batch` returned.
    x: the tensor that was flattened, for its static batch shape.
    event_ndims: the `event_ndims` given to `flatten_batch`.

  Returns:
    `y` with its first axis split back into `x`'s batch shape.
  """
  if batch_shape is None:
    return y
  out = tf.reshape(y, tf.concat([batch_shape, tf.shape(y)[1:]], axis=0))
  if x.shape.rank is not None:
    out.set_shape(x.shape[:-event_ndims].concatenate(y.shape[1:]))
  return out
