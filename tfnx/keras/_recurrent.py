"""Variational recurrent cells for `keras.layers.RNN`: LSTM and GRU, by Flipout or reparameterization.

A cell has three weights with learned posteriors: the input kernel
(`kernel_*` arguments), the recurrent kernel (`recurrent_kernel_*`) and the
bias (`bias_*`). Each call of the RNN draws them once, so every time step of a
sequence applies the same weights, as Wen et al. (2018) apply Flipout to
LSTMs; the KL terms are added once per call.

The draw happens before the time loop, through Keras' public cell protocol:
`VariationalRNN` holds one draw per cell for its call (`one_draw`); a plain
`keras.layers.RNN` asks each cell for its initial state once per call, and
the cell draws then. So the draw and the KL cost one evaluation per sequence
batch, not one per step. A cell called on its own, outside an RNN, draws
afresh at every call.
"""

import contextlib
import functools
import operator
from typing import (Any, Callable, Iterator, NamedTuple, Optional, Sequence,
                    Tuple)

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _pipeline
from tfnx import estimators as estimators_lib
from tfnx import _checks as checks
from tfnx import linear_maps
from tfnx import seeds as seeds_lib
from tfnx.estimators import WeightDraw
from tfnx.keras import _builders as builders
from tfnx.keras import _serialization as serialization
from tfnx.keras import _variational as variational
from tfnx.keras._export import export

tfd = tfp.distributions

__all__ = ['DrawsOncePerCall', 'lstm_step', 'LSTMCellFlipout',
           'LSTMCellReparameterization', 'GRUCellFlipout',
           'GRUCellReparameterization', 'VariationalRNN']

_RECURRENT_KEYS = (
    'recurrent_kernel_posterior_fn', 'recurrent_kernel_posterior_tensor_fn',
    'recurrent_kernel_prior_fn', 'recurrent_kernel_divergence_fn')


class _CallWeights(NamedTuple):
  """A call's weights: kernels, bias (or `None`), Flipout's output signs.

  The output signs are shared by the input and recurrent kernels and the
  bias: Flipout of the stacked kernel `[kernel; recurrent_kernel]`, whose
  sign-flipped perturbation is an exact posterior sample per sequence.
  """
  kernel: WeightDraw
  recurrent_kernel: WeightDraw
  bias: Optional[WeightDraw]
  output_signs: Optional[tf.Tensor]

  def bias_row(self, row: Optional[int] = None) -> Optional[WeightDraw]:
    """The bias, or one row of a two-row bias; `None` for no bias."""
    if self.bias is None or row is None:
      return self.bias
    delta = self.bias.delta
    return WeightDraw(self.bias.weight[row],
                      None if delta is None else delta[row])

  def affine(self, terms: Sequence[Tuple[tf.Tensor, WeightDraw]],
             bias: Optional[WeightDraw] = None,
             columns: slice = slice(None)) -> tf.Tensor:
    """`sum(x @ W[:, columns] for x, W in terms) + bias`, per sequence.

    Each sequence applies its own sample of the weights. Flipout's
    perturbation terms are summed before their shared output signs flip
    them, and the bias's mean, which broadcasts, is added last: TF's graph
    optimizer, where it knows the shapes, would otherwise hoist the common
    factor or regroup the sum, and round differently than where it does
    not.
    """
    means, perturbations = [], []
    for x, draw in terms:
      weight = draw.weight[:, columns]
      if draw.delta is None:
        means.append(linear_maps.dense.apply(x, weight))
        continue
      mean, perturbation = estimators_lib.flipout_terms(
          x, weight, draw.delta[:, columns], linear_maps.dense, draw.signs)
      means.append(mean)
      perturbations.append(perturbation)
    if bias is not None and bias.delta is not None:
      perturbations.append(bias.delta)
    outputs = functools.reduce(operator.add, means)
    if perturbations:
      outputs += (functools.reduce(operator.add, perturbations)
                  * self.output_signs[:, columns])
    return outputs if bias is None else outputs + bias.weight


