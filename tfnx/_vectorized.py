"""When many stochastic passes can be one call, and how to tile inputs for it.

Flipout and local reparameterization give every row of a batch its own exact
posterior sample (`rows_independent` on `tfnx.estimators`), so `k` passes
over a batch are one call on the batch tiled `k` times. That is exact only
when every other stage of the model also treats rows on their own, so the
decision is made from what stages declare, never from what they look like:

- tfnx models: a `tfnx.Sequential` (or a single layer) whose stages are
  variational layers with a rows-independent estimator, `tfnx.Affine`,
  `tfnx.Convolution`, `tfnx.ConvolutionTranspose` and the elementwise or
  last-axis functions in `ROW_WISE_FUNCTIONS`. These act on the rightmost
  axes and accept any batch shape, so the passes become a new leading axis.
- Keras models: a `keras.Sequential` or functional model whose layers are
  `tfnx.keras` layers with a rows-independent estimator or the Keras layers
  in `keras_row_wise_layers()` (dense, convolutions, pooling, reshaping,
  and dropout and batch normalization in inference mode), every activation
  a built-in Keras one. Keras fixes the rank, so the passes are merged into
  the batch axis.

A variational layer qualifies only where its bias is fixed, absent or normal:
any other bias posterior is drawn once per call and shared by its rows.
Everything else (a lambda, a custom layer, a reparameterization layer) keeps
one call per pass.

Every pass sees the same inputs, so the first stage of a tfnx model or of a
`keras.Sequential` computes what does not depend on the pass once
(`first_stage`): where its estimator declares `rows_normal` for its map (local
reparameterization; Flipout on dense maps), each row's outputs are
independent normals whose mean and standard deviation take its two matrix
products, and each pass only draws normals around them.
"""

import sys
from typing import (Any, Callable, Dict, Iterator, NamedTuple, Optional,
                    Sequence, Tuple)

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _affine as affine
from tfnx import _convolution as convolution
from tfnx import _convolution_transpose as convolution_transpose
from tfnx import _layers as layers_lib
from tfnx import _variational as variational
from tfnx import seeds as seeds_lib
from tfnx.util import _weights as weights_lib

tfd = tfp.distributions

# Elementwise, or acting on the last axis only (softmax): any batch shape.
ROW_WISE_FUNCTIONS = frozenset([
    None, tf.identity, tf.nn.relu, tf.nn.relu6, tf.nn.elu, tf.nn.selu,
    tf.nn.gelu, tf.nn.leaky_relu, tf.nn.silu, tf.nn.softplus,
    tf.nn.softsign, tf.math.sigmoid, tf.math.tanh, tf.nn.softmax,
    tf.nn.log_softmax, tf.math.exp])

_TFNX_DETERMINISTIC = (affine.Affine, convolution.Convolution,
                       convolution_transpose.ConvolutionTranspose)

_KERAS_ROW_WISE_NAMES = (
    'InputLayer', 'Dense', 'Activation', 'ReLU', 'LeakyReLU', 'ELU',
    'Softmax', 'Flatten', 'Reshape', 'Permute', 'Dropout',
    'BatchNormalization', 'LayerNormalization', 'Conv1D', 'Conv2D', 'Conv3D',
    'Conv1DTranspose', 'Conv2DTranspose', 'Conv3DTranspose',
    'DepthwiseConv2D', 'SeparableConv2D', 'MaxPooling1D', 'MaxPooling2D',
    'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D',
    'AveragePooling3D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
    'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'ZeroPadding1D',
    'ZeroPadding2D', 'Cropping1D', 'Cropping2D', 'UpSampling1D',
    'UpSampling2D')


# At most this many input elements per tiled call; larger samples take several
# calls of many passes each. Measured on the 784-512-10 Flipout MLP (2 cores):
# 50 passes at batch 64 ran 2-3x faster in calls of about 330 rows than in one
# call of 3200, which outgrows the caches; at batch 1000 a call per pass was
# fastest (calls of 2 or 5 passes ran 1.2-1.6x slower).
_MAX_TILED_ELEMENTS = 1 << 18


