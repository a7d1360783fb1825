"""Readable summaries of variables."""

import collections
from typing import Any, Optional

import numpy as np
import tensorflow as tf

__all__ = ['variables_summary']


def variables_summary(variables: Any, name: Optional[str] = None) -> str:
  """Returns a table of variables: size, shape, trainable, name.

  Args:
    variables: a structure of `tf.Variable`s.
    name: an optional title line.

  Returns:
    The table as one string, ending with the trainable size in elements and
    MiB per dtype.
  """
  # TFP's columns, so tools that parse its summaries read ours.
  row = '{:>6} {:20} {:5} {:40}'
  lines = [] if name is None else [f'=== {name} ' + '=' * 50]
  lines.append(row.format('SIZE', 'SHAPE', 'TRAIN', 'NAME'))
  trainable = collections.Counter()
  for v in tf.nest.flatten(variables):
    size = int(np.prod(v.shape.as_list()))
    if v.trainable:
      trainable[v.dtype] += size
    lines.append(row.format(size, str(v.shape.as_list()), str(v.trainable),
                            v.name))
  count = sum(trainable.values())
  mib = sum(dtype.size * n for dtype, n in trainable.items()) / 2**20
  by_dtype = ', '.join(f'{d.name}: {n}' for d, n in trainable.items())
  lines.append(f'trainable size: {count}  /  {mib:.3f} MiB  /  {{{by_dtype}}}')
  return '\n'.join(lines)
