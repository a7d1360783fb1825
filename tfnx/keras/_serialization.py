"""Keras serialization of the objects a config holds (functions, layers).

A config stores such an object as Keras serializes it and `from_config` loads
it back; `None` stays `None` both ways.
"""

from typing import Any, Callable, Dict, Sequence

import keras

__all__ = ['serialized_attributes', 'deserialized']


def serialized_attributes(obj: Any, keys: Sequence[str]) -> Dict[str, Any]:
  """The attributes `keys` of `obj`, each Keras-serialized.

  Args:
    obj: the object (a layer) holding the attributes.
    keys: the attributes' names.

  Returns:
    A dict from each key to its attribute serialized (`None` if `None`).
  """
  serialized = {}
  for key in keys:
    value = getattr(obj, key)
    serialized[key] = (None if value is None
                       else keras.saving.serialize_keras_object(value))
  return serialized


def deserialized(
    config: Dict[str, Any], keys: Sequence[str],
    load: Callable[[Any], Any] = keras.saving.deserialize_keras_object
) -> Dict[str, Any]:
  """A copy of `config` with the entries `keys` Keras-deserialized.

  Args:
    config: a config holding serialized objects.
    keys: the entries to load; an absent or `None` entry is left as it is.
    load: loads one entry; `tfnx.keras.util.deserialize_function` for
      functions that may be lambdas.

  Returns:
    The new config; `config` itself is not changed.
  """
  config = dict(config)
  for key in keys:
    if config.get(key) is not None:
      config[key] = load(config[key])
  return config