class Tiling(NamedTuple):
  """How `k` passes over `inputs` become one call.

  Attributes:
    passes_per_call: `(inputs, num_samples) -> k`, at most `num_samples`.
    tile: `(inputs, k) -> inputs` of `k` copies of the rows.
    untile: `(outputs, k, inputs) -> outputs` of shape
      `[k * members, *per_pass]`.
    members: how many samples a pass gives: the ensemble size of a model
      with rank-1 or BatchEnsemble layers (each pass runs every member),
      else 1.
  """
  passes_per_call: Callable[[tf.Tensor, tf.Tensor], Any]
  tile: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
  untile: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor]
  members: int = 1


def _many_passes_per_call(inputs: tf.Tensor,
                          num_samples: tf.Tensor) -> tf.Tensor:
  """As many passes as fit the memory bound, balanced over the calls."""
  most = tf.maximum(_MAX_TILED_ELEMENTS // tf.maximum(tf.size(inputs), 1), 1)
  num_calls = -(-num_samples // tf.minimum(most, num_samples))
  return -(-num_samples // num_calls)


def _one_pass_per_call(inputs: tf.Tensor, num_samples: tf.Tensor) -> int:
  del inputs, num_samples  # Always one.
  return 1


def _tile_leading(inputs: tf.Tensor, k: tf.Tensor) -> tf.Tensor:
  return tf.broadcast_to(inputs[tf.newaxis],
                         tf.concat([[k], tf.shape(inputs)], 0))


def _untile_leading(outputs: tf.Tensor, k: tf.Tensor,
                    inputs: tf.Tensor) -> tf.Tensor:
  del k, inputs  # The passes already are the leading axis.
  return outputs


def _tile_batch(inputs: tf.Tensor, k: tf.Tensor) -> tf.Tensor:
  shape = tf.shape(inputs)
  return tf.reshape(_tile_leading(inputs, k),
                    tf.concat([[k * shape[0]], shape[1:]], 0))


def _untile_batch(outputs: tf.Tensor, k: tf.Tensor,
                  inputs: tf.Tensor) -> tf.Tensor:
  return tf.reshape(outputs, tf.concat(
      [[k, tf.shape(inputs)[0]], tf.shape(outputs)[1:]], 0))


def _tile_none(inputs: tf.Tensor, k: tf.Tensor) -> tf.Tensor:
  del k  # One pass per call.
  return inputs


def _untile_none(outputs: tf.Tensor, k: tf.Tensor,
                 inputs: tf.Tensor) -> tf.Tensor:
  del k, inputs  # One pass per call.
  return outputs[tf.newaxis]


LEADING_AXIS = Tiling(_many_passes_per_call, _tile_leading, _untile_leading)
BATCH_AXIS = Tiling(_many_passes_per_call, _tile_batch, _untile_batch)
PER_PASS = Tiling(_one_pass_per_call, _tile_none, _untile_none)

_MEMBER_TILINGS: Dict[Tuple[Tiling, int], Tiling] = {}


def members_tiling(base: Tiling, ensemble_size: int) -> Tiling:
  """`base` (`BATCH_AXIS` or `PER_PASS`) with every pass run by every member.

  The rows of a call are `[members, passes, batch]`, member-major, so each
  rank-1 layer's blocks (`tfnx.rank1.member_of_rows`) are its members; the
  outputs come back as `[passes * members, batch, ...]`, pass-major. One
  object per `(base, ensemble_size)`, so that traces keyed on it are
  reused.

  Args:
    base: how the passes alone would share a call.
    ensemble_size: the model's number of members.

  Returns:
    The `Tiling`.
  """
  key = (base, ensemble_size)
  if key not in _MEMBER_TILINGS:
    def passes_per_call(inputs: tf.Tensor, num_samples: tf.Tensor) -> Any:
      return base.passes_per_call(_tile_batch(inputs, ensemble_size),
                                  num_samples)

    def tile(inputs: tf.Tensor, k: tf.Tensor) -> tf.Tensor:
      return _tile_batch(base.tile(inputs, k), ensemble_size)

    def untile(outputs: tf.Tensor, k: tf.Tensor,
               inputs: tf.Tensor) -> tf.Tensor:
      shape = tf.shape(outputs)
      by_member = tf.reshape(outputs, tf.concat(
          [[ensemble_size, -1, tf.shape(inputs)[0]], shape[1:]], 0))
      rank = outputs.shape.rank + 2
      by_pass = tf.transpose(by_member, [1, 0] + list(range(2, rank)))
      return tf.reshape(by_pass, tf.concat(
          [[-1, tf.shape(inputs)[0]], shape[1:]], 0))

    _MEMBER_TILINGS[key] = Tiling(passes_per_call, tile, untile,
                                  ensemble_size)
  return _MEMBER_TILINGS[key]


def keras_module() -> Optional[Any]:
  """Keras if it has been imported, else `None` (no model can be Keras's)."""
  return sys.modules.get('keras')


def keras_row_wise_layers() -> tuple:
  """The Keras layer classes declared to treat each row on its own."""
  keras = keras_module()
  return tuple(getattr(keras.layers, name) for name in _KERAS_ROW_WISE_NAMES
               if hasattr(keras.layers, name))


def _point_mass(dist: tfd.Distribution) -> bool:
  while isinstance(dist, tfd.Independent):
    dist = dist.distribution
  return isinstance(dist, (tfd.Deterministic, tfd.VectorDeterministic))


def _variational_rows_independent(layer: Any) -> bool:
  bias_posterior = layer.bias_posterior
  return layer.estimator.rows_independent and (
      bias_posterior is None or weights_lib.is_normal(bias_posterior)
      or _point_mass(bias_posterior))


def _row_wise_function(fn: Any) -> bool:
  try:
    return fn in ROW_WISE_FUNCTIONS
  except TypeError:  # Unhashable: not one of the declared functions.
    return False


def is_ensemble_layer(stage: Any) -> bool:
  """Whether `stage` is a rank-1 or BatchEnsemble layer (of either API).

  Such a layer declares its `ensemble_size` and `use_additive_perturbation`,
  and gives each row its own exact draw of its member's vectors, rows
  uncorrelated, as Flipout's: passes tiled into one call are uncorrelated
  samples.
  """
  return isinstance(getattr(stage, 'ensemble_size', None), int) and hasattr(
      stage, 'use_additive_perturbation')


def _tfnx_stage_row_wise(stage: Any) -> bool:
  if isinstance(stage, layers_lib.Sequential):
    return all(_tfnx_stage_row_wise(s) for s in stage.layers)
  if is_ensemble_layer(stage):
    return _row_wise_function(getattr(stage, 'activation_fn', None))
  if isinstance(stage, variational.VariationalLayer):
    return (_row_wise_function(stage.activation_fn)
            and _variational_rows_independent(stage))
  if isinstance(stage, _TFNX_DETERMINISTIC):
    return _row_wise_function(stage.activation_fn)
  return _row_wise_function(stage)


def _builtin_activation(keras: Any, activation: Any) -> bool:
  name = getattr(activation, '__name__', None)
  return name is not None and getattr(keras.activations, name,
                                      None) is activation


def _keras_stage_row_wise(keras: Any, stage: Any) -> bool:
  # Imported only by users of tfnx.keras; until then no stage is one of its.
  keras_variational = sys.modules.get('tfnx.keras._variational')
  if isinstance(stage, keras.Sequential):
    return all(_keras_stage_row_wise(keras, s) for s in stage.layers)
  if isinstance(stage, keras.Function):
    return all(_keras_stage_row_wise(keras, s) for s in stage.operations)
  if hasattr(stage, 'activation') and not _builtin_activation(
      keras, stage.activation):
    return False
  if keras_variational is not None and isinstance(
      stage, keras_variational.KerasVariationalLayer):
    return _variational_rows_independent(stage)
  return is_ensemble_layer(stage) or type(stage) in keras_row_wise_layers()


class FirstStage(NamedTuple):
  """A model split after its first stage, whose outputs are normal.

  Attributes:
    moments: `(inputs, seed) -> (mean, stddev)` of the first stage's outputs
      before its activation.
    activation: the first stage's activation.
    rest: the stages after it, in order: tfnx stages (`run_stages`) or Keras
      layers.
  """
  moments: Callable[[tf.Tensor, tf.Tensor], Any]
  activation: Callable[[tf.Tensor], tf.Tensor]
  rest: tuple


def _stages(model: Any) -> list:
  """A tfnx model's stages in order, nested `Sequential`s flattened."""
  if isinstance(model, layers_lib.Sequential):
    return [s for layer in model.layers if layer is not None
            for s in _stages(layer)]
  return [model]


def run_stages(stages: Sequence[Any], x: tf.Tensor,
               seed: tf.Tensor) -> tf.Tensor:
  """`x` through tfnx `stages`, each that takes a seed getting its own."""
  if not stages:
    return x
  for stage, stage_seed in zip(stages, seeds_lib.split_seed(seed,
                                                            len(stages))):
    x = (stage(x, seed=stage_seed) if layers_lib.takes_seed(stage)
         else stage(x))
  return x


def _normal_rows(layer: Any) -> bool:
  """Whether a variational layer's rows are normals of `output_moments`."""
  return (layer.linear_map is not None
          and layer.estimator.rows_normal(layer.linear_map))


def _first_keras_stage(model: Any) -> Optional[FirstStage]:
  keras = keras_module()
  keras_variational = sys.modules.get('tfnx.keras._variational')
  if (keras_variational is None or not isinstance(model, keras.Sequential)
      or not model.layers):
    return None
  first, *rest = model.layers
  if not (isinstance(first, keras_variational.KerasVariationalLayer)
          and _normal_rows(first)):
    return None
  return FirstStage(first.output_moments, first.activation, tuple(rest))


def first_stage(model: Any, tiling_: Tiling) -> Optional[FirstStage]:
  """The split of a row-wise model whose first stage has normal rows.

  Args:
    model: the model of a predictive sample.
    tiling_: its `tiling`: tfnx models (`LEADING_AXIS`) and
      `keras.Sequential` models (`BATCH_AXIS`) are split.

  Returns:
    A `FirstStage`, or `None` where the first stage is not a variational
    layer whose estimator declares `rows_normal` for its map.
  """
  # Equality, not identity: a traced function hands on a copy of the tuple.
  if tiling_ == BATCH_AXIS:
    return _first_keras_stage(model)
  stages = _stages(model)
  if tiling_ != LEADING_AXIS or not stages:
    return None
  first, *rest = stages
  if not (isinstance(first, variational.VariationalLayer)
          and _normal_rows(first)):
    return None
  return FirstStage(first.output_moments, first.activation_fn or tf.identity,
                    tuple(rest))


def is_keras_model(model: Any) -> bool:
  """Whether `model` is a Keras layer or model (called without a `seed`)."""
  keras = keras_module()
  return keras is not None and isinstance(model, keras.layers.Layer)


def _all_stages(model: Any) -> Iterator[Any]:
  """Every layer of a tfnx or Keras model, nested models walked."""
  yield model
  for layer in getattr(model, 'layers', None) or ():
    if layer is not None and layer is not model:
      yield from _all_stages(layer)


def ensemble_size(model: Any) -> int:
  """The members of a model's rank-1 and BatchEnsemble layers; 1 with none.

  Args:
    model: a tfnx or Keras model or layer.

  Returns:
    The layers' common `ensemble_size`.

  Raises:
    ValueError: if two such layers have different ensemble sizes.
  """
  sizes = {stage.ensemble_size for stage in _all_stages(model)
           if is_ensemble_layer(stage)}
  if len(sizes) > 1:
    raise ValueError('expected every rank-1 and BatchEnsemble layer of a '
                     'model to have one ensemble_size; received '
                     f'{sorted(sizes)}.')
  return sizes.pop() if sizes else 1


def tiling(model: Any, output_fn: Optional[Callable]) -> Tiling:
  """How passes of `model` (then `output_fn`) can share a call, if they can.

  Args:
    model: the model of a predictive sample.
    output_fn: the function applied to each pass's outputs, or `None`.

  Returns:
    `LEADING_AXIS` for a row-wise tfnx model, `BATCH_AXIS` for a row-wise
    Keras model, `PER_PASS` when passes need a call each; for a model with
    rank-1 or BatchEnsemble layers, its `members_tiling` (tfnx models too
    merge the passes into the batch axis, whose rows the members split).
  """
  base = _passes_tiling(model, output_fn)
  members = ensemble_size(model)
  if members == 1:
    return base
  return members_tiling(PER_PASS if base == PER_PASS else BATCH_AXIS,
                        members)


def _passes_tiling(model: Any, output_fn: Optional[Callable]) -> Tiling:
  if not _row_wise_function(output_fn):
    return PER_PASS
  if is_keras_model(model):
    keras = keras_module()
    if isinstance(model, (keras.Sequential, keras.Function)) and (
        _keras_stage_row_wise(keras, model)):
      return BATCH_AXIS
    return PER_PASS
  return LEADING_AXIS if _tfnx_stage_row_wise(model) else PER_PASS
