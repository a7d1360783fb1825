"""The named distribution heads of `tfp.layers`: `IndependentNormal`, `MultivariateNormalTriL`, `MixtureNormal`, ...

Each head is a `DistributionLambda` reading its distribution's parameters
from the last axis of its inputs, with `tfp.layers`' static
`params_size(...)` (how many inputs it needs, for the `Dense` layer before
it) and `new(params, ...)` (the distribution, without a layer). Scales are
`softplus` of their inputs, as in `tfp.layers`.
"""

from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx.keras import _distribution_lambda as distribution_lambda
from tfnx.keras import _serialization as serialization
from tfnx.keras._export import export

tfd = tfp.distributions
tfb = tfp.bijectors

__all__ = [
    'IndependentNormal', 'IndependentLogistic', 'IndependentBernoulli',
    'IndependentPoisson', 'MultivariateNormalTriL', 'OneHotCategorical',
    'CategoricalMixtureOfOneHotCategorical', 'MixtureSameFamily',
    'MixtureNormal', 'MixtureLogistic'
]

EventShape = Union[int, Sequence[int]]
_SAMPLE = tfd.Distribution.sample


def _event_shape(event_shape: EventShape) -> tuple:
  # An int, a sequence, or an integer array or eager tensor (as TFP's tests
  # pass): a scalar is a vector of one.
  return tuple(int(d) for d in np.reshape(np.asarray(event_shape), [-1]))


def _named(name: Optional[str]) -> dict:
  # TFP's distributions take their class name as the default.
  return {} if name is None else {'name': name}


def _event_size(event_shape: EventShape) -> int:
  return int(np.prod(_event_shape(event_shape)))


def _split(params: Any, parts: int, event_shape: EventShape) -> list:
  """Splits the last axis into `parts` pieces of shape `event_shape`."""
  params = tf.convert_to_tensor(params)
  event_shape = list(_event_shape(event_shape))
  shape = tf.concat([tf.shape(params)[:-1], event_shape], axis=0)
  static = params.shape[:-1].concatenate(event_shape)
  return [tf.ensure_shape(tf.reshape(piece, shape), static)
          for piece in tf.split(params, parts, axis=-1)]


def _components(params: Any, num_components: int) -> tuple:
  """`(mixture logits, component params [..., num_components, -1])`."""
  params = tf.convert_to_tensor(params)
  logits = params[..., :num_components]
  shape = tf.concat([tf.shape(params)[:-1], [num_components, -1]], axis=0)
  return logits, tf.reshape(params[..., num_components:], shape)


class _Head(distribution_lambda.DistributionLambda):
  """A named head: its parameter count, distribution and configuration."""

  def __init__(self, convert_to_tensor_fn=_SAMPLE,
               validate_args: bool = False, **kwargs):
    super().__init__(None, convert_to_tensor_fn, **kwargs)
    self.validate_args = bool(validate_args)

  def make_distribution(self, inputs: Any) -> tfd.Distribution:
    """Checks the inputs' last axis, then makes the distribution."""
    params = tf.convert_to_tensor(inputs)
    expected = self._params_size()
    if params.shape.rank == 0 or params.shape[-1] not in (None, expected):
      raise ValueError(
          f'{self.name}: expected inputs whose last axis holds '
          f'{expected} parameters ({type(self).__name__}.params_size); '
          f'received shape {params.shape}.')
    return self._new(params)

  def get_config(self) -> dict:
    """The constructor's arguments."""
    config = super().get_config()
    config.update(self._head_config(), validate_args=self.validate_args)
    return config

  def _params_size(self) -> int:
    raise NotImplementedError

  def _new(self, params: tf.Tensor) -> tfd.Distribution:
    raise NotImplementedError

  def _head_config(self) -> dict:
    raise NotImplementedError


