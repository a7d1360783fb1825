"""Builders of a layer's weights: deterministic variables, posteriors and priors.

Every builder takes the same arguments, so a layer can be handed any of them:
`(kernel_shape, bias_shape, kernel_initializer=None, bias_initializer=None,
kernel_batch_ndims=0, bias_batch_ndims=0, dtype=tf.float32, kernel_name=...,
bias_name=...)`. Posteriors and priors are `JointDistributionSequential`s of
`[kernel, bias]`. A rank-1 layer's builders take its vectors `[s, r]` in the
kernel's and bias's places (`make_rank1_*`).
"""

from typing import Callable, Optional, Sequence, Tuple

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import distributions
from tfnx import initializers as init_lib

tfb = tfp.bijectors
tfd = tfp.distributions

__all__ = ['make_kernel_bias', 'make_kernel_bias_posterior_mvn_diag',
           'make_kernel_bias_prior_spike_and_slab',
           'make_kernel_bias_prior_normal', 'make_rank1_posterior_normal',
           'make_rank1_prior_normal']

Shape = Sequence[int]

# Scale parameters live behind a softplus floored here, so no amount of
# training can collapse a posterior scale to zero.
_MIN_SCALE = 1e-5
_INITIAL_POSTERIOR_SCALE = 1e-3


def _initial_value(initializer: Optional[Callable], default: Callable,
                   shape: Shape, dtype: tf.DType, batch_ndims: int):
  return init_lib.call_initializer(initializer or default, shape, dtype,
                                   batch_ndims)


def make_kernel_bias(
    kernel_shape: Shape,
    bias_shape: Shape,
    kernel_initializer: Optional[Callable] = None,
    bias_initializer: Optional[Callable] = None,
    kernel_batch_ndims: int = 0,
    bias_batch_ndims: int = 0,
    dtype: tf.DType = tf.float32,
    kernel_name: str = 'kernel',
    bias_name: str = 'bias') -> Tuple[tf.Variable, tf.Variable]:
  """Creates a deterministic kernel and bias as `tf.Variable`s.

  Args:
    kernel_shape: the kernel's shape, batch dimensions first.
    bias_shape: the bias's shape, batch dimensions first.
    kernel_initializer: `init(shape, dtype, batch_ndims)` (or a Keras
      initializer); `None` means `tfnx.initializers.glorot_uniform()`.
    bias_initializer: likewise; `None` means zeros.
    kernel_batch_ndims: how many leftmost kernel dimensions are batch.
    bias_batch_ndims: how many leftmost bias dimensions are batch.
    dtype: the variables' dtype.
    kernel_name: the kernel variable's name.
    bias_name: the bias variable's name.

  Returns:
    The pair `(kernel, bias)` of `tf.Variable`s.
  """
  kernel = tf.Variable(
      _initial_value(kernel_initializer, init_lib.glorot_uniform(),
                     kernel_shape, dtype, kernel_batch_ndims),
      name=kernel_name)
  bias = tf.Variable(
      _initial_value(bias_initializer, init_lib.zeros(), bias_shape, dtype,
                     bias_batch_ndims),
      name=bias_name)
  return kernel, bias


def _trainable_normal(initializer: Optional[Callable], default: Callable,
                      shape: Shape, batch_ndims: int, dtype: tf.DType,
                      name: str,
                      initial_scale: float = _INITIAL_POSTERIOR_SCALE
                      ) -> tfd.Distribution:
  loc = tf.Variable(_initial_value(initializer, default, shape, dtype,
                                   batch_ndims), name=name + '_loc')
  scale = tfp.util.TransformedVariable(
      tf.fill(shape, tf.constant(initial_scale, dtype)),
      tfb.Softplus(low=tf.constant(_MIN_SCALE, dtype)),
      name=name + '_scale')
  return tfd.Independent(tfd.Normal(loc=loc, scale=scale),
                         reinterpreted_batch_ndims=len(shape) - batch_ndims,
                         name=name)


