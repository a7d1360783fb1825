"""Saving and loading variables' values as a NumPy `.npz` file, as TFP does."""

from typing import Any

import numpy as np
import tensorflow as tf

__all__ = ['variables_save', 'variables_load']


def _require_eager(what: str) -> None:
  if not tf.executing_eagerly():
    raise ValueError(f'{what}: expected to run eagerly (it reads or writes a '
                     'file); received a call inside a `tf.function`.')


def variables_save(filename: str, variables: Any) -> None:
  """Writes the values of a structure of variables to a `.npz` file.

  The values are stored in the order of `tf.nest.flatten(variables)`, so
  `variables_load` restores them into any structure with the same order,
  such as the same layer built again.

  Args:
    filename: the file to write (NumPy appends `.npz` if it is missing).
    variables: a structure of `tf.Variable`s.

  Raises:
    ValueError: when called inside a `tf.function`.
  """
  _require_eager('variables_save')
  values = [v.numpy() for v in tf.nest.flatten(variables)]
  np.savez_compressed(filename, *values)


def variables_load(filename: str, variables: Any) -> None:
  """Assigns a structure of variables the values `variables_save` wrote.

  Args:
    filename: the `.npz` file to read.
    variables: a structure of `tf.Variable`s, in the order they were saved.

  Raises:
    ValueError: when called inside a `tf.function`, or if the file holds
      another number of arrays or an array of another shape.
  """
  _require_eager('variables_load')
  flat = tf.nest.flatten(variables)
  with np.load(filename) as data:
    values = [data[f'arr_{i}'] for i in range(len(data.files))]
  if len(values) != len(flat):
    raise ValueError(f'variables_load: expected {len(flat)} arrays in '
                     f'{filename!r}; received {len(values)}.')
  for variable, value in zip(flat, values):
    if not variable.shape.is_compatible_with(value.shape):
      raise ValueError(f'variables_load: expected shape {variable.shape} for '
                       f'{variable.name} in {filename!r}; received shape '
                       f'{value.shape}.')
  for variable, value in zip(flat, values):
    variable.assign(value)
