"""The Python side of the tfnx R package: R functions as Keras-savable callables.

reticulate turns an R function into a Python callable that Keras can neither
save nor load and that crashes R when called from a thread other than the
main one. `RFunction` wraps it so that saving a model says it cannot be
reloaded, loading says why it fails, and a call from another thread (as the
replicas of a `tf.distribute.MirroredStrategy` make) raises a clear error
instead of crashing R.
"""

import inspect
import threading
import warnings
from typing import Any, Callable, Sequence

import keras

__all__ = ['RFunction']


@keras.saving.register_keras_serializable(package='tfnx_r')
class RFunction:
  """An R function passed to a tfnx layer, callable from Python.

  Its signature is the R function's, so tfnx sees what it declares: a
  `*_posterior_tensor_fn` with a `seed` argument gets the call's stateless
  seed.

  Args:
    fn: the R function, as reticulate hands it to Python.
    name: where it was passed, e.g. `layer_dense_flipout(kernel_divergence_fn)`,
      for messages.
    arguments: the R function's argument names; `...` takes any keywords.
  """

  def __init__(self, fn: Callable, name: str, arguments: Sequence[str] = ()):
    self._fn = fn
    self.__name__ = name
    self.__signature__ = _signature(arguments)

  def __call__(self, *args: Any, **kwargs: Any) -> Any:
    """Calls the R function on the main thread; raises on any other."""
    if threading.current_thread() is not threading.main_thread():
      raise RuntimeError(
          f'{self.__name__}: expected to be called on the main thread, as R '
          'code must run there; received a call from thread '
          f'{threading.current_thread().name!r} (the replicas of a '
          'multi-replica tf.distribute strategy such as MirroredStrategy run '
          'on their own threads). Pass a Python function or one of tfnx\'s '
          'builders instead of an R function to use such a strategy.')
    return self._fn(*args, **kwargs)

  def get_config(self) -> dict:
    """Warns that the model saved cannot be reloaded; returns the name."""
    warnings.warn(
        f'{self.__name__} is an R function, which a .keras file cannot hold: '
        'the model saved cannot be reloaded (load its weights into a model '
        'built again in R with `load_weights`, or use tfnx\'s Python '
        'builders, e.g. kl_per_example(), which save and load).',
        UserWarning, stacklevel=2)
    return {'name': self.__name__}

  @classmethod
  def from_config(cls, config: dict) -> 'RFunction':
    """Raises: an R function was not saved, so it cannot be loaded."""
    raise ValueError(
        f'{config["name"]}: expected a savable function; received an R '
        'function, which the saved model does not hold. Build the model '
        'again in R and load its weights with `load_weights`.')

  def __repr__(self) -> str:
    return f'RFunction({self.__name__})'


def _signature(arguments: Sequence[str]) -> inspect.Signature:
  """A Python signature with R's argument names (`...` as `**kwargs`)."""
  named = [inspect.Parameter(a, inspect.Parameter.POSITIONAL_OR_KEYWORD)
           for a in arguments if a != '...']
  if '...' in arguments:
    named.append(inspect.Parameter('kwargs', inspect.Parameter.VAR_KEYWORD))
  return inspect.Signature(named)
