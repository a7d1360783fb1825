"""The three Monte Carlo estimators of a variational layer's outputs, written once.

Each estimator maps inputs to outputs of `y = apply(x, W) + b` with the kernel
`W` and bias `b` drawn from their posteriors, and works with any linear map
(`tfnx.linear_maps`): matmul, convolution, transposed convolution.

- `reparameterization`: one kernel and bias sample shared by the whole batch.
- `flipout` (Wen et al., 2018):
  `apply(x, mu) + mu_b + s_out * (apply(x * s_in, dW) + db)` with one
  perturbation `dW = sigma * eps` (and `db`) for the batch, decorrelated per
  example by random signs `s_in`, `s_out`.
- `local_reparameterization` (Kingma et al., 2015): each pre-activation drawn
  from `N(apply(x, mu) + mu_b, apply(x**2, sigma**2) + sigma_b**2)`.

Each is declared once as an `Estimator` value (`REPARAMETERIZATION`,
`FLIPOUT`, `LOCAL_REPARAMETERIZATION`): its sampler and what it supports,
which layers and `tfnx.predictive` read instead of inspecting the function.
Reparameterization and Flipout also draw weights once for a layer that
applies them many times (a recurrent cell, at every time step):
`sample_weights` and `flipout_weights`.

All randomness is stateless, driven by the `seed` argument.
"""

import dataclasses
from typing import Callable, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _fast_paths
from tfnx import _sampling as sampling
from tfnx import seeds as seeds_lib
from tfnx.linear_maps import LinearMap
from tfnx.util import _weights as weights_lib

tfd = tfp.distributions

__all__ = ['Estimate', 'Estimator', 'WeightDraw', 'reparameterization',
           'flipout', 'flipout_perturbation', 'flipout_terms',
           'local_reparameterization', 'output_moments', 'rademacher',
           'draw', 'sample_weights', 'flipout_weights', 'REPARAMETERIZATION',
           'FLIPOUT', 'LOCAL_REPARAMETERIZATION', 'check_kernel_posterior',
           'PosteriorValueFn', 'WeightsDraw']

PosteriorValueFn = Callable[..., tf.Tensor]


class Estimate(NamedTuple):
  """An estimator's result.

  Attributes:
    outputs: the sampled outputs `apply(x, W) + b`, before any activation.
    kernel: the kernel sample the outputs imply, where the estimator drew one
      (reparameterization, Flipout); `None` for local reparameterization.
    bias: the bias sample, or `None` where there is no bias or it was
      marginalized (local reparameterization with a normal bias posterior).
  """
  outputs: tf.Tensor
  kernel: Optional[tf.Tensor]
  bias: Optional[tf.Tensor]


rademacher = sampling.rademacher