class _IndependentHead(_Head):
  """A head of independent elements over `event_shape`."""

  def __init__(self, event_shape: EventShape = (),
               convert_to_tensor_fn=_SAMPLE, validate_args: bool = False,
               **kwargs):
    super().__init__(convert_to_tensor_fn, validate_args, **kwargs)
    self.event_shape = _event_shape(event_shape)

  def _params_size(self) -> int:
    return self.params_size(self.event_shape)

  def _new(self, params: tf.Tensor) -> tfd.Distribution:
    return self.new(params, self.event_shape, validate_args=self.validate_args)

  def _head_config(self) -> dict:
    return {'event_shape': list(self.event_shape)}


def _independent(element: tfd.Distribution, event_shape: EventShape,
                 validate_args: bool, name: Optional[str]) -> tfd.Distribution:
  return tfd.Independent(element, len(_event_shape(event_shape)),
                         validate_args=validate_args, **_named(name))


def _loc_scale_new(family: Callable[..., tfd.Distribution]):
  """`new(params, event_shape, ...)` of an independent location-scale head."""
  def new(params: Any, event_shape: EventShape = (),
          validate_args: bool = False,
          name: Optional[str] = None) -> tfd.Distribution:
    loc, scale = _split(params, 2, event_shape)
    element = family(loc=loc, scale=tf.math.softplus(scale),
                     validate_args=validate_args)
    return _independent(element, event_shape, validate_args, name)
  new.__doc__ = (f'`Independent({family.__name__}(loc, softplus(scale)))` '
                 'from params of shape `[..., 2 * prod(event_shape)]`.')
  return staticmethod(new)


def _loc_scale_params_size(event_shape: EventShape = (),
                           name: Optional[str] = None) -> int:
  """`2 * prod(event_shape)`: a location and a scale per element."""
  del name  # Static.
  return 2 * _event_size(event_shape)


def _one_per_element(event_shape: EventShape = (),
                     name: Optional[str] = None) -> int:
  """`prod(event_shape)`: one parameter per element."""
  del name  # Static.
  return _event_size(event_shape)


@export
class IndependentNormal(_IndependentHead):
  """Independent normals over `event_shape`: `tfp.layers.IndependentNormal`.

  Args:
    event_shape: the shape of one draw; `()` for a scalar.
    convert_to_tensor_fn: see `DistributionLambda`.
    validate_args: whether the distribution checks its arguments.
    **kwargs: `DistributionLambda`'s and Keras layer arguments.
  """
  new = _loc_scale_new(tfd.Normal)
  params_size = staticmethod(_loc_scale_params_size)


@export
class IndependentLogistic(_IndependentHead):
  """Independent logistics over `event_shape`: `tfp.layers.IndependentLogistic`.

  Args: as `IndependentNormal`.
  """
  new = _loc_scale_new(tfd.Logistic)
  params_size = staticmethod(_loc_scale_params_size)


class _SampleDtypeHead(_IndependentHead):
  """An independent head of a discrete family with a `sample_dtype`."""

  def __init__(self, event_shape: EventShape = (),
               convert_to_tensor_fn=_SAMPLE, sample_dtype: Any = None,
               validate_args: bool = False, **kwargs):
    super().__init__(event_shape, convert_to_tensor_fn, validate_args,
                     **kwargs)
    self.sample_dtype = (None if sample_dtype is None
                         else tf.as_dtype(sample_dtype).name)

  def _new(self, params: tf.Tensor) -> tfd.Distribution:
    return self.new(params, self.event_shape, dtype=self.sample_dtype,
                    validate_args=self.validate_args)

  def _head_config(self) -> dict:
    return dict(super()._head_config(), sample_dtype=self.sample_dtype)


@export
class IndependentBernoulli(_SampleDtypeHead):
  """Independent Bernoullis by logits: `tfp.layers.IndependentBernoulli`.

  Args:
    event_shape: the shape of one draw.
    convert_to_tensor_fn: see `DistributionLambda`.
    sample_dtype: the samples' dtype; default the inputs'.
    validate_args: whether the distribution checks its arguments.
    **kwargs: `DistributionLambda`'s and Keras layer arguments.
  """

  @staticmethod
  def new(params: Any, event_shape: EventShape = (), dtype: Any = None,
          validate_args: bool = False,
          name: Optional[str] = None) -> tfd.Distribution:
    """`Independent(Bernoulli(logits=params))` over `event_shape`."""
    logits, = _split(params, 1, event_shape)
    element = tfd.Bernoulli(logits=logits, dtype=dtype or logits.dtype,
                            validate_args=validate_args)
    return _independent(element, event_shape, validate_args, name)

  params_size = staticmethod(_one_per_element)


