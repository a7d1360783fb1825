"""Builders of a weight's distribution in `tfp.layers`' calling convention, and the layers' default functions.

A builder is called by a layer as `builder(dtype, shape, name, trainable,
add_variable_fn)` and returns a `tfd.Distribution` over one weight (the kernel
or the bias), creating any variables it needs through `add_variable_fn(name=,
shape=, initializer=, regularizer=, constraint=, dtype=, trainable=)`.

Everything here is registered with Keras serialization, so a model built with
the defaults saves to and loads from a `.keras` file with no
`custom_objects`.
"""

from typing import Any, Callable, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import estimators as estimators_lib
from tfnx import losses as losses_lib
from tfnx import seeds as seeds_lib
from tfnx.keras._export import export

tfd = tfp.distributions

__all__ = ['LocScaleFn', 'MeanFieldNormalFn', 'default_loc_scale_fn',
           'default_mean_field_normal_fn', 'default_multivariate_normal_fn',
           'posterior_sample', 'kl_divergence']

AddVariableFn = Callable[..., Any]

# `tfp.layers`' defaults. Unseeded, so the layers give each variable its own
# seed (see `tfnx.keras._variational`).
_LOC_INITIALIZER = keras.initializers.RandomNormal(stddev=0.1)
_UNTRANSFORMED_SCALE_INITIALIZER = keras.initializers.RandomNormal(
    mean=-3., stddev=0.1)

kl_divergence = export(losses_lib.kl_divergence_exact, name='kl_divergence')
"""The layers' default divergence, `(q, p, ignored) -> KL(q || p)` in closed form."""


@export
def posterior_sample(distribution: tfd.Distribution,
                     seed: Optional[seeds_lib.SeedLike] = None) -> tf.Tensor:
  """Draws one sample of a weight; the layers' default `*_posterior_tensor_fn`.

  The layers pass every call's stateless seed, so the draw is reproducible.

  Args:
    distribution: the weight's posterior.
    seed: a stateless seed (an `int32` tensor of shape `[2]`).

  Returns:
    A sample of `distribution` (see `tfnx.estimators.draw`).
  """
  if seed is None:
    return distribution.sample()
  return estimators_lib.draw(distribution, tfd.Distribution.sample,
                             seeds_lib.sanitize_seed(seed))


def _positive(dtype: tf.DType) -> Callable[[tf.Tensor], tf.Tensor]:
  # The machine epsilon keeps a scale whose softplus underflows positive.
  eps = np.finfo(dtype.as_numpy_dtype).eps

  def softplus_above_eps(x):
    return eps + tf.nn.softplus(x)
  return softplus_above_eps


