"""Properties the Bazel build relies on, checked under pytest and under Bazel.

Bazel runs each test file through tools/pytest_runner.py from the runfiles
tree of its py_test; these tests pin that the code under test is the tfnx
next to the tests there, also when tfnx is a monorepo's external repository,
and that the Bazel requirement list stays the one setup.py declares.
"""

import ast
import importlib.metadata
import importlib.util
import os
import pathlib
import re

import tfnx

_ROOT = pathlib.Path(os.path.abspath(__file__)).parent.parent


def _distribution(requirement: str) -> str:
  """Returns the normalized distribution name a requirement string names."""
  name = re.match(r'[A-Za-z0-9][A-Za-z0-9._-]*', requirement.strip()).group()
  return re.sub(r'[-_.]+', '-', name).lower()


def _setup_py_requirements() -> set:
  """Returns the distributions setup.py requires, extras included."""
  tree = ast.parse((_ROOT / 'setup.py').read_text(encoding='utf-8'))
  keywords = {
      keyword.arg: ast.literal_eval(keyword.value)
      for node in ast.walk(tree) if isinstance(node, ast.Call)
      for keyword in node.keywords
      if keyword.arg in ('install_requires', 'extras_require')
  }
  requirements = list(keywords['install_requires'])
  for extra in keywords['extras_require'].values():
    requirements.extend(extra)
  return {_distribution(r) for r in requirements}


def _install_requires() -> set:
  """Returns the distributions setup.py requires at run time."""
  tree = ast.parse((_ROOT / 'setup.py').read_text(encoding='utf-8'))
  return {_distribution(r)
          for node in ast.walk(tree) if isinstance(node, ast.Call)
          for keyword in node.keywords if keyword.arg == 'install_requires'
          for r in ast.literal_eval(keyword.value)}


def _distributions_tfnx_imports() -> set:
  """Returns the installed distributions whose modules tfnx imports."""
  modules = set()
  for path in (_ROOT / 'tfnx').rglob('*.py'):
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
      if isinstance(node, ast.Import):
        modules.update(alias.name.split('.')[0] for alias in node.names)
      elif isinstance(node, ast.ImportFrom) and node.level == 0:
        modules.add(node.module.split('.')[0])
  owners = importlib.metadata.packages_distributions()
  return {_distribution(d) for m in modules for d in owners.get(m, [])}


def _bazel_requirements() -> set:
  """Returns the distributions listed in tools/requirements.txt."""
  lines = (_ROOT / 'tools' / 'requirements.txt').read_text(
      encoding='utf-8').splitlines()
  return {
      _distribution(line) for line in lines
      if line.strip() and not line.lstrip().startswith(('#', '-'))
  }


def test_tfnx_is_imported_from_the_tree_beside_the_tests():
  # abspath, not resolve: under Bazel both files lie in the runfiles tree,
  # whose files are symlinks into the source tree.
  package_root = pathlib.Path(os.path.abspath(tfnx.__file__)).parent.parent
  assert package_root == _ROOT, (
      f'tests import tfnx from {tfnx.__file__}, not from the tree beside them '
      f'({_ROOT / "tfnx"}): an installed copy shadows the code under test')


def test_bazel_requirements_are_the_setup_py_requirements():
  assert _bazel_requirements() == _setup_py_requirements()


def test_runner_runs_an_external_repositorys_test_from_that_repository():
  # Bazel 4's $(rootpath) of an external file points into a legacy copy of
  # the repository inside the main one, away from where tfnx is imported.
  runner = _runner()
  args = runner.pytest_args(['external/tfnx_repo/tests/test_x.py', '-k', 'y'],
                            {})
  assert args[-3:] == ['../tfnx_repo/tests/test_x.py', '-k', 'y']
  assert runner.pytest_args(['tests/test_x.py'], {})[-1] == 'tests/test_x.py'


def test_runner_runs_its_file_in_one_process_whatever_pytest_ini_says():
  # pytest.ini's `-n auto` would start workers in every target Bazel
  # already runs side by side; the later `-n 0` wins.
  args = _runner().pytest_args(['tests/test_x.py'], {})
  assert args[args.index('-n') + 1] == '0'


def test_every_runtime_requirement_is_imported_by_tfnx():
  assert _install_requires() <= _distributions_tfnx_imports()


def _runner():
  spec = importlib.util.spec_from_file_location(
      'pytest_runner', _ROOT / 'tools' / 'pytest_runner.py')
  runner = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(runner)
  return runner


def test_runner_passes_a_file_whose_tests_a_marker_deselected():
  runner = _runner()
  assert runner.exit_code(5, ['tests/test_x.py', '-m', 'not slow']) == 0


def test_runner_fails_a_file_that_collects_no_test():
  runner = _runner()
  assert runner.exit_code(5, ['tests/test_x.py']) == 5
  assert runner.exit_code(1, ['tests/test_x.py', '-m', 'not slow']) == 1
