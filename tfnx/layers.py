"""`Layer`, the callable `tf.Module` every tfnx layer is, `KernelBiasLayer` and `Sequential`."""

import copy
import inspect
from typing import (Any, Callable, Iterable, List, Optional, Sequence,
                    Tuple, Union)

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import inputs as inputs_lib
from tfnx import linear_maps
from tfnx import seeds as seeds_lib
from tfnx.util import summary as summary_lib

__all__ = ['Layer', 'KernelBiasLayer', 'Sequential', 'MapLayout',
           'make_kernel_bias_in_scope']

tfd = tfp.distributions


def deepcopy_value(value: Any, memo: dict) -> Any:
  """Deep-copies layer state, rebuilding distributions from copied parameters.

  TFP distributions cannot be deep-copied directly; rebuilding one from deep
  copies of its parameters gives a distribution over the copied variables.
  Tensors are immutable, so they are shared.
  """
  if isinstance(value, tfd.Distribution):
    if id(value) not in memo:
      parameters = {
          key: tf.nest.map_structure(
              lambda v: deepcopy_value(v, memo), parameter)
          for key, parameter in value.parameters.items()}
      memo[id(value)] = type(value)(**parameters)
    return memo[id(value)]
  if tf.is_tensor(value) and not isinstance(value, tf.Variable):
    return value
  return copy.deepcopy(value, memo)


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

  def __deepcopy__(self, memo: dict) -> 'Layer':
    """A copy with its own variables, equal in value to this layer's."""
    new = type(self).__new__(type(self))
    memo[id(self)] = new
    for key, value in self.__dict__.items():
      new.__dict__[key] = deepcopy_value(value, memo)
    return new


class MapLayout:
  """The input hooks of a layer applying a linear map; by default none.

  A layer family overrides them to check its inputs' shape and to bring
  them to its map's layout (e.g. a batch flattened to one axis) and back.
  """

  def _check_inputs(self, x: tf.Tensor) -> tf.Tensor:
    """Checks the shape of converted inputs; returns them."""
    return x

  def _to_map_layout(self, x: tf.Tensor) -> Tuple[tf.Tensor, Any]:
    """Brings inputs to the linear map's layout; also returns what undoes it."""
    return x, None

  def _from_map_layout(self, y: tf.Tensor, restore: Any,
                       x: tf.Tensor) -> tf.Tensor:
    """Brings the linear map's outputs back to the layer's layout."""
    del restore, x  # Nothing to undo by default.
    return y


class KernelBiasLayer(MapLayout, Layer):
  """A deterministic layer `activation_fn(apply_kernel_fn(x, kernel) + bias)`.

  TFP's `KernelBiasLayer`: the base of `Affine` and the convolutions, and a
  layer of its own for any linear map. Subclasses may check their inputs and
  bring them to the map's layout (`_check_inputs`, `_to_map_layout`,
  `_from_map_layout`); by default inputs are taken as they are.

  Args:
    kernel: the kernel (a variable or tensor), or `None` for none.
    bias: the bias, added to the map's outputs, or `None` for none.
    apply_kernel_fn: `(inputs, kernel) -> outputs`, or a
      `tfnx.linear_maps.LinearMap`.
    activation_fn: applied to the outputs; `None` for the identity.
    dtype: the layer's floating dtype; inputs are converted to it.
    validate_args: kept for TFP's signature.
    name: the layer's name; `None` means the class name.
  """

  def __init__(self, kernel: Any, bias: Any, apply_kernel_fn: Callable,
               activation_fn: Optional[Callable[[tf.Tensor],
                                                tf.Tensor]] = None,
               dtype: tf.DType = tf.float32, validate_args: bool = False,
               name: Optional[str] = None):
    super().__init__(validate_args=validate_args, name=name)
    self._kernel = kernel
    self._bias = bias
    self._linear_map = linear_maps.as_linear_map(apply_kernel_fn, self.name)
    self._activation_fn = activation_fn
    self._dtype = tf.as_dtype(dtype)

  @property
  def kernel(self) -> Any:
    """The kernel variable."""
    return self._kernel

  @property
  def bias(self) -> Any:
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

  def __call__(self, inputs, **kwargs) -> tf.Tensor:
    """Applies the layer; keyword arguments (`training=...`) are ignored."""
    del kwargs  # Accepted as TFP's layers accept them.
    x = self._check_inputs(
        inputs_lib.convert_inputs(inputs, self._dtype, self.name))
    y, restore = self._to_map_layout(x)
    if self._kernel is not None:
      y = self._linear_map.apply(y, self._kernel)
    if self._bias is not None:
      y += self._bias
    return self._activate(self._from_map_layout(y, restore, x))

  def _activate(self, y: tf.Tensor) -> tf.Tensor:
    return y if self._activation_fn is None else self._activation_fn(y)


def make_kernel_bias_in_scope(
    name: str, make_kernel_bias_fn: Callable, kernel_shape: Sequence[int],
    bias_shape: Sequence[int], kernel_initializer: Optional[Callable],
    bias_initializer: Optional[Callable], batch_ndims: int,
    dtype: tf.DType) -> Tuple[Any, Any]:
  """`make_kernel_bias_fn`'s `(kernel, bias)`, named under the scope `name`.

  Args:
    name: the layer's name, the variables' name scope.
    make_kernel_bias_fn: a `tfnx.util.make_kernel_bias`-like builder.
    kernel_shape: the kernel's shape.
    bias_shape: the bias's shape.
    kernel_initializer: the kernel initializer, or `None` for the default.
    bias_initializer: the bias initializer, or `None` for the default.
    batch_ndims: the number of leading batch axes of both.
    dtype: the weights' dtype.

  Returns:
    The pair `(kernel, bias)`.
  """
  with tf.name_scope(name):
    return make_kernel_bias_fn(list(kernel_shape), list(bias_shape),
                               kernel_initializer, bias_initializer,
                               batch_ndims, batch_ndims, tf.as_dtype(dtype))


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