@export
class IndependentPoisson(_IndependentHead):
  """Independent Poissons by log rate: `tfp.layers.IndependentPoisson`.

  Args: as `IndependentNormal`.
  """

  @staticmethod
  def new(params: Any, event_shape: EventShape = (),
          validate_args: bool = False,
          name: Optional[str] = None) -> tfd.Distribution:
    """`Independent(Poisson(log_rate=params))` over `event_shape`."""
    log_rate, = _split(params, 1, event_shape)
    element = tfd.Poisson(log_rate=log_rate, validate_args=validate_args)
    return _independent(element, event_shape, validate_args, name)

  params_size = staticmethod(_one_per_element)


@export
class MultivariateNormalTriL(_Head):
  """A multivariate normal with a full covariance: `tfp.layers.MultivariateNormalTriL`.

  The last `event_size * (event_size + 1) / 2` inputs fill the lower
  triangular scale (`tfb.FillScaleTriL`: a softplus diagonal).

  Args:
    event_size: the size of one draw.
    convert_to_tensor_fn: see `DistributionLambda`.
    validate_args: whether the distribution checks its arguments.
    **kwargs: `DistributionLambda`'s and Keras layer arguments.
  """

  def __init__(self, event_size: int, convert_to_tensor_fn=_SAMPLE,
               validate_args: bool = False, **kwargs):
    super().__init__(convert_to_tensor_fn, validate_args, **kwargs)
    self.event_size = int(event_size)

  @staticmethod
  def new(params: Any, event_size: int, validate_args: bool = False,
          name: Optional[str] = None) -> tfd.Distribution:
    """The distribution from params of shape `[..., params_size]`."""
    params = tf.convert_to_tensor(params)
    scale_tril = tfb.FillScaleTriL(diag_shift=np.array(
        1e-5, params.dtype.as_numpy_dtype))(params[..., event_size:])
    return tfd.MultivariateNormalTriL(
        loc=params[..., :event_size], scale_tril=scale_tril,
        validate_args=validate_args, **_named(name))

  @staticmethod
  def params_size(event_size: int, name: Optional[str] = None) -> int:
    """`event_size + event_size * (event_size + 1) / 2`."""
    del name  # Static.
    return event_size + event_size * (event_size + 1) // 2

  def _params_size(self) -> int:
    return self.params_size(self.event_size)

  def _new(self, params: tf.Tensor) -> tfd.Distribution:
    return self.new(params, self.event_size, self.validate_args)

  def _head_config(self) -> dict:
    return {'event_size': self.event_size}


@export
class OneHotCategorical(_Head):
  """A one-hot categorical by logits: `tfp.layers.OneHotCategorical`.

  Args:
    event_size: the number of classes.
    convert_to_tensor_fn: see `DistributionLambda`.
    sample_dtype: the samples' dtype; default the inputs'.
    validate_args: whether the distribution checks its arguments.
    **kwargs: `DistributionLambda`'s and Keras layer arguments.
  """

  def __init__(self, event_size: int, convert_to_tensor_fn=_SAMPLE,
               sample_dtype: Any = None, validate_args: bool = False,
               **kwargs):
    super().__init__(convert_to_tensor_fn, validate_args, **kwargs)
    self.event_size = int(event_size)
    self.sample_dtype = (None if sample_dtype is None
                         else tf.as_dtype(sample_dtype).name)

  @staticmethod
  def new(params: Any, event_size: int, dtype: Any = None,
          validate_args: bool = False,
          name: Optional[str] = None) -> tfd.Distribution:
    """`OneHotCategorical(logits=params)`."""
    del event_size  # The logits' last axis.
    params = tf.convert_to_tensor(params)
    return tfd.OneHotCategorical(logits=params, dtype=dtype or params.dtype,
                                 validate_args=validate_args, **_named(name))

  @staticmethod
  def params_size(event_size: int, name: Optional[str] = None) -> int:
    """`event_size`: one logit per class."""
    del name  # Static.
    return event_size

  def _params_size(self) -> int:
    return self.event_size

  def _new(self, params: tf.Tensor) -> tfd.Distribution:
    return self.new(params, self.event_size, self.sample_dtype,
                    self.validate_args)

  def _head_config(self) -> dict:
    return {'event_size': self.event_size, 'sample_dtype': self.sample_dtype}


