"""Input checks shared by every layer: sizes, dtype conversion and trailing-shape checks."""

import operator
from typing import Any, Mapping

import numpy as np
import tensorflow as tf

__all__ = ['check_size', 'convert_inputs', 'check_trailing_shape']


def check_size(owner: str, what: str, size: Any) -> int:
  """Checks that a layer's size argument is a positive integer; returns it.

  As lenient as TFP: a Python int, a NumPy integer and a 0-d integer tensor
  (eager) are all sizes; a `bool` or a float is not.

  Args:
    owner: the layer's name, for errors.
    what: the argument's name, for errors.
    size: the value received.

  Returns:
    `size` as a Python `int`.

  Raises:
    ValueError: if `size` is not a positive integer.
  """
  value = None
  if not isinstance(size, (bool, np.bool_)):
    try:
      value = operator.index(size)
    except (TypeError, AttributeError):
      # TF's `__index__` of a float tensor raises `AttributeError`.
      pass
  if value is None or value <= 0:
    raise ValueError(f'{owner}: expected `{what}` to be a positive int; '
                     f'received {size!r}.')
  return value


def convert_inputs(x, dtype: tf.DType, owner: str) -> tf.Tensor:
  """Converts a layer input to a tensor of the layer's dtype.

  Python and NumPy values are converted to `dtype`; integer and boolean
  tensors are cast to it, as Keras does. A floating tensor of another dtype is
  an error, since casting it would silently change its precision.

  Args:
    x: the input value.
    dtype: the layer's floating dtype.
    owner: the layer's name, for errors.

  Returns:
    A `tf.Tensor` of dtype `dtype`.

  Raises:
    TypeError: on a floating tensor whose dtype is not `dtype`, or a
      non-numeric input.
  """
  if not tf.is_tensor(x):
    x = tf.convert_to_tensor(x)
    if x.dtype.is_floating or x.dtype.is_integer or x.dtype == tf.bool:
      return tf.cast(x, dtype)
  if x.dtype == dtype:
    return x
  if x.dtype.is_integer or x.dtype == tf.bool:
    return tf.cast(x, dtype)
  if x.dtype.is_floating:
    raise TypeError(f'{owner}: expected inputs of dtype {dtype.name}; received '
                    f'{x.dtype.name}. Cast them, or build the layer with '
                    f'dtype={x.dtype.name}.')
  raise TypeError(f'{owner}: expected numeric inputs; received dtype '
                  f'{x.dtype.name}.')


def check_trailing_shape(x: tf.Tensor, min_rank: int, sizes: Mapping[int, int],
                         owner: str, what: str = 'inputs') -> tf.Tensor:
  """Checks the rank of `x` and the sizes of some of its trailing axes.

  Known sizes are checked when the layer is called or traced; sizes unknown
  at trace time are checked when the graph runs, and the returned tensor has
  them set statically.

  Args:
    x: the tensor to check.
    min_rank: the smallest rank `x` may have.
    sizes: maps negative axes of `x` to the size each must have.
    owner: the layer's name, for errors.
    what: how to call `x` in errors.

  Returns:
    `x`, with the checked sizes set in its static shape.

  Raises:
    ValueError: if a static rank or size is wrong.
  """
  rank = x.shape.rank
  if rank is None:
    raise ValueError(f'{owner}: {what} must have a known rank (at least '
                     f'{min_rank}); received a tensor of unknown rank.')
  if rank < min_rank:
    raise ValueError(f'{owner}: expected {what} of rank at least {min_rank} '
                     f'(shape [..., {_describe(sizes, min_rank)}]); received '
                     f'rank {rank} with shape {x.shape}.')
  checks = []
  for axis, size in sizes.items():
    static = x.shape[axis]
    if static is None:
      checks.append(tf.debugging.assert_equal(
          tf.shape(x)[axis], size,
          message=f'{owner}: expected {what} with size {size} on axis {axis}'))
    elif static != size:
      raise ValueError(f'{owner}: expected {what} of shape [..., '
                       f'{_describe(sizes, min_rank)}]; received shape '
                       f'{x.shape} (axis {axis} has size {static}, expected '
                       f'{size}).')
  if not checks:
    return x
  with tf.control_dependencies(checks):
    x = tf.identity(x)
  expected = [None] * rank
  for axis, size in sizes.items():
    expected[axis] = size
  return tf.ensure_shape(x, expected)


def _describe(sizes: Mapping[int, int], min_rank: int) -> str:
  width = max([min_rank] + [-a for a in sizes])
  return ', '.join(str(sizes.get(-i, '?')) for i in range(width, 0, -1))


def dense_input_size(owner: str, input_shape: tuple) -> int:
  """The known last axis of a dense Keras layer's `[batch, ..., input_size]` inputs.

  Args:
    owner: the layer's name, for errors.
    input_shape: the inputs' shape, `None` for unknown sizes.

  Returns:
    `input_size` as an int.

  Raises:
    ValueError: if the inputs have no batch axis or no known input size.
  """
  if len(input_shape) < 2 or input_shape[-1] is None:
    raise ValueError(f'{owner}: expected inputs of shape [batch, ..., '
                     'input_size] with a known input_size; received shape '
                     f'{input_shape}.')
  return int(input_shape[-1])
