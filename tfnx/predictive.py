"""Predictive distributions: a model's outputs over many stochastic passes, in one graph.

A Bayesian network predicts by averaging over its posterior: each forward
pass draws fresh weights, and the predictive distribution is the mixture of
the passes. These helpers run `num_samples` passes inside one `tf.function`,
in as few calls of the model as its layers allow:

- Where every layer gives each row of a batch its own exact posterior
  sample (Flipout, local reparameterization) and every other stage treats
  rows on their own, as the layers declare (see `tfnx._vectorized`), many
  passes are one call on the inputs tiled: at batch 1, fifty passes cost
  about one call. Each pass is then an exact sample of the same predictive
  distribution as an independent pass. A dense first layer's outputs are
  independent normals given the inputs, which every pass shares, so their
  mean and standard deviation are computed once and each pass draws its own
  values around them (a convolution's outputs share the row's kernel sample
  across positions, so it runs in every call); for Keras models, where the
  model is a `keras.Sequential`. In later Flipout layers the passes of one
  call share the layer's weight perturbation up to random signs: they are
  uncorrelated at its outputs but not independent. Calling a model through
  a lambda (`lambda x, seed: model(x, seed=seed)`) gives every pass its own
  call.
- Otherwise (reparameterization layers, lambdas, custom layers) pass `i` is
  its own call, `model(inputs, seed=pass_seed(seed, i))`, in a traced loop.

A model with rank-1 or BatchEnsemble layers (`tfnx.rank1`) runs every
member in every pass: each call's rows are the inputs tiled member-major, so
a pass gives one sample per member, and the helpers average over members and
over the vectors' draws alike.

Either way the passes are a pure function of the variables, the inputs and
`seed`, and changing `num_samples` does not retrace. Keras models built from
`tfnx.keras` layers work too: they are called in inference mode, and each of
their tfnx layers draws a seed of its own from the pass's (`layer_seeds`).
"""

import contextlib
import threading
from typing import Any, Callable, Iterator, Optional, Tuple

import tensorflow as tf

from tfnx import _pipeline
from tfnx import _sampling as sampling
from tfnx import _vectorized
from tfnx import seeds as seeds_lib

__all__ = ['sample_outputs', 'class_probabilities', 'mean_and_stddev',
           'pass_seed', 'layer_seeds', 'layer_seed', 'sample_probabilities']

OutputFn = Optional[Callable[[Any], Any]]

_LAYER_SEEDS = threading.local()


def pass_seed(seed: seeds_lib.SeedLike, index: Any) -> tf.Tensor:
  """The seed of pass `index` of a predictive sample drawn with `seed`.

  Args:
    seed: the predictive sample's seed.
    index: the pass's index, an int or an int32 scalar tensor.

  Returns:
    An `int32` seed of shape `[2]`.
  """
  return tf.random.experimental.stateless_fold_in(
      seeds_lib.sanitize_seed(seed, 'pass_seed'), index)


@contextlib.contextmanager
def layer_seeds(seed: seeds_lib.SeedLike) -> Iterator[None]:
  """Seeds the calls `tfnx.keras` layers make without a seed inside.

  A Keras model passes no `seed` to its layers; inside this context each
  `tfnx.keras` layer called without one takes
  `stateless_fold_in(seed, j)`, `j` numbering the layers in the order they
  are first called, so `with layer_seeds(s): model(x)` is a pure function of
  the weights, `x` and `s`.

  Args:
    seed: the seed of the calls made inside.

  Yields:
    Nothing; the context restores any enclosing one on exit.
  """
  previous = getattr(_LAYER_SEEDS, 'state', None)
  _LAYER_SEEDS.state = (seeds_lib.sanitize_seed(seed, 'layer_seeds'), {})
  try:
    yield
  finally:
    _LAYER_SEEDS.state = previous


def layer_seed(layer: Any) -> Optional[tf.Tensor]:
  """The seed of `layer`'s unseeded call inside `layer_seeds`, else `None`.

  Args:
    layer: the layer being called.

  Returns:
    An `int32` seed of shape `[2]`, or `None` outside `layer_seeds`.
  """
  state = getattr(_LAYER_SEEDS, 'state', None)
  if state is None:
    return None
  seed, indices = state
  return tf.random.experimental.stateless_fold_in(
      seed, indices.setdefault(id(layer), len(indices)))


