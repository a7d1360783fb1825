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

Keras reads only trainable weights' regularizers, so a term needs a
trainable weight. Where a trainable layer has fewer than it has terms
(fixed posteriors or priors, which make no weight, or weights made
untrainable by their builder), it gets an empty one for each missing: a
trainable weight of shape `(0,)` named `divergence_carrier`, which holds no
number, so neither the outputs nor the optimizer's updates change; it is
in the layer's `trainable_weights`, `.keras` files and checkpoints.
"""

from typing import Any, Callable, List, Optional

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
    if 0 in tuple(value.shape):
      # A carrier's sum, zero, gives the optimizer its (empty) gradient.
      term += tf.cast(tf.reduce_sum(value), term.dtype)
    if self.regularizer is None:
      return term
    return self.regularizer(value) + tf.cast(term, value.dtype)


def carry(layer: keras.layers.Layer, terms: List[Term]) -> None:
  """Makes `layer`'s weights carry `terms`, replacing earlier terms.

  The terms go, in order, to the trainable weights without a regularizer of
  their own first (Keras reads a layer's trainable weights' regularizers,
  in the layer's order), then to the other trainable ones; where these run
  out, to empty carrier weights added to the layer (see the module). A
  frozen layer's terms go to any of its weights, which Keras does not read.

  Args:
    layer: the layer, built but for its carriers; its `weights` are the
      posteriors' and priors' (also of its sublayers) and earlier carriers.
    terms: the layer's KL terms.
  """
  weights = layer.weights
  for weight in weights:
    if isinstance(weight.regularizer, DivergenceTerm):
      weight.regularizer = weight.regularizer.regularizer
  free = sorted((w for w in weights if w.trainable or not layer.trainable),
                key=lambda w: (w.regularizer is not None, not w.trainable))
  with tf.init_scope():
    free += [_add_carrier(layer) for _ in range(len(terms) - len(free))]
  for weight, term in zip(free, terms):
    weight.regularizer = DivergenceTerm(term, weight.regularizer)


def _add_carrier(layer: keras.layers.Layer) -> keras.Variable:
  return layer.add_weight(name='divergence_carrier', shape=(0,),
                          initializer='zeros', trainable=True)
