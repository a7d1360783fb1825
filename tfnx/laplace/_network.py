"""A model's forward pass that also returns what the curvature needs of each chosen layer.

`trace(x)` gives the outputs `f [batch, classes]` and, per chosen
`LinearMap`, its rows (inputs or patches) and the output Jacobian
`df/ds [batch, classes, locations, out]` at its pre-activations `s`. A Keras
model is run through a model that also outputs the layers' inputs, with each
chosen layer's `activation` attribute wrapped while it is traced to record `s`
(Keras has no public forward hook; `activation` is a public attribute every
`Dense` and `Conv` applies to `s`). A `tfnx.Sequential` is walked layer by
layer, each chosen layer split into its linear part and its activation.
"""

from typing import Any, Callable, List, NamedTuple, Sequence, Tuple

import keras
import tensorflow as tf

from tfnx import _affine as affine_lib
from tfnx import _layers as layers_lib
from tfnx import linear_maps
from tfnx.laplace import _subnetwork as subnetwork

__all__ = ['Trace', 'Network']


class Trace(NamedTuple):
  """A forward pass: outputs, and per chosen layer its rows and `df/ds`.

  A `grads` entry is `None` where `s` is the outputs (`df/ds` the identity),
  so the structures can skip multiplying by it.
  """
  outputs: tf.Tensor
  rows: List[tf.Tensor]
  grads: List[tf.Tensor]


def _with_ones(rows: tf.Tensor, bias: Any) -> tf.Tensor:
  """Rows with a column of ones for the bias, so `W~ = [kernel; bias]`."""
  if bias is None:
    return rows
  return tf.concat([rows, tf.ones_like(rows[..., :1])], axis=-1)


def _output_jacobian(tape: tf.GradientTape, f: tf.Tensor, s: tf.Tensor,
                     linear_map: subnetwork.LinearMap) -> tf.Tensor:
  """`df/ds` as `[batch, classes, locations, out]`; `None` for the identity."""
  if s is f:  # The output layer.
    return None
  jacobian = tape.batch_jacobian(f, s)
  classes = f.shape[-1]
  flat = tf.reshape(jacobian, tf.concat([[-1], tf.shape(s)[1:]], 0))
  located = linear_map.locations(flat)
  return tf.reshape(located, [tf.shape(f)[0], classes, -1, located.shape[-1]])


class Network:
  """The forward passes of a model with chosen `LinearMap`s.

  Args:
    model: a built Keras 3 model with one output, or a `tfnx.Sequential`.
    maps: the chosen `LinearMap`s (`_subnetwork.select`).
  """

  def __init__(self, model: Any, maps: Sequence[subnetwork.LinearMap]):
    self.model = model
    self.maps = list(maps)
    if isinstance(model, keras.Model):
      if not model.built or len(model.outputs) != 1:
        raise ValueError(
            f'Laplace: expected a built Keras model with one output; '
            f'received {model.name} (built={model.built}, '
            f'outputs={len(getattr(model, "outputs", None) or [])}).')
      self._extractor = keras.Model(
          model.inputs, model.outputs + [m.layer.input for m in self.maps])
      self._run = self._run_keras
    else:
      self._linear = {id(m.layer): _linear_part(m) for m in self.maps}
      self._run = self._run_tfn

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    """The model's outputs."""
    return self.model(x)

  def trace(self, x: tf.Tensor) -> Trace:
    """The outputs, and each chosen layer's rows and `df/ds`."""
    with tf.GradientTape(persistent=True,
                         watch_accessed_variables=False) as tape:
      f, inputs, pre = self._run(x, tape)
    if f.shape.rank != 2:
      raise ValueError(f'Laplace: expected {self.model.name} to output '
                       f'[batch, outputs]; received shape {f.shape}.')
    dtype = self.maps[0].kernel.dtype
    rows = [_with_ones(m.rows(a), m.bias) for m, a in zip(self.maps, inputs)]
    grads = [_output_jacobian(tape, f, s, m) for m, s in zip(self.maps, pre)]
    grads = [g if g is None else tf.cast(g, dtype) for g in grads]
    return Trace(tf.cast(f, dtype), rows, grads)

  def _run_keras(self, x: tf.Tensor, tape: tf.GradientTape) -> Tuple:
    pre = [None] * len(self.maps)
    originals = [m.layer.activation for m in self.maps]

    def record(i: int, activation: Callable) -> Callable:
      def wrapped(s):
        tape.watch(s)
        pre[i] = s
        return activation(s)
      return wrapped
    try:
      for i, m in enumerate(self.maps):
        m.layer.activation = record(i, originals[i])
      f, *inputs = self._extractor(x, training=False)
    finally:
      for m, activation in zip(self.maps, originals):
        m.layer.activation = activation
    return f, inputs, pre

  def _run_tfn(self, x: tf.Tensor, tape: tf.GradientTape) -> Tuple:
    inputs, pre = [], []
    for layer in self.model.layers:
      linear = self._linear.get(id(layer))
      if linear is None:
        x = layer(x)
        continue
      inputs.append(x)
      x = linear(x)
      tape.watch(x)
      pre.append(x)
      if layer.activation_fn is not None:
        x = layer.activation_fn(x)
    return x, inputs, pre


def _linear_part(m: subnetwork.LinearMap) -> layers_lib.KernelBiasLayer:
  """The chosen tfnx layer without its activation, on the same variables."""
  layer = m.layer
  apply = (linear_maps.dense if isinstance(layer, affine_lib.Affine)
           else layer.geometry.linear_map())
  return layers_lib.KernelBiasLayer(m.kernel, m.bias, apply,
                                    dtype=layer.dtype, name=layer.name)
