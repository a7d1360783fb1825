"""A variational layer's call, written once for `tfnx` and `tfnx.keras`.

A call splits its seed, materializes the posteriors (their scales computed
once, `tfnx._fast_paths`), brings the inputs to the linear map's layout
(the layer's `Layout`), runs the estimator (a `tfnx.estimators.Estimator`)
and brings the outputs back: `sample`. A layer that applies its weights many
times in a call (a recurrent cell) draws them once instead: `draw_weights`.
Either leaves a `Record`: the seeds, the materialized parameters and the
weights the estimator drew.

The divergences are computed only when someone reads them (`divergence`,
`divergences`): a call whose losses nobody reads runs no KL ops. A
closed-form divergence (`tfnx.losses.needs_sample` false) is computed from
the layer's current posterior and prior and reads nothing of any call. A
Monte Carlo one reads the record its layer's `KeptCall` holds: the weight
the estimator drew, or one drawn from the call's recorded seed, so it is the
weight the call would have drawn; read where the call was made (under the
same `GradientTape`, in the same `tf.function`) it has the gradients the
call's own KL had. `KeptCall` keeps, reads and (around the passes of
`tfnx.predictive`) leaves alone what a layer holds of its last call, for the
`tf.Module` and the Keras layers alike.
"""

import contextlib
import threading
from typing import (Any, Callable, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple)

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _fast_paths
from tfnx import estimators as estimators_lib
from tfnx import losses as losses_lib
from tfnx import rank1 as rank1_lib
from tfnx import seeds as seeds_lib
from tfnx.linear_maps import LinearMap

tfd = tfp.distributions

__all__ = ['Part', 'Record', 'Layout', 'Ensemble', 'KeptCall', 'calls_not_kept', 'sample',
           'sample_rank1', 'draw_rank1_rows', 'moments', 'draw_weights', 'readable',
           'has_divergence', 'weight_values', 'divergence', 'divergences']

class Part(NamedTuple):
  """One weight of a layer (its kernel or its bias).

  Attributes:
    posterior: the weight's posterior, or `None` (no such weight).
    prior: its prior, or `None` (no divergence).
    divergence_fn: `(posterior, prior, sample) -> scalar`, or `None`.
    posterior_value_fn: `(distribution, seed=...) -> value`, how the weight
      is drawn.
  """
  posterior: Optional[tfd.Distribution]
  prior: Optional[tfd.Distribution]
  divergence_fn: Optional[losses_lib.Divergence]
  posterior_value_fn: estimators_lib.PosteriorValueFn


class Layout(NamedTuple):
  """How a layer's inputs reach its linear map's layout, and its outputs return.

  Attributes:
    to_map: `(inputs) -> (mapped, restore)`: the inputs in the map's layout
      (e.g. a batch flattened to one axis), and what undoes it.
    from_map: `(outputs, restore, inputs) -> outputs` in the layer's layout.
  """
  to_map: Callable[[tf.Tensor], Tuple[tf.Tensor, Any]]
  from_map: Callable[[tf.Tensor, Any, tf.Tensor], tf.Tensor]


class Record(NamedTuple):
  """What a call leaves for its divergences, per part `(kernel, bias)`.

  Attributes:
    seeds: the seeds of the parts' divergence draws.
    parameters: the materialized `(loc, scale)` of a normal posterior, else
      `None` (the posterior is used as it is).
    values: the weights the estimator drew, or `None`.
  """
  seeds: Tuple[tf.Tensor, tf.Tensor]
  parameters: Tuple[Optional[Tuple[tf.Tensor, tf.Tensor]], ...]
  values: Tuple[Optional[tf.Tensor], Optional[tf.Tensor]]


def _posterior(part: Part, parameters: Any) -> Optional[tfd.Distribution]:
  if parameters is None:
    return part.posterior
  return _fast_paths.with_parameters(part.posterior, parameters)


def _estimator_posterior_value_fn(
    parts: Tuple[Part, Part],
    posteriors: Tuple[Any, Any]) -> estimators_lib.PosteriorValueFn:
  """One `posterior_value_fn` for the estimator, each part's own."""
  kernel_fn, bias_fn = (parts[0].posterior_value_fn,
                        parts[1].posterior_value_fn)
  if kernel_fn is bias_fn:
    return kernel_fn

  def posterior_value_fn(distribution: tfd.Distribution,
                         seed: tf.Tensor) -> tf.Tensor:
    fn = kernel_fn if distribution is posteriors[0] else bias_fn
    return fn(distribution, seed=seed)
  return posterior_value_fn


