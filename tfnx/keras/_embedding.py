"""`EmbeddingReparameterization`: a Keras embedding whose table has a learned posterior."""

from typing import Callable, Optional, Sequence, Tuple

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _fast_paths
from tfnx import _pipeline
from tfnx import estimators as estimators_lib
from tfnx import _checks as checks
from tfnx import seeds as seeds_lib
from tfnx.keras import _variational as variational
from tfnx.keras._export import export
from tfnx.linear_maps import LinearMap
from tfnx.util import _weights as weights_lib

tfd = tfp.distributions

__all__ = ['EmbeddingReparameterization']


def _gather_apply(ids: tf.Tensor, table: tf.Tensor) -> tf.Tensor:
  return tf.gather(table, ids)


# Looking a row up is the product of a one-hot row with the table: linear in
# the table, which is all the reparameterization estimator asks.
_GATHER = LinearMap(apply=_gather_apply, sign_shape=tf.shape)


def _rows(posterior: tfd.Distribution,
          rows: tf.Tensor) -> Optional[tfd.Distribution]:
  """The elementwise normal posterior of some rows of the table, else `None`."""
  loc_scale = weights_lib.normal_loc_scale(posterior)
  if loc_scale is None:
    return None
  loc, scale = (tf.gather(tf.convert_to_tensor(t), rows) for t in loc_scale)
  return tfd.Independent(tfd.Normal(loc, scale), reinterpreted_batch_ndims=2)


@export
class EmbeddingReparameterization(variational.KerasVariationalLayer):
  """An embedding whose table has a variational posterior, by reparameterization.

  Each call draws one table from the posterior for the whole batch and looks
  the ids up in it, drawing only the rows the batch uses: an id repeated in
  the batch gets the same row. The table is the layer's kernel, of shape
  `[input_dim, output_dim]`, with the `kernel_*` arguments; the default is
  no bias. Integer ids of any shape `[batch, ...]` give outputs
  `[batch, ..., output_dim]`; the KL terms go to `losses` (see
  `KerasVariationalLayer`), over the whole table.

  A kernel posterior that is not an elementwise normal is drawn whole with
  `kernel_posterior_tensor_fn`, then looked up.

  Args:
    input_dim: the number of rows: ids lie in `[0, input_dim)`.
    output_dim: the size of each embedding.
    mask_zero: whether id 0 is padding, masked for the layers after (as in
      `keras.layers.Embedding`); `input_dim` then counts it.
    bias_posterior_fn: builds the bias's posterior; `None` (the default)
      for no bias.
    **kwargs: those of every variational layer of `tfnx.keras`, documented
      once on their base class, `KerasVariationalLayer`.
  """

  def __init__(self, input_dim: int, output_dim: int,
               mask_zero: bool = False,
               bias_posterior_fn: Optional[Callable] = None, **kwargs):
    super().__init__(bias_posterior_fn=bias_posterior_fn, **kwargs)
    self.input_dim = checks.check_size(self.name, 'input_dim', input_dim)
    self.output_dim = checks.check_size(self.name, 'output_dim',
                                            output_dim)
    self.mask_zero = bool(mask_zero)
    self.supports_masking = self.mask_zero

  def _weight_shapes(self, input_shape: Tuple) -> Tuple[Sequence[int],
                                                        Sequence[int]]:
    del input_shape  # The table's shape is the constructor's.
    return [self.input_dim, self.output_dim], [self.output_dim]

  def _make_input_spec(self, input_shape: Tuple) -> keras.layers.InputSpec:
    return keras.layers.InputSpec(min_ndim=1)

  def _geometry_config(self) -> dict:
    return {'input_dim': self.input_dim, 'output_dim': self.output_dim,
            'mask_zero': self.mask_zero}

  def compute_output_shape(self, input_shape: Tuple) -> Tuple:
    """`input_shape` with an axis of `output_dim` appended."""
    return tuple(input_shape) + (self.output_dim,)

  def compute_mask(self, inputs, mask=None):
    """Where the ids are not 0, when `mask_zero`; else `None`."""
    del mask  # The ids themselves make the mask.
    return keras.ops.not_equal(inputs, 0) if self.mask_zero else None

  def _ids(self, inputs) -> tf.Tensor:
    ids = tf.convert_to_tensor(inputs)
    if ids.dtype.is_floating:
      # Keras feeds `keras.Input`s as floats; they hold whole numbers.
      ids = tf.cast(ids, tf.int32)
    if not ids.dtype.is_integer:
      raise TypeError(f'{self.name}: expected integer ids; received dtype '
                      f'{ids.dtype.name}.')
    if ids.shape.rank == 0:
      raise ValueError(f'{self.name}: expected ids of shape [batch, ...]; '
                       'received a scalar.')
    checks = [tf.debugging.assert_non_negative(ids, message=self._range()),
              tf.debugging.assert_less(ids, tf.cast(self.input_dim, ids.dtype),
                                       message=self._range())]
    with tf.control_dependencies(checks):
      return tf.identity(ids)

  def _range(self) -> str:
    return f'{self.name}: expected ids in [0, {self.input_dim}); received'

  def call(self, inputs,
           seed: Optional[seeds_lib.SeedLike] = None) -> tf.Tensor:
    """Looks the ids up in one draw of the table; adds the KL terms.

    Args:
      inputs: integer ids, of any shape with a batch axis.
      seed: as in `KerasVariationalLayer.call`.

    Returns:
      The embeddings, `[*inputs.shape, output_dim]`.
    """
    ids = self._ids(inputs)
    estimate_seed, kernel_seed, bias_seed = seeds_lib.split_seed(
        self._call_seed(seed), 3)
    parts = self._parts()
    parameters = tuple(_fast_paths.normal_parameters(p.posterior)
                       for p in parts)
    table, bias_posterior = (
        p.posterior if q is None
        else _fast_paths.with_parameters(p.posterior, q)
        for p, q in zip(parts, parameters))
    rows, local_ids = tf.unique(tf.reshape(ids, [-1]))
    posterior = _rows(table, rows)
    if posterior is None:
      posterior, local_ids = table, tf.reshape(ids, [-1])

    def posterior_value(distribution: tfd.Distribution,
                        seed: tf.Tensor) -> tf.Tensor:
      part = parts[0] if distribution is posterior else parts[1]
      return part.posterior_value_fn(distribution, seed=seed)

    estimate = estimators_lib.reparameterization(
        local_ids, posterior, bias_posterior, _GATHER, estimate_seed,
        posterior_value)
    # The KL covers the whole table: a divergence that needs a sample of it
    # draws one from the recorded seed, only when the losses are read.
    self._last_call.keep(_pipeline.Record((kernel_seed, bias_seed),
                                          parameters, (None, estimate.bias)))
    outputs = tf.reshape(estimate.outputs, tf.concat(
        [tf.shape(ids), [self.output_dim]], 0))
    return self.activation(outputs)
