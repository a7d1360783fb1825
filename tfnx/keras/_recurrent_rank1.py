"""A rank-1 Bayesian LSTM cell for `keras.layers.RNN` (edward2's `LSTMCellRank1`, on Keras 3).

The cell's input and recurrent kernels are shared by `ensemble_size`
members; member `k` computes the gates' pre-activations

    gamma_k * ((x * alpha_k) @ W) + recurrent_gamma_k * ((h * recurrent_alpha_k) @ U) + b_k

(Dusenberry et al., 2020, with edward2's placement of the vectors). Each
sequence (row) draws its four vectors once per call of its RNN and applies
them at every time step (the cells' protocol, `_recurrent.DrawsOncePerCall`);
rows go to members in blocks, the math is `tfnx.rank1`'s, and the vectors'
KL is in `losses`, as for `DenseRank1`.
"""

from typing import Any, Callable, NamedTuple, Optional, Tuple

import keras
import tensorflow as tf

from tfnx import _checks as checks
from tfnx import _pipeline
from tfnx import linear_maps
from tfnx import rank1
from tfnx.keras import _call_seeds as call_seeds
from tfnx.keras import _rank1 as rank1_layers
from tfnx.keras import _recurrent as recurrent
from tfnx.keras._export import export

__all__ = ['LSTMCellRank1']


class _RowVectors(NamedTuple):
  """Each sequence's vectors for one call, `[rows, channels]`, and its bias."""
  alpha: tf.Tensor
  gamma: tf.Tensor
  recurrent_alpha: tf.Tensor
  recurrent_gamma: tf.Tensor
  bias: Optional[tf.Tensor]