def make_kernel_bias_posterior_mvn_diag(
    kernel_shape: Shape,
    bias_shape: Shape,
    kernel_initializer: Optional[Callable] = None,
    bias_initializer: Optional[Callable] = None,
    kernel_batch_ndims: int = 0,
    bias_batch_ndims: int = 0,
    dtype: tf.DType = tf.float32,
    kernel_name: str = 'posterior_kernel',
    bias_name: str = 'posterior_bias') -> tfd.JointDistributionSequential:
  """Creates a trainable mean-field normal posterior over kernel and bias.

  Each weight has a trainable `loc` (a `tf.Variable` named `<name>_loc`,
  initialized by the initializer) and a trainable `scale`, a
  `tfp.util.TransformedVariable` named `<name>_scale` that users can read and
  `assign`; it is kept above 1e-5 by a softplus and starts at 1e-3, small
  enough that the means move first.

  Args:
    kernel_shape: the kernel's shape, batch dimensions first.
    bias_shape: the bias's shape, batch dimensions first.
    kernel_initializer: initializes the kernel's `loc`; `None` means
      `tfnx.initializers.glorot_uniform()`.
    bias_initializer: initializes the bias's `loc`; `None` means zeros.
    kernel_batch_ndims: how many leftmost kernel dimensions are batch.
    bias_batch_ndims: how many leftmost bias dimensions are batch.
    dtype: the variables' dtype, `tf.float32` or `tf.float64`.
    kernel_name: the kernel part's name.
    bias_name: the bias part's name.

  Returns:
    A `JointDistributionSequential` of `[kernel, bias]` distributions, each an
    `Independent(Normal)`.
  """
  return tfd.JointDistributionSequential([
      _trainable_normal(kernel_initializer, init_lib.glorot_uniform(),
                        kernel_shape, kernel_batch_ndims, dtype, kernel_name),
      _trainable_normal(bias_initializer, init_lib.zeros(), bias_shape,
                        bias_batch_ndims, dtype, bias_name),
  ])


def make_kernel_bias_prior_spike_and_slab(
    kernel_shape: Shape,
    bias_shape: Shape,
    kernel_initializer: Optional[Callable] = None,
    bias_initializer: Optional[Callable] = None,
    kernel_batch_ndims: int = 0,
    bias_batch_ndims: int = 0,
    dtype: tf.DType = tf.float32,
    kernel_name: str = 'prior_kernel',
    bias_name: str = 'prior_bias') -> tfd.JointDistributionSequential:
  """Creates a spike-and-slab prior: each weight from `0.5 N(0, 1) + 0.5 N(0, 2000)`.

  The prior is very weak (the slab's scale, 2000, acts like an L2 weight of
  about 1.25e-7). Each weight is a `tfnx.distributions.SpikeAndSlabNormal`,
  whose log density is one closed-form log-sum-exp. No KL divergence from a
  normal posterior to it has a closed form, so layers estimate it by Monte
  Carlo.

  Args:
    kernel_shape: the kernel's shape.
    bias_shape: the bias's shape.
    kernel_initializer: ignored (accepted for a common builder signature).
    bias_initializer: ignored.
    kernel_batch_ndims: ignored.
    bias_batch_ndims: ignored.
    dtype: the distribution's dtype.
    kernel_name: the kernel part's name.
    bias_name: the bias part's name.

  Returns:
    A `JointDistributionSequential` of `[kernel, bias]` distributions.
  """
  del kernel_initializer, bias_initializer  # A prior has no variables.
  del kernel_batch_ndims, bias_batch_ndims  # Every weight is i.i.d.
  weight = distributions.SpikeAndSlabNormal(
      spike_probability=tf.constant(0.5, dtype),
      spike_scale=tf.constant(1., dtype), slab_scale=tf.constant(2000., dtype))
  return tfd.JointDistributionSequential([
      tfd.Sample(weight, list(kernel_shape), name=kernel_name),
      tfd.Sample(weight, list(bias_shape), name=bias_name),
  ])


def make_kernel_bias_prior_normal(
    kernel_shape: Shape,
    bias_shape: Shape,
    kernel_initializer: Optional[Callable] = None,
    bias_initializer: Optional[Callable] = None,
    kernel_batch_ndims: int = 0,
    bias_batch_ndims: int = 0,
    dtype: tf.DType = tf.float32,
    kernel_name: str = 'prior_kernel',
    bias_name: str = 'prior_bias') -> tfd.JointDistributionSequential:
  """Creates a standard normal prior, `N(0, 1)` for every weight.

  Its KL divergence from the mean-field normal posterior has a closed form,
  which layers use by default.

  Args:
    kernel_shape: the kernel's shape.
    bias_shape: the bias's shape.
    kernel_initializer: ignored (accepted for a common builder signature).
    bias_initializer: ignored.
    kernel_batch_ndims: how many leftmost kernel dimensions are batch.
    bias_batch_ndims: how many leftmost bias dimensions are batch.
    dtype: the distribution's dtype.
    kernel_name: the kernel part's name.
    bias_name: the bias part's name.

  Returns:
    A `JointDistributionSequential` of `[kernel, bias]` distributions, each an
    `Independent(Normal)` (the form the closed-form KL is registered for).
  """
  del kernel_initializer, bias_initializer  # A prior has no variables.
  return tfd.JointDistributionSequential([
      _fixed_normal(0., 1., kernel_shape, kernel_batch_ndims, dtype,
                    kernel_name),
      _fixed_normal(0., 1., bias_shape, bias_batch_ndims, dtype, bias_name),
  ])