@export
class LocScaleFn:
  """Creates a weight's trainable `loc` and positive `scale`.

  Called as `fn(dtype, shape, name, trainable, add_variable_fn)`, it creates
  the variable `<name>_loc` and, unless singular, `<name>_untransformed_scale`,
  and returns `(loc, scale)` with `scale = eps + softplus(untransformed)` read
  afresh at every use (a `tfp.util.DeferredTensor`); `scale` is `None` when
  singular.

  Args:
    is_singular: whether the weight has no scale (a point mass at `loc`).
    loc_initializer: initializes `loc`: a Keras initializer or its name;
      default `RandomNormal(stddev=0.1)`.
    untransformed_scale_initializer: initializes the untransformed scale;
      default `RandomNormal(mean=-3., stddev=0.1)`, which starts the scale
      near `softplus(-3) = 0.049`.
    loc_regularizer: a Keras regularizer of `loc`, or `None`.
    untransformed_scale_regularizer: a Keras regularizer of the untransformed
      scale, or `None`.
    loc_constraint: a Keras constraint on `loc`, or `None`.
    untransformed_scale_constraint: a Keras constraint on the untransformed
      scale, or `None`.
  """

  def __init__(
      self,
      is_singular: bool = False,
      loc_initializer: Any = _LOC_INITIALIZER,
      untransformed_scale_initializer: Any = _UNTRANSFORMED_SCALE_INITIALIZER,
      loc_regularizer: Any = None,
      untransformed_scale_regularizer: Any = None,
      loc_constraint: Any = None,
      untransformed_scale_constraint: Any = None):
    self.is_singular = bool(is_singular)
    self.loc_initializer = keras.initializers.get(loc_initializer)
    self.untransformed_scale_initializer = keras.initializers.get(
        untransformed_scale_initializer)
    self.loc_regularizer = keras.regularizers.get(loc_regularizer)
    self.untransformed_scale_regularizer = keras.regularizers.get(
        untransformed_scale_regularizer)
    self.loc_constraint = keras.constraints.get(loc_constraint)
    self.untransformed_scale_constraint = keras.constraints.get(
        untransformed_scale_constraint)

  def __call__(self, dtype: tf.DType, shape: Sequence[int], name: str,
               trainable: bool, add_variable_fn: AddVariableFn
               ) -> Tuple[Any, Optional[Any]]:
    """Creates the variables; returns `(loc, scale)` (`scale` may be `None`)."""
    dtype = tf.as_dtype(dtype)
    loc = add_variable_fn(
        name=name + '_loc', shape=shape, initializer=self.loc_initializer,
        regularizer=self.loc_regularizer, constraint=self.loc_constraint,
        dtype=dtype, trainable=trainable)
    if self.is_singular:
      return loc, None
    untransformed_scale = add_variable_fn(
        name=name + '_untransformed_scale', shape=shape,
        initializer=self.untransformed_scale_initializer,
        regularizer=self.untransformed_scale_regularizer,
        constraint=self.untransformed_scale_constraint,
        dtype=dtype, trainable=trainable)
    return loc, tfp.util.DeferredTensor(untransformed_scale, _positive(dtype))

  def get_config(self) -> dict:
    """The constructor's arguments, Keras-serialized."""
    return {
        'is_singular': self.is_singular,
        'loc_initializer': keras.initializers.serialize(self.loc_initializer),
        'untransformed_scale_initializer': keras.initializers.serialize(
            self.untransformed_scale_initializer),
        'loc_regularizer': keras.regularizers.serialize(self.loc_regularizer),
        'untransformed_scale_regularizer': keras.regularizers.serialize(
            self.untransformed_scale_regularizer),
        'loc_constraint': keras.constraints.serialize(self.loc_constraint),
        'untransformed_scale_constraint': keras.constraints.serialize(
            self.untransformed_scale_constraint),
    }

  @classmethod
  def from_config(cls, config: dict) -> 'LocScaleFn':
    """Rebuilds the builder from `get_config()`."""
    return cls(**config)

  def __repr__(self) -> str:
    return f'{type(self).__name__}(is_singular={self.is_singular})'


@export
class MeanFieldNormalFn(LocScaleFn):
  """Creates a weight's trainable mean-field normal distribution.

  Called as `fn(dtype, shape, name, trainable, add_variable_fn)`, it returns
  `Independent(Normal(loc, scale))` over the whole weight, or
  `Independent(Deterministic(loc))` when singular. Its arguments are those of
  `LocScaleFn`. The layers' default kernel posterior is
  `MeanFieldNormalFn()`, their default bias posterior
  `MeanFieldNormalFn(is_singular=True)`.
  """

  def __call__(self, dtype: tf.DType, shape: Sequence[int], name: str,
               trainable: bool, add_variable_fn: AddVariableFn
               ) -> tfd.Distribution:
    """Creates the variables; returns the weight's distribution."""
    loc, scale = super().__call__(dtype, shape, name, trainable,
                                  add_variable_fn)
    if scale is None:
      element = tfd.Deterministic(loc=loc)
    else:
      element = tfd.Normal(loc=loc, scale=scale)
    return tfd.Independent(element, reinterpreted_batch_ndims=len(shape),
                           name=name)


default_loc_scale_fn = export(LocScaleFn, name='default_loc_scale_fn',
                              serializable=False)
"""`tfp.layers.default_loc_scale_fn`: makes a `LocScaleFn`."""

default_mean_field_normal_fn = export(
    MeanFieldNormalFn, name='default_mean_field_normal_fn',
    serializable=False)
"""`tfp.layers.default_mean_field_normal_fn`: makes a `MeanFieldNormalFn`."""


@export
def default_multivariate_normal_fn(dtype: tf.DType, shape: Sequence[int],
                                   name: str, trainable: bool,
                                   add_variable_fn: AddVariableFn
                                   ) -> tfd.Distribution:
  """The standard normal over a weight; the layers' default kernel prior.

  Args:
    dtype: the weight's dtype.
    shape: the weight's shape.
    name: the distribution's name.
    trainable: ignored (the prior has no variables).
    add_variable_fn: ignored.

  Returns:
    `Independent(Normal(0, 1))` over the whole weight.
  """
  del trainable, add_variable_fn  # A fixed prior creates no variables.
  dtype = tf.as_dtype(dtype)
  return tfd.Independent(
      tfd.Normal(loc=tf.zeros(shape, dtype), scale=tf.ones([], dtype)),
      reinterpreted_batch_ndims=len(shape), name=name)
