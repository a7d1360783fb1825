"""How a joint kernel/bias distribution splits into its kernel and bias parts."""

import collections.abc
from typing import Any, Optional, Tuple

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

__all__ = ['unpack_kernel_and_bias', 'joint_parts', 'normal_loc_scale',
           'is_normal']


def unpack_kernel_and_bias(weights: Any) -> Tuple[Any, Any]:
  """Splits a kernel/bias structure into `(kernel, bias)`.

  Works on samples and on distributions alike.

  Args:
    weights: a mapping with keys `'kernel'` and/or `'bias'`, a sequence
      `[kernel, bias]`, a one-element sequence `[kernel]`, or a single kernel.

  Returns:
    The pair `(kernel, bias)`; a missing part is `None`.

  Raises:
    ValueError: if a sequence has more than two elements.
  """
  if isinstance(weights, collections.abc.Mapping):
    return weights.get('kernel'), weights.get('bias')
  if isinstance(weights, (tf.Tensor, tf.Variable, tfd.Distribution)):
    return weights, None
  if isinstance(weights, collections.abc.Sequence):
    if len(weights) == 1:
      return weights[0], None
    if len(weights) == 2:
      return weights[0], weights[1]
    raise ValueError('unpack_kernel_and_bias: expected at most two parts '
                     f'(kernel, bias); received {len(weights)}.')
  return weights, None


def joint_parts(joint: tfd.Distribution, owner: str) -> Any:
  """Returns the part distributions of a joint kernel/bias distribution.

  Args:
    joint: a `JointDistributionSequential` or `JointDistributionNamed` whose
      parts are distributions (not callables of earlier parts), or a single
      distribution over the kernel.
    owner: the layer's name, for errors.

  Returns:
    A list or dict of distributions, in the structure of `joint.model`.

  Raises:
    TypeError: if a part depends on another (the parts must be independent
      for the estimators to use them one by one).
  """
  # Any joint distribution with a list or dict model, including the
  # non-composite-tensor variants TFP builds around custom parts.
  if isinstance(joint, tfd.JointDistribution) and isinstance(
      getattr(joint, 'model', None), (list, tuple, dict)):
    model = joint.model
    parts = list(model.values()) if isinstance(model, dict) else list(model)
    if not all(isinstance(p, tfd.Distribution) for p in parts):
      raise TypeError(f'{owner}: expected a joint distribution of independent '
                      'kernel and bias distributions; received one whose parts '
                      'depend on each other.')
    return dict(model) if isinstance(model, dict) else parts
  if isinstance(joint, tfd.Distribution):
    return [joint]
  raise TypeError(f'{owner}: expected a `tfd.Distribution` over the kernel and '
                  f'bias; received {type(joint).__name__}.')


def normal_loc_scale(dist: Optional[tfd.Distribution]
                     ) -> Optional[Tuple[tf.Tensor, tf.Tensor]]:
  """Returns `(loc, scale)` of an elementwise normal distribution, else `None`.

  Recognizes `Normal`, `MultivariateNormalDiag` and `Independent` wrappers of
  either: the distributions whose elements are independent normals, which is
  what Flipout and local reparameterization rely on.
  """
  while isinstance(dist, tfd.Independent):
    dist = dist.distribution
  if isinstance(dist, tfd.Normal):
    return dist.loc, dist.scale
  if isinstance(dist, tfd.MultivariateNormalDiag):
    return dist.loc, dist.stddev()
  return None


def is_normal(dist: Optional[tfd.Distribution]) -> bool:
  """Whether `normal_loc_scale` can read `dist`."""
  return normal_loc_scale(dist) is not None