def _materialized(parts: Sequence[Part]) -> Tuple[tuple, tuple]:
  """The parts' normal parameters (or `None`) and posteriors over them."""
  parameters = tuple(_fast_paths.normal_parameters(p.posterior) for p in parts)
  return parameters, tuple(_posterior(p, q)
                           for p, q in zip(parts, parameters))


def sample(x: tf.Tensor, seed: tf.Tensor,
           estimator: estimators_lib.Estimator, linear_map: LinearMap,
           layout: Layout,
           parts: Tuple[Part, Part]) -> Tuple[tf.Tensor, Record]:
  """Samples a layer's outputs (before the activation).

  Args:
    x: the checked inputs, in the layer's layout.
    seed: the call's `int32` seed of shape `[2]`.
    estimator: the layer's `tfnx.estimators.Estimator`.
    linear_map: the `LinearMap` it applies.
    layout: the layer's `Layout`.
    parts: the kernel's and the bias's `Part`.

  Returns:
    The outputs, and the call's `Record`.
  """
  estimate_seed, kernel_seed, bias_seed = seeds_lib.split_seed(seed, 3)
  parameters, posteriors = _materialized(parts)
  mapped, restore = layout.to_map(x)
  estimate = estimator.sample(mapped, posteriors[0], posteriors[1],
                              linear_map, estimate_seed,
                              _estimator_posterior_value_fn(parts, posteriors))
  outputs = layout.from_map(estimate.outputs, restore, x)
  return outputs, Record((kernel_seed, bias_seed), parameters,
                         (estimate.kernel, estimate.bias))


class Ensemble(NamedTuple):
  """What a rank-1 or BatchEnsemble layer adds to its linear map.

  Attributes:
    kernel: the shared deterministic kernel `W`.
    bias: the members' biases `[K, out_channels]`, or `None`.
    ensemble_size: the number of members `K`.
    additive: whether the vectors are added rather than multiplied.
    bounds: `(low, high)` clipping drawn vectors, or `None`.
  """
  kernel: tf.Tensor
  bias: Optional[tf.Tensor]
  ensemble_size: int
  additive: bool = False
  bounds: Optional[Tuple[float, float]] = None


def sample_rank1(x: tf.Tensor, seed: tf.Tensor, linear_map: LinearMap,
                 layout: Layout, ensemble: Ensemble,
                 parts: Tuple[Part, Part]) -> Tuple[tf.Tensor, Record]:
  """Samples a rank-1 or BatchEnsemble layer's outputs (before the activation).

  As `sample`, with `tfnx.rank1.rank1` in the estimator's place: the parts
  are the input-side and output-side vectors (`s`, `r`), whose posteriors
  are distributions over `[K, channels]`, or tensors (BatchEnsemble's
  points); the kernel and biases are the `ensemble`'s.

  Args:
    x: the checked inputs, in the layer's layout, rows in member blocks.
    seed: the call's `int32` seed of shape `[2]`.
    linear_map: the `LinearMap` the members share.
    layout: the layer's `Layout`.
    ensemble: the shared kernel, the biases and how the vectors apply.
    parts: the input-side and the output-side vectors' `Part`s.

  Returns:
    The outputs, and the call's `Record` (no weights drawn: a Monte Carlo
    divergence of the vectors draws one `[K, channels]` sample from its
    recorded seed).
  """
  estimate_seed, in_seed, out_seed = seeds_lib.split_seed(seed, 3)
  parameters, posteriors = _materialized(parts)
  mapped, restore = layout.to_map(x)
  estimate = rank1_lib.rank1(
      mapped, ensemble.kernel, posteriors[0], posteriors[1], ensemble.bias,
      linear_map, ensemble.ensemble_size, estimate_seed, ensemble.additive,
      ensemble.bounds)
  outputs = layout.from_map(estimate.outputs, restore, x)
  return outputs, Record((in_seed, out_seed), parameters, (None, None))


