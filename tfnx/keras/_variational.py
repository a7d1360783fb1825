"""`KerasVariationalLayer`: Keras 3 base of `tfnx.keras`' variational layers.

It owns everything the Keras layers share: building the kernel and bias
distributions through `tfp.layers`-style builders onto Keras variables, the
per-call stateless seed, running a `tfnx.estimators` estimator with the
layer's linear map (`tfnx._pipeline`, shared with `tfnx.VariationalLayer`),
the KL terms in `losses` (computed when read, `_divergence_terms`), and
the config. A layer family (dense, convolution) adds its weight shapes,
linear map and input spec; a concrete layer only picks its estimator.
"""

import functools
from typing import Any, Callable, Optional, Sequence, Tuple

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import estimators as estimators_lib
from tfnx import _pipeline
from tfnx import _checks as checks
from tfnx import _layers as layers_lib
from tfnx import seeds as seeds_lib
from tfnx.keras import _builders as builders
from tfnx.keras import _call_seeds as call_seeds
from tfnx.keras import _divergence_terms as divergence_terms
from tfnx.keras import _serialization as serialization
from tfnx.linear_maps import LinearMap

tfd = tfp.distributions

__all__ = ['KerasVariationalLayer', 'check_dtype_policy']

_FUNCTION_KEYS = (
    'kernel_posterior_fn', 'kernel_posterior_tensor_fn', 'kernel_prior_fn',
    'kernel_divergence_fn', 'bias_posterior_fn', 'bias_posterior_tensor_fn',
    'bias_prior_fn', 'bias_divergence_fn')


class KerasPosteriorValueFn:
  """`tfp.layers`' `*_posterior_tensor_fn` as a `posterior_value_fn`.

  `tfp.layers` users write `lambda d: d.sample()`; only a function that
  takes a `seed` can be given the call's stateless one.
  """

  def __init__(self, tensor_fn: Callable):
    self._tensor_fn = tensor_fn
    self._takes_seed = layers_lib.takes_seed(tensor_fn)

  def __call__(self, distribution: tfd.Distribution,
               seed: tf.Tensor) -> tf.Tensor:
    if self._takes_seed:
      return self._tensor_fn(distribution, seed=seed)
    return self._tensor_fn(distribution)


def check_dtype_policy(layer: keras.layers.Layer) -> None:
  """Checks that a layer computes in its weights' dtype, a floating one.

  Args:
    layer: a constructed Keras layer.

  Raises:
    ValueError: for a mixed policy (`'mixed_float16'`), or a dtype that is
      not floating.
  """
  if layer.compute_dtype != layer.variable_dtype:
    raise ValueError(
        f'{layer.name}: expected one dtype for weights and computations; '
        f'received the mixed policy {layer.dtype_policy.name!r}.')
  if not tf.as_dtype(layer.variable_dtype).is_floating:
    raise ValueError(f'{layer.name}: expected a floating dtype; received '
                     f'{layer.variable_dtype}.')


