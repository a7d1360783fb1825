"""Training-loop helpers: compilation, one fused fit step, a tuned pipeline."""

import collections.abc
import contextlib
import functools
from typing import Any, Callable, Optional

import tensorflow as tf

__all__ = ['tfcompile', 'make_fit_op', 'tune_dataset']


def tfcompile(func: Optional[Callable[..., Any]] = None,
              tf_function: bool = True,
              xla_best_effort: bool = True,
              xla_compile_all: bool = False) -> Callable[..., Any]:
  """Wraps a function in `tf.function` and XLA directives (or decorates).

  ```python
  @tfn.util.tfcompile
  def eval_step(x): ...

  @tfn.util.tfcompile(xla_compile_all=True)
  def train_step(x): ...
  ```

  Args:
    func: the function to wrap; `None` returns a decorator taking it.
    tf_function: whether the result is a `tf.function` (without autograph).
    xla_best_effort: whether, when traced, the ops may be clustered and
      compiled by XLA where TensorFlow finds it possible.
    xla_compile_all: whether the whole function is compiled by XLA
      (`jit_compile=True`); overrides the other two.

  Returns:
    The wrapped function, or a decorator when `func` is `None`.
  """
  tf_function = tf_function or xla_compile_all
  xla_best_effort = xla_best_effort and not xla_compile_all

  def decorator(f):
    if not (tf_function or xla_best_effort):
      return f

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
      with _xla_scope(xla_best_effort):
        return f(*args, **kwargs)
    if tf_function:
      return tf.function(wrapped, autograph=False, jit_compile=xla_compile_all)
    return wrapped

  return decorator if func is None else decorator(func)


def make_fit_op(loss_fn: Callable[..., Any],
                optimizer: Any,
                trainable_variables: Any,
                grad_summary_fn: Optional[Callable[[Any], Any]] = None,
                tf_function: bool = True,
                xla_compile: bool = True) -> Callable[..., Any]:
  """Builds one training step: loss, gradients and an optimizer update.

  Args:
    loss_fn: `(*args, **kwargs) -> (loss, other)`: the scalar loss to minimize
      and any structure of tensors to hand back.
    optimizer: an optimizer with `apply_gradients` (e.g. a Keras 3
      optimizer), or a sequence of them, one per element of
      `trainable_variables`.
    trainable_variables: a structure of `tf.Variable`s to update.
    grad_summary_fn: optional `(gradients) -> summary`, called on the
      gradients (in the structure of `trainable_variables`); its result is
      returned as a third output.
    tf_function: whether the step runs as a `tf.function`.
    xla_compile: whether, inside that `tf.function`, the ops may be clustered
      and compiled by XLA where TensorFlow finds it possible (best effort).

  Returns:
    `fit_op(*args, **kwargs)`, which updates the variables and returns
    `(loss, other)`, or `(loss, other, grad_summary)`.
  """
  @tfcompile(tf_function=tf_function, xla_best_effort=xla_compile)
  def fit_op(*args, **kwargs):
    with tf.GradientTape(watch_accessed_variables=False) as tape:
      tape.watch(tf.nest.flatten(trainable_variables))
      loss, other = loss_fn(*args, **kwargs)
    flat_grads = tape.gradient(loss, tf.nest.flatten(trainable_variables))
    grads = tf.nest.pack_sequence_as(trainable_variables, flat_grads)
    if isinstance(optimizer, collections.abc.Sequence):
      for opt, g, v in zip(optimizer, grads, trainable_variables):
        _apply(opt, g, v)
    else:
      _apply(optimizer, grads, trainable_variables)
    if grad_summary_fn is not None:
      return loss, other, grad_summary_fn(grads)
    return loss, other

  return fit_op


def _xla_scope(enabled: bool):
  # Auto-clustering applies to traced ops only; eagerly it is a no-op.
  if enabled and not tf.executing_eagerly():
    return tf.xla.experimental.jit_scope(compile_ops=True)
  return contextlib.nullcontext()


def _apply(optimizer: Any, grads: Any, variables: Any) -> None:
  pairs = [(g, v) for g, v in zip(tf.nest.flatten(grads),
                                  tf.nest.flatten(variables)) if g is not None]
  if pairs:
    optimizer.apply_gradients(pairs)


def tune_dataset(dataset: tf.data.Dataset,
                 batch_size: Optional[int] = None,
                 shuffle_size: Optional[int] = None,
                 preprocess_fn: Optional[Callable[..., Any]] = None,
                 repeat_count: Optional[int] = -1) -> tf.data.Dataset:
  """Applies the usual `tf.data` settings for training.

  In order: parallel `map(preprocess_fn)`, `cache()`, `shuffle`, `repeat`,
  `batch` (dropping a short last batch) and `prefetch`. Repeating after
  shuffling means no example is dropped within an epoch.

  Args:
    dataset: the `tf.data.Dataset` to tune.
    batch_size: examples per batch; `None` for no batching.
    shuffle_size: the shuffle buffer's size; `None` for no shuffling.
    preprocess_fn: applied to each element before caching; `None` for none.
    repeat_count: how many times to repeat; `-1` (the default) repeats
      forever and `None` does not repeat (unlike `Dataset.repeat(None)`).

  Returns:
    The tuned `tf.data.Dataset`.
  """
  if preprocess_fn is not None:
    dataset = dataset.map(preprocess_fn, num_parallel_calls=tf.data.AUTOTUNE)
  dataset = dataset.cache()
  if shuffle_size is not None:
    dataset = dataset.shuffle(shuffle_size)
  if repeat_count is not None:
    dataset = dataset.repeat(repeat_count)
  if batch_size is not None:
    dataset = dataset.batch(batch_size, drop_remainder=True)
  return dataset.prefetch(tf.data.AUTOTUNE)