def draw_rank1_rows(parts: Sequence[Part], seed: tf.Tensor, rows: tf.Tensor,
                    ensemble: Ensemble, dtype: tf.DType
                    ) -> Tuple[List[tf.Tensor], Record]:
  """Draws a rank-1 layer's vectors once, for a call that applies them many times.

  A rank-1 recurrent cell applies its vectors at every time step of a
  sequence; it draws each row's here, once per call
  (`tfnx.rank1.factors_of_rows`).

  Args:
    parts: the vectors' `Part`s.
    seed: the call's `int32` seed of shape `[2]`.
    rows: the number of rows (sequences), an `int32` scalar.
    ensemble: the members and how their vectors apply (its kernel and bias
      are not read).
    dtype: the layer's dtype.

  Returns:
    Each part's `[rows, channels]` vectors, and the call's `Record`.
  """
  draw_seed, divergence_seed = seeds_lib.split_seed(seed, 2)
  parameters, posteriors = _materialized(parts)
  vectors = rank1_lib.factors_of_rows(posteriors, rows,
                                      ensemble.ensemble_size, draw_seed,
                                      dtype, ensemble.bounds)
  record = Record(tuple(seeds_lib.split_seed(divergence_seed, len(parts))),
                  parameters, (None,) * len(parts))
  return vectors, record


def moments(x: tf.Tensor, seed: tf.Tensor, linear_map: LinearMap,
            layout: Layout, parts: Tuple[Part, Part]
            ) -> Tuple[tf.Tensor, tf.Tensor]:
  """Each output's mean and standard deviation, before the activation.

  Where the estimator declares `rows_normal` for the map (local
  reparameterization; Flipout on dense maps) each row's outputs are
  independent normals of these moments, so samples of many passes over the
  same inputs need them once.

  Args:
    x: the checked inputs, in the layer's layout.
    seed: an `int32` seed of shape `[2]`, drawing a bias posterior that is not
      normal (a point mass, where the moments serve many passes).
    linear_map, layout, parts: as for `sample`.

  Returns:
    `(mean, stddev)`, each shaped as `sample`'s outputs.
  """
  _, posteriors = _materialized(parts)
  mapped, restore = layout.to_map(x)
  mean, stddev, _ = estimators_lib.output_moments(
      mapped, posteriors[0], posteriors[1], linear_map, seed,
      _estimator_posterior_value_fn(parts, posteriors))
  return (layout.from_map(mean, restore, x),
          layout.from_map(stddev, restore, x))


def draw_weights(parts: Sequence[Part], estimator: estimators_lib.Estimator,
                 seed: tf.Tensor, rows: tf.Tensor, sizes: Sequence[int],
                 dtype: tf.DType
                 ) -> Tuple[estimators_lib.WeightsDraw, Record]:
  """Draws a layer's weights once for a call that applies them many times.

  A recurrent cell applies its kernels and bias at every time step of a
  sequence; it draws them here, once per call, with its estimator's
  `draw_weights`.

  Args:
    parts: the kernels' `Part`s, then the bias's.
    estimator: the layer's `tfnx.estimators.Estimator`; it must declare
      `draw_weights`.
    seed: the call's `int32` seed of shape `[2]`.
    rows: the number of rows (sequences) the weights serve, an `int32`
      scalar.
    sizes: each kernel's input size, then the output size (Flipout draws a
      sign per row and element).
    dtype: the layer's dtype, of Flipout's signs.

  Returns:
    `((draws, output_signs), record)`: a `tfnx.estimators.WeightDraw` per
    part (`None` where it has no posterior), the output signs (or `None`),
    and the call's `Record`.
  """
  draw_seed, divergence_seed = seeds_lib.split_seed(seed, 2)
  parameters, posteriors = _materialized(parts)
  draws, output_signs = estimator.draw_weights(
      posteriors, [p.posterior_value_fn for p in parts], rows, sizes,
      draw_seed, dtype)
  record = Record(tuple(seeds_lib.split_seed(divergence_seed, len(parts))),
                  parameters,
                  tuple(None if d is None else d.value for d in draws))
  return (draws, output_signs), record


def readable(record: Record) -> bool:
  """Whether a record's tensors can be used here.

  Those of an eager call can be used anywhere; those of a traced call only in
  its graph and the functions traced inside it: once the traced function has
  returned (as `model.predict`'s has), they are gone.
  """
  here = tf.compat.v1.get_default_graph()
  for tensor in tf.nest.flatten(record):
    graph = getattr(tensor, 'graph', None)  # None for an eager tensor.
    scope = here
    while graph is not None and scope is not graph:
      scope = getattr(scope, 'outer_graph', None)
      if scope is None:
        return False
  return True


def has_divergence(part: Part) -> bool:
  """Whether a part has a divergence: a posterior, a prior and a function."""
  return (part.divergence_fn is not None and part.posterior is not None
          and part.prior is not None)


def _needs_sample(part: Part) -> bool:
  return has_divergence(part) and losses_lib.needs_sample(part.divergence_fn)


