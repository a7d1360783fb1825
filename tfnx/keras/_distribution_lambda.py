"""`DistributionLambda`: `tfp.layers.DistributionLambda` on Keras 3.

The layer turns its inputs into a `tfd.Distribution` and returns it as a
`tfnx.keras.DistributionTensor`, so a model whose output is a distribution
builds, trains with `loss=lambda y, rv_y: -rv_y.log_prob(y)`, predicts the
`convert_to_tensor_fn` value and saves to `.keras` files.
"""

import importlib
import inspect
import types
from typing import Any, Callable, Optional

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import seeds as seeds_lib
from tfnx.keras import _call_seeds as call_seeds
from tfnx.keras import _convert_to_tensor as convert_to_tensor
from tfnx.keras._distribution_tensor import DistributionTensor
from tfnx.keras._export import export

tfd = tfp.distributions

__all__ = ['DistributionLambda', 'distribution_of', 'serialize_function',
           'deserialize_function']


def distribution_of(value: Any) -> Any:
  """The distribution a layer output carries, or `value` itself."""
  if isinstance(value, DistributionTensor):
    return value.distribution
  return value


# What a saved lambda may name without `custom_objects`: the names its
# author most likely imported.
_LAMBDA_GLOBALS = {'tf': tf, 'tfp': tfp, 'tfd': tfd, 'tfb': tfp.bijectors,
                   'np': np, 'keras': keras}


def _imported_names(fn: Callable) -> dict:
  """The modules and module-level classes and functions `fn`'s code names.

  Each by where it imports from (`'pkg.mod'`, `'pkg.mod:Class'`), so a
  loaded lambda finds what its author imported under any alias.
  """
  found = {}
  for name in fn.__code__.co_names:
    value = fn.__globals__.get(name)
    if inspect.ismodule(value):
      found[name] = value.__name__
    elif (inspect.isclass(value) or inspect.isfunction(value)) and (
        '<' not in value.__qualname__):
      found[name] = f'{value.__module__}:{value.__qualname__}'
  return found


def _import(path: str) -> Any:
  module, _, qualname = path.partition(':')
  value = importlib.import_module(module)
  for part in filter(None, qualname.split('.')):
    value = getattr(value, part)
  return value


def serialize_function(fn: Callable) -> Any:
  """`fn` as Keras serializes it; a lambda also with the names it imports.

  Args:
    fn: a function.

  Returns:
    What `deserialize_function` loads back (a lambda only with
    `safe_mode=False`).
  """
  config = keras.saving.serialize_keras_object(fn)
  if isinstance(config, dict) and config.get('class_name') == '__lambda__':
    config['imported_names'] = _imported_names(fn)
  return config


def deserialize_function(config: Any) -> Any:
  """Loads a function saved with `serialize_function` (or by Keras).

  A lambda (which Keras loads only with `safe_mode=False`) gets as globals
  `tf`, `tfp`, `tfd`, `tfb`, `np`, `keras`, the modules and objects it
  imported when it was saved, and the `custom_objects` its code names,
  rather than the globals of Keras' own module.

  Args:
    config: the serialized function, or anything else (returned as is).

  Returns:
    The function.
  """
  if not isinstance(config, dict):
    return config
  fn = keras.saving.deserialize_keras_object(config)
  if config.get('class_name') != '__lambda__':
    return fn
  names = dict(_LAMBDA_GLOBALS)
  for name, path in config.get('imported_names', {}).items():
    names[name] = _import(path)
  for name in fn.__code__.co_names:
    registered = keras.saving.get_registered_object(name)
    if registered is not None:
      names[name] = registered
  return types.FunctionType(fn.__code__, names, fn.__name__, fn.__defaults__,
                            fn.__closure__)


