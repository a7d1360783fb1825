"""Shared pytest fixtures and helpers for the tfnx test suite."""

import os
import sys

import pytest

# Tests import the checkout's tfnx, whether or not it is pip-installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def pytest_collection_modifyitems(items):
  """Keeps one parameter set of each parametrized test in the inner loop.

  `pytest -m "not slow"` checks each behaviour once: a parametrized test
  keeps its first parameter set and its others are marked slow. The
  conformance registry chooses its own (`cases.params`: one case per layer
  family). CI's full run, with no marker filter, runs every parameter set.
  """
  seen = set()
  for item in items:
    if not hasattr(item, 'callspec') or 'conformance' in item.path.parts:
      continue
    test = item.nodeid.split('[')[0]
    if test in seen:
      item.add_marker(pytest.mark.slow)
    seen.add(test)
