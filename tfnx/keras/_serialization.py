"""Serialization of the objects a config holds (functions, layers, distributions).

A config stores a function or a layer as Keras serializes it, and a TFP
distribution or bijector (which Keras cannot serialize) as its type's name
and its `parameters`, recursively, with tensors as nested lists and their
dtype; `from_config` loads each back. `None` stays `None` both ways.
"""

import inspect
from typing import Any, Callable, Dict, Sequence

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

__all__ = ['serialized_attributes', 'deserialized', 'serialize_distribution',
           'deserialize_distribution']

# The namespaces a saved TFP object's type is looked up in, by their prefix.
_TFP_MODULES = {'tfd': tfp.distributions, 'tfb': tfp.bijectors}
_TFP_TYPES = {'tfd': tfp.distributions.Distribution,
              'tfb': tfp.bijectors.Bijector}


def _tfp_prefix(value: Any) -> Any:
  for prefix, base in _TFP_TYPES.items():
    if isinstance(value, base):
      return prefix
  return None


def _non_default_parameters(value: Any) -> Dict[str, Any]:
  """`value.parameters` without the entries equal to its type's defaults."""
  defaults = {name: p.default for name, p in
              inspect.signature(type(value).__init__).parameters.items()}
  return {name: parameter for name, parameter in value.parameters.items()
          if name not in defaults or not _same(parameter, defaults[name])}


def _same(a: Any, b: Any) -> bool:
  if a is b:
    return True
  plain = (type(None), bool, int, float, str)
  return isinstance(a, plain) and isinstance(b, plain) and a == b


def serialize_distribution(value: Any) -> Any:
  """A JSON-able form of `value`: a TFP distribution, bijector or parameter.

  Args:
    value: a `tfd.Distribution` or `tfb.Bijector` (saved as
      `{'tfp_type': 'tfd.Normal', 'parameters': {...}}`, the parameters
      that differ from the type's defaults), or one of their parameters: a
      tensor or array (`{'tensor': nested list, 'dtype': name}`; a variable
      saves its current value), a `tf.DType` (`{'dtype': name}`), a list,
      tuple or dict of those, or a Python scalar or string.

  Returns:
    What `deserialize_distribution` loads back.

  Raises:
    TypeError: a parameter of another kind (a function, for instance).
  """
  prefix = _tfp_prefix(value)
  if prefix is not None:
    cls = type(value)
    if getattr(_TFP_MODULES[prefix], cls.__name__, None) is not cls:
      raise TypeError(f'Cannot save {value!r}: expected a type of '
                      f'tfp.distributions or tfp.bijectors; received '
                      f'{cls.__module__}.{cls.__name__}.')
    return {'tfp_type': f'{prefix}.{cls.__name__}', 'parameters': {
        name: serialize_distribution(parameter) for name, parameter in
        _non_default_parameters(value).items()}}
  if isinstance(value, tf.DType):
    return {'dtype': value.name}
  if tf.is_tensor(value) or isinstance(value, (np.ndarray, np.generic,
                                               tf.Variable)):
    tensor = tf.convert_to_tensor(value)
    return {'tensor': tensor.numpy().tolist(), 'dtype': tensor.dtype.name}
  if isinstance(value, (list, tuple)):
    return [serialize_distribution(v) for v in value]
  if isinstance(value, dict):
    return {'dict': {k: serialize_distribution(v) for k, v in value.items()}}
  if value is None or isinstance(value, (bool, int, float, str)):
    return value
  raise TypeError(f'Cannot save the parameter {value!r} of a distribution: '
                  'expected a distribution, a bijector, a tensor, a dtype, '
                  f'a list or a scalar; received {type(value).__name__}.')


def deserialize_distribution(config: Any) -> Any:
  """Loads what `serialize_distribution` saved.

  Args:
    config: its result.

  Returns:
    The distribution, bijector or parameter.
  """
  if isinstance(config, list):
    return [deserialize_distribution(v) for v in config]
  if not isinstance(config, dict):
    return config
  if 'tfp_type' in config:
    prefix, name = config['tfp_type'].split('.')
    parameters = {k: deserialize_distribution(v)
                  for k, v in config['parameters'].items()}
    return getattr(_TFP_MODULES[prefix], name)(**parameters)
  if 'tensor' in config:
    return tf.constant(config['tensor'], dtype=config['dtype'])
  if 'dtype' in config:
    return tf.as_dtype(config['dtype'])
  return {k: deserialize_distribution(v) for k, v in config['dict'].items()}


def _is_saved_distribution(config: Any) -> bool:
  return isinstance(config, dict) and 'tfp_type' in config


def _serialize(value: Any) -> Any:
  if _tfp_prefix(value) is not None:
    return serialize_distribution(value)
  return keras.saving.serialize_keras_object(value)


def serialized_attributes(obj: Any, keys: Sequence[str]) -> Dict[str, Any]:
  """The attributes `keys` of `obj`, each Keras-serialized.

  Args:
    obj: the object (a layer) holding the attributes.
    keys: the attributes' names.

  Returns:
    A dict from each key to its attribute serialized (`None` if `None`;
    a distribution or bijector by `serialize_distribution`).
  """
  serialized = {}
  for key in keys:
    value = getattr(obj, key)
    serialized[key] = None if value is None else _serialize(value)
  return serialized


def deserialized(
    config: Dict[str, Any], keys: Sequence[str],
    load: Callable[[Any], Any] = keras.saving.deserialize_keras_object
) -> Dict[str, Any]:
  """A copy of `config` with the entries `keys` deserialized.

  Args:
    config: a config holding serialized objects.
    keys: the entries to load; an absent or `None` entry is left as it is.
    load: loads one Keras-serialized entry;
      `tfnx.keras.util.deserialize_function` for functions that may be
      lambdas. A saved distribution loads by `deserialize_distribution`.

  Returns:
    The new config; `config` itself is not changed.
  """
  config = dict(config)
  for key in keys:
    if _is_saved_distribution(config.get(key)):
      config[key] = deserialize_distribution(config[key])
    elif config.get(key) is not None:
      config[key] = load(config[key])
  return config
