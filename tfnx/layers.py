"""`Layer`, the callable `tf.Module` every tfnx layer is, `KernelBiasLayer` and `Sequential`."""

import inspect
from typing import (Any, Callable, Iterable, List, Optional, Sequence,
                    Union)

import tensorflow as tf

from tfnx import seeds as seeds_lib
from tfnx.util import summary as summary_lib

__all__ = ['Layer', 'KernelBiasLayer', 'Sequential']


class Layer(tf.Module):
  """A callable `tf.Module`: the base of every tfnx layer.

  Args:
    also_track: an optional object (e.g. a `tf.Module` or variable) that the
      layer should track, so its variables appear in `layer.variables`.
    validate_args: whether to run checks that cost time at every call (such
      as that inputs are finite).
    name: the layer's name, used as its variables' name scope; `None` means
      the class name.
  """

  def __init__(self, also_track: Any = None, validate_args: bool = False,
               name: Optional[str] = None):
    super().__init__(name=name or type(self).__name__)
    self._also_track = [] if also_track is None else [also_track]
    self._validate_args = bool(validate_args)

  @property
  def also_track(self) -> list:
    """The extra objects this layer tracks."""
    return list(self._also_track)

  @property
  def validate_args(self) -> bool:
    """Whether possibly expensive checks run at every call."""
    return self._validate_args

  @property
  def losses(self) -> List[tf.Tensor]:
    """The extra loss terms (KL divergences) of the last call; none here."""
    return []

  @property
  def extra_loss(self) -> Union[tf.Tensor, float]:
    """The sum of `losses`; `0.` when there are none."""
    losses = self.losses
    return tf.add_n(losses) if losses else 0.

  def summary(self) -> str:
    """A table of this layer's variables (see `tfnx.util.variables_summary`)."""
    return summary_lib.variables_summary(self.variables, self.name)

  def __repr__(self) -> str:
    return f'<{type(self).__name__}: name={self.name}>'


class KernelBiasLayer(Layer):
  """A deterministic layer with a kernel and a bias, such as `Affine`.

  Subclasses create the weights in their constructor with
  `_init_kernel_bias`, and in `__call__` apply them, then `_activate`.
  """

  def _init_kernel_bias(self, make_kernel_bias_fn: Callable,
                        kernel_shape: Sequence[int],
                        bias_shape: Sequence[int],
                        kernel_initializer: Optional[Callable],
                        bias_initializer: Optional[Callable],
                        batch_ndims: int, dtype: tf.DType,
                        activation_fn: Optional[Callable]) -> None:
    """Creates the kernel and bias under the layer's name scope."""
    self._dtype = tf.as_dtype(dtype)
    self._activation_fn = activation_fn
    with self.name_scope:
      self._kernel, self._bias = make_kernel_bias_fn(
          list(kernel_shape), list(bias_shape), kernel_initializer,
          bias_initializer, batch_ndims, batch_ndims, self._dtype)

  @property
  def kernel(self) -> tf.Variable:
    """The kernel variable."""
    return self._kernel

  @property
  def bias(self) -> tf.Variable:
    """The bias variable."""
    return self._bias

  @property
  def dtype(self) -> tf.DType:
    """The layer's floating dtype."""
    return self._dtype

  @property
  def activation_fn(self) -> Optional[Callable[[tf.Tensor], tf.Tensor]]:
    """The activation applied to the outputs, or `None`."""
    return self._activation_fn

  def _activate(self, y: tf.Tensor) -> tf.Tensor:
    return y if self._activation_fn is None else self._activation_fn(y)


def _takes_seed(fn: Callable) -> bool:
  try:
    return 'seed' in inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return False


def _layer_name(fn: Any) -> str:
  return str(getattr(fn, 'name', None) or getattr(fn, '__name__', None)
             or type(fn).__name__)


class Sequential(Layer):
  """Layers applied one after another.

  ```python
  model = tfn.Sequential([
      tfn.AffineVariationalFlipout(8, 16, activation_fn=tf.nn.relu),
      tfn.AffineVariationalFlipout(16, 1),
  ])
  y = model(x, seed=[1, 2])   # reproducible; model(x) draws fresh noise
  loss = nll(y) + model.extra_loss / num_examples
  ```

  Args:
    layers: the layers, applied first to last: tfnx layers or any callables
      (`tf.nn.relu`, lambdas). Those whose `__call__` takes a `seed` argument
      receive one derived from the model's seed.
    also_track: an optional extra object to track.
    validate_args: whether to run per-call checks (passed on by the layers
      themselves; kept here for a uniform signature).
    name: the model's name; `None` means `'Sequential'`.
  """

  def __init__(self, layers: Iterable[Callable], also_track: Any = None,
               validate_args: bool = False, name: Optional[str] = None):
    layers = tuple(layers)
    if not layers:
      raise ValueError(f'{name or "Sequential"}: expected at least one layer; '
                       'received none.')
    for i, layer in enumerate(layers):
      if not callable(layer):
        raise TypeError(f'{name or "Sequential"}: layer {i} is not callable '
                        f'(received {type(layer).__name__}).')
    super().__init__(also_track=also_track, validate_args=validate_args,
                     name=name)
    self._layers = layers
    self._seeded = tuple(_takes_seed(layer) for layer in layers)

  @property
  def layers(self) -> tuple:
    """The layers, first to last."""
    return self._layers

  def __call__(self, inputs, seed: Optional[seeds_lib.SeedLike] = None):
    """Applies the layers in turn.

    Args:
      inputs: the first layer's inputs.
      seed: `None` to let each layer draw fresh randomness from its own seed
        stream, or a seed (an int, a pair of ints, or an int tensor of shape
        `[2]`) from which one seed per layer is derived: the output is then a
        pure function of the variables, the inputs and `seed`.

    Returns:
      The last layer's outputs.
    """
    layer_seeds = [None] * len(self._layers)
    if seed is not None:
      layer_seeds = seeds_lib.split_seed(
          seeds_lib.sanitize_seed(seed, self.name), len(self._layers))
    x = inputs
    for layer, seeded, layer_seed in zip(self._layers, self._seeded,
                                         layer_seeds):
      x = layer(x, seed=layer_seed) if seeded else layer(x)
    return x

  @property
  def losses(self) -> List[tf.Tensor]:
    """The KL terms of every variational layer from the last call, flattened."""
    return [loss for layer in self._layers
            for loss in getattr(layer, 'losses', [])]

  def __getitem__(self, index: Union[int, slice]) -> 'Sequential':
    """A `Sequential` of the layer at `index`, or of the slice's layers."""
    layers = self._layers[index]
    if not isinstance(index, slice):
      layers = (layers,)
    return Sequential(layers, also_track=self._also_track or None,
                      validate_args=self.validate_args, name=self.name)

  def __len__(self) -> int:
    return len(self._layers)

  def summary(self) -> str:
    """A table of the layers with their trainable parameter counts."""
    row = '{:>3}  {:36} {:40} {:>10}'
    lines = [f'=== {self.name} ' + '=' * 50,
             row.format('#', 'LAYER', 'TYPE', 'PARAMS')]
    total = 0
    for i, layer in enumerate(self._layers):
      variables = getattr(layer, 'trainable_variables', ())
      count = sum(int(v.shape.num_elements()) for v in variables)
      total += count
      lines.append(row.format(i, _layer_name(layer), type(layer).__name__,
                              count))
    lines.append(f'trainable parameters: {total}')
    return '\n'.join(lines)
