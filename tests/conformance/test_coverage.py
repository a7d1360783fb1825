"""Every public layer class of tfnx and tfnx.keras is in the conformance registry."""

import inspect

import keras

import tfnx as tfn
import tfnx.keras as tfpl
from tfnx.keras import _variational as keras_variational

from conformance import cases

_BASES = {tfn.Layer, tfn.Sequential, tfn.VariationalLayer,
          keras_variational.KerasVariationalLayer}


def _public_layer_classes(module, base):
  return {obj for _, obj in inspect.getmembers(module, inspect.isclass)
          if issubclass(obj, base) and obj not in _BASES}


def _classes(layer) -> set:
  """The layer's class and, for an RNN, its cells' classes."""
  cell = getattr(layer, 'cell', None)
  cells = [] if cell is None else getattr(cell, 'cells', [cell])
  return {type(layer)} | {type(c) for c in cells}


def test_every_public_layer_class_has_a_conformance_case():
  public = (_public_layer_classes(tfn, tfn.Layer)
            | _public_layer_classes(tfpl, keras.layers.Layer))
  covered = set().union(*(_classes(case.build())
                         for case in cases.CASES + cases.DISTRIBUTION_CASES))
  assert not public - covered, sorted(c.__name__ for c in public - covered)