_CELL_ARGS_DOC = """
  Inputs of shape `[batch, input_size]` per step (`[batch, time,
  input_size]` to the RNN) give outputs `[batch, units]`.

  Args:
    units: the size of the state and the outputs.
    activation: the candidate state's and output's activation; default
      `'tanh'`.
    recurrent_activation: the gates' activation; default `'sigmoid'`.
    recurrent_kernel_posterior_fn: builds the recurrent kernel's posterior,
      like `kernel_posterior_fn`; default `default_mean_field_normal_fn()`.
    recurrent_kernel_posterior_tensor_fn: how a recurrent kernel is drawn;
      default `posterior_sample`.
    recurrent_kernel_prior_fn: builds the recurrent kernel's prior; default
      `default_multivariate_normal_fn`; `None` for no recurrent kernel KL.
    recurrent_kernel_divergence_fn: as `kernel_divergence_fn`, for the
      recurrent kernel.
    **kwargs: the other arguments of every variational layer of
      `tfnx.keras` but `activation`, documented once on their base class,
      `KerasVariationalLayer`, for the input kernel (`kernel_*`) and the
      bias (`bias_*`).
"""


class DrawsOncePerCall:
  """A cell that draws its weights once per RNN call and applies them at every step.

  The protocol of every cell of `tfnx.keras`: `VariationalRNN` holds one
  draw for its call (`one_draw`); a plain `keras.layers.RNN` asks for the
  initial state once per call (`get_initial_state`), and the cell draws
  there; a cell called on its own draws at each call. A cell defines
  `_draw(batch_size, seed)`, its `state_size` and `_step(x, states,
  weights)`; it takes step inputs `[batch, input_size]`.
  """

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    # The weights of the RNN call under way, held by `one_draw` or drawn by
    # `get_initial_state`; past Keras' tracking, since they are tensors.
    object.__setattr__(self, '_call_weights', None)
    object.__setattr__(self, '_held', False)

  @contextlib.contextmanager
  def one_draw(self, batch_size: Any,
               seed: Optional[tf.Tensor] = None) -> Iterator[None]:
    """Within, every step of the cell applies one draw of its weights.

    `VariationalRNN` enters it around its call, so each sequence applies the
    same weights at all its time steps, whatever initial state it is given.

    Args:
      batch_size: the number of sequences, an int or a scalar int tensor.
      seed: an `int32` seed of shape `[2]`, or `None` for the next seed of
        the cell's generator.

    Raises:
      ValueError: if the cell is not built (its RNN builds it).
    """
    if not self.built:
      raise ValueError(f'{self.name}: expected a built cell to draw its '
                       'weights; received an unbuilt one (build its RNN '
                       'first).')
    self._hold(self._draw(batch_size, seed), True)
    try:
      yield
    finally:
      self._hold(None, False)

  def _hold(self, weights: Any, held: bool) -> None:
    object.__setattr__(self, '_call_weights', weights)
    object.__setattr__(self, '_held', held)

  def _input_size(self, input_shape: Tuple) -> int:
    if len(input_shape) != 2 or input_shape[-1] is None:
      raise ValueError(f'{self.name}: expected step inputs of shape [batch, '
                       'input_size] with a known input_size (sequences '
                       '[batch, time, input_size] to the RNN); received shape '
                       f'{input_shape}.')
    return int(input_shape[-1])

  def _make_input_spec(self, input_shape: Tuple) -> keras.layers.InputSpec:
    return keras.layers.InputSpec(
        ndim=2, axes={-1: self._input_size(input_shape)})

  def call(self, inputs, states, training=None):
    """One time step: `(outputs, new_states)`, with the call's weights."""
    del training  # Each call samples, in training and inference alike.
    x = checks.convert_inputs(inputs, tf.as_dtype(self.compute_dtype),
                              self.name)
    weights = self._call_weights
    # Weights of a traced call that has returned are gone: draw afresh.
    if weights is None or not _pipeline.readable(weights):
      weights = self._draw(tf.shape(x)[0], None)
    return self._step(x, states, weights)

  def get_initial_state(self, batch_size=None) -> list:
    """Zeros for every state; for a plain RNN's call, also its weights.

    `keras.layers.RNN` asks for the initial state once per call, before its
    time loop (unless it is given one): the cell draws there the weights
    every step of that call applies, unless `one_draw` holds them.

    Args:
      batch_size: the number of sequences.

    Returns:
      One `[batch_size, size]` tensor of zeros per state.
    """
    if batch_size is not None and not self._held:
      self._hold(self._draw(batch_size, None), False)
    sizes = (self.state_size if isinstance(self.state_size, list)
             else [self.state_size])
    return [tf.zeros((batch_size, size), self.compute_dtype)
            for size in sizes]