def _mixture(logits: tf.Tensor, components: tfd.Distribution,
             validate_args: bool, name: Optional[str]) -> tfd.Distribution:
  return tfd.MixtureSameFamily(
      tfd.Categorical(logits=logits, validate_args=validate_args),
      components, validate_args=validate_args, **_named(name))


@export
class CategoricalMixtureOfOneHotCategorical(_Head):
  """A mixture of one-hot categoricals: `tfp.layers.CategoricalMixtureOfOneHotCategorical`.

  The first `num_components` inputs are the mixture's logits, the rest the
  components' logits, `event_size` each.

  Args:
    event_size: the number of classes.
    num_components: the number of components.
    convert_to_tensor_fn: see `DistributionLambda`.
    sample_dtype: the samples' dtype; default the inputs'.
    validate_args: whether the distribution checks its arguments.
    **kwargs: `DistributionLambda`'s and Keras layer arguments.
  """

  def __init__(self, event_size: int, num_components: int,
               convert_to_tensor_fn=_SAMPLE, sample_dtype: Any = None,
               validate_args: bool = False, **kwargs):
    super().__init__(convert_to_tensor_fn, validate_args, **kwargs)
    self.event_size = int(event_size)
    self.num_components = int(num_components)
    self.sample_dtype = (None if sample_dtype is None
                         else tf.as_dtype(sample_dtype).name)

  @staticmethod
  def new(params: Any, event_size: int, num_components: int,
          dtype: Any = None, validate_args: bool = False,
          name: Optional[str] = None) -> tfd.Distribution:
    """The mixture from params of shape `[..., params_size]`."""
    del event_size  # The components' logits' last axis.
    logits, component_logits = _components(params, num_components)
    components = tfd.OneHotCategorical(
        logits=component_logits, dtype=dtype or logits.dtype,
        validate_args=validate_args)
    mixture = _mixture(logits, components, validate_args, name)
    # `tfp.layers`' mixture also has the log of its mean, each category's
    # log probability.
    mixture.log_mean = lambda: tf.math.log(mixture.mean())
    return mixture

  @staticmethod
  def params_size(event_size: int, num_components: int,
                  name: Optional[str] = None) -> int:
    """`num_components * (1 + event_size)`."""
    del name  # Static.
    return num_components * (1 + event_size)

  def _params_size(self) -> int:
    return self.params_size(self.event_size, self.num_components)

  def _new(self, params: tf.Tensor) -> tfd.Distribution:
    return self.new(params, self.event_size, self.num_components,
                    self.sample_dtype, self.validate_args)

  def _head_config(self) -> dict:
    return {'event_size': self.event_size,
            'num_components': self.num_components,
            'sample_dtype': self.sample_dtype}


def _component_distribution(component_layer: Callable,
                            params: tf.Tensor) -> tfd.Distribution:
  # A head is asked for its distribution directly, so it draws no value.
  if isinstance(component_layer, distribution_lambda.DistributionLambda):
    return component_layer.make_distribution(params)
  return distribution_lambda.distribution_of(component_layer(params))


