"""The layers of tfnx's code: which module may import which (docs/layout.md).

Every import in `tfnx/` is read from the source (module-level and
function-level alike): a module imports its own layer or the layers below,
never one above, and no chain of imports comes back to where it started.
Importing `tfnx.a.b` runs the package `tfnx.a` too, so it counts as an
import of both.
"""

import ast
import pathlib
from typing import Dict, Iterator, List, Set

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / 'tfnx'

# Bottom to top. A module belongs to the layer of the longest name here that
# is the module or a package holding it; a new module needs a place.
LAYERS = [
    ('leaves', ['tfnx._checks', 'tfnx._sampling', 'tfnx.seeds',
                'tfnx._shapes', 'tfnx._convolution_args',
                'tfnx.distributions', 'tfnx.initializers']),
    ('linear maps', ['tfnx.linear_maps']),
    ('util', ['tfnx.util']),
    ('core', ['tfnx._layers', 'tfnx._fast_paths', 'tfnx.losses',
              'tfnx.estimators', 'tfnx.rank1',
              'tfnx._convolution_geometry']),
    ('pipeline', ['tfnx._pipeline']),
    ('layers', ['tfnx._variational', 'tfnx._affine', 'tfnx._convolution',
                'tfnx._convolution_transpose', 'tfnx._convolution_v2',
                'tfnx._rank1_layers']),
    ('predictive', ['tfnx.predictive', 'tfnx._vectorized']),
    ('keras', ['tfnx.keras']),
    ('above the layers', ['tfnx.conversion', 'tfnx.keras._conversion',
                          'tfnx.calibration', 'tfnx.metrics',
                          'tfnx.laplace']),
    ('package', ['tfnx']),
]


def _modules() -> Dict[str, pathlib.Path]:
  modules = {}
  for path in ROOT.rglob('*.py'):
    parts = list(path.relative_to(ROOT.parent).with_suffix('').parts)
    if parts[-1] == '__init__':
      parts.pop()
    modules['.'.join(parts)] = path
  return modules


MODULES = _modules()


def _is_package(module: str) -> bool:
  return MODULES[module].name == '__init__.py'


def _within(module: str, package: str) -> bool:
  return module == package or module.startswith(package + '.')


def _layer(module: str) -> int:
  places = [(len(name), index) for index, (_, names) in enumerate(LAYERS)
            for name in names if _within(module, name)]
  assert places, f'{module} has no place in LAYERS (docs/layout.md)'
  return max(places)[1]


def _imported_names(module: str, node: ast.AST) -> Iterator[str]:
  """The tfnx modules (or names in them) an import statement names."""
  if isinstance(node, ast.Import):
    yield from (alias.name for alias in node.names)
  elif isinstance(node, ast.ImportFrom):
    base = node.module or ''
    if node.level:
      package = module.split('.')
      if not _is_package(module):
        package.pop()
      package = package[:len(package) - node.level + 1]
      base = '.'.join(package + ([base] if base else []))
    for alias in node.names:
      name = f'{base}.{alias.name}'
      yield name if name in MODULES else base


def _imports(module: str) -> Set[str]:
  """The tfnx modules `module` runs by importing, packages included."""
  tree = ast.parse(MODULES[module].read_text())
  targets = set()
  for node in ast.walk(tree):
    for name in _imported_names(module, node):
      if not _within(name, 'tfnx'):
        continue
      while name not in MODULES:
        name = name.rsplit('.', 1)[0]
      parts = name.split('.')
      # The packages holding `module`, and the root, run before it does.
      targets.update(
          target for target in ('.'.join(parts[:end])
                                for end in range(2, len(parts) + 1))
          if not _within(module, target))
      if name == 'tfnx':
        targets.add(name)
  targets.discard(module)
  return targets


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles() -> List[List[str]]:
  """Strongly connected components of more than one module (Tarjan)."""
  index, low, stack, on_stack, found = {}, {}, [], set(), []

  def visit(node):
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for other in sorted(GRAPH[node]):
      if other not in index:
        visit(other)
        low[node] = min(low[node], low[other])
      elif other in on_stack:
        low[node] = min(low[node], index[other])
    if low[node] == index[node]:
      component = []
      while True:
        other = stack.pop()
        on_stack.discard(other)
        component.append(other)
        if other == node:
          break
      if len(component) > 1:
        found.append(sorted(component))

  for node in sorted(GRAPH):
    if node not in index:
      visit(node)
  return found


def test_every_module_has_a_place_in_the_layers():
  for module in MODULES:
    _layer(module)


def test_no_chain_of_imports_comes_back_to_its_start():
  assert not _cycles()


@pytest.mark.parametrize('module', sorted(MODULES))
def test_a_module_imports_only_its_layer_and_those_below(module):
  upward = sorted(
      target for target in GRAPH[module]
      if _layer(target) > _layer(module)
      # A package's namespace gathers its own modules, whatever their layer.
      and not (_is_package(module) and _within(target, module)))
  assert not upward, (
      f'{module} ({LAYERS[_layer(module)][0]}) imports '
      + ', '.join(f'{t} ({LAYERS[_layer(t)][0]})' for t in upward))


def test_the_walk_sees_function_level_imports_and_the_packages_they_run():
  source = 'def f():\n  from tfnx.util import _weights\n'
  names = list(_imported_names('tfnx._layers',
                               ast.parse(source).body[0].body[0]))
  assert names == ['tfnx.util._weights']
  assert 'tfnx.util' in GRAPH['tfnx._layers']