def _weight_value(part: Part, parameters: Any, value: Optional[tf.Tensor],
                  seed: tf.Tensor) -> Optional[tf.Tensor]:
  if value is None and _needs_sample(part):
    return estimators_lib.draw(_posterior(part, parameters),
                               part.posterior_value_fn, seed)
  return value


def weight_values(record: Record, parts: Tuple[Part, ...]
                  ) -> List[Optional[tf.Tensor]]:
  """The weights a call's Monte Carlo divergences use: drawn, or drawn now.

  A part whose estimator drew no weight gets one drawn from the recorded
  seed, where its divergence needs one; otherwise its value stays `None`.
  """
  return [_weight_value(part, parameters, value, seed)
          for part, parameters, value, seed in zip(
              parts, record.parameters, record.values, record.seeds)]


def divergence(record: Record, parts: Tuple[Part, ...], index: int,
               dtype: tf.DType) -> Optional[tf.Tensor]:
  """Part `index`'s divergence, or `None` where it has none.

  A closed-form divergence is computed from the part's current posterior and
  prior (over the parameters the record materialized, where it has them); a
  Monte Carlo one from the record's weight or seed (see the module).

  Args:
    record: the layer's `KeptCall.record`.
    parts: the layer's parts, as in its calls.
    index: which part.
    dtype: the layer's dtype, which the divergence is cast to.

  Returns:
    A scalar, or `None`.
  """
  part = parts[index]
  if not has_divergence(part):
    return None
  parameters = record.parameters[index]
  if losses_lib.needs_sample(part.divergence_fn):
    value = _weight_value(part, parameters, record.values[index],
                          record.seeds[index])
  else:
    value = None
    if parameters is None:
      parameters = _fast_paths.normal_parameters(part.posterior)
  return tf.cast(part.divergence_fn(_posterior(part, parameters), part.prior,
                                    value), dtype)


def divergences(record: Record, parts: Tuple[Part, ...],
                dtype: tf.DType) -> List[Optional[tf.Tensor]]:
  """Every part's `divergence`: `[kernel divergence, bias divergence]`."""
  return [divergence(record, parts, index, dtype)
          for index in range(len(parts))]


_NOT_KEPT = threading.local()

# The seed of a Monte Carlo divergence read where no call of its layer can be
# read (before any, or once `model.fit`'s traced step has returned): an
# estimate at the current weights, the same at every read.
_UNKEPT_SEED = (0, 0)


class KeptCall:
  """What a layer holds of its last call: kept, read, left alone in passes.

  Closed-form divergences read none of it; Monte Carlo ones (and `tfnx`'s
  `posterior_value`) read the call's `Record`, where its tensors can be used
  (`readable`).
  """

  def __init__(self):
    self._record: Optional[Record] = None

  def keep(self, record: Record) -> None:
    """Holds `record`, the latest call's, except inside `calls_not_kept`."""
    if not getattr(_NOT_KEPT, 'active', False):
      self._record = record

  @property
  def called(self) -> bool:
    """Whether a call has been kept."""
    return self._record is not None

  def record(self, parts: Tuple[Part, ...]) -> Record:
    """What the divergences of `parts` read of the kept call, here.

    In the graph of the call (its traced step) that is the call's record,
    whose materialized parameters the closed-form divergences share. An
    eager call's record keeps its parameters only for the Monte Carlo ones:
    the variables may have moved since, and a closed-form divergence is that
    of the current ones. Where no call can be read (before any, or once the
    traced step has returned) it is a record of no call: no weights, fixed
    seeds, from which a Monte Carlo divergence draws its weight now.

    Args:
      parts: the layer's parts.

    Returns:
      A `Record`.
    """
    record = self._record
    if record is None or not readable(record):
      return Record(tuple(seeds_lib.split_seed(tf.constant(_UNKEPT_SEED),
                                               len(parts))),
                    (None,) * len(parts), (None,) * len(parts))
    if getattr(record.seeds[0], 'graph', None) is None:  # An eager call.
      return record._replace(parameters=tuple(
          q if _needs_sample(part) else None
          for part, q in zip(parts, record.parameters)))
    return record


@contextlib.contextmanager
def calls_not_kept() -> Iterator[None]:
  """Calls made inside leave every layer's `KeptCall` as it was.

  `tfnx.predictive` runs its passes inside, so a model's losses and
  `posterior_value` stay those of its last call of its own.
  """
  previous = getattr(_NOT_KEPT, 'active', False)
  _NOT_KEPT.active = True
  try:
    yield
  finally:
    _NOT_KEPT.active = previous
