"""Rank-1 Bayesian and BatchEnsemble outputs, written once for every linear map.

An ensemble of `K` members shares one deterministic kernel `W`; member `k`
has its own input-side vector `s_k`, output-side vector `r_k` and bias `b_k`,
and computes

    y = r_k * apply(x * s_k, W) + b_k

(`use_additive_perturbation`: `y = apply(x + s_k, W) + r_k + b_k`) for the
layer's linear map `apply` (`tfnx.linear_maps`: dense, convolution,
transposed convolution). The vectors act like Flipout's sign vectors: one
value per input (output) channel, shared by every spatial position. That is
member `k`'s layer with kernel `diag(s_k) W diag(r_k)`.

- BatchEnsemble (Wen et al., 2020): the vectors are point estimates, so the
  layer is exactly `K` layers that share `W`.
- Rank-1 Bayesian (Dusenberry et al., 2020): each member's vectors have a
  posterior (an elementwise normal or Cauchy of shape `[K, channels]`), and
  each row's vectors are an exact draw from its member's posterior, two rows
  of a member uncorrelated (`factor_rows`: Flipout's sign flips of one draw
  per member, so a call draws random signs per row, not normals).

**Rows and members.** Of a batch of `N` rows, row `i` belongs to member
`(i * K) // N`: `K` consecutive blocks of `N / K` rows. A batch tiled `K`
times member-major (`tf.tile(x, [K, 1])`, `tfnx.keras.ensemble_inputs`) thus
gives every member every example; an untiled batch (what `model.fit` passes)
gives each member its own part of it, as edward2's layers do with a batch of
`K * examples_per_member`. Every later layer reads the same blocks, since
every layer keeps the rows' order.

All randomness is stateless, driven by the `seed` argument.
"""

from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _fast_paths
from tfnx import _sampling as sampling
from tfnx import seeds as seeds_lib
from tfnx.linear_maps import LinearMap

tfd = tfp.distributions

__all__ = ['Factor', 'Rank1Estimate', 'member_of_rows', 'rows_of_members',
           'factor_rows', 'factors_of_rows', 'apply_rows', 'rank1',
           'is_point']

Factor = Union[tf.Tensor, tfd.Distribution]
"""A member's vectors `[K, channels]`: a tensor (a point) or a distribution."""


class Rank1Estimate(NamedTuple):
  """A rank-1 layer's outputs and the vectors each row used.

  Attributes:
    outputs: `r * apply(x * s, W) + b` per row, before any activation.
    in_factors: the input-side vector of each row, `[rows, in_channels]`.
    out_factors: the output-side vector of each row, `[rows, out_channels]`.
  """
  outputs: tf.Tensor
  in_factors: tf.Tensor
  out_factors: tf.Tensor


