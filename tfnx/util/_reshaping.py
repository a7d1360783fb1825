"""Reshaping helpers from TFP's `nn.util`: `expand_dims` and `batchify_op`."""

from typing import Any, Callable, Optional

import numpy as np
import tensorflow as tf

__all__ = ['expand_dims', 'batchify_op']


def _order(axis: Any, rank: Any, ops: Any) -> Any:
  """The output's axes as indices into `shape(x) + [1] * size(axis)`.

  A new axis `a >= 0` goes just before the input's axis `a`, and `a < 0`
  just after the input's axis `rank + a`: sort keys `a`, `i + 0.5` for the
  input's axis `i`, and `rank + a + 0.75`.
  """
  axis = ops.cast(axis, 'float32')
  new_keys = ops.where(axis < 0, axis + ops.cast(rank, 'float32') + 0.75,
                       axis)
  keys = ops.concat([ops.cast(ops.range(rank), 'float32') + 0.5, new_keys],
                    axis=0)
  return ops.argsort(keys)


class _Numpy:
  """NumPy under the names `_order` uses, for shapes known statically."""
  cast = staticmethod(lambda x, dtype: np.asarray(x, dtype))
  where = staticmethod(np.where)
  range = staticmethod(np.arange)
  concat = staticmethod(np.concatenate)
  argsort = staticmethod(lambda x: np.argsort(x, kind='stable'))


def expand_dims(axis: Any, name: Optional[str] = None
                ) -> Callable[[Any], tf.Tensor]:
  """Returns a function inserting size-1 axes: `tf.expand_dims` for many axes.

  Args:
    axis: an int or a vector of ints. An axis `a >= 0` is inserted before the
      input's axis `a`; `a < 0` after the input's axis `rank + a` (so `-1`
      appends). `[0, -1]` turns `[3, 4]` into `[1, 3, 4, 1]`.
    name: the name scope; `None` means `'expand_dims'`.

  Returns:
    `expand_dims_(x)`.
  """
  def expand_dims_(x):
    with tf.name_scope(name or 'expand_dims'):
      x = tf.convert_to_tensor(x, name='x')
      static_axis = tf.get_static_value(axis)
      if static_axis is not None and x.shape.rank is not None:
        new = np.reshape(static_axis, [-1])
        order = _order(new, x.shape.rank, _Numpy)
        dims = [d if d is not None else tf.shape(x)[i]
                for i, d in enumerate(x.shape.as_list())]
        shape = [(dims + [1] * new.size)[j] for j in order]
        return tf.reshape(x, shape)
      new = tf.reshape(tf.convert_to_tensor(axis, dtype_hint=tf.int32), [-1])
      order = _order(new, tf.rank(x), tf)
      padded = tf.concat([tf.shape(x), tf.ones_like(new)], axis=0)
      return tf.reshape(x, tf.gather(padded, order))
  return expand_dims_


def batchify_op(op: Callable[..., tf.Tensor], op_min_input_ndims: int,
                x: Any, *other_op_args: Any) -> tf.Tensor:
  """Applies an op that takes one batch axis to inputs with any batch shape.

  `x`'s batch axes (all but its rightmost `op_min_input_ndims`) are merged
  into one for `op`, and split again in its outputs.

  Args:
    op: `(x, *other_op_args) -> y`, taking `x` of rank
      `op_min_input_ndims + 1` and returning `y` with the same leading axis.
    op_min_input_ndims: the rank of one of `op`'s examples.
    x: the inputs, of rank at least `op_min_input_ndims`.
    *other_op_args: passed on to `op`.

  Returns:
    `op`'s outputs, with `x`'s batch shape.
  """
  x = tf.convert_to_tensor(x)
  if x.shape.rank == op_min_input_ndims + 1:
    return op(x, *other_op_args)
  batch_ndims = tf.rank(x) - op_min_input_ndims
  shape = tf.shape(x)
  y = op(tf.reshape(x, tf.concat([[-1], shape[batch_ndims:]], axis=0)),
         *other_op_args)
  return tf.reshape(y, tf.concat([shape[:batch_ndims], tf.shape(y)[1:]],
                                 axis=0))
