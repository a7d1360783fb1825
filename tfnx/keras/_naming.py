"""Default layer names as `tfp.layers` gives them.

Keras names a layer for its class (`Conv2DFlipout` → `conv2d_flipout`,
`conv2d_flipout_1`, ...). Where our class is named otherwise than TFP's
(TFP's `Convolution2DFlipout` is an alias of `Conv2DFlipout`; ours the other
way round), a layer takes its default name from TFP's class name, numbered
by the same counter as Keras' own names.
"""

import re

import keras

__all__ = ['default_name']


def default_name(class_name: str) -> str:
  """The name Keras gives the next layer of a class named `class_name`.

  Args:
    class_name: a class name in CamelCase (`'Conv2DFlipout'`).

  Returns:
    Its snake case (`'conv2d_flipout'`), with `_1`, `_2`, ... from the
    second layer so named on.
  """
  # Keras' own rule (keras.src.utils.naming.to_snake_case, not public).
  name = re.sub('(.)([A-Z][a-z]+)', r'\1_\2', class_name)
  name = re.sub('([a-z])([A-Z])', r'\1_\2', name).lower()
  uid = keras.backend.get_uid(name)
  return name if uid == 1 else f'{name}_{uid - 1}'
