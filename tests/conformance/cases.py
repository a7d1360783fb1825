"""The registry every conformance test runs over: one case per public layer class.

Adding a layer class to tfnx without a case here makes
`test_coverage.py` fail, so every layer goes through the same machinery.
"""

from typing import Callable, NamedTuple, Tuple

import tensorflow as tf

import tfnx as tfn


class Case(NamedTuple):
  """How to build one layer and feed it.

  Attributes:
    name: the case's id in test names.
    build: `(**kwargs) -> layer`, a fresh layer (kwargs go to its
      constructor, e.g. `validate_args`).
    input_shape: one example's input shape (callers add batch dimensions).
    output_shape: one example's output shape.
    variational: whether the layer is a `tfn.VariationalLayer`.
  """
  name: str
  build: Callable[..., tf.Module]
  input_shape: Tuple[int, ...]
  output_shape: Tuple[int, ...]
  variational: bool


def _dense(cls, variational=True):
  def build(**kwargs):
    if variational:
      kwargs.setdefault('seed', 3)
    return cls(4, 3, **kwargs)
  return Case(cls.__name__, build, (4,), (3,), variational)


def _convolution(cls, variational=True, transpose=False):
  """A rank-2 case: 3x3x2 inputs; a 3x3 filter covers them (VALID)."""
  def build(**kwargs):
    if variational:
      kwargs.setdefault('seed', 3)
    return cls(2, 3, 3, rank=2, padding='VALID', **kwargs)
  output_shape = (5, 5, 3) if transpose else (1, 1, 3)
  return Case(cls.__name__, build, (3, 3, 2), output_shape, variational)


CASES = [
    _dense(tfn.Affine, variational=False),
    _dense(tfn.AffineVariationalFlipout),
    _dense(tfn.AffineVariationalReparameterization),
    _dense(tfn.AffineVariationalReparameterizationLocal),
    _convolution(tfn.Convolution, variational=False),
    _convolution(tfn.ConvolutionVariationalFlipout),
    _convolution(tfn.ConvolutionVariationalReparameterization),
    _convolution(tfn.ConvolutionTranspose, variational=False,
                 transpose=True),
    _convolution(tfn.ConvolutionTransposeVariationalFlipout, transpose=True),
    _convolution(tfn.ConvolutionTransposeVariationalReparameterization,
                 transpose=True),
]

VARIATIONAL = [c for c in CASES if c.variational]
DENSE_VARIATIONAL = [c for c in VARIATIONAL if len(c.input_shape) == 1]


def ids(cases):
  return [c.name for c in cases]


def call(layer, x, seed=(1, 2)):
  """Calls a layer, with `seed` where it takes one."""
  if isinstance(layer, tfn.VariationalLayer):
    return layer(x, seed=seed)
  return layer(x)


def inputs(case: Case, batch: Tuple[int, ...] = (5,), seed=(0, 1)):
  """Standard normal inputs for `case` with the given batch shape."""
  return tf.random.stateless_normal(batch + case.input_shape, seed=seed)