@export
class DistributionLambda(keras.layers.Layer):
  """A Keras layer whose output is a distribution made from its inputs.

  `make_distribution_fn(inputs)` returns a `tfd.Distribution`; the layer
  returns it as a `DistributionTensor`, a tensor-like object with the
  distribution's methods and the value `convert_to_tensor_fn(distribution)`.
  Keras sees the value's shape and dtype, `model.predict` returns the value
  and a loss receives the distribution. When `convert_to_tensor_fn` takes a
  `seed` (as the default `tfd.Distribution.sample` does), each call passes
  it a stateless seed: the call's `seed`, or the next of the layer's
  `keras.random.SeedGenerator(seed)`.

  Args:
    make_distribution_fn: `(inputs) -> tfd.Distribution`.
    convert_to_tensor_fn: `(distribution) -> tensor`; a method or property
      of a tfd class (`tfd.Distribution.mean`, `tfd.Bernoulli.logits`,
      applied to that family's distribution also inside an `Independent`);
      or its name (`'mean'`, `'Bernoulli.logits'`); default
      `tfd.Distribution.sample`.
    seed: a Python int seeding the layer's draws; `None` for one from
      Python's `random`.
    **kwargs: Keras layer arguments (`name`, `dtype`, `activity_regularizer`).
  """

  def __init__(self, make_distribution_fn: Optional[Callable],
               convert_to_tensor_fn: convert_to_tensor.ConvertToTensorFn = (
                   tfd.Distribution.sample),
               seed: Optional[int] = None, **kwargs):
    # The distribution takes its inputs' dtype, as in `tfp.layers`: a
    # float64 `VariableLayer` makes a float64 posterior.
    kwargs.setdefault('autocast', False)
    super().__init__(**kwargs)
    if make_distribution_fn is not None and not callable(make_distribution_fn):
      raise TypeError(f'{self.name}: expected a callable '
                      f'`make_distribution_fn`; received '
                      f'{make_distribution_fn!r}.')
    self.make_distribution_fn = make_distribution_fn
    self.convert_to_tensor_fn = convert_to_tensor.parse(self.name,
                                                    convert_to_tensor_fn)
    self.seed = seed
    # A `KLDivergenceRegularizer`'s prior layer trains and saves with ours.
    self._regularizer_layers = list(
        getattr(self.activity_regularizer, 'layers', []))
    self._seed_generator = call_seeds.make_seed_generator(self.name, seed)
    self._seed_state = self._seed_generator.state.value

  def make_distribution(self, inputs: Any) -> tfd.Distribution:
    """The distribution the layer makes from `inputs`."""
    return self.make_distribution_fn(inputs)

  def call(self, inputs: Any,
           seed: Optional[seeds_lib.SeedLike] = None) -> DistributionTensor:
    """Makes the distribution and its value.

    Args:
      inputs: the previous layer's outputs.
      seed: a stateless seed for `convert_to_tensor_fn`, or `None` for the
        next of the layer's own.

    Returns:
      A `DistributionTensor`.
    """
    distribution = distribution_of(self.make_distribution(inputs))
    if not isinstance(distribution, tfd.Distribution):
      raise TypeError(f'{self.name}: expected `make_distribution_fn` to '
                      'return a tfd.Distribution; received '
                      f'{type(distribution).__name__}.')
    value = convert_to_tensor.apply(
        self.convert_to_tensor_fn, distribution,
        lambda: call_seeds.call_seed(self._seed_generator, seed, self))
    return DistributionTensor(distribution, value)

  def get_config(self) -> dict:
    """The constructor's arguments; functions Keras-serialized."""
    config = super().get_config()
    if self.make_distribution_fn is not None:
      config['make_distribution_fn'] = serialize_function(
          self.make_distribution_fn)
    config['convert_to_tensor_fn'] = convert_to_tensor.serialize(
        self.convert_to_tensor_fn)
    config['seed'] = self.seed
    return config

  @classmethod
  def from_config(cls, config: dict) -> 'DistributionLambda':
    """Rebuilds the layer; lambdas need `safe_mode=False`."""
    config = dict(config)
    for key in ('make_distribution_fn', 'convert_to_tensor_fn'):
      if key in config:
        config[key] = deserialize_function(config[key])
    return cls(**config)
