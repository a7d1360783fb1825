"""Schedules of a training loop's hyperparameters (e.g. a KL weight)."""

from typing import Any, Optional

import tensorflow as tf

__all__ = ['halflife_decay']


def _float_dtype(values: Any, default: tf.DType) -> tf.DType:
  # The first floating tensor or array sets the dtype, as TFP's common dtype
  # does; Python numbers follow it.
  for value in values:
    dtype = getattr(value, 'dtype', None)
    if dtype is not None and tf.as_dtype(dtype).is_floating:
      return tf.as_dtype(dtype)
  return tf.as_dtype(default)


def halflife_decay(time_step: Any, half_life: Any, initial: Any,
                   final: Any = 0., dtype: tf.DType = tf.float32,
                   name: Optional[str] = None) -> tf.Tensor:
  """Decays from `initial` to `final`, halving the distance every `half_life`.

  `final + (initial - final) * 0.5 ** (time_step / half_life)`.

  Args:
    time_step: the current step (any number or tensor; cast).
    half_life: the steps it takes to halve the distance to `final`.
    initial: the value at step 0.
    final: the value approached as steps grow.
    dtype: the result's dtype when none of `initial`, `final` and
      `half_life` is a floating tensor or array.
    name: the name scope; `None` means `'halflife_decay'`.

  Returns:
    The decayed value, a tensor.
  """
  with tf.name_scope(name or 'halflife_decay'):
    dtype = _float_dtype([initial, final, half_life], dtype)
    initial = tf.convert_to_tensor(initial, dtype=dtype, name='initial')
    final = tf.convert_to_tensor(final, dtype=dtype, name='final')
    half_life = tf.convert_to_tensor(half_life, dtype=dtype, name='half_life')
    time_step = tf.cast(time_step, dtype, name='time_step')
    return final + (initial - final) * 0.5**(time_step / half_life)
