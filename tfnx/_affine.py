"""Dense layers: the deterministic `Affine` and the three variational ones.

They differ from the other layer types only in their linear map (one 2-D
matmul on the batch flattened to `[N, input_size]`) and in their shapes.
"""

from typing import Any, Callable, Optional, Sequence, Tuple

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import estimators as estimators_lib
from tfnx import _checks as checks
from tfnx import _layers as layers_lib
from tfnx import linear_maps
from tfnx import seeds as seeds_lib
from tfnx import _variational as variational
from tfnx.util import kernel_bias as kernel_bias_lib
from tfnx import _shapes as shapes_lib
from tfnx.util import _weights as weights_lib

tfd = tfp.distributions

__all__ = ['Affine', 'AffineVariationalFlipout',
           'AffineVariationalReparameterization',
           'AffineVariationalReparameterizationLocal']


def _check_dense_inputs(x: tf.Tensor, input_size: int,
                        owner: str) -> tf.Tensor:
  return checks.check_trailing_shape(x, 1, {-1: input_size}, owner)


class Affine(layers_lib.Sizes, layers_lib.KernelBiasLayer):
  """A deterministic dense layer, `activation_fn(x @ kernel + bias)`.

  Args:
    input_size: the size of the inputs' last axis.
    output_size: the size of the outputs' last axis.
    kernel_initializer: `init(shape, dtype, batch_ndims)`; `None` means
      `tfnx.initializers.glorot_uniform()`.
    bias_initializer: likewise; `None` means zeros.
    make_kernel_bias_fn: builds `(kernel, bias)` variables; default
      `tfnx.util.make_kernel_bias`.
    dtype: the layer's floating dtype.
    batch_shape: a shape of independent layers in one: the kernel has shape
      `batch_shape + [input_size, output_size]`; inputs `[..., input_size]`
      whose batch shape broadcasts against it (size-1 and missing axes, as
      TFP's standards have it) give `[*broadcast, output_size]`: kernel
      batch `(2, 3)` on inputs `(8, 1, 1, input_size)` gives
      `(8, 2, 3, output_size)`. Default `()`: one layer.
    activation_fn: applied to the outputs; `None` for the identity.
    name: the layer's name; `None` means `'Affine'`.
  """

  def __init__(
      self,
      input_size: int,
      output_size: int,
      kernel_initializer: Optional[Callable] = None,
      bias_initializer: Optional[Callable] = None,
      make_kernel_bias_fn: Callable = kernel_bias_lib.make_kernel_bias,
      dtype: tf.DType = tf.float32,
      batch_shape: Sequence[int] = (),
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      name: Optional[str] = None):
    name = name or type(self).__name__
    self._init_sizes(name, input_size, output_size)
    self._batch_shape = [int(d) for d in
                         ([] if batch_shape is None else
                          tf.nest.flatten(batch_shape))]
    kernel, bias = layers_lib.make_kernel_bias_in_scope(
        name, make_kernel_bias_fn,
        self._batch_shape + [input_size, output_size],
        self._batch_shape + [output_size], kernel_initializer,
        bias_initializer, len(self._batch_shape), dtype)
    super().__init__(kernel=kernel, bias=bias,
                     apply_kernel_fn=linear_maps.dense,
                     activation_fn=activation_fn, dtype=dtype, name=name)

  def __call__(self, inputs, **kwargs) -> tf.Tensor:
    """Applies the layer to inputs of shape `[..., input_size]`.

    A kernel with batch axes (from `batch_shape`, or sample axes a
    `make_kernel_bias_fn` added) broadcasts against the inputs' batch axes,
    size-1 and missing ones included; an unbatched kernel is one 2-D matmul.
    Keyword arguments (`training=...`) are ignored, as TFP's layers do.
    """
    del kwargs  # Accepted as TFP's layers accept them.
    x = _check_dense_inputs(
        checks.convert_inputs(inputs, self._dtype, self.name),
        self._input_size, self.name)
    if self._kernel.shape.rank == 2:
      flat_x, batch_shape = shapes_lib.flatten_batch(x, 1)
      y = shapes_lib.restore_batch(tf.linalg.matmul(flat_x, self._kernel),
                                   batch_shape, x, 1)
    else:
      _check_broadcast(x.shape[:-1], self._kernel.shape[:-2], self.name)
      y = tf.linalg.matvec(self._kernel, x, transpose_a=True)
    return self._activate(y + self._bias)


def _check_broadcast(input_batch: tf.TensorShape,
                     kernel_batch: tf.TensorShape, owner: str) -> None:
  try:
    tf.broadcast_static_shape(input_batch, kernel_batch)
  except ValueError:
    raise ValueError(f'{owner}: expected inputs whose batch shape broadcasts '
                     f'against the kernel\'s {kernel_batch}; received batch '
                     f'shape {input_batch}.') from None


class DenseShapes(layers_lib.Sizes):
  """The sizes, checks and layouts of a dense layer on the pipeline.

  Inputs `[..., input_size]` reach the dense map as `[N, input_size]`, and
  its outputs return to `[..., output_size]`.
  """

  def _check_inputs(self, x: tf.Tensor) -> tf.Tensor:
    return _check_dense_inputs(x, self._input_size, self.name)

  def _to_map_layout(self, x):
    return shapes_lib.flatten_batch(x, 1)

  def _from_map_layout(self, y, restore, x):
    return shapes_lib.restore_batch(y, restore, x, 1)