@export
class MixtureSameFamily(_Head):
  """A mixture of components made by `component_layer`: `tfp.layers.MixtureSameFamily`.

  The first `num_components` inputs are the mixture's logits; the rest,
  reshaped to `[..., num_components, component_params_size]`, go to
  `component_layer`.

  Args:
    num_components: the number of components.
    component_layer: `(params) -> distribution`, e.g.
      `tfnx.keras.IndependentNormal(event_shape)`.
    convert_to_tensor_fn: see `DistributionLambda`.
    validate_args: whether the distribution checks its arguments.
    **kwargs: `DistributionLambda`'s and Keras layer arguments.
  """

  def __init__(self, num_components: int, component_layer: Callable,
               convert_to_tensor_fn=_SAMPLE, validate_args: bool = False,
               **kwargs):
    super().__init__(convert_to_tensor_fn, validate_args, **kwargs)
    self.num_components = int(num_components)
    self.component_layer = component_layer

  @staticmethod
  def new(params: Any, num_components: int, component_layer: Callable,
          validate_args: bool = False,
          name: Optional[str] = None) -> tfd.Distribution:
    """The mixture from params of shape `[..., params_size]`."""
    logits, component_params = _components(params, num_components)
    components = _component_distribution(component_layer, component_params)
    return _mixture(logits, components, validate_args, name)

  @staticmethod
  def params_size(num_components: int, component_params_size: int,
                  name: Optional[str] = None) -> int:
    """`num_components * (1 + component_params_size)`."""
    del name  # Static.
    return num_components * (1 + component_params_size)

  def make_distribution(self, inputs: Any) -> tfd.Distribution:
    """The mixture; the component layer checks its own parameters."""
    return self.new(inputs, self.num_components, self.component_layer,
                    self.validate_args)

  def _head_config(self) -> dict:
    return {'num_components': self.num_components,
            **serialization.serialized_attributes(self, ['component_layer'])}

  @classmethod
  def from_config(cls, config: dict) -> 'MixtureSameFamily':
    """Rebuilds the layer and its component layer."""
    return super().from_config(
        serialization.deserialized(config, ['component_layer']))


class _MixtureOfIndependent(_Head):
  """A mixture of `num_components` independent heads of one family."""

  _component = IndependentNormal

  def __init__(self, num_components: int, event_shape: EventShape = (),
               convert_to_tensor_fn=_SAMPLE, validate_args: bool = False,
               **kwargs):
    super().__init__(convert_to_tensor_fn, validate_args, **kwargs)
    self.num_components = int(num_components)
    self.event_shape = _event_shape(event_shape)

  @classmethod
  def new(cls, params: Any, num_components: int,
          event_shape: EventShape = (), validate_args: bool = False,
          name: Optional[str] = None) -> tfd.Distribution:
    """The mixture from params of shape `[..., params_size]`."""
    def component(component_params):
      return cls._component.new(component_params, event_shape,
                                validate_args=validate_args)
    return MixtureSameFamily.new(params, num_components, component,
                                 validate_args, name)

  @classmethod
  def params_size(cls, num_components: int, event_shape: EventShape = (),
                  name: Optional[str] = None) -> int:
    """`num_components * (1 + component params_size)`."""
    del name  # Static.
    return MixtureSameFamily.params_size(
        num_components, cls._component.params_size(event_shape))

  def _params_size(self) -> int:
    return self.params_size(self.num_components, self.event_shape)

  def _new(self, params: tf.Tensor) -> tfd.Distribution:
    return self.new(params, self.num_components, self.event_shape,
                    self.validate_args)

  def _head_config(self) -> dict:
    return {'num_components': self.num_components,
            'event_shape': list(self.event_shape)}


@export
class MixtureNormal(_MixtureOfIndependent):
  """A mixture of independent normals: `tfp.layers.MixtureNormal`.

  Args:
    num_components: the number of components.
    event_shape: the shape of one draw.
    convert_to_tensor_fn: see `DistributionLambda`.
    validate_args: whether the distribution checks its arguments.
    **kwargs: `DistributionLambda`'s and Keras layer arguments.
  """
  _component = IndependentNormal


@export
class MixtureLogistic(_MixtureOfIndependent):
  """A mixture of independent logistics: `tfp.layers.MixtureLogistic`.

  Args: as `MixtureNormal`.
  """
  _component = IndependentLogistic
