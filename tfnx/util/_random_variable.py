"""`RandomVariable`, a tensor-like draw from a distribution, and `CallOnce`.

A `RandomVariable` converts to the same tensor every time it is read until it
is `reset()`, which is what makes a draw reusable across several ops. The
memo is `CallOnce`, a function object that calls its function once.
"""

from typing import Any, Callable, Optional

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import seeds as seeds_lib

__all__ = ['RandomVariable', 'CallOnce']

tfd = tfp.distributions


class _Unset:
  """The memo of a `CallOnce` before its first call (distinct from `None`)."""

  def __repr__(self) -> str:
    return 'unset'


_UNSET = _Unset()


def _sample(distribution: Any) -> Any:
  # A stateless draw from a fresh Python-random seed: TFP's default,
  # `Distribution.sample` without a seed, would run a stateful op.
  return distribution.sample(seed=seeds_lib.python_random_seed())


def _graph_of(value: Any) -> Any:
  return getattr(value, 'graph', None)


class CallOnce(tf.Module):
  """A function object that calls `create_value_fn` once and memoizes it.

  Every call after the first returns the first call's value, whatever its
  arguments, until `reset()`. A value made in one graph (inside a
  `tf.function`) cannot be read from another: that raises a `ValueError`
  asking for `reset()` instead of returning a tensor from a dead graph.

  Args:
    create_value_fn: the function to call; it receives the first call's
      arguments.
  """

  def __init__(self, create_value_fn: Callable[..., Any]):
    self._create_value_fn = create_value_fn
    self._value = _UNSET
    # `tfp.util.DeferredTensor` reads its transform's `__name__`.
    self.__name__ = str(getattr(create_value_fn, 'name', None)
                        or getattr(type(create_value_fn), '__name__',
                                   'unknown'))
    super().__init__(name=self.__name__)

  @property
  def create_value_fn(self) -> Callable[..., Any]:
    """The memoized function."""
    return self._create_value_fn

  @property
  def value(self) -> Any:
    """The memoized value, or an unset marker before the first call."""
    return self._value

  def is_unset(self) -> bool:
    """Whether the next call will call `create_value_fn`."""
    return self._value is _UNSET

  def reset(self) -> None:
    """Forgets the memoized value, so the next call makes a new one."""
    self._value = _UNSET

  def __call__(self, *args, **kwargs) -> Any:
    """Returns the memoized value, calling `create_value_fn` the first time."""
    if self.is_unset():
      self._value = self._create_value_fn(*args, **kwargs)
      return self._value
    if self._from_other_graph():
      raise ValueError(
          f'CallOnce {self.__name__}: expected the memoized value in this '
          'graph; received one made in a different graph context (another '
          '`tf.function`, or outside this one): call `reset()` first.')
    return self._value

  def _from_other_graph(self) -> bool:
    graph = _graph_of(self._value)
    if graph is None:
      # Eager tensors (a subclass) have no graph; a symbolic tensor reports
      # none only once its graph is gone.
      return self._value.__class__ is tf.Tensor
    return graph is not _graph_of(tf.constant([], tf.bool))


class RandomVariable(tfp.util.DeferredTensor):
  """A draw from a distribution that reads as the same tensor until `reset()`.

  ```python
  x = tfn.util.RandomVariable(tfd.Normal(0., 1.))
  tf.convert_to_tensor(x) == x + 0.   # True: one draw, read twice
  x.reset()                           # the next read draws again
  ```

  Args:
    distribution: the distribution (or distribution-like object) to draw
      from.
    convert_to_tensor_fn: `(distribution) -> tensor`, how a value is drawn;
      e.g. `tfd.Distribution.mean` for a deterministic read, or
      `lambda d: d.sample(seed=s)` for a reproducible one. The default
      samples statelessly from a fresh Python-random seed (inside a
      `tf.function`, fixed when it is traced).
    dtype: the value's dtype; `None` means `distribution.dtype`.
    shape: the value's static shape, if known; `None` for unspecified.
    name: the name; `None` means `distribution.name`.
  """

  def __init__(self, distribution: Any,
               convert_to_tensor_fn: Callable[[Any], Any] = _sample,
               dtype: Optional[tf.DType] = None, shape: Any = None,
               name: Optional[str] = None):
    self._distribution = distribution
    self._convert_to_tensor_fn = convert_to_tensor_fn
    # DeferredTensor transforms a value; the draw ignores it, so any
    # constant serves.
    super().__init__(tf.constant([], tf.bool),
                     CallOnce(lambda _: convert_to_tensor_fn(distribution)),
                     dtype=dtype or distribution.dtype, shape=shape,
                     name=name or distribution.name)

  @property
  def distribution(self) -> Any:
    """The distribution drawn from."""
    return self._distribution

  @property
  def convert_to_tensor_fn(self) -> Callable[[Any], Any]:
    """How a value is drawn from `distribution`."""
    return self._convert_to_tensor_fn

  def reset(self) -> None:
    """Forgets the current draw; the next read draws again."""
    self.transform_fn.reset()

  def is_unset(self) -> bool:
    """Whether the next read draws a new value."""
    return self.transform_fn.is_unset()
