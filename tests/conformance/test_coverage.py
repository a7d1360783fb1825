"""Every public layer class of tfnx is in the conformance registry."""

import inspect

import tfnx as tfn

from conformance import cases

_BASES = {tfn.Layer, tfn.Sequential, tfn.VariationalLayer}


def test_every_public_layer_class_has_a_conformance_case():
  public = {obj for _, obj in inspect.getmembers(tfn, inspect.isclass)
            if issubclass(obj, tfn.Layer) and obj not in _BASES}
  covered = {type(case.build()) for case in cases.CASES}
  assert not public - covered, sorted(c.__name__ for c in public - covered)
