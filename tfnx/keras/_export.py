"""`export`: where a `tfnx.keras` name is defined, registers it once for `.keras` files and for `tfnx.keras.__all__`.

As Keras' own `keras_export` does, the definition site says what is public;
`tfnx/keras/__init__.py` builds the namespace and `__all__` from the record
(`exported`).
"""

from typing import Any, Dict, Optional, TypeVar

import keras

__all__ = ['PACKAGE', 'export', 'exported']

# The package of every `tfnx.keras` serialization name (`'tfnx>DenseFlipout'`);
# saved `.keras` files name it.
PACKAGE = 'tfnx'

T = TypeVar('T')

_EXPORTED: Dict[str, Any] = {}


def export(obj: Optional[T] = None, *, name: Optional[str] = None,
           serializable: bool = True,
           public: bool = True) -> Any:
  """Registers `obj` for Keras serialization and as a public name.

  Used as `@export` or `@export(serializable=False)` on a definition, or
  called as `export(obj, name=...)` for an alias.

  Args:
    obj: the class, function or module; `None` to return a decorator.
    name: its public name in `tfnx.keras`; `None` for its `__name__`.
    serializable: whether to register it with
      `keras.saving.register_keras_serializable` in `PACKAGE`, under its
      `__name__`.
    public: whether `tfnx.keras` exports it (`False` for a function saved
      models name but users do not call).

  Returns:
    `obj`, or the decorator when `obj` is `None`.

  Raises:
    ValueError: if another object was exported under the same name.
  """
  def register(target: T) -> T:
    if serializable:
      keras.saving.register_keras_serializable(package=PACKAGE)(target)
    if public:
      key = name or target.__name__
      if _EXPORTED.setdefault(key, target) is not target:
        raise ValueError(f'tfnx.keras: expected one object named {key!r}; '
                         f'received {target!r} after {_EXPORTED[key]!r}.')
    return target
  return register if obj is None else register(obj)


def exported() -> Dict[str, Any]:
  """The public names recorded so far, with their objects."""
  return dict(_EXPORTED)