@export
class LSTMCellRank1(recurrent.DrawsOncePerCall, rank1_layers.EnsembleLayer):
  """A rank-1 Bayesian LSTM cell for `keras.layers.RNN` (Dusenberry et al., 2020).

  `ensemble_size` members share the kernel `W` and the recurrent kernel
  `U`; member `k`'s gates' pre-activations are `gamma_k * ((x * alpha_k) @
  W) + recurrent_gamma_k * ((h * recurrent_alpha_k) @ U) + bias_k`
  (`use_additive_perturbation`: `(x + alpha_k) @ W + gamma_k + ...`), with
  the gates of Keras' `LSTMCell`. Each sequence draws its vectors from
  their posteriors once per call of the RNN, and every time step applies
  them. Sequence `i` of `N` belongs to member `(i * ensemble_size) // N`;
  tile the sequences with `ensemble_inputs` to give every member every one.
  Step inputs `[batch, input_size]` (`[batch, time, input_size]` to the
  RNN) give outputs `[batch, units]`.

  Args:
    units: the size of the state and the outputs.
    activation: the candidate state's and the output's activation.
    recurrent_activation: the gates' activation.
    recurrent_alpha_initializer: the state-side vectors, as
      `alpha_initializer`.
    recurrent_gamma_initializer: the recurrent kernel's output-side vectors,
      as `gamma_initializer`.
    recurrent_initializer: the shared recurrent kernel's Keras initializer.
    unit_forget_bias: whether the forget gate's biases start at 1 (the
      others from `bias_initializer`), as in Keras' `LSTMCell`.
    recurrent_alpha_regularizer, recurrent_gamma_regularizer: as
      `alpha_regularizer`.
    recurrent_regularizer, recurrent_constraint: Keras', for the recurrent
      kernel.
    recurrent_alpha_constraint, recurrent_gamma_constraint: as
      `alpha_constraint`.
    **kwargs: those of every rank-1 layer, documented on its base
      (`tfnx.keras._rank1.EnsembleLayer`): `use_bias`, the input kernel's
      and its vectors' initializers, regularizers and constraints (`alpha_*`,
      `gamma_*`, `kernel_*`, `bias_*`), `use_additive_perturbation`, the
      perturbation bounds, `ensemble_size`, `seed`, and Keras' own.
  """

  _object_keys = rank1_layers.OBJECT_KEYS + (
      'recurrent_alpha_initializer', 'recurrent_gamma_initializer',
      'recurrent_initializer', 'recurrent_alpha_regularizer',
      'recurrent_gamma_regularizer', 'recurrent_regularizer',
      'recurrent_alpha_constraint', 'recurrent_gamma_constraint',
      'recurrent_constraint')

  def __init__(self, units: int, activation: Any = 'tanh',
               recurrent_activation: Any = 'sigmoid',
               recurrent_alpha_initializer: Any = 'trainable_normal',
               recurrent_gamma_initializer: Any = 'trainable_normal',
               recurrent_initializer: Any = 'orthogonal',
               unit_forget_bias: bool = True,
               recurrent_alpha_regularizer: Any = 'normal_kl_divergence',
               recurrent_gamma_regularizer: Any = 'normal_kl_divergence',
               recurrent_regularizer: Any = None,
               recurrent_alpha_constraint: Any = None,
               recurrent_gamma_constraint: Any = None,
               recurrent_constraint: Any = None, **kwargs):
    super().__init__(activation=activation, **kwargs)
    self.units = checks.check_size(self.name, 'units', units)
    self.recurrent_activation = keras.activations.get(recurrent_activation)
    self.recurrent_alpha_initializer = rank1_layers.vectors_initializer(
        recurrent_alpha_initializer)
    self.recurrent_gamma_initializer = rank1_layers.vectors_initializer(
        recurrent_gamma_initializer)
    self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
    self.unit_forget_bias = bool(unit_forget_bias)
    self.recurrent_alpha_regularizer = rank1_layers.vectors_regularizer(
        recurrent_alpha_regularizer)
    self.recurrent_gamma_regularizer = rank1_layers.vectors_regularizer(
        recurrent_gamma_regularizer)
    self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
    self.recurrent_alpha_constraint = keras.constraints.get(
        recurrent_alpha_constraint)
    self.recurrent_gamma_constraint = keras.constraints.get(
        recurrent_gamma_constraint)
    self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
    self.state_size = [self.units, self.units]
    self.output_size = self.units
    self.recurrent_kernel = None
    self._recurrent_alpha = None
    self._recurrent_gamma = None

  @property
  def recurrent_alpha(self) -> Any:
    """The state-side vectors `[ensemble_size, units]`."""
    return self._recurrent_alpha

  @property
  def recurrent_gamma(self) -> Any:
    """The recurrent kernel's output-side vectors `[ensemble_size, 4 * units]`."""
    return self._recurrent_gamma

  def _build_weights(self, input_shape: Tuple) -> Tuple[_pipeline.Part, ...]:
    in_channels = self._input_size(input_shape)
    gates = 4 * self.units
    self.kernel = self.add_vector(
        'kernel', (in_channels, gates), self.kernel_initializer,
        self.kernel_regularizer, self.kernel_constraint)
    self.recurrent_kernel = self.add_vector(
        'recurrent_kernel', (self.units, gates), self.recurrent_initializer,
        self.recurrent_regularizer, self.recurrent_constraint)
    if self.use_bias:
      self.bias = self.add_vector(
          'bias', (self.ensemble_size, gates), self._bias_initializer(),
          self.bias_regularizer, self.bias_constraint)
    parts = []
    for name, channels in (('alpha', in_channels), ('gamma', gates),
                           ('recurrent_alpha', self.units),
                           ('recurrent_gamma', gates)):
      vectors, part = self._factor(
          name, getattr(self, name + '_initializer'),
          getattr(self, name + '_regularizer'),
          getattr(self, name + '_constraint'), channels)
      setattr(self, '_' + name, vectors)
      parts.append(part)
    return tuple(parts)

  def _bias_initializer(self) -> Callable:
    """The members' biases' initializer, the forget gate's at 1 if asked."""
    initializer = call_seeds.seeded_initializer(self.bias_initializer,
                                                self.seed, 'bias')
    if not self.unit_forget_bias:
      return initializer
    units = self.units

    def forget_gate_at_one(shape, dtype=None):
      values = tf.convert_to_tensor(initializer(shape, dtype))
      return tf.concat([values[:, :units],
                        tf.ones_like(values[:, units:2 * units]),
                        values[:, 2 * units:]], axis=1)
    return forget_gate_at_one

  def _draw(self, batch_size: Any, seed: Optional[tf.Tensor]) -> _RowVectors:
    """Draws each sequence's vectors and keeps the record of their KL terms."""
    rows = tf.cast(batch_size, tf.int32)
    dtype = tf.as_dtype(self.compute_dtype)
    vectors, record = _pipeline.draw_rank1_rows(
        self._parts_built,
        call_seeds.call_seed(self._seed_generator, seed, self), rows,
        self._ensemble(), dtype)
    self._last_call.keep(record)
    bias = None
    if self.bias is not None:
      bias = rank1.rows_of_members(
          tf.convert_to_tensor(self.bias, dtype),
          rank1.member_of_rows(rows, self.ensemble_size))
    return _RowVectors(*vectors, bias)

  def _step(self, x: tf.Tensor, states: Any,
            weights: _RowVectors) -> Tuple[tf.Tensor, list]:
    h, c = states
    additive = self.use_additive_perturbation
    z = (rank1.apply_rows(x, tf.convert_to_tensor(self.kernel),
                          weights.alpha, weights.gamma, linear_maps.dense,
                          additive)
         + rank1.apply_rows(h, tf.convert_to_tensor(self.recurrent_kernel),
                            weights.recurrent_alpha, weights.recurrent_gamma,
                            linear_maps.dense, additive))
    if weights.bias is not None:
      z += weights.bias
    return recurrent.lstm_step(z, c, self.activation,
                               self.recurrent_activation)

  def _geometry_config(self) -> dict:
    return {'units': self.units, 'recurrent_activation':
            keras.activations.serialize(self.recurrent_activation),
            'unit_forget_bias': self.unit_forget_bias}
