"""`KLPerExample`: a layer's KL divergence divided by the training set's size.

`model.fit` adds a layer's `losses` to the batch's mean loss, so for the fit
to minimize the per-example negative ELBO (`tfnx.losses.negative_elbo`) each
KL term must be divided by the number of training examples, not by the batch
size (a common mistake that weights the KL `N / batch_size` times too much).
"""

from typing import Any, Callable

import tensorflow as tf

from tfnx.keras import _builders as builders
from tfnx.keras import _serialization as serialization
from tfnx.keras._export import export

__all__ = ['KLPerExample']


@export
class KLPerExample:
  """A divergence function `(posterior, prior, sample) -> kl_weight * KL / N`.

  Pass it as a layer's `kernel_divergence_fn` (and `bias_divergence_fn`):

  ```python
  kl = tfnx.keras.KLPerExample(num_examples=len(x_train))
  layer = tfnx.keras.DenseFlipout(10, kernel_divergence_fn=kl)
  ```

  It is Keras-serializable, so a model using it saves to and loads from a
  `.keras` file with no `custom_objects`.

  Args:
    num_examples: the number of training examples `N` (not the batch size).
    kl_weight: the KL's weight; 1 (default) is the ELBO, smaller values
      temper the posterior (see `tfnx.losses.negative_elbo`).
    divergence_fn: the divergence to scale, `(posterior, prior, sample) ->
      KL`; default `tfnx.keras.kl_divergence`, the closed form.
  """

  def __init__(self, num_examples: int, kl_weight: float = 1.,
               divergence_fn: Callable = builders.kl_divergence):
    if (isinstance(num_examples, bool) or not isinstance(num_examples, int)
        or num_examples < 1):
      raise ValueError('KLPerExample: expected `num_examples` to be a '
                       f'positive int; received {num_examples!r}.')
    if not kl_weight >= 0:
      raise ValueError('KLPerExample: expected a non-negative `kl_weight`; '
                       f'received {kl_weight!r}.')
    self.num_examples = num_examples
    self.kl_weight = float(kl_weight)
    self.divergence_fn = divergence_fn

  def __call__(self, posterior: Any, prior: Any, sample: Any) -> tf.Tensor:
    """`kl_weight * divergence_fn(posterior, prior, sample) / num_examples`."""
    divergence = tf.convert_to_tensor(
        self.divergence_fn(posterior, prior, sample))
    # A constant of the divergence's dtype: `tf.cast` of a Python float
    # would round it to float32 first.
    return divergence * tf.constant(self.kl_weight / self.num_examples,
                                    divergence.dtype)

  def get_config(self) -> dict:
    """The constructor's arguments, Keras-serialized."""
    return {'num_examples': self.num_examples, 'kl_weight': self.kl_weight,
            **serialization.serialized_attributes(self, ['divergence_fn'])}

  @classmethod
  def from_config(cls, config: dict) -> 'KLPerExample':
    """Rebuilds the divergence from `get_config()`."""
    return cls(**serialization.deserialized(config, ['divergence_fn']))

  def __repr__(self) -> str:
    return (f'{type(self).__name__}(num_examples={self.num_examples}, '
            f'kl_weight={self.kl_weight})')
