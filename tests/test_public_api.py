"""tfnx's public boundary: every public name is exported on purpose."""

import os
import re
import sys
import types

import keras
import pytest

import tfnx
import tfnx.keras
import tfnx.laplace
import tfnx.util
from tfnx.keras import _export

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


def test_tfnx_keras_exports_what_its_definitions_export():
  record = _export.exported()
  assert sorted(record) == tfnx.keras.__all__
  assert sorted(_public(tfnx.keras)) == tfnx.keras.__all__
  for name, obj in record.items():
    assert getattr(tfnx.keras, name) is obj, name


def test_tfnx_keras_imports_every_module_whose_names_it_exports():
  directory = os.path.dirname(tfnx.keras.__file__)
  modules = {'tfnx.keras.' + file[:-3] for file in os.listdir(directory)
             if file.endswith('.py') and file != '__init__.py'}
  assert modules <= set(sys.modules)


def test_exported_keras_classes_save_under_the_tfnx_package():
  classes = [obj for obj in _export.exported().values()
             if isinstance(obj, type) and hasattr(obj, 'get_config')]
  assert classes
  for cls in classes:
    registered = keras.saving.get_registered_name(cls)
    assert registered.split('>')[0] == _export.PACKAGE, cls
    assert keras.saving.get_registered_object(registered) is cls


def test_a_second_object_under_an_exported_name_is_an_error():
  with pytest.raises(ValueError, match="one object named 'DenseFlipout'"):
    _export.export(type('DenseFlipout', (), {}), serializable=False)


_MOST_PROTECTED_ACCESS = 3


def _sources():
  root = os.path.dirname(tfnx.__file__)
  for directory, _, files in os.walk(root):
    for file in files:
      if file.endswith('.py'):
        path = os.path.join(directory, file)
        with open(path, encoding='utf-8') as f:
          yield os.path.relpath(path, root), f.read().splitlines()


def test_tfnx_imports_no_keras_internals():
  imports = [(path, line) for path, lines in _sources() for line in lines
             if re.match(r'\s*(from|import)\s+keras\.src\b', line)]
  assert not imports


def test_protected_access_is_rare_and_each_says_why():
  disables = [(path, lines[i - 1] if i else '')
              for path, lines in _sources() for i, line in enumerate(lines)
              if 'disable=protected-access' in line]
  assert len(disables) <= _MOST_PROTECTED_ACCESS, disables
  # The reason, why no public route exists, is the comment above.
  assert all(above.strip().startswith('#') for _, above in disables), (
      disables)
