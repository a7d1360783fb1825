"""`DistributionTensor`: a tensor that carries the distribution it was drawn from.

A Keras 3 model's outputs must be tensors: Keras turns every layer output into
a `KerasTensor` when it builds a model, and converts `y_pred` with
`ops.convert_to_tensor` before a loss sees it. A `DistributionTensor` passes
both checks without losing the distribution: it is tensor-like
(`tf.is_tensor` is true, it has a `shape` and a `dtype`), so Keras hands it
on unchanged, and a loss such as `lambda y, rv_y: -rv_y.log_prob(y)` still
finds the distribution's methods. Anywhere a plain tensor is needed — a TF
op, an arithmetic operator, `np.asarray`, the boundary of a `tf.function`
(which is how `model.predict` returns tensors) — it converts to its value,
the distribution's `convert_to_tensor_fn` draw.
"""

from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx.keras._export import export

tfd = tfp.distributions

__all__ = ['DistributionTensor']


@export(serializable=False)
class DistributionTensor:
  """A distribution together with one tensor value of it.

  `isinstance(t, tfd.Distribution)` is true (a virtual subclass); pass
  `t.distribution` where TFP needs the distribution itself
  (`tfd.kl_divergence`, a mixture's components).

  Attribute lookups the object does not answer itself go to the
  distribution (`mean()`, `stddev()`, `log_prob(y)`, `sample(seed=...)`,
  `batch_shape`, ...); conversion to a tensor and the arithmetic operators
  use the value.

  Args:
    distribution: the `tfd.Distribution`.
    value: a tensor of it, e.g. a sample or the mean.
  """

  def __init__(self, distribution: tfd.Distribution, value: Any):
    self._distribution = distribution
    self._value = tf.convert_to_tensor(value)

  @property
  def distribution(self) -> tfd.Distribution:
    """The distribution."""
    return self._distribution

  @property
  def tensor_distribution(self) -> tfd.Distribution:
    """The distribution, under `tfp.layers`' name for it."""
    return self._distribution

  @property
  def tensor(self) -> tf.Tensor:
    """The value (what `tf.convert_to_tensor` returns)."""
    return self._value

  @property
  def shape(self) -> tf.TensorShape:
    """The value's shape."""
    return self._value.shape

  @property
  def ndim(self) -> int:
    """The value's rank (Keras reads it, e.g. for activity regularizers)."""
    return self._value.shape.rank

  @property
  def dtype(self) -> tf.DType:
    """The value's dtype."""
    return self._value.dtype

  def is_tensor_like(self) -> bool:
    """Makes `tf.is_tensor` true, so Keras passes the object on unchanged."""
    return True

  def numpy(self) -> np.ndarray:
    """The value as a NumPy array (eager only)."""
    return self._value.numpy()

  def __array__(self, dtype=None, copy=None) -> np.ndarray:
    del copy  # `numpy()` makes a fresh array.
    return np.asarray(self._value.numpy(), dtype=dtype)

  def __getattr__(self, name: str) -> Any:
    # Only called for names the object lacks; `_distribution` itself may be
    # missing while `copy` or `pickle` rebuild the object.
    if name.startswith('__') or name == '_distribution':
      raise AttributeError(name)
    return getattr(self._distribution, name)

  def __len__(self) -> int:
    return len(self._value)

  def __bool__(self) -> bool:
    return bool(self._value)

  def __repr__(self) -> str:
    return (f'<DistributionTensor of {self._distribution!r}, value shape='
            f'{self._value.shape} dtype={self._value.dtype.name}>')


def _value_operator(name: str):
  def operator(self, *args):
    return getattr(self.tensor, name)(*args)
  operator.__name__ = name
  return operator


# The operators a `tf.Tensor` overloads act on the value, so a distribution
# output still works as a tensor in arithmetic (`y - rv_y`, `rv_y[:, 0]`).
for _name in tf.Tensor.OVERLOADABLE_OPERATORS:
  if _name != '__eq__' and _name != '__ne__':
    setattr(DistributionTensor, _name, _value_operator(_name))


def _to_tensor(value: DistributionTensor, dtype=None, name=None,
               as_ref=False) -> tf.Tensor:
  del name, as_ref  # The value exists already.
  tensor = value.tensor
  if dtype is not None and not dtype.is_compatible_with(tensor.dtype):
    raise TypeError(f'DistributionTensor: expected a conversion to '
                    f'{tensor.dtype.name}; received the dtype {dtype.name}.')
  return tensor


tf.register_tensor_conversion_function(DistributionTensor, _to_tensor)
# `isinstance(model(x), tfd.Distribution)` holds, as it did for `tfp.layers`'
# outputs; the object is not a composite tensor, which is what makes a
# `tf.function` (and so `model.predict`) return its value.
tfd.Distribution.register(DistributionTensor)
