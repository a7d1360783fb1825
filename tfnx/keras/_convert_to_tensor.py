"""A distribution layer's `convert_to_tensor_fn`: what TFP accepts, applied and saved.

`tfp.layers` accepts a callable, a property (`tfd.Bernoulli.logits`), a
method taken from a class (`tfd.Distribution.mean`) or a name. A member of a
particular family (`tfd.Bernoulli.logits`, `tfd.Normal.loc`) is applied to
that family's distribution, also where a head wraps it (`Independent`,
`Sample`, `BatchReshape`, ...: the distribution's `distribution`). A `.keras`
config stores a member of a TFP class by name (`'mean'`,
`'Bernoulli.logits'`) and any other function as Keras serializes it.
"""

import sys
from typing import Any, Callable, Optional, Union

import keras
import tensorflow_probability as tfp

from tfnx._layers import takes_seed

tfd = tfp.distributions

__all__ = ['ConvertToTensorFn', 'parse', 'apply', 'serialize']

ConvertToTensorFn = Union[str, property, Callable[..., Any]]


def _owner(fn: Callable) -> Optional[type]:
  """The `tfd.Distribution` class `fn` was defined in, if any."""
  qualname = getattr(fn, '__qualname__', '')
  if '.' not in qualname or '<' in qualname:
    return None
  owner = sys.modules.get(getattr(fn, '__module__', None) or '')
  for part in qualname.split('.')[:-1]:
    owner = getattr(owner, part, None)
  if isinstance(owner, type) and issubclass(owner, tfd.Distribution):
    return owner
  return None


def _from_name(owner_name: str, name: str) -> Any:
  """A function a name stands for: a TFP member, else a registered object."""
  family, _, member = name.rpartition('.')
  cls = getattr(tfd, family, None) if family else tfd.Distribution
  if isinstance(cls, type) and hasattr(cls, member):
    return getattr(cls, member)
  registered = keras.saving.get_registered_object(name)
  if registered is None:
    raise ValueError(
        f'{owner_name}: expected `convert_to_tensor_fn` to name a method or '
        'property of tfd.Distribution (\'mean\') or of a tfd class '
        '(\'Bernoulli.logits\'), or a registered Keras object; received '
        f'{name!r}.')
  return registered


def parse(owner_name: str, identifier: ConvertToTensorFn) -> Callable:
  """The callable a `convert_to_tensor_fn` argument stands for.

  Args:
    owner_name: the layer's name, for errors.
    identifier: a callable, a property or a name (see `_from_name`).

  Returns:
    A callable taking a distribution (and a `seed` if it declares one).

  Raises:
    ValueError: a name that stands for nothing.
    TypeError: anything else that is not callable.
  """
  if isinstance(identifier, str):
    identifier = _from_name(owner_name, identifier)
  if isinstance(identifier, property):
    identifier = identifier.fget
  if not callable(identifier):
    raise TypeError(f'{owner_name}: expected a callable `convert_to_tensor_fn`;'
                    f' received {identifier!r}.')
  return identifier


def _target(fn: Callable, distribution: tfd.Distribution) -> tfd.Distribution:
  """The distribution `fn` applies to: the first of its family unwrapping."""
  owner = _owner(fn)
  if owner is None:
    return distribution
  inner = distribution
  while not isinstance(inner, owner):
    inner = getattr(inner, 'distribution', None)
    if not isinstance(inner, tfd.Distribution):
      return distribution  # Let `fn` say what it misses.
  return inner


def apply(fn: Callable, distribution: tfd.Distribution,
          seed: Callable[[], Any]) -> Any:
  """`fn`'s value of `distribution`.

  Args:
    fn: a parsed `convert_to_tensor_fn`.
    distribution: the layer's distribution.
    seed: returns the call's stateless seed; called only when `fn` takes one.

  Returns:
    The value.
  """
  target = _target(fn, distribution)
  if takes_seed(fn):
    return fn(target, seed=seed())
  return fn(target)


def serialize(fn: Callable) -> Any:
  """A parsed `convert_to_tensor_fn` as a `.keras` config stores it.

  Args:
    fn: the function.

  Returns:
    `'mean'` for a member of `tfd.Distribution`, `'Bernoulli.logits'` for
    one of another tfd class, else Keras' serialization of `fn`.
  """
  owner = _owner(fn)
  name = getattr(fn, '__name__', None)
  if owner is not None and getattr(tfd, owner.__name__, None) is owner:
    member = owner.__dict__.get(name)
    member = member.fget if isinstance(member, property) else member
    if member is fn:
      return name if owner is tfd.Distribution else f'{owner.__name__}.{name}'
  return keras.saving.serialize_keras_object(fn)
