"""A Keras layer's KL terms as its weights' regularizers, read with `losses`.

Keras 3 computes a weight's regularizer whenever a layer's or a model's
`losses` are read (`model.fit` and `model.evaluate` read them inside their
traced step, once per step), at the current weights: the public hook for a
loss computed from the parameters rather than left by a call. So each KL
term of a `tfnx.keras` layer is the regularizer of one of the layer's
weights; which weight carries which term only orders the terms. After
`fit`, `evaluate` or `predict`, `model.losses` are the terms at the trained
weights. As Keras drops a frozen weight's regularizer, a layer made
untrainable adds no KL.
"""

from typing import Any, Callable, List, Optional, Sequence

import keras
import tensorflow as tf

__all__ = ['DivergenceTerm', 'carry']

Term = Callable[[], tf.Tensor]


class DivergenceTerm:
  """One KL term as a weight's regularizer, with the weight's own, if any.

  Args:
    term: `() -> scalar`, the term computed from the layer as it is now.
    regularizer: the weight's regularizer before it carried the term, or
      `None`; its penalty is added to the term.
  """

  def __init__(self, term: Term, regularizer: Optional[Callable] = None):
    self.term = term
    self.regularizer = regularizer

  def __call__(self, value: Any) -> tf.Tensor:
    term = self.term()
    if self.regularizer is None:
      return term
    return self.regularizer(value) + tf.cast(term, value.dtype)


def carry(owner: str, weights: Sequence[keras.Variable],
          terms: List[Term]) -> None:
  """Makes `weights` carry `terms` as regularizers, replacing earlier terms.

  The terms go, in order, to the trainable weights without a regularizer of
  their own first (Keras reads a layer's trainable weights' regularizers,
  in the layer's order), then to the others.

  Args:
    owner: the layer's name, for errors.
    weights: the layer's posterior and prior weights, in creation order.
    terms: the layer's KL terms.

  Raises:
    ValueError: if there are more terms than weights.
  """
  for weight in weights:
    if isinstance(weight.regularizer, DivergenceTerm):
      weight.regularizer = weight.regularizer.regularizer
  if len(terms) > len(weights):
    raise ValueError(f'{owner}: expected a weight to carry each of its '
                     f'{len(terms)} KL terms; received {len(weights)} '
                     'weights.')
  free = sorted(weights, key=lambda w: (w.regularizer is not None,
                                        not w.trainable))
  for weight, term in zip(free, terms):
    weight.regularizer = DivergenceTerm(term, weight.regularizer)
