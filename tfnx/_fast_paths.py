"""The specializations keyed on exact TFP types, in one place.

Each function here either computes what a general TFP call would, faster for
one exact distribution type, or returns `None` (or its input) where it does
not apply; the caller then takes the general path. Keyed on exact types
(`type(d) is tfd.Normal`), never on subclasses, which may change the math.
`tests/test_fast_paths.py` compares each with its general path.

What is specialized, and why:

- `normal_sample`: a sample of an elementwise normal by the default
  `tfd.Distribution.sample` is `loc + scale * eps` with
  `tfnx._sampling.standard_normal` (Box-Muller from raw random words), a
  fraction of TFP's sampler's cost over a kernel. General path:
  `posterior_value_fn(distribution, seed=seed)`.
- `parameter_tensor`: a `TransformedVariable` behind a plain `Softplus` is
  converted by TF's fused softplus; TFP's `Softplus` bijector wraps it in a
  five-op custom gradient that costs more than the softplus over a kernel.
  General path: `tf.convert_to_tensor`.
- `normal_parameters` / `with_parameters`: a `Normal` (or `Independent` of
  one) over its parameters converted once, so every use within a call (the
  estimator's noise, the KL's entropy, a sample) shares one softplus.
  General path: the distribution itself.
- `independent_normal_entropy`: the entropy of one `Independent(Normal)`
  event as `sum(log scale) + n/2 log(2 pi e)`; TFP broadcasts the normal's
  entropy to the full shape before summing. General path: `q.entropy()`.
"""

from typing import Any, Callable, Optional, Tuple

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _sampling as sampling
from tfnx.util import _weights as weights_lib

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ['normal_sample', 'parameter_tensor', 'normal_parameters',
           'with_parameters', 'independent_normal_entropy',
           'default_divergence']


def normal_sample(distribution: tfd.Distribution,
                  posterior_value_fn: Callable[..., Any],
                  seed: tf.Tensor) -> Optional[tf.Tensor]:
  """`loc + scale * eps` for TFP's own sampler of an elementwise normal.

  Returns:
    The sample, or `None` where `posterior_value_fn` is not
    `tfd.Distribution.sample` or `distribution` no elementwise normal.
  """
  if posterior_value_fn is not tfd.Distribution.sample:
    return None
  loc_scale = weights_lib.normal_loc_scale(distribution)
  if loc_scale is None:
    return None
  loc, scale = (tf.convert_to_tensor(t) for t in loc_scale)
  shape = tf.broadcast_dynamic_shape(tf.shape(loc), tf.shape(scale))
  return loc + scale * sampling.standard_normal(shape, seed, loc.dtype)


def parameter_tensor(value: Any) -> tf.Tensor:
  """`tf.convert_to_tensor(value)`, by TF's fused softplus for a softplus scale."""
  if (isinstance(value, tfp.util.TransformedVariable)
      and type(value.bijector) is tfb.Softplus
      and value.bijector.hinge_softness is None):
    scale = tf.nn.softplus(value.pretransformed_input)
    low = value.bijector.low
    return scale if low is None else scale + tf.cast(low, scale.dtype)
  return tf.convert_to_tensor(value)


def _inner_normal(dist: Optional[tfd.Distribution]) -> Optional[tfd.Normal]:
  if type(dist) is tfd.Independent and type(dist.distribution) is tfd.Normal:
    return dist.distribution
  if type(dist) is tfd.Normal:
    return dist
  return None


def normal_parameters(dist: Optional[tfd.Distribution]
                      ) -> Optional[Tuple[tf.Tensor, tf.Tensor]]:
  """A `Normal`'s (or `Independent(Normal)`'s) `(loc, scale)` as tensors.

  Returns:
    The converted parameters, or `None` for any other distribution.
  """
  inner = _inner_normal(dist)
  if inner is None:
    return None
  return parameter_tensor(inner.loc), parameter_tensor(inner.scale)


def with_parameters(dist: tfd.Distribution,
                    parameters: Tuple[tf.Tensor, tf.Tensor]
                    ) -> tfd.Distribution:
  """`dist` (a `Normal` or `Independent(Normal)`) over `(loc, scale)`."""
  inner = _inner_normal(dist)
  normal = tfd.Normal(*parameters, validate_args=inner.validate_args,
                      name=inner.name)
  if inner is dist:
    return normal
  return tfd.Independent(
      normal, reinterpreted_batch_ndims=dist.reinterpreted_batch_ndims,
      validate_args=dist.validate_args, name=dist.name)


def independent_normal_entropy(q: tfd.Distribution) -> Optional[tf.Tensor]:
  """The entropy of one `Independent(Normal)` event, summed directly.

  Returns:
    The entropy, or `None` unless `q` is one event of independent normals
    whose scale has the event's shape.
  """
  if not (isinstance(q, tfd.Independent) and type(q.distribution) is tfd.Normal
          and q.batch_shape.rank == 0
          and q.distribution.scale.shape == q.event_shape):
    return None
  scale = tf.convert_to_tensor(q.distribution.scale)
  size = tf.cast(tf.size(scale), scale.dtype)
  half_log_2_pi_e = 0.5 * (1. + tf.math.log(
      tf.constant(2. * 3.141592653589793, scale.dtype)))
  return tf.reduce_sum(tf.math.log(scale)) + size * half_log_2_pi_e