def lstm_step(z: tf.Tensor, c: tf.Tensor, activation: Callable,
              recurrent_activation: Callable) -> Tuple[tf.Tensor, list]:
  """The LSTM's gates (Hochreiter and Schmidhuber, 1997), as Keras' LSTMCell.

  Args:
    z: the gates' pre-activations `[batch, 4 * units]`: input, forget,
      candidate, output.
    c: the carry state.
    activation: the candidate's and the output's activation.
    recurrent_activation: the gates' activation.

  Returns:
    `(h, [h, c])`: the outputs and the new states.
  """
  i, f, g, o = tf.split(z, 4, axis=-1)
  c = recurrent_activation(f) * c + recurrent_activation(i) * activation(g)
  h = recurrent_activation(o) * activation(c)
  return h, [h, c]


class _VariationalCell(DrawsOncePerCall,
                       variational.KerasVariationalLayer):
  """The cells' posteriors, per-call draw, KL terms and configuration.

  A cell family defines `gates`, its bias shape and `_step`; a concrete cell
  picks its estimator.
  """

  gates = 0

  def __init__(
      self,
      units: int,
      activation: Any = 'tanh',
      recurrent_activation: Any = 'sigmoid',
      recurrent_kernel_posterior_fn: Optional[Callable] = (
          builders.default_mean_field_normal_fn()),
      recurrent_kernel_posterior_tensor_fn: Callable = (
          builders.posterior_sample),
      recurrent_kernel_prior_fn: Optional[Callable] = (
          builders.default_multivariate_normal_fn),
      recurrent_kernel_divergence_fn: Optional[Callable] = (
          builders.kl_divergence),
      **kwargs):
    super().__init__(activation=activation, **kwargs)
    self.units = checks.check_size(self.name, 'units', units)
    if recurrent_kernel_posterior_fn is None:
      raise ValueError(f'{self.name}: expected a '
                       '`recurrent_kernel_posterior_fn`; received None.')
    self.recurrent_activation = keras.activations.get(recurrent_activation)
    self.recurrent_kernel_posterior_fn = recurrent_kernel_posterior_fn
    self.recurrent_kernel_posterior_tensor_fn = (
        recurrent_kernel_posterior_tensor_fn)
    self.recurrent_kernel_prior_fn = recurrent_kernel_prior_fn
    self.recurrent_kernel_divergence_fn = recurrent_kernel_divergence_fn
    self.state_size = self.units
    self.output_size = self.units
    self._recurrent_kernel_posterior = None
    self._recurrent_kernel_prior = None

  @property
  def recurrent_kernel_posterior(self) -> Optional[tfd.Distribution]:
    """The recurrent kernel's posterior (`None` before the cell is built)."""
    return self._recurrent_kernel_posterior

  @property
  def recurrent_kernel_prior(self) -> Optional[tfd.Distribution]:
    """The recurrent kernel's prior, or `None`."""
    return self._recurrent_kernel_prior

  def build(self, input_shape) -> None:
    """Creates the posteriors and priors of all three weights."""
    super().build(input_shape)
    shape = [self.units, self.gates * self.units]
    dtype = tf.as_dtype(self.variable_dtype)
    with tf.init_scope():
      self._recurrent_kernel_posterior = self._make(
          self.recurrent_kernel_posterior_fn, dtype, shape,
          'recurrent_kernel_posterior')
      self._recurrent_kernel_prior = self._make(
          self.recurrent_kernel_prior_fn, dtype, shape,
          'recurrent_kernel_prior')
    estimators_lib.check_kernel_posterior(
        self._estimator, self._recurrent_kernel_posterior, self.name)
    self._carry_divergences()

  def _weight_shapes(self, input_shape: Tuple) -> Tuple[Sequence[int],
                                                        Sequence[int]]:
    return ([self._input_size(input_shape), self.gates * self.units],
            self._bias_shape())

  def _bias_shape(self) -> Sequence[int]:
    return [self.gates * self.units]

  def _parts(self) -> Tuple[_pipeline.Part, ...]:
    """The kernel's, the recurrent kernel's and the bias's `Part`."""
    kernel, bias = super()._parts()
    recurrent = _pipeline.Part(
        self._recurrent_kernel_posterior, self._recurrent_kernel_prior,
        self.recurrent_kernel_divergence_fn,
        variational.KerasPosteriorValueFn(
            self.recurrent_kernel_posterior_tensor_fn))
    return kernel, recurrent, bias

  def _draw(self, batch_size: Any,
            seed: Optional[tf.Tensor]) -> _CallWeights:
    """Draws a call's weights and keeps the record of their KL terms."""
    parts = self._parts()
    (draws, output_signs), record = _pipeline.draw_weights(
        parts, self._estimator, self._call_seed(seed),
        tf.cast(batch_size, tf.int32),
        [self.input_spec.axes[-1], self.units, self.gates * self.units],
        tf.as_dtype(self.compute_dtype))
    self._last_call.keep(record)
    return _CallWeights(*draws, output_signs=output_signs)

  def get_config(self) -> dict:
    """The constructor's arguments; callables Keras-serialized."""
    config = super().get_config()
    config.update(serialization.serialized_attributes(self, _RECURRENT_KEYS))
    return config

  @classmethod
  def from_config(cls, config: dict) -> '_VariationalCell':
    """Rebuilds a cell from `get_config()`."""
    return super().from_config(
        serialization.deserialized(config, _RECURRENT_KEYS))

  def _geometry_config(self) -> dict:
    return {'units': self.units, 'recurrent_activation':
            keras.activations.serialize(self.recurrent_activation)}

  def _step(self, x: tf.Tensor, states: Any,
            weights: _CallWeights) -> Tuple[tf.Tensor, Any]:
    raise NotImplementedError(
        f'{type(self).__name__} must define its time step.')


