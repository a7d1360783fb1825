"""Looking at values while building a model: `trace` and `display_imgs`.

matplotlib is imported only inside `display_imgs`; tfnx does not need it.
"""

import sys
from typing import Any, Callable, Optional, Tuple

import numpy as np
import tensorflow as tf

__all__ = ['trace', 'display_imgs']


def trace(name: Optional[str] = None) -> Callable[[Any], Any]:
  """Returns the identity function, which prints what passes through it.

  Put it between layers of a `tfnx.Sequential` to see each tensor's shape and
  dtype (once per trace inside a `tf.function`); other values are printed.

  Args:
    name: an optional label for the printed line.

  Returns:
    `trace_(x)`, which prints a line about `x` and returns `x`.
  """
  label = '' if name is None else f'name:{name:10}  '

  def trace_(x):
    if hasattr(x, 'shape') and hasattr(x, 'dtype'):
      shape = str(tf.TensorShape(x.shape).as_list())
      print(f'--- TRACE:  {label}shape:{shape:16}  '
            f'dtype:{tf.as_dtype(x.dtype).name:10}')
    else:
      print(f'--- TRACE:  {label}value:{x}')
    sys.stdout.flush()
    return x
  return trace_


def _grid(x: Any) -> np.ndarray:
  # `[..., rows, cols, h, w, c]` -> one `[rows * h, cols * w, c]` image; any
  # leading axes become more rows.
  x = np.asarray(x)
  if x.ndim < 4:
    raise ValueError('display_imgs: expected images of shape [..., cols, '
                     f'height, width, channels]; received shape {x.shape}.')
  x = np.reshape(x, (-1,) + x.shape[-4:])
  rows, cols, height, width, channels = x.shape
  return np.reshape(np.transpose(x, [0, 2, 1, 3, 4]),
                    [rows * height, cols * width, channels])


def display_imgs(x: Any, title: Any = None,
                 fignum: Optional[int] = None) -> Tuple[Any, Any]:
  """Shows images as one grid with matplotlib (eager only).

  Args:
    x: images, `[..., cols, height, width, channels]`: the last four axes
      are a row of images; leading axes are stacked as rows.
    title: an optional title (e.g. the labels); tensors are converted.
    fignum: the matplotlib figure number to draw into; `None` for a new one.

  Returns:
    `(figure, axes)`.

  Raises:
    NotImplementedError: inside a `tf.function`.
  """
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  if not tf.executing_eagerly():
    raise NotImplementedError('display_imgs: can only run eagerly.')
  image = _grid(x.numpy() if hasattr(x, 'numpy') else x)
  rows = image.shape[0] // np.shape(x)[-3]
  cols = image.shape[1] // np.shape(x)[-2]
  plt.ioff()
  fig, axes = plt.subplots(1, 1, figsize=(cols, max(2, rows)), num=fignum,
                           clear=True)
  axes.imshow(image.squeeze(), interpolation='none', cmap='gray')
  axes.axis('off')
  if title is not None:
    axes.set_title(str(np.asarray(getattr(title, 'numpy', lambda: title)())))
  fig.tight_layout()
  plt.show()
  plt.ion()
  return fig, axes