def _normal_noise(like: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
  return sampling.standard_normal(tf.shape(like), seed, like.dtype)


def draw(distribution: tfd.Distribution, posterior_value_fn: PosteriorValueFn,
         seed: tf.Tensor) -> tf.Tensor:
  """`posterior_value_fn(distribution, seed=seed)`, faster for a normal's sample.

  With the default `tfd.Distribution.sample` and an elementwise normal, draws
  `loc + scale * eps` with `tfnx._sampling.standard_normal`: the same
  distribution as TFP's sampler, at a fraction of its cost for a kernel.

  Args:
    distribution: the weight's posterior.
    posterior_value_fn: `(distribution, seed=...) -> value`.
    seed: an `int32` seed of shape `[2]`.

  Returns:
    The weight's value.
  """
  value = _fast_paths.normal_sample(distribution, posterior_value_fn, seed)
  if value is None:
    value = posterior_value_fn(distribution, seed=seed)
  return value


def _add_bias(outputs: tf.Tensor, bias: Optional[tf.Tensor]) -> tf.Tensor:
  return outputs if bias is None else outputs + bias


def _sample_bias(bias_posterior: Optional[tfd.Distribution],
                 posterior_value_fn: PosteriorValueFn,
                 seed: tf.Tensor) -> Optional[tf.Tensor]:
  if bias_posterior is None:
    return None
  return draw(bias_posterior, posterior_value_fn, seed)


def reparameterization(inputs: tf.Tensor,
                       kernel_posterior: tfd.Distribution,
                       bias_posterior: Optional[tfd.Distribution],
                       linear_map: LinearMap,
                       seed: tf.Tensor,
                       posterior_value_fn: PosteriorValueFn) -> Estimate:
  """Samples one kernel and bias and applies them to the whole batch.

  Args:
    inputs: the inputs, in the layout `linear_map.apply` takes.
    kernel_posterior: the distribution of the kernel.
    bias_posterior: the distribution of the bias, or `None` for no bias.
    linear_map: the `LinearMap` to apply.
    seed: an `int32` seed of shape `[2]`.
    posterior_value_fn: `(distribution, seed=...) -> value`, how a weight is
      drawn from its posterior (e.g. `tfd.Distribution.sample`).

  Returns:
    An `Estimate` holding the outputs and the kernel and bias used.
  """
  kernel_seed, bias_seed = seeds_lib.split_seed(seed, 2)
  kernel = draw(kernel_posterior, posterior_value_fn, kernel_seed)
  bias = _sample_bias(bias_posterior, posterior_value_fn, bias_seed)
  return Estimate(_add_bias(linear_map.apply(inputs, kernel), bias),
                  kernel, bias)


def flipout_perturbation(posterior: tfd.Distribution, seed: tf.Tensor
                         ) -> Tuple[tf.Tensor, tf.Tensor]:
  """Flipout's draw of one weight: its mean `mu` and one perturbation `dW`.

  A layer that applies the same weights many times (a recurrent cell, at
  every time step of a sequence) draws this once and applies it with
  `flipout_terms`.

  Args:
    posterior: an elementwise normal distribution of the weight.
    seed: an `int32` seed of shape `[2]`.

  Returns:
    `(mu, dW)`, with `dW = sigma * eps` and `eps` standard normal.
  """
  loc, scale = weights_lib.normal_loc_scale(posterior)
  loc = tf.convert_to_tensor(loc)
  return loc, tf.convert_to_tensor(scale) * _normal_noise(loc, seed)


def flipout_terms(inputs: tf.Tensor, loc: tf.Tensor, delta: tf.Tensor,
                  linear_map: LinearMap, in_signs: tf.Tensor
                  ) -> Tuple[tf.Tensor, tf.Tensor]:
  """Flipout's two products: `apply(x, mu)` and `apply(x * s_in, dW)`.

  The outputs are `mean + perturbation * s_out`, with output signs `s_out`
  of `linear_map.sign_shape(perturbation)`; terms of several kernels that
  share `s_out` may be summed first (Flipout of the stacked kernel).

  Args:
    inputs: the inputs, in the layout `linear_map.apply` takes.
    loc: the kernel's mean.
    delta: the kernel's perturbation (`flipout_perturbation`).
    linear_map: the `LinearMap` to apply.
    in_signs: random signs of `linear_map.sign_shape(inputs)`.

  Returns:
    `(mean, perturbation)`.
  """
  return (linear_map.apply(inputs, loc),
          linear_map.apply(inputs * in_signs, delta))


def flipout(inputs: tf.Tensor,
            kernel_posterior: tfd.Distribution,
            bias_posterior: Optional[tfd.Distribution],
            linear_map: LinearMap,
            seed: tf.Tensor,
            posterior_value_fn: PosteriorValueFn) -> Estimate:
  """Flipout: one weight perturbation, decorrelated per example by signs.

  Each example's output is distributed exactly as under a kernel and bias
  sample of its own, yet the batch shares one perturbation, so the gradient
  variance falls roughly as one over the batch size. The kernel posterior
  must be an elementwise normal (see `tfnx.util._weights.normal_loc_scale`).
  A normal bias posterior is perturbed the same way, by the output signs; any
  other bias is drawn once with `posterior_value_fn` and shared by the batch.

  Args:
    inputs, bias_posterior, linear_map, seed, posterior_value_fn: as for
      `reparameterization`, the estimators' common signature.
    kernel_posterior: an elementwise normal distribution of the kernel.

  Returns:
    An `Estimate` whose kernel and bias are `mu + dW` and `mu_b + db`: the
    perturbed weights whose sign flips give every example's weights (samples
    from the posterior).
  """
  noise_seed, in_seed, out_seed, bias_seed = seeds_lib.split_seed(seed, 4)
  loc, delta = flipout_perturbation(kernel_posterior, noise_seed)
  in_signs = rademacher(linear_map.sign_shape(inputs), in_seed, inputs.dtype)
  mean, perturbation = flipout_terms(inputs, loc, delta, linear_map, in_signs)
  bias = None
  if weights_lib.is_normal(bias_posterior):
    bias_loc, bias_delta = flipout_perturbation(bias_posterior, bias_seed)
    perturbation += bias_delta
    mean += bias_loc
    bias = bias_loc + bias_delta
  out_signs = rademacher(linear_map.sign_shape(perturbation), out_seed,
                         inputs.dtype)
  outputs = mean + perturbation * out_signs
  if bias is None:
    bias = _sample_bias(bias_posterior, posterior_value_fn, bias_seed)
    outputs = _add_bias(outputs, bias)
  return Estimate(outputs, loc + delta, bias)


def local_reparameterization(inputs: tf.Tensor,
                             kernel_posterior: tfd.Distribution,
                             bias_posterior: Optional[tfd.Distribution],
                             linear_map: LinearMap,
                             seed: tf.Tensor,
                             posterior_value_fn: PosteriorValueFn) -> Estimate:
  """Local reparameterization: samples each pre-activation from its marginal.

  With an elementwise normal kernel posterior, each output is normal with
  mean `apply(x, mu)` and variance `apply(x**2, sigma**2)`; a normal bias
  posterior adds its mean and variance, any other bias is sampled and added.
  No kernel is drawn.

  Args:
    inputs, bias_posterior, linear_map, seed, posterior_value_fn: as for
      `reparameterization`, the estimators' common signature.
    kernel_posterior: an elementwise normal distribution of the kernel.

  Returns:
    An `Estimate` with no kernel sample, and a bias sample only where the bias
    posterior is not normal.
  """
  noise_seed, bias_seed = seeds_lib.split_seed(seed, 2)
  mean, stddev, bias = output_moments(inputs, kernel_posterior,
                                      bias_posterior, linear_map, bias_seed,
                                      posterior_value_fn)
  outputs = mean + stddev * _normal_noise(mean, noise_seed)
  return Estimate(outputs, None, bias)


def output_moments(inputs: tf.Tensor,
                   kernel_posterior: tfd.Distribution,
                   bias_posterior: Optional[tfd.Distribution],
                   linear_map: LinearMap,
                   seed: tf.Tensor,
                   posterior_value_fn: PosteriorValueFn
                   ) -> Tuple[tf.Tensor, tf.Tensor, Optional[tf.Tensor]]:
  """Each output's mean and standard deviation under an elementwise normal kernel.

  `apply(x, mu)` and `sqrt(apply(x**2, sigma**2))`, a normal bias adding its
  mean and variance. A bias posterior that is not normal is drawn (with
  `seed`) and added to the mean. Under local reparameterization and Flipout
  where it declares `rows_normal`, a row's outputs are independent normals of
  these moments.

  Args:
    inputs, kernel_posterior, bias_posterior, linear_map, seed,
      posterior_value_fn: as for `local_reparameterization`.

  Returns:
    `(mean, stddev, bias)`: `bias` is the drawn bias, or `None` where the
    bias is normal or absent.
  """
  loc, scale = weights_lib.normal_loc_scale(kernel_posterior)
  mean = linear_map.apply(inputs, loc)
  variance = linear_map.apply(tf.square(inputs), tf.square(scale))
  bias = None
  bias_loc_scale = weights_lib.normal_loc_scale(bias_posterior)
  if bias_loc_scale is not None:
    bias_loc, bias_scale = bias_loc_scale
    mean += bias_loc
    variance += tf.square(bias_scale)
  else:
    bias = _sample_bias(bias_posterior, posterior_value_fn, seed)
    mean = _add_bias(mean, bias)
  # A zero input row with no bias has zero variance; the floor keeps the
  # square root's gradient finite there.
  stddev = tf.sqrt(tf.maximum(variance, np.finfo(
      variance.dtype.as_numpy_dtype).tiny))
  return mean, stddev, bias



class WeightDraw(NamedTuple):
  """One weight as every application of a call applies it.

  A layer that applies the same weights many times in one call (a recurrent
  cell, at every time step) draws them once.

  Attributes:
    weight: the sample (reparameterization), or the mean (Flipout).
    delta: Flipout's perturbation of the weight, or `None`.
    signs: Flipout's signs of the inputs a kernel multiplies, or `None`.
  """
  weight: tf.Tensor
  delta: Optional[tf.Tensor] = None
  signs: Optional[tf.Tensor] = None

  @property
  def value(self) -> tf.Tensor:
    """The weight the draw implies: a posterior sample (Flipout's `mu + dW`)."""
    return self.weight if self.delta is None else self.weight + self.delta


WeightsDraw = Tuple[Tuple[Optional[WeightDraw], ...], Optional[tf.Tensor]]


def sample_weights(posteriors: Sequence[Optional[tfd.Distribution]],
                   posterior_value_fns: Sequence[PosteriorValueFn],
                   rows: tf.Tensor, sizes: Sequence[int], seed: tf.Tensor,
                   dtype: tf.DType) -> WeightsDraw:
  """Reparameterization's weights for a call: one sample of each, for the batch.

  Args:
    posteriors: the kernels' posteriors, then the bias's (or `None`).
    posterior_value_fns: each weight's `(distribution, seed=...) -> value`.
    rows, sizes, dtype: unused (Flipout's signs); kept for the common
      signature.
    seed: an `int32` seed of shape `[2]`.

  Returns:
    `(draws, output_signs)`: a `WeightDraw` per weight (`None` where its
    posterior is), and no output signs.
  """
  del rows, sizes, dtype  # Every row shares the sample.
  seeds = seeds_lib.split_seed(seed, len(posteriors))
  draws = tuple(None if q is None else WeightDraw(value_of(q, seed=s))
                for q, value_of, s in zip(posteriors, posterior_value_fns,
                                          seeds))
  return draws, None


def flipout_weights(posteriors: Sequence[Optional[tfd.Distribution]],
                    posterior_value_fns: Sequence[PosteriorValueFn],
                    rows: tf.Tensor, sizes: Sequence[int], seed: tf.Tensor,
                    dtype: tf.DType) -> WeightsDraw:
  """Flipout's weights for a call: one perturbation each, signs per row.

  The kernels share the output signs: Flipout of the stacked kernel, whose
  sign-flipped perturbation is an exact posterior sample per row. A normal
  bias is perturbed too; any other is drawn once with its value function.

  Args:
    posteriors: the kernels' elementwise normal posteriors, then the bias's
      (or `None`).
    posterior_value_fns: each weight's `(distribution, seed=...) ->
      value`; only the bias's is used, for a bias that is not normal.
    rows: the number of rows (sequences) the weights serve, an `int32`
      scalar.
    sizes: each kernel's input size, then the output size: the signs are
      `[rows, size]`.
    seed: an `int32` seed of shape `[2]`.
    dtype: the signs' dtype.

  Returns:
    `(draws, output_signs)`: a `WeightDraw` per weight (`None` for no bias)
    and the output signs.
  """
  *kernels, bias = posteriors
  seeds = seeds_lib.split_seed(seed, 2 * len(kernels) + 2)
  weight_seeds, sign_seeds = seeds[:len(posteriors)], seeds[len(posteriors):]
  shapes = [tf.stack([rows, size]) for size in sizes]
  draws = [WeightDraw(*flipout_perturbation(q, s),
                      rademacher(shape, sign_seed, dtype))
           for q, s, shape, sign_seed in zip(kernels, weight_seeds, shapes,
                                             sign_seeds)]
  bias_seed = weight_seeds[-1]
  if bias is None:
    draws.append(None)
  elif weights_lib.is_normal(bias):
    draws.append(WeightDraw(*flipout_perturbation(bias, bias_seed)))
  else:
    draws.append(WeightDraw(posterior_value_fns[-1](bias, seed=bias_seed)))
  return tuple(draws), rademacher(shapes[-1], sign_seeds[-1], dtype)


def _never(linear_map: LinearMap) -> bool:
  del linear_map  # One kernel for the whole batch, on any map.
  return False


def _always(linear_map: LinearMap) -> bool:
  del linear_map  # Each output is drawn from its marginal, on any map.
  return True


def _signs_per_element(linear_map: LinearMap) -> bool:
  # Given its input signs, a row's output is a sum of independent normal
  # terms, one perturbation element each, times an output sign: normal with
  # the `output_moments` whatever the signs. Two outputs of a row are
  # independent only where they share no weight: every output element gets
  # its own sign (dense maps), not a convolution's outputs at two positions,
  # which share the row's kernel sample.
  return linear_map.sign_shape is tf.shape


@dataclasses.dataclass(frozen=True)
class Estimator:
  """An estimator and what it declares, beside the `LinearMap` it applies.

  Attributes:
    name: its name in messages (`'flipout'`).
    label: its name in prose (`'Flipout'`).
    summary: one sentence saying how it samples, for documentation.
    sample: `(inputs, kernel_posterior, bias_posterior, linear_map, seed,
      posterior_value_fn) -> Estimate`, the estimator itself.
    needs_normal_kernel: whether it reads the kernel posterior's `loc` and
      `scale`, so needs an elementwise normal one.
    rows_independent: whether each row of a batch (each example) gets its
      own exact sample of the kernel and of a normal bias, so that a batch
      tiled `k` times gives `k` passes (`tfnx.predictive`).
    rows_normal: `(linear_map) -> bool`: whether each row's outputs on that
      map are independent normals with the moments `output_moments` gives,
      so that many samples of a row need those moments once.
    draw_weights: `(posteriors, posterior_value_fns, rows, sizes, seed,
      dtype) -> (draws, output_signs)`, drawing weights once for a call that
      applies them many times (`sample_weights`), or `None` where it draws no
      weights (local reparameterization).
  """
  name: str
  label: str
  summary: str
  sample: Callable[..., Estimate]
  needs_normal_kernel: bool
  rows_independent: bool
  rows_normal: Callable[[LinearMap], bool]
  draw_weights: Optional[Callable[..., WeightsDraw]] = None


REPARAMETERIZATION = Estimator(
    name='reparameterization', label='reparameterization',
    summary='Each call draws one kernel and bias from the posterior for the '
    'whole batch (Kingma and Welling, 2014).',
    sample=reparameterization, needs_normal_kernel=False,
    rows_independent=False, rows_normal=_never, draw_weights=sample_weights)

FLIPOUT = Estimator(
    name='flipout', label='Flipout',
    summary='Flipout (Wen et al., 2018) adds to the posterior-mean output one '
    'kernel perturbation shared by the batch and decorrelated per example by '
    'random signs, so each example sees its own kernel sample. Needs an '
    'elementwise normal kernel posterior.',
    sample=flipout, needs_normal_kernel=True, rows_independent=True,
    rows_normal=_signs_per_element, draw_weights=flipout_weights)

LOCAL_REPARAMETERIZATION = Estimator(
    name='local_reparameterization', label='local reparameterization',
    summary='Each pre-activation is drawn from its exact marginal under the '
    'posterior (Kingma et al., 2015); no kernel is drawn.',
    sample=local_reparameterization, needs_normal_kernel=True,
    rows_independent=True, rows_normal=_always)


def check_kernel_posterior(estimator: Estimator,
                           kernel_posterior: tfd.Distribution,
                           owner: str) -> None:
  """Checks that `estimator` can use `kernel_posterior`.

  Flipout and local reparameterization read the posterior's `loc` and
  `scale` (`needs_normal_kernel`), so they need an elementwise normal;
  reparameterization takes any.

  Args:
    estimator: the `Estimator`.
    kernel_posterior: the kernel's posterior distribution.
    owner: the layer's name, for errors.

  Raises:
    TypeError: if the estimator needs an elementwise normal and the
      posterior is not one.
  """
  if not estimator.needs_normal_kernel or weights_lib.is_normal(
      kernel_posterior):
    return
  raise TypeError(
      f'{owner}: the {estimator.name} estimator needs an elementwise '
      'normal kernel posterior (Normal, MultivariateNormalDiag or '
      f'Independent of either); received {type(kernel_posterior).__name__}.')