def member_of_rows(rows: tf.Tensor, ensemble_size: int) -> tf.Tensor:
  """Each row's member: row `i` of `rows` belongs to `(i * K) // rows`.

  Args:
    rows: the number of rows, an `int32` scalar.
    ensemble_size: the number of members `K`.

  Returns:
    An `int32` vector of length `rows`, non-decreasing, in `[0, K)`.
  """
  rows = tf.cast(rows, tf.int32)
  # Products of int32 row counts and small ensembles fit in int64 always.
  index = tf.range(tf.cast(rows, tf.int64)) * ensemble_size
  return tf.cast(index // tf.maximum(tf.cast(rows, tf.int64), 1), tf.int32)


def rows_of_members(values: tf.Tensor, members: tf.Tensor) -> tf.Tensor:
  """Row `i` of the result is `values[members[i]]`, for `values` `[K, ...]`.

  A one-hot product rather than `tf.gather`: its gradient to a variable is
  dense, where a gather's would be `IndexedSlices` of one row per example
  (the optimizer's and the all-reduce's work growing with the batch, not
  with `K`); and it is exact, each output one value times one plus zeros.

  Args:
    values: the members' values, `[K, ...]` (their biases, their points).
    members: each row's member (`member_of_rows`).

  Returns:
    `[rows, ...]`.
  """
  one_hot = tf.one_hot(members, tf.shape(values)[0], dtype=values.dtype)
  flat = tf.reshape(values, tf.stack([tf.shape(values)[0], -1]))
  return tf.reshape(tf.matmul(one_hot, flat), tf.concat(
      [tf.shape(members), tf.shape(values)[1:]], axis=0))


def is_point(factor: Factor) -> bool:
  """Whether `factor` is a point (a tensor or variable), not a distribution."""
  return not isinstance(factor, tfd.Distribution)


def _location_scale(factor: tfd.Distribution
                    ) -> Optional[Tuple[tfd.Distribution, tf.Tensor,
                                        tf.Tensor]]:
  """`(inner, loc, scale)` of an elementwise normal or Cauchy, else `None`."""
  inner = factor
  while isinstance(inner, tfd.Independent):
    inner = inner.distribution
  if type(inner) not in (tfd.Normal, tfd.Cauchy):
    return None
  return (inner, _fast_paths.parameter_tensor(inner.loc),
          _fast_paths.parameter_tensor(inner.scale))


def _standard_noise(kind: type, shape: tf.Tensor, seed: tf.Tensor,
                    dtype: tf.DType) -> tf.Tensor:
  if kind is tfd.Normal:
    return sampling.standard_normal(shape, seed, dtype)
  # A standard Cauchy by inversion of a uniform on the open interval (0, 1).
  tiny = np.finfo(dtype.as_numpy_dtype).eps
  uniform = tf.random.stateless_uniform(shape, seed, minval=tiny,
                                        maxval=1. - tiny, dtype=dtype)
  return tf.tan(np.pi * (uniform - 0.5))


def factor_rows(factor: Factor, members: tf.Tensor, seed: tf.Tensor,
                dtype: tf.DType) -> tf.Tensor:
  """Each row's vector: its member's point, or a draw from its member's posterior.

  An elementwise normal or Cauchy, whose noise is symmetric, is drawn as
  Flipout draws a kernel (Wen et al., 2018): one noise draw `eps` per member
  and call, flipped per row by random signs, `loc + scale * eps * signs`.
  Each row's vector is then an exact draw from its member's posterior, and
  two rows of a member are uncorrelated (not independent: they share
  `|eps|`), at the cost of random signs rather than a normal per element.
  Any other distribution over `[K, channels]` is sampled once per row and
  each row keeps its member's draw.

  Args:
    factor: the members' vectors `[K, channels]`, a tensor or a distribution.
    members: each row's member (`member_of_rows`).
    seed: an `int32` seed of shape `[2]`.
    dtype: the vectors' dtype.

  Returns:
    `[rows, channels]`.
  """
  if is_point(factor):
    return rows_of_members(tf.convert_to_tensor(factor, dtype), members)
  location_scale = _location_scale(factor)
  rows = tf.size(members)
  if location_scale is None:
    draws = tf.convert_to_tensor(factor.sample(rows, seed=seed), dtype)
    return tf.gather(draws, members, axis=1, batch_dims=1)
  inner, loc, scale = location_scale
  shape = tf.broadcast_dynamic_shape(tf.shape(loc), tf.shape(scale))
  noise_seed, sign_seed = seeds_lib.split_seed(seed, 2)
  perturbation = tf.broadcast_to(scale, shape) * _standard_noise(
      type(inner), shape, noise_seed, scale.dtype)
  signs = sampling.rademacher(tf.stack([rows, shape[1]]), sign_seed,
                              scale.dtype)
  return (rows_of_members(tf.broadcast_to(loc, shape), members)
          + rows_of_members(perturbation, members) * signs)


def _channels_last(vectors: tf.Tensor, rank: int) -> tf.Tensor:
  """`[rows, channels]` as `[rows, 1, ..., 1, channels]`, broadcasting to rank."""
  if rank == 2:
    return vectors
  shape = tf.concat([tf.shape(vectors)[:1], tf.ones([rank - 2], tf.int32),
                     tf.shape(vectors)[1:]], axis=0)
  return tf.reshape(vectors, shape)


def factors_of_rows(factors: Sequence[Factor], rows: tf.Tensor,
                    ensemble_size: int, seed: tf.Tensor, dtype: tf.DType,
                    bounds: Optional[Tuple[float, float]] = None
                    ) -> List[tf.Tensor]:
  """Each row's vectors, one `[rows, channels]` tensor per factor.

  A layer that applies its vectors many times in a call (a recurrent cell,
  at every time step) draws them here once.

  Args:
    factors: the members' vectors, each `[K, channels]`: a tensor or a
      distribution.
    rows: the number of rows, an `int32` scalar; they are in member blocks
      (`member_of_rows`).
    ensemble_size: the number of members `K`.
    seed: an `int32` seed of shape `[2]`, split among the factors.
    dtype: the vectors' dtype.
    bounds: `(low, high)` to clip drawn vectors to, or `None`; points are
      never clipped.

  Returns:
    A list of `[rows, channels]` tensors, in the order of `factors`.
  """
  members = member_of_rows(rows, ensemble_size)
  seeds = seeds_lib.split_seed(seed, len(factors))
  return [_bounded(factor_rows(factor, members, factor_seed, dtype), factor,
                   bounds)
          for factor, factor_seed in zip(factors, seeds)]


def apply_rows(inputs: tf.Tensor, kernel: tf.Tensor, in_rows: tf.Tensor,
               out_rows: tf.Tensor, linear_map: LinearMap,
               additive: bool = False) -> tf.Tensor:
  """`out_rows * apply(inputs * in_rows, W)` row by row, without a bias.

  Args:
    inputs: `[rows, ..., in_channels]`, in the layout `linear_map.apply`
      takes.
    kernel: the shared kernel.
    in_rows: each row's input-side vector, `[rows, in_channels]`.
    out_rows: each row's output-side vector, `[rows, out_channels]`.
    linear_map: the `LinearMap` to apply.
    additive: `apply(inputs + in_rows, W) + out_rows` instead.

  Returns:
    The outputs.
  """
  in_vectors = _channels_last(in_rows, inputs.shape.rank)
  if additive:
    outputs = linear_map.apply(inputs + in_vectors, kernel)
    return outputs + _channels_last(out_rows, outputs.shape.rank)
  outputs = linear_map.apply(inputs * in_vectors, kernel)
  return outputs * _channels_last(out_rows, outputs.shape.rank)


def rank1(inputs: tf.Tensor, kernel: tf.Tensor, in_factor: Factor,
          out_factor: Factor, bias: Optional[tf.Tensor],
          linear_map: LinearMap, ensemble_size: int, seed: tf.Tensor,
          additive: bool = False,
          bounds: Optional[Tuple[float, float]] = None) -> Rank1Estimate:
  """The outputs of a rank-1 (or BatchEnsemble) layer, each row by its member.

  Args:
    inputs: `[rows, ..., in_channels]`, in the layout `linear_map.apply`
      takes, rows in member blocks (`member_of_rows`).
    kernel: the shared kernel.
    in_factor: the input-side vectors `s`, `[K, in_channels]`: a tensor or a
      distribution.
    out_factor: the output-side vectors `r`, `[K, out_channels]`.
    bias: the members' biases `[K, out_channels]`, or `None`.
    linear_map: the `LinearMap` to apply.
    ensemble_size: the number of members `K`.
    seed: an `int32` seed of shape `[2]`, for the vectors' draws.
    additive: `y = apply(x + s, W) + r + b` instead of the product.
    bounds: `(low, high)` to clip drawn vectors to (edward2's
      `min_perturbation_value` and `max_perturbation_value`), or `None`;
      points are never clipped.

  Returns:
    A `Rank1Estimate`.
  """
  dtype = inputs.dtype
  rows = tf.shape(inputs)[0]
  in_rows, out_rows = factors_of_rows((in_factor, out_factor), rows,
                                      ensemble_size, seed, dtype, bounds)
  outputs = apply_rows(inputs, kernel, in_rows, out_rows, linear_map,
                       additive)
  if bias is not None:
    outputs += _channels_last(
        rows_of_members(tf.convert_to_tensor(bias, dtype),
                        member_of_rows(rows, ensemble_size)),
        outputs.shape.rank)
  return Rank1Estimate(outputs, in_rows, out_rows)


def _bounded(rows: tf.Tensor, factor: Factor,
             bounds: Optional[Tuple[float, float]]) -> tf.Tensor:
  if bounds is None or is_point(factor):
    return rows
  return tf.clip_by_value(rows, bounds[0], bounds[1])