class _LSTMCell(_VariationalCell):
  """The LSTM's gates (Hochreiter and Schmidhuber, 1997), as Keras' LSTMCell."""

  gates = 4

  def __init__(self, units: int, *args, **kwargs):
    super().__init__(units, *args, **kwargs)
    self.state_size = [self.units, self.units]

  def _step(self, x, states, weights):
    h, c = states
    z = weights.affine([(x, weights.kernel), (h, weights.recurrent_kernel)],
                       weights.bias)
    return lstm_step(z, c, self.activation, self.recurrent_activation)


class _GRUCell(_VariationalCell):
  """The GRU's gates (Cho et al., 2014), as Keras' GRUCell.

  `reset_after=True` (Keras' default) applies the reset gate after the
  recurrent kernel, with separate input and recurrent biases (a bias of
  shape `[2, 3 * units]`); `False` applies it before, with one bias.
  """

  gates = 3

  def __init__(self, units: int, *args, reset_after: bool = True, **kwargs):
    super().__init__(units, *args, **kwargs)
    self.reset_after = bool(reset_after)

  def _bias_shape(self) -> Sequence[int]:
    return [2, 3 * self.units] if self.reset_after else [3 * self.units]

  def _step(self, x, states, weights):
    h = states[0] if isinstance(states, (list, tuple)) else states
    n = self.units
    x_z, x_r, x_h = tf.split(weights.affine(
        [(x, weights.kernel)],
        weights.bias_row(0 if self.reset_after else None)), 3, axis=-1)
    recurrent = [(h, weights.recurrent_kernel)]
    if self.reset_after:
      h_z, h_r, h_h = tf.split(
          weights.affine(recurrent, weights.bias_row(1)), 3, axis=-1)
    else:
      h_z, h_r = tf.split(
          weights.affine(recurrent, columns=slice(None, 2 * n)), 2, axis=-1)
    z = self.recurrent_activation(x_z + h_z)
    r = self.recurrent_activation(x_r + h_r)
    if self.reset_after:
      candidate = x_h + r * h_h
    else:
      candidate = x_h + weights.affine([(r * h, weights.recurrent_kernel)],
                                       columns=slice(2 * n, None))
    h = z * h + (1. - z) * self.activation(candidate)
    return h, [h]

  def _geometry_config(self) -> dict:
    return dict(super()._geometry_config(), reset_after=self.reset_after)


