"""Predictive distributions: a model's outputs over many stochastic passes, in one graph.

A Bayesian network predicts by averaging over its posterior: each forward
pass draws fresh weights, and the predictive distribution is the mixture of
the passes. These helpers run `num_samples` passes inside one `tf.function`
(a `tf.map_fn` over per-pass seeds, so there is no Python loop per pass and
no retracing when `num_samples` changes). Pass `i` is
`model(inputs, seed=tf.random.experimental.stateless_fold_in(seed, i))`:
a given seed gives the same passes whatever `num_samples` is, and more
samples only add passes.
"""

from typing import Any, Callable, Optional, Tuple

import tensorflow as tf

from tfnx import seeds as seeds_lib
from tfnx import variational

__all__ = ['sample_outputs', 'class_probabilities', 'mean_and_stddev',
           'pass_seed', 'sample_probabilities']

OutputFn = Optional[Callable[[Any], Any]]


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


def _one_pass(model: Callable, inputs: Any, seed: tf.Tensor, index: Any,
              output_fn: OutputFn) -> Any:
  outputs = model(inputs, seed=pass_seed(seed, index))
  return outputs if output_fn is None else output_fn(outputs)


# The model and `output_fn` are part of the trace's key; the number of passes
# is a tensor, so changing it reuses the trace.
@tf.function(reduce_retracing=True, autograph=False)
def _sample_passes(model, inputs, num_samples, seed, output_fn):
  # The first pass runs outside the loop: it is needed anyway and tells the
  # loop the structure, dtypes and shapes of what it stacks.
  first = _one_pass(model, inputs, seed, 0, output_fn)
  signature = tf.nest.map_structure(
      lambda t: tf.TensorSpec(t.shape, t.dtype), first)
  rest = tf.map_fn(lambda i: _one_pass(model, inputs, seed, i, output_fn),
                   tf.range(1, num_samples), fn_output_signature=signature)
  return tf.nest.map_structure(
      lambda a, b: tf.concat([a[tf.newaxis], b], axis=0), first, rest)


def sample_outputs(model: Callable, inputs: Any, num_samples: int = 50,
                   seed: Optional[seeds_lib.SeedLike] = None,
                   output_fn: OutputFn = None) -> Any:
  """Runs `num_samples` stochastic forward passes in one `tf.function`.

  Each pass calls `model(inputs, seed=pass_seed(seed, i))`, so the result is
  a pure function of the variables, `inputs` and `seed`. The passes leave
  the model's `losses` and `posterior_value` as its last call set them.

  Args:
    model: a tfnx layer or `Sequential`, or any callable taking
      `(inputs, seed=...)`.
    inputs: the model's inputs, a tensor or anything convertible to one.
    num_samples: how many passes, a positive int.
    seed: the seed of the passes (an int, a pair or an int tensor of shape
      `[2]`); `None` draws one from Python's `random`.
    output_fn: applied to each pass's outputs inside the loop (e.g.
      `tf.nn.softmax`); `None` for the identity. Pass the same function
      object each time to reuse the trace.

  Returns:
    The passes' outputs (after `output_fn`) stacked on a new leading axis of
    size `num_samples`; a structure of outputs gives a structure of stacks.
  """
  if (isinstance(num_samples, bool) or not isinstance(num_samples, int)
      or num_samples < 1):
    raise ValueError('sample_outputs: expected `num_samples` to be a positive '
                     f'int; received {num_samples!r}.')
  seed = seeds_lib.sanitize_seed(
      seeds_lib.python_random_seed() if seed is None else seed,
      'sample_outputs')
  inputs = tf.convert_to_tensor(inputs)
  with variational.last_call_kept(model):
    return _sample_passes(model, inputs, tf.constant(num_samples, tf.int32),
                          seed, output_fn)


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
    The mean over passes of `softmax(logits)`, shape `[..., classes]`.
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
    `softmax(logits)` of every pass, shape `[num_samples, ..., classes]`.
  """
  return sample_outputs(model, inputs, num_samples, seed, tf.nn.softmax)