def _fixed_normal(loc: float, scale: float, shape: Shape, batch_ndims: int,
                  dtype: tf.DType, name: str) -> tfd.Distribution:
  return tfd.Independent(
      tfd.Normal(loc=tf.fill(shape, tf.constant(loc, dtype)),
                 scale=tf.fill(shape, tf.constant(scale, dtype))),
      reinterpreted_batch_ndims=len(shape) - batch_ndims, name=name)


# A rank-1 layer's vectors start at random signs with this scale (as
# tfnx.keras' `TrainableNormal`), and have the prior N(1, 0.1) (Dusenberry et
# al., 2020): the defaults examples/rank1.py measured (docs/rank1.md).
_INITIAL_VECTOR_SCALE = 0.03
_VECTOR_PRIOR = (1., 0.1)


def make_rank1_posterior_normal(
    in_shape: Shape,
    out_shape: Shape,
    in_initializer: Optional[Callable] = None,
    out_initializer: Optional[Callable] = None,
    in_batch_ndims: int = 0,
    out_batch_ndims: int = 0,
    dtype: tf.DType = tf.float32,
    in_name: str = 'posterior_in_vectors',
    out_name: str = 'posterior_out_vectors'
) -> tfd.JointDistributionSequential:
  """Creates a rank-1 layer's posterior: an elementwise normal per vector set.

  The builders' signature, on a rank-1 layer's input-side vectors `s`
  (`[ensemble_size, in_channels]`) and output-side vectors `r`
  (`[ensemble_size, out_channels]`) in the kernel's and bias's places. Each
  has a trainable `loc` (`<name>_loc`) and a softplus `scale`
  (`<name>_scale`, starting at 0.03).

  Args:
    in_shape: the shape of `s`.
    out_shape: the shape of `r`.
    in_initializer: initializes `s`'s `loc`; `None` means random signs
      (`tfnx.initializers.random_sign()`), each member near +1 or -1.
    out_initializer: likewise for `r`.
    in_batch_ndims: how many leftmost axes of `s` are batch axes.
    out_batch_ndims: likewise for `r`.
    dtype: the variables' dtype.
    in_name: `s`'s part's name.
    out_name: `r`'s part's name.

  Returns:
    A `JointDistributionSequential` of `[s, r]` distributions, each an
    `Independent(Normal)`.
  """
  return tfd.JointDistributionSequential([
      _trainable_normal(initializer, init_lib.random_sign(), shape,
                        batch_ndims, dtype, name, _INITIAL_VECTOR_SCALE)
      for initializer, shape, batch_ndims, name in (
          (in_initializer, in_shape, in_batch_ndims, in_name),
          (out_initializer, out_shape, out_batch_ndims, out_name))])


def make_rank1_prior_normal(
    in_shape: Shape,
    out_shape: Shape,
    in_initializer: Optional[Callable] = None,
    out_initializer: Optional[Callable] = None,
    in_batch_ndims: int = 0,
    out_batch_ndims: int = 0,
    dtype: tf.DType = tf.float32,
    in_name: str = 'prior_in_vectors',
    out_name: str = 'prior_out_vectors') -> tfd.JointDistributionSequential:
  """Creates a rank-1 layer's prior: `N(1, 0.1)` for every element of `s`, `r`.

  Its KL divergence from `make_rank1_posterior_normal`'s posterior has a
  closed form, which the layers use.

  Args:
    in_shape, out_shape, in_batch_ndims, out_batch_ndims, dtype, in_name,
      out_name: as for `make_rank1_posterior_normal`.
    in_initializer: ignored (accepted for the builders' signature).
    out_initializer: ignored.

  Returns:
    A `JointDistributionSequential` of `[s, r]` distributions, each an
    `Independent(Normal)`.
  """
  del in_initializer, out_initializer  # A prior has no variables.
  return tfd.JointDistributionSequential([
      _fixed_normal(*_VECTOR_PRIOR, in_shape, in_batch_ndims, dtype, in_name),
      _fixed_normal(*_VECTOR_PRIOR, out_shape, out_batch_ndims, dtype,
                    out_name),
  ])