_FLIPOUT_DOC = """
  Flipout (Wen et al., 2018): one perturbation of each weight per call,
  decorrelated per sequence by random signs drawn once per sequence, so each
  sequence applies its own posterior sample at all its time steps. Needs
  elementwise normal kernel posteriors.
"""

_REPARAMETERIZATION_DOC = """
  Reparameterization: one sample of each weight per call, shared by the
  batch and applied at every time step.
"""


@export
class LSTMCellFlipout(_LSTMCell):
  __doc__ = ('A variational LSTM cell for `keras.layers.RNN`, by Flipout.\n'
             + _FLIPOUT_DOC + _CELL_ARGS_DOC)

  _estimator = estimators_lib.FLIPOUT


@export
class LSTMCellReparameterization(_LSTMCell):
  __doc__ = ('A variational LSTM cell for `keras.layers.RNN`, by '
             'reparameterization.\n' + _REPARAMETERIZATION_DOC
             + _CELL_ARGS_DOC)

  _estimator = estimators_lib.REPARAMETERIZATION


_GRU_ARGS_DOC = _CELL_ARGS_DOC + """    reset_after: whether the reset gate
      applies after the recurrent kernel (Keras' and cuDNN's convention, with
      a bias of shape `[2, 3 * units]`) or before it.
"""


@export
class GRUCellFlipout(_GRUCell):
  __doc__ = ('A variational GRU cell for `keras.layers.RNN`, by Flipout.\n'
             + _FLIPOUT_DOC + _GRU_ARGS_DOC)

  _estimator = estimators_lib.FLIPOUT


@export
class GRUCellReparameterization(_GRUCell):
  __doc__ = ('A variational GRU cell for `keras.layers.RNN`, by '
             'reparameterization.\n' + _REPARAMETERIZATION_DOC
             + _GRU_ARGS_DOC)

  _estimator = estimators_lib.REPARAMETERIZATION


def _variational_cells(cell: Any) -> list:
  cells = getattr(cell, 'cells', [cell])
  return [c for c in cells if isinstance(c, DrawsOncePerCall)]


@export
class VariationalRNN(keras.layers.RNN):
  """`keras.layers.RNN` whose calls take a `seed` for its variational cells.

  `rnn(x, seed=s)` is a pure function of the weights, `x` and `s`, as
  `layer(x, seed=s)` of every `tfnx.keras` layer; each variational cell
  (of a list of cells, too) gets its own seed split from `s`. A call without
  a seed lets each cell take the next seed of its own generator, as in a
  plain `keras.layers.RNN`. The arguments are `keras.layers.RNN`'s.
  """

  def call(self, sequences, initial_state=None, mask=None, training=False,
           seed: Optional[seeds_lib.SeedLike] = None):
    """`keras.layers.RNN.call`, with the variational cells seeded by `seed`."""
    cells = _variational_cells(self.cell)
    seeds = [None] * len(cells)
    if seed is not None and cells:
      seeds = seeds_lib.split_seed(
          seeds_lib.sanitize_seed(seed, self.name), len(cells))
    batch_size = tf.shape(sequences)[0]
    with contextlib.ExitStack() as stack:
      for cell, cell_seed in zip(cells, seeds):
        stack.enter_context(cell.one_draw(batch_size, cell_seed))
      return super().call(sequences, initial_state=initial_state, mask=mask,
                          training=training)
