"""`tfnx.keras.util`: `tfp.layers.util` on Keras 3.

The weight-distribution builders are those of `tfnx.keras._builders` (also
exported by `tfnx.keras`); `serialize_function` and `deserialize_function`
save and load a layer's function arguments through Keras serialization.
"""

from typing import Any, Callable

import keras

from tfnx.keras._builders import default_loc_scale_fn
from tfnx.keras._builders import default_mean_field_normal_fn
from tfnx.keras._builders import default_multivariate_normal_fn
from tfnx.keras._distribution_lambda import deserialize_function

__all__ = ['default_loc_scale_fn', 'default_mean_field_normal_fn',
           'default_multivariate_normal_fn', 'serialize_function',
           'deserialize_function']


def serialize_function(fn: Callable) -> Any:
  """`fn` as Keras serializes it: a registered name, or a lambda's code.

  Args:
    fn: a function.

  Returns:
    What `deserialize_function` loads back (a lambda only with
    `safe_mode=False`).
  """
  return keras.saving.serialize_keras_object(fn)
