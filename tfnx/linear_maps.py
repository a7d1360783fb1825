"""The linear maps the estimators apply: a kernel applied to inputs, plus Flipout's sign shape.

An estimator never needs to know whether it drives a dense layer or a
convolution: it calls `apply(inputs, kernel)`, and asks `sign_shape(t)` for the
shape of the random signs Flipout multiplies `t` by. The signs must be shared
by every position that shares a weight (all spatial positions of a channel in
a convolution), so that a sign-flipped perturbation is an exact sample of the
weight perturbation for each example.
"""

from typing import Callable, NamedTuple

import tensorflow as tf

__all__ = ['LinearMap', 'dense']


class LinearMap(NamedTuple):
  """A linear map `apply(inputs, kernel)` and the sign shape of its operands.

  Attributes:
    apply: `(inputs, kernel) -> outputs`, linear in each argument.
    sign_shape: `(t) -> shape`: the shape of the random sign tensor that
      multiplies `t` (inputs or outputs of `apply`), broadcastable to `t`.
  """
  apply: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
  sign_shape: Callable[[tf.Tensor], tf.Tensor]


def _dense_apply(inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
  return tf.linalg.matmul(inputs, kernel)


dense = LinearMap(apply=_dense_apply, sign_shape=tf.shape)
"""`[batch, in] @ [in, out]`: one matmul; every element gets its own sign."""