def _call(model: Callable, inputs: tf.Tensor, seed: tf.Tensor) -> Any:
  if _vectorized.is_keras_model(model):
    with layer_seeds(seed):
      return model(inputs, training=False)
  return model(inputs, seed=seed)


def _stack_calls(call: Callable[[Any], Any], num_calls: tf.Tensor) -> Any:
  """`call(i)` for `i` in `range(num_calls)`, concatenated on axis 0."""
  # The first call runs outside the loop: it tells the arrays the structure,
  # dtypes and shapes, and keeps them non-empty, so they concatenate even
  # where a shape is only known at run time.
  first = call(0)
  arrays = [tf.TensorArray(t.dtype, size=num_calls, element_shape=t.shape,
                           infer_shape=False).write(0, t)
            for t in tf.nest.flatten(first)]

  def body(i, arrays):
    values = tf.nest.flatten(call(i))
    return i + 1, [a.write(i, v) for a, v in zip(arrays, values)]

  _, arrays = tf.while_loop(lambda i, _: i < num_calls, body,
                            (tf.constant(1), arrays))
  return tf.nest.pack_sequence_as(first, [a.concat() for a in arrays])


def _calls(model: Callable, inputs: tf.Tensor, seed: tf.Tensor,
           tiling: _vectorized.Tiling
           ) -> Tuple[Callable[[Any, tf.Tensor], Any], tf.Tensor]:
  """How a call of `k` passes runs, and the tensor its size is bounded by.

  A first stage with normal rows has its moments computed once, here; each
  call then tiles the moments rather than the inputs.
  """
  stage = _vectorized.first_stage(model, tiling)
  if stage is None:
    return (lambda k, s: _call(model, tiling.tile(inputs, k), s)), inputs
  mean, stddev = stage.moments(inputs, seed)

  def run(k: tf.Tensor, pass_seed_: tf.Tensor) -> Any:
    noise_seed, rest_seed = seeds_lib.split_seed(pass_seed_, 2)
    mean_k, stddev_k = tiling.tile(mean, k), tiling.tile(stddev, k)
    x = stage.activation(mean_k + stddev_k * sampling.standard_normal(
        tf.shape(mean_k), noise_seed, mean_k.dtype))
    return _call_stages(model, stage.rest, x, rest_seed)
  return run, mean


def _call_stages(model: Any, stages: tuple, x: tf.Tensor,
                 seed: tf.Tensor) -> Any:
  """`x` through the stages of `model` after its first."""
  if not _vectorized.is_keras_model(model):
    return _vectorized.run_stages(stages, x, seed)
  with layer_seeds(seed):
    for layer in stages:
      x = layer(x, training=False)
  return x


