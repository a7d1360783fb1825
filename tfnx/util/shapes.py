"""Shape helpers usable as layers of a `tfnx.Sequential`."""

from typing import Callable

import numpy as np
import tensorflow as tf

__all__ = ['flatten_rightmost']


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
