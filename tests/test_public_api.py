"""tfnx's public boundary: every public name is exported on purpose."""

import types

import pytest

import tfnx
import tfnx.keras
import tfnx.laplace
import tfnx.util

# Public attributes outside `__all__`, each with its reason.
_ALLOWED = {
    # Optional subpackages: they need Keras' TensorFlow backend, so
    # `from tfnx import *` must not import them.
    tfnx: {'keras', 'laplace'},
    # TFP's own test files import `tfnx.util.kernel_bias` by module path.
    tfnx.util: {'kernel_bias'},
    tfnx.keras: set(),
    # The module of the `Laplace` class, named for it as the brief of
    # issue 27 has it; its names are re-exported.
    tfnx.laplace: {'laplace'},
}


def _public(module: types.ModuleType) -> set:
  return {name for name in dir(module) if not name.startswith('_')}


@pytest.mark.parametrize('module', list(_ALLOWED), ids=lambda m: m.__name__)
def test_every_public_attribute_is_exported_or_allowed(module):
  unexpected = _public(module) - set(module.__all__) - _ALLOWED[module]
  assert not unexpected, (
      f'{module.__name__} exposes {sorted(unexpected)}: add them to __all__, '
      'or underscore the internal modules and names.')


@pytest.mark.parametrize('module', list(_ALLOWED), ids=lambda m: m.__name__)
def test_every_exported_name_exists(module):
  missing = [name for name in module.__all__ if not hasattr(module, name)]
  assert not missing, f'{module.__name__}.__all__ names {missing}'


@pytest.mark.parametrize('module', list(_ALLOWED), ids=lambda m: m.__name__)
def test_allow_list_names_only_existing_attributes(module):
  assert _ALLOWED[module] <= _public(module)