# The model, `output_fn` and tiling are part of the trace's key; the number of
# passes is a tensor, so changing it reuses the trace.
@tf.function(reduce_retracing=True, autograph=False)
def _sample_passes(model, inputs, num_samples, seed, output_fn, tiling):
  run, sized = _calls(model, inputs, seed, tiling)
  passes_per_call = tiling.passes_per_call(sized, num_samples)

  def call(i):
    outputs = run(passes_per_call, pass_seed(seed, i))
    if output_fn is not None:
      outputs = output_fn(outputs)
    return tf.nest.map_structure(
        lambda t: tiling.untile(t, passes_per_call, inputs), outputs)

  stacked = _stack_calls(call, -(-num_samples // passes_per_call))
  return tf.nest.map_structure(lambda t: t[:num_samples * tiling.members],
                               stacked)


def sample_outputs(model: Callable, inputs: Any, num_samples: int = 50,
                   seed: Optional[seeds_lib.SeedLike] = None,
                   output_fn: OutputFn = None) -> Any:
  """Runs `num_samples` stochastic forward passes in one `tf.function`.

  Passes share calls of the model where its layers declare that rows are
  independent samples (see the module's docstring); otherwise pass `i` is
  `model(inputs, seed=pass_seed(seed, i))`. Either way the result is a pure
  function of the variables, `inputs` and `seed`, and the passes leave the
  model's `losses` and `posterior_value` as its last call set them.

  Args:
    model: a tfnx layer or `Sequential`, any callable taking
      `(inputs, seed=...)`, or a Keras model or layer (called with
      `training=False` inside `layer_seeds`).
    inputs: the model's inputs, a tensor or anything convertible to one.
    num_samples: how many passes, a positive int.
    seed: the seed of the passes (an int, a pair or an int tensor of shape
      `[2]`); `None` draws one from Python's `random`.
    output_fn: applied to each pass's outputs inside the loop (e.g.
      `tf.nn.softmax`); `None` for the identity. Passes share calls only when
      it is `None` or an elementwise or last-axis function of
      `tfnx._vectorized.ROW_WISE_FUNCTIONS`. Pass the same function object
      each time to reuse the trace.

  Returns:
    The passes' outputs (after `output_fn`) stacked on a new leading axis of
    size `num_samples`, or `num_samples * ensemble_size` for a model with
    rank-1 or BatchEnsemble layers (pass-major: the members of pass 0
    first); a structure of outputs gives a structure of stacks.
  """
  if (isinstance(num_samples, bool) or not isinstance(num_samples, int)
      or num_samples < 1):
    raise ValueError('sample_outputs: expected `num_samples` to be a positive '
                     f'int; received {num_samples!r}.')
  seed = seeds_lib.sanitize_seed(
      seeds_lib.python_random_seed() if seed is None else seed,
      'sample_outputs')
  if _vectorized.is_keras_model(model) and not model.built:
    raise ValueError(f'sample_outputs: expected a built Keras model; '
                     f'received {model.name!r}, not built yet. Call it once '
                     'or build it first.')
  inputs = tf.convert_to_tensor(inputs)
  with _pipeline.calls_not_kept():
    return _sample_passes(model, inputs, tf.constant(num_samples, tf.int32),
                          seed, output_fn,
                          _vectorized.tiling(model, output_fn))


def class_probabilities(model: Callable, inputs: Any, num_samples: int = 50,
                        seed: Optional[seeds_lib.SeedLike] = None
                        ) -> tf.Tensor:
  """The predictive class probabilities: the softmax averaged over passes.

  Args:
    model: a model returning logits of shape `[..., classes]`.
    inputs: the model's inputs.
    num_samples: how many passes.
    seed: the seed of the passes; `None` draws one.

  Returns:
    The mean over passes (and over the members of rank-1 and BatchEnsemble
    layers) of `softmax(logits)`, shape `[..., classes]`.
  """
  return tf.reduce_mean(sample_outputs(model, inputs, num_samples, seed,
                                       tf.nn.softmax), axis=0)


def mean_and_stddev(model: Callable, inputs: Any, num_samples: int = 50,
                    seed: Optional[seeds_lib.SeedLike] = None,
                    output_fn: OutputFn = None) -> Tuple[tf.Tensor, tf.Tensor]:
  """The mean and standard deviation of a model's outputs over passes.

  For a network predicting a value, the standard deviation is the spread
  its weight uncertainty (epistemic uncertainty) puts on that value.

  Args:
    model: the model.
    inputs: the model's inputs.
    num_samples: how many passes.
    seed: the seed of the passes; `None` draws one.
    output_fn: applied to each pass's outputs first; `None` for the identity.

  Returns:
    The pair `(mean, stddev)` over passes, each of the outputs' shape.
  """
  samples = sample_outputs(model, inputs, num_samples, seed, output_fn)
  return tf.reduce_mean(samples, axis=0), tf.math.reduce_std(samples, axis=0)


def sample_probabilities(model: Callable, inputs: Any, num_samples: int = 50,
                         seed: Optional[seeds_lib.SeedLike] = None
                         ) -> tf.Tensor:
  """Each pass's class probabilities, for splitting the uncertainty.

  Their mean is `class_probabilities` (for the same seed);
  `tfnx.metrics.expected_entropy` and `tfnx.metrics.mutual_information` split
  its entropy into data and model uncertainty.

  Args:
    model, inputs, num_samples, seed: as for `class_probabilities`.

  Returns:
    `softmax(logits)` of every pass, shape `[num_samples, ..., classes]`
    (`[num_samples * ensemble_size, ...]` with rank-1 layers: a sample per
    member and pass).
  """
  return sample_outputs(model, inputs, num_samples, seed, tf.nn.softmax)
