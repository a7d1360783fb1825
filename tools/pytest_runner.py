"""Runs one test file with pytest as a Bazel test.

Usage: pytest_runner.py TEST_FILE [PYTEST_ARGS...], TEST_FILE as `$(rootpath)`
gives it. Every `py_test` made by `pytest_tests` (tools/py_targets.bzl) has
this file as its main, so Bazel runs exactly the tests `python -m pytest
TEST_FILE` would.
"""

import os
import sys
from typing import Mapping, Sequence

import pytest

_EXTERNAL = 'external/'


def runfiles_path(rootpath: str) -> str:
  """Returns where a `$(rootpath)` file lies in the runfiles, from their cwd.

  Args:
    rootpath: the file's `$(rootpath)`. For a file of an external repository
      (tfnx vendored into a monorepo) Bazel 4 gives `external/REPO/PATH`,
      a legacy second copy of the repository inside the main one; its
      canonical place, where tfnx's own files are imported from, is
      `../REPO/PATH`.

  Returns:
    The path relative to the main repository's runfiles directory, the
    test's working directory.
  """
  if rootpath.startswith(_EXTERNAL):
    return os.path.join('..', rootpath[len(_EXTERNAL):])
  return rootpath


def pytest_args(argv: Sequence[str], environ: Mapping[str, str]) -> list:
  """Returns pytest's arguments for a Bazel test run.

  Args:
    argv: the runner's arguments: the test file's `$(rootpath)`, then extra
      pytest arguments.
    environ: the test's environment; Bazel's `XML_OUTPUT_FILE` and
      `TEST_TMPDIR` send the JUnit report and pytest's temporary directories
      where Bazel collects and cleans them.

  Returns:
    The argument list for `pytest.main`.
  """
  # Bazel runs the targets side by side itself: one process each.
  args = ['-p', 'no:cacheprovider', '-n', '0']
  if 'XML_OUTPUT_FILE' in environ:
    args.append('--junitxml=' + environ['XML_OUTPUT_FILE'])
  if 'TEST_TMPDIR' in environ:
    args.append('--basetemp=' + os.path.join(environ['TEST_TMPDIR'], 'pytest'))
  return args + [runfiles_path(argv[0])] + list(argv[1:])


def exit_code(code: int, argv: Sequence[str]) -> int:
  """The test's exit code from pytest's.

  pytest exits 5 when it runs no test. That fails the test, except where a
  marker expression (`--test_arg=-m --test_arg='not slow'`) deselected every
  test of the file: then there is nothing to run here, by request.

  Args:
    code: pytest's exit code.
    argv: the runner's arguments (the test file, then pytest's).

  Returns:
    The exit code to report to Bazel.
  """
  if code == pytest.ExitCode.NO_TESTS_COLLECTED and '-m' in argv[1:]:
    return 0
  return int(code)


if __name__ == '__main__':
  # The runfiles tree is Bazel's output: keep the bytecode of tfnx and of the
  # tests, which pytest rewrites, out of it (and pytest's cache, above).
  sys.dont_write_bytecode = True
  sys.exit(exit_code(pytest.main(pytest_args(sys.argv[1:], os.environ)),
                     sys.argv[1:]))
