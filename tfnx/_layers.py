"""`Layer`, the callable `tf.Module` every tfnx layer is, `KernelBiasLayer` and `Sequential`."""

import copy
import inspect
import re
import sys
from typing import (Any, Callable, Iterable, List, Optional, Sequence,
                    Tuple, Union)

import tensorflow as tf
import tensorflow_probability as tfp

from tfnx import _checks as checks
from tfnx import linear_maps
from tfnx import seeds as seeds_lib
from tfnx.util import _saving as saving_lib
from tfnx.util import _summary as summary_lib

__all__ = ['Layer', 'KernelBiasLayer', 'Sequential', 'MapLayout', 'Sizes',
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


def _sanitize_name(name: Optional[str]) -> str:
  # TFP's rule: runs of characters other than letters, digits and `_` become
  # one `_`, and `_` is stripped from both ends.
  return re.sub(r'[^a-zA-Z0-9_]+', '_', name or '').strip('_')


class Layer(tf.Module):
  """A callable `tf.Module`: the base of every tfnx layer.

  Args:
    also_track: an optional object (e.g. a `tf.Module` or variable) that the
      layer should track, so its variables appear in `layer.variables`.
    validate_args: whether to run checks that cost time at every call (such
      as that inputs are finite).
    name: the layer's name, used as its variables' name scope; `None` means
      the class name. Characters a name scope cannot hold become `_`, as in
      TFP (`'my-net'` is `'my_net'`).
  """

  def __init__(self, also_track: Any = None, validate_args: bool = False,
               name: Optional[str] = None):
    super().__init__(name=_sanitize_name(name) or type(self).__name__)
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

  def save(self, filename: str) -> None:
    """Saves the values of `self.variables` to `filename` (a `.npz` file).

    Args:
      filename: the file to write (see `tfnx.util.variables_save`).
    """
    saving_lib.variables_save(filename, self.variables)

  def load(self, filename: str) -> None:
    """Assigns `self.variables` the values `save` wrote to `filename`.

    Args:
      filename: the file to read (see `tfnx.util.variables_load`).
    """
    saving_lib.variables_load(filename, self.variables)

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


class Sizes:
  """`input_size` and `output_size`, TFP's first two layer arguments."""

  def _init_sizes(self, owner: str, input_size: Any, output_size: Any) -> None:
    """Checks both sizes (positive ints) and keeps them."""
    self._input_size = checks.check_size(owner, 'input_size', input_size)
    self._output_size = checks.check_size(owner, 'output_size', output_size)

  @property
  def input_size(self) -> int:
    """The inputs' size: their last axis, or a convolution's channels."""
    return self._input_size

  @property
  def output_size(self) -> int:
    """The outputs' size: their last axis, or a convolution's channels."""
    return self._output_size


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
        checks.convert_inputs(inputs, self._dtype, self.name))
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


def takes_seed(fn: Callable) -> bool:
  """Whether `fn` accepts a `seed` argument (False if it has no signature)."""
  try:
    return 'seed' in inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return False


def _layer_name(fn: Any) -> str:
  # TFP's order, so default `Sequential` names match its: a function's
  # `__name__`, then a layer's `name`, then the type's name.
  return str(getattr(fn, '__name__', None) or getattr(fn, 'name', None)
             or type(fn).__name__)


def _call_layer(layer: Optional[Callable], x: Any, kwargs: dict,
                seed_kwargs: dict) -> Any:
  """Calls `layer(x, **kwargs, **seed_kwargs)`, dropping `kwargs` if rejected.

  This is TFP's convention: keywords such as `training=True` reach the
  layers that take them and are dropped for the others (`tf.nn.relu`). The
  seed goes only to layers that declare a `seed` argument, and always. A
  `None` layer is the identity.
  """
  if layer is None:
    return x
  if kwargs:
    try:
      return layer(x, **kwargs, **seed_kwargs)
    except TypeError:
      # The layer does not take these keywords; call it as TFP does.
      pass
  return layer(x, **seed_kwargs)


def _describe(value: Any) -> str:
  return '{:14} {:<24} {:>10}'.format(
      _layer_name(value), str(list(getattr(value, 'shape', '?'))),
      _layer_name(getattr(value, 'dtype', '?')))


def _print_trace(index: int, layer: Any, outputs: Any) -> None:
  described = tf.nest.map_structure(_describe, outputs)
  print(f'--- TRACE{index:02}:  {_layer_name(layer):<24} {described}')
  sys.stdout.flush()


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
      (`tf.nn.relu`, lambdas, Keras layers); `None` is the identity. Those
      whose `__call__` takes a `seed` argument receive one derived from the
      model's seed.
    also_track: an optional extra object to track.
    validate_args: whether to run per-call checks (passed on by the layers
      themselves; kept here for a uniform signature).
    name: the model's name; `None` joins the layers' names with `_`, as TFP
      does (e.g. `'lambda__Affine_Affine'`).
  """

  def __init__(self, layers: Iterable[Optional[Callable]],
               also_track: Any = None, validate_args: bool = False,
               name: Optional[str] = None):
    layers = tuple(layers)
    if not layers:
      raise ValueError(f'{name or "Sequential"}: expected at least one layer; '
                       'received none.')
    for i, layer in enumerate(layers):
      if layer is not None and not callable(layer):
        raise TypeError(f'{name or "Sequential"}: layer {i} is not callable '
                        f'(received {type(layer).__name__}).')
    name = name or '_'.join(_layer_name(layer) for layer in layers)
    super().__init__(also_track=also_track, validate_args=validate_args,
                     name=name)
    self._layers = layers
    self._seeded = tuple(takes_seed(layer) for layer in layers)
    self._trace = False

  @property
  def layers(self) -> tuple:
    """The layers, first to last."""
    return self._layers

  def set_trace(self, trace: bool) -> 'Sequential':
    """Turns printing each layer's output shapes and dtypes on or off.

    Args:
      trace: whether calls print one line per layer (when traced, once per
        trace).

    Returns:
      This model, so `model.set_trace(True)(x)` works.
    """
    self._trace = bool(trace)
    return self

  def __call__(self, inputs, seed: Optional[seeds_lib.SeedLike] = None,
               **kwargs):
    """Applies the layers in turn, or composes with a callable.

    Args:
      inputs: the first layer's inputs; or a callable `f`, which gives the
        model `Sequential([f, self], **kwargs)` (TFP's composition).
      seed: `None` to let each layer draw fresh randomness from its own seed
        stream, or a seed (an int, a pair of ints, or an int tensor of shape
        `[2]`) from which one seed per layer is derived: the output is then a
        pure function of the variables, the inputs and `seed`.
      **kwargs: passed to every layer that takes them (e.g.
        `training=True`), as TFP does; a layer that raises `TypeError` on
        them is called without them.

    Returns:
      The last layer's outputs.
    """
    if callable(inputs):
      return Sequential([inputs, self], **kwargs)
    layer_seeds = [None] * len(self._layers)
    if seed is not None:
      layer_seeds = seeds_lib.split_seed(
          seeds_lib.sanitize_seed(seed, self.name), len(self._layers))
    x = inputs
    if self._trace:
      _print_trace(-1, self, x)
    for i, layer in enumerate(self._layers):
      seed_kwargs = {'seed': layer_seeds[i]} if self._seeded[i] else {}
      try:
        x = _call_layer(layer, x, kwargs, seed_kwargs)
      except Exception as e:
        e.add_note(f'In layer {i} ({_layer_name(layer)}) of {self.name}.')
        raise
      if self._trace:
        _print_trace(i, layer, x)
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