class KerasVariationalLayer(keras.layers.Layer):
  """A Keras layer whose kernel and bias have learned posterior distributions.

  Each call draws its outputs with the layer's estimator (reparameterization,
  Flipout or local reparameterization from `tfnx.estimators`), in training and
  inference alike. Its `losses` hold `kernel_divergence_fn(kernel_posterior,
  kernel_prior, kernel_sample)` (and the bias's, when there is a bias prior),
  so `model.fit` minimizes them; they are computed when `losses` is read
  (a call whose losses nobody reads computes none): a closed-form KL from
  the current posterior and prior, once the layer is built, so after `fit`,
  `evaluate` or `predict` too; a Monte Carlo one from the last call's sample
  where that call's graph can be reached (in `fit`'s step), else from a
  fixed seed.

  The `*_posterior_tensor_fn`s and the estimators: reparameterization draws
  the kernel with `kernel_posterior_tensor_fn` and the bias with
  `bias_posterior_tensor_fn`. Flipout and local reparameterization use the
  kernel posterior's `loc` and `scale` and draw the perturbation (Flipout) or
  the pre-activations (local reparameterization) themselves from the call's
  seed, so `kernel_posterior_tensor_fn` does not shape their outputs (where
  `tfp.layers`' Flipout applies it to `Normal(0, scale)`, a `d.mean()` there
  switches the noise off; here it does not). Local reparameterization, which
  draws no kernel, uses it only for the sample it passes to a custom
  `kernel_divergence_fn`. The bias is drawn with `bias_posterior_tensor_fn`,
  except a normal bias, which Flipout perturbs with the kernel's output
  signs and local reparameterization marginalizes (`tfp.layers` draws it
  with `bias_posterior_tensor_fn` there too). A
  divergence function receives the weight the call used (Flipout:
  `loc + dW`, itself a posterior sample). Tensor and divergence functions
  receive the call's copy of the posterior: the same distribution, with its
  scale computed once per call, so the
  estimator and the KL share it. A tensor function with a `seed`
  keyword gets the call's stateless seed; one without (`lambda d:
  d.sample()`) draws its own, statefully.

  Randomness: `layer(x, seed=s)` is a pure function of the weights, `x` and
  `s`. A call without a seed (as Keras makes them in `fit` and `predict`)
  takes a fresh stateless seed from the layer's
  `keras.random.SeedGenerator(seed)`, so two layers built with the same `seed`
  give the same initial weights and the same sequence of outputs; under a
  distribution strategy each replica folds in its id. The generator's state
  is a layer variable that a `tf.train.Checkpoint` carries but a `.keras`
  file does not: a loaded model restarts the sequence from `seed`.

  Args:
    activation: a Keras activation or its name; `None` for the identity.
    activity_regularizer: a Keras regularizer of the outputs, or `None`.
    trainable: whether the posterior's variables are trainable.
    kernel_posterior_fn: `(dtype, shape, name, trainable, add_variable_fn) ->
      tfd.Distribution`, the kernel's posterior; default
      `default_mean_field_normal_fn()`.
    kernel_posterior_tensor_fn: `(distribution, seed=...) -> tensor`, how a
      kernel is drawn (see `KerasVariationalLayer`); default `posterior_sample`.
    kernel_prior_fn: builds the kernel's prior, like `kernel_posterior_fn`;
      default `default_multivariate_normal_fn` (standard normal); `None` for
      no prior and no kernel KL.
    kernel_divergence_fn: `(posterior, prior, sample) -> scalar`; default
      `kl_divergence`, the closed-form KL. Scale it here, e.g. by one over
      the number of training examples.
    bias_posterior_fn: builds the bias's posterior; default
      `default_mean_field_normal_fn(is_singular=True)` (a point mass);
      `None` for no bias.
    bias_posterior_tensor_fn: how a bias is drawn; default
      `posterior_sample`.
    bias_prior_fn: builds the bias's prior; default `None` (no bias KL).
    bias_divergence_fn: as `kernel_divergence_fn`, for the bias.
    seed: a Python int seeding the layer's calls and its unseeded random
      initializers; `None` draws one from Python's `random` (so
      `keras.utils.set_random_seed` makes it reproducible).
    **kwargs: Keras layer arguments (`name`, `dtype`).
  """

  _estimator = estimators_lib.REPARAMETERIZATION

  def __init__(
      self,
      activation: Any = None,
      activity_regularizer: Any = None,
      trainable: bool = True,
      kernel_posterior_fn: Optional[Callable] = (
          builders.default_mean_field_normal_fn()),
      kernel_posterior_tensor_fn: Callable = builders.posterior_sample,
      kernel_prior_fn: Optional[Callable] = (
          builders.default_multivariate_normal_fn),
      kernel_divergence_fn: Optional[Callable] = builders.kl_divergence,
      bias_posterior_fn: Optional[Callable] = (
          builders.default_mean_field_normal_fn(is_singular=True)),
      bias_posterior_tensor_fn: Callable = builders.posterior_sample,
      bias_prior_fn: Optional[Callable] = None,
      bias_divergence_fn: Optional[Callable] = builders.kl_divergence,
      seed: Optional[int] = None,
      **kwargs):
    super().__init__(activity_regularizer=activity_regularizer,
                     trainable=trainable, **kwargs)
    check_dtype_policy(self)
    if kernel_posterior_fn is None:
      raise ValueError(f'{self.name}: expected a `kernel_posterior_fn`; '
                       'received None.')
    self.activation = keras.activations.get(activation)
    self.kernel_posterior_fn = kernel_posterior_fn
    self.kernel_posterior_tensor_fn = kernel_posterior_tensor_fn
    self.kernel_prior_fn = kernel_prior_fn
    self.kernel_divergence_fn = kernel_divergence_fn
    self.bias_posterior_fn = bias_posterior_fn
    self.bias_posterior_tensor_fn = bias_posterior_tensor_fn
    self.bias_prior_fn = bias_prior_fn
    self.bias_divergence_fn = bias_divergence_fn
    self.seed = seed
    self._seed_generator = call_seeds.make_seed_generator(self.name, seed)
    # Keras leaves a generator out of `tf.train.Checkpoint`s; as an attribute
    # its state is saved, so a restored layer continues the sequence.
    self._seed_state = self._seed_generator.state.value
    self._kernel_posterior = None
    self._kernel_prior = None
    self._bias_posterior = None
    self._bias_prior = None
    # A family sets its `tfnx.linear_maps.LinearMap` here in its constructor.
    self._linear_map: Optional[LinearMap] = None
    self._last_call = _pipeline.KeptCall()

  @property
  def kernel_posterior(self) -> Optional[tfd.Distribution]:
    """The kernel's posterior (`None` before the layer is built)."""
    return self._kernel_posterior

  @property
  def kernel_prior(self) -> Optional[tfd.Distribution]:
    """The kernel's prior, or `None` (also before the layer is built)."""
    return self._kernel_prior

  @property
  def bias_posterior(self) -> Optional[tfd.Distribution]:
    """The bias's posterior, or `None` (no bias, or not built)."""
    return self._bias_posterior

  @property
  def bias_prior(self) -> Optional[tfd.Distribution]:
    """The bias's prior, or `None` (no bias prior, or not built)."""
    return self._bias_prior

  def build(self, input_shape) -> None:
    """Creates the posteriors, priors and their variables."""
    kernel_shape, bias_shape = self._weight_shapes(tuple(input_shape))
    dtype = tf.as_dtype(self.variable_dtype)
    # Lifted out of any `tf.function` being traced (as Keras 2 did), so
    # constant tensors inside the distributions (a prior's zeros) outlive the
    # trace that happened to build the layer.
    with tf.init_scope():
      self._kernel_posterior = self._make(
          self.kernel_posterior_fn, dtype, kernel_shape, 'kernel_posterior')
      self._kernel_prior = self._make(
          self.kernel_prior_fn, dtype, kernel_shape, 'kernel_prior')
      self._bias_posterior = self._make(
          self.bias_posterior_fn, dtype, bias_shape, 'bias_posterior')
      self._bias_prior = self._make(
          self.bias_prior_fn, dtype, bias_shape, 'bias_prior')
    estimators_lib.check_kernel_posterior(
        self._estimator, self._kernel_posterior, self.name)
    self.input_spec = self._make_input_spec(tuple(input_shape))
    self._carry_divergences()

  def _make(self, fn: Optional[Callable], dtype: tf.DType,
            shape: Sequence[int], name: str) -> Optional[tfd.Distribution]:
    if fn is None:
      return None
    return fn(dtype, list(shape), name, self.trainable, self._add_variable)

  def _add_variable(self, name: str, shape: Sequence[int],
                    initializer: Any = None, regularizer: Any = None,
                    constraint: Any = None, dtype: Any = None,
                    trainable: bool = True) -> tf.Variable:
    """`tfp.layers`' `add_variable_fn`, creating a Keras weight.

    Returns the weight's backing `tf.Variable`, which a TFP distribution keeps
    by reference (a Keras variable it would convert to a constant tensor).
    An unseeded Keras random initializer gets a seed of its own, derived from
    the layer's `seed` and the variable's name: without it, one shared
    default initializer would give every weight of a shape the same values.
    """
    weight = self.add_weight(
        name=name, shape=tuple(shape),
        initializer=call_seeds.seeded_initializer(initializer, self.seed,
                                                  name),
        regularizer=regularizer, constraint=constraint,
        dtype=dtype or self.variable_dtype, trainable=trainable,
        autocast=False)
    variable = weight.value
    if not isinstance(variable, tf.Variable):
      raise RuntimeError(
          f'{self.name}: expected the weight {name!r} to be backed by a '
          f'tf.Variable; received {type(variable).__name__}. tfnx.keras '
          'needs the TensorFlow backend and layers built outside a stateless '
          'scope.')
    return variable

  def call(self, inputs,
           seed: Optional[seeds_lib.SeedLike] = None) -> tf.Tensor:
    """Samples the outputs; their KL terms reach `losses` when it is read.

    Args:
      inputs: the layer's inputs.
      seed: `None` (what Keras passes) for the next seed of the layer's
        generator, each replica of a distribution strategy folding in its
        id; or an int, a pair or an `int32` tensor of shape `[2]`, making
        the call a pure function of the weights, `inputs` and `seed`.

    Returns:
      The sampled outputs.
    """
    x = checks.convert_inputs(inputs, tf.as_dtype(self.compute_dtype),
                                  self.name)
    parts = self._parts()
    outputs, record = _pipeline.sample(x, self._call_seed(seed),
                                       self._estimator, self._linear_map,
                                       self._layout(), parts)
    self._last_call.keep(record)
    return self.activation(outputs)

  @property
  def kernel_posterior_tensor(self) -> Optional[tf.Tensor]:
    """The kernel the last call drew, as `tfp.layers`' attribute.

    Only an estimator that applies one drawn kernel to the whole batch
    (reparameterization) has one; Flipout and local reparameterization have
    none, as in TFP. `None` too before a call, and after a traced call has
    returned (its tensors are gone).
    """
    if self._estimator.rows_independent:
      return None
    return self._last_drawn(0)

  @property
  def bias_posterior_tensor(self) -> Optional[tf.Tensor]:
    """The bias the last call drew, as `tfp.layers`' attribute.

    `None` before a call, after a traced call has returned, and where the
    estimator draws no bias: local reparameterization folds a normal bias
    posterior into each output's marginal.
    """
    return self._last_drawn(-1)

  def _last_drawn(self, index: int) -> Optional[tf.Tensor]:
    """Part `index`'s weight as the last call drew it, where it can be read."""
    if not self._last_call.called:
      return None
    return self._last_call.record(self._parts()).values[index]

  @property
  def estimator(self) -> estimators_lib.Estimator:
    """The layer's estimator (`tfnx.estimators.Estimator`)."""
    return self._estimator

  @property
  def linear_map(self) -> Optional[LinearMap]:
    """The `LinearMap` the estimator applies."""
    return self._linear_map

  def output_moments(self, inputs: tf.Tensor,
                     seed: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """Each output's mean and stddev before the activation.

    As `tfnx.VariationalLayer.output_moments`, for `tfnx.predictive`. It runs
    outside Keras' `__call__`, so the input spec is checked here.
    """
    x = checks.convert_inputs(inputs, tf.as_dtype(self.compute_dtype),
                              self.name)
    spec = self.input_spec
    min_rank = spec.ndim or spec.min_ndim or 1
    for axis, size in (spec.axes or {}).items():
      if x.shape.rank is None or x.shape.rank < min_rank or (
          x.shape[axis] is not None and x.shape[axis] != size):
        raise ValueError(
            f'{self.name}: expected inputs of rank >= {min_rank} with axis '
            f'{axis} of size {size}; received shape {x.shape}.')
    return _pipeline.moments(x, seed, self._linear_map, self._layout(),
                             self._parts())

  def _layout(self) -> _pipeline.Layout:
    return _pipeline.Layout(self._to_map_layout, self._from_map_layout)

  def _call_seed(self, seed: Optional[seeds_lib.SeedLike]) -> tf.Tensor:
    """A call's `int32` seed (see `tfnx.keras._call_seeds.call_seed`)."""
    return call_seeds.call_seed(self._seed_generator, seed, self)

  def _parts(self) -> Tuple[_pipeline.Part, _pipeline.Part]:
    kernel = _pipeline.Part(
        self._kernel_posterior, self._kernel_prior, self.kernel_divergence_fn,
        KerasPosteriorValueFn(self.kernel_posterior_tensor_fn))
    bias = _pipeline.Part(
        self._bias_posterior, self._bias_prior, self.bias_divergence_fn,
        KerasPosteriorValueFn(self.bias_posterior_tensor_fn))
    return kernel, bias

  def _carry_divergences(self) -> None:
    """Hangs the layer's KL terms on its weights (`_divergence_terms`)."""
    divergence_terms.carry(
        self, [functools.partial(self._divergence, index)
               for index, part in enumerate(self._parts())
               if _pipeline.has_divergence(part)])

  def _divergence(self, index: int) -> tf.Tensor:
    """Part `index`'s KL term, computed now (`_pipeline.divergence`)."""
    parts = self._parts()
    return _pipeline.divergence(self._last_call.record(parts), parts,
                                index, self.compute_dtype)

  def get_config(self) -> dict:
    """The constructor's arguments; callables Keras-serialized."""
    config = super().get_config()
    config.update(self._geometry_config())
    config['activation'] = keras.activations.serialize(self.activation)
    config.update(serialization.serialized_attributes(self, _FUNCTION_KEYS))
    config['seed'] = self.seed
    return config

  @classmethod
  def from_config(cls, config: dict) -> 'KerasVariationalLayer':
    """Rebuilds a layer from `get_config()`.

    Named functions and builders registered with Keras (every default) load
    as they are; others need `custom_objects`, and lambdas `safe_mode=False`.
    """
    return super().from_config(
        serialization.deserialized(config, _FUNCTION_KEYS))

  # A layer family defines its weights' shapes and input spec (and sets
  # `_linear_map`).

  def _weight_shapes(self, input_shape: Tuple) -> Tuple[Sequence[int],
                                                        Sequence[int]]:
    """`(kernel_shape, bias_shape)` for inputs of this shape."""
    raise NotImplementedError(
        f'{type(self).__name__} must define its weights\' shapes.')

  def _make_input_spec(self, input_shape: Tuple) -> keras.layers.InputSpec:
    """What inputs the built layer accepts."""
    raise NotImplementedError(
        f'{type(self).__name__} must define its input spec.')

  def _to_map_layout(self, x: tf.Tensor) -> Tuple[tf.Tensor, Any]:
    """Brings inputs to the linear map's layout; also returns what undoes it.

    Here the inputs are taken as they are.
    """
    return x, None

  def _from_map_layout(self, y: tf.Tensor, restore: Any,
                       x: tf.Tensor) -> tf.Tensor:
    """Brings the linear map's outputs `y` back to the layer's layout."""
    del restore, x  # Nothing to undo here.
    return y

  def _geometry_config(self) -> dict:
    """The family's own constructor arguments (units, filters, ...)."""
    raise NotImplementedError(
        f'{type(self).__name__} must define its configuration.')