class _AffineVariational(DenseShapes, variational.VariationalLayer):
  """The dense variational layers' shared constructor."""

  def __init__(
      self,
      input_size: int,
      output_size: int,
      kernel_initializer: Optional[Callable] = None,
      bias_initializer: Optional[Callable] = None,
      make_posterior_fn: Callable = (
          kernel_bias_lib.make_kernel_bias_posterior_mvn_diag),
      make_prior_fn: Callable = (
          kernel_bias_lib.make_kernel_bias_prior_spike_and_slab),
      posterior_value_fn: Callable[..., Any] = tfd.Distribution.sample,
      unpack_weights_fn: Callable[[Any], Tuple[Any, Any]] = (
          weights_lib.unpack_kernel_and_bias),
      dtype: tf.DType = tf.float32,
      activation_fn: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
      seed: Optional[seeds_lib.SeedLike] = None,
      validate_args: bool = False,
      name: Optional[str] = None,
      *,
      divergence_fn: Optional[variational.DivergenceFn] = None):
    """Builds the posterior and prior `[kernel, bias]` of a dense layer.

    Args:
      input_size: the size of the inputs' last axis.
      output_size: the size of the outputs' last axis.
      kernel_initializer: initializes the kernel posterior's mean; `None`
        means `tfnx.initializers.glorot_uniform()` (seeded from `seed` when
        given).
      bias_initializer: initializes the bias posterior's mean; `None` means
        zeros.
      make_posterior_fn: builds the joint `[kernel, bias]` posterior; default
        `tfnx.util.make_kernel_bias_posterior_mvn_diag`.
      make_prior_fn: builds the joint `[kernel, bias]` prior; default
        `tfnx.util.make_kernel_bias_prior_spike_and_slab`.
      posterior_value_fn: `(distribution, seed=...) -> weights`; default
        `tfd.Distribution.sample`.
      unpack_weights_fn: splits `[kernel, bias]` structures; default
        `tfnx.util.unpack_kernel_and_bias`.
      dtype: `tf.float32` (default) or `tf.float64`.
      activation_fn: applied to the outputs; `None` for the identity.
      seed: seeds the layer's own seed stream (used by calls without a seed)
        and the default kernel initializer; `None` for non-deterministic.
      validate_args: whether every call checks that inputs are finite.
      name: the layer's name; `None` means the class name.
      divergence_fn: keyword only: `(posterior, prior, sample) -> KL` for each
        of kernel and bias; `None` means the closed form where TFP registers
        one, else the Monte Carlo estimate on the call's sampled weights.
    """
    name = name or type(self).__name__
    self._init_sizes(name, input_size, output_size)
    posterior, prior = variational.make_posterior_and_prior(
        name=name, make_posterior_fn=make_posterior_fn,
        make_prior_fn=make_prior_fn, kernel_shape=[input_size, output_size],
        bias_shape=[output_size], kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer, dtype=tf.as_dtype(dtype),
        seed=seed)
    super().__init__(posterior=posterior, prior=prior,
                     activation_fn=activation_fn,
                     posterior_value_fn=posterior_value_fn, seed=seed,
                     dtype=dtype, validate_args=validate_args, name=name,
                     apply_kernel_fn=linear_maps.dense,
                     unpack_weights_fn=unpack_weights_fn,
                     divergence_fn=divergence_fn)


class AffineVariationalReparameterization(_AffineVariational):
  """A dense layer with a variational posterior, by reparameterization.

  Each call samples one kernel and bias from the posterior and applies them
  to the whole batch: `activation_fn(x @ kernel + bias)`. Inputs of shape
  `[..., input_size]` give outputs `[..., output_size]`.

  Args: those of the dense variational family, documented once on its
  constructor (`help(AffineVariationalFlipout.__init__)`).
  """

  _estimator = estimators_lib.REPARAMETERIZATION


class AffineVariationalFlipout(_AffineVariational):
  """A dense layer with a variational posterior, by Flipout.

  Flipout (Wen et al., 2018) adds to the posterior-mean output one shared
  kernel perturbation, decorrelated per example by random sign flips of
  inputs and outputs, so examples in a batch see independent kernels at the
  cost of two matmuls. Needs an elementwise normal kernel posterior.

  Args: those of the dense variational family, documented once on its
  constructor (`help(AffineVariationalFlipout.__init__)`).
  """

  _estimator = estimators_lib.FLIPOUT


class AffineVariationalReparameterizationLocal(_AffineVariational):
  """A dense layer with a variational posterior, by local reparameterization.

  Each output is drawn from its exact marginal under the posterior (Kingma et
  al., 2015): `N(x @ mu + mu_b, x**2 @ sigma**2 + sigma_b**2)`; no kernel is
  sampled. Needs an elementwise normal kernel posterior.

  Args: those of the dense variational family, documented once on its
  constructor (`help(AffineVariationalFlipout.__init__)`).
  """

  _estimator = estimators_lib.LOCAL_REPARAMETERIZATION
