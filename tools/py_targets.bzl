"""Macros that give each test file and each script its own target by glob.

New files under tests/, examples/ and benchmarks/ get targets without any
BUILD edit.
"""

load("@rules_python//python:defs.bzl", "py_binary", "py_library", "py_test")

_PYTEST_RUNNER = Label("//tools:pytest_runner.py")

# Code imports as it does under plain python and pytest. Otherwise Bazel adds
# an empty __init__.py to every folder in the runfiles: pytest would then
# import each test as tests.test_x, with the repository root on sys.path.
_LEGACY_CREATE_INIT = False

def _target_name(src):
    return src[:-len(".py")]

def pytest_tests(name, deps = [], data = [], size = "medium", timeout = "long"):
    """Defines a py_test for each test_*.py in this package and its folders.

    Each test runs its file through pytest (tools/pytest_runner.py) and is
    named by the file's path without `.py`, as `test_affine` or
    `conformance/test_checkpoint`.

    Args:
      name: name of the testonly py_library of everything else in the folder
        (conftest.py, helper modules, data files) that every test depends on.
        It never collides with a test, whose name starts with `test_`.
      deps: what the tests import: the tfnx targets and requirements.
      data: files the tests read from outside this package.
      size: the tests' Bazel size.
      timeout: the tests' Bazel timeout.
    """
    tests = native.glob(["**/test_*.py"], allow_empty = True)
    py_library(
        name = name,
        testonly = True,
        srcs = native.glob(["**/*.py"], exclude = tests, allow_empty = True),
        data = data + native.glob(
            ["**"],
            exclude = ["**/*.py", "**/*.pyc", "BUILD", "BUILD.bazel"],
            allow_empty = True,
        ),
        deps = deps + [Label("//tools:pytest_runner")],
    )
    for src in tests:
        py_test(
            name = _target_name(src),
            srcs = [_PYTEST_RUNNER, src],
            main = _PYTEST_RUNNER,
            args = ["$(rootpath %s)" % src],
            size = size,
            timeout = timeout,
            deps = [":" + name],
            legacy_create_init = _LEGACY_CREATE_INIT,
        )

def py_scripts(name, deps = [], data = []):
    """Defines a py_binary for each *.py in this package, named after it.

    Files starting with `_` are helper modules, not scripts.

    Args:
      name: name of the py_library of all the package's .py files, which
        every binary depends on so that scripts can import the helpers.
      deps: what the scripts import: the tfnx targets and requirements.
      data: files the scripts read.
    """
    srcs = native.glob(["*.py"], allow_empty = True)
    py_library(
        name = name,
        srcs = srcs,
        data = data,
        deps = deps,
    )
    for src in srcs:
        if not src.startswith("_"):
            py_binary(
                name = _target_name(src),
                srcs = [src],
                main = src,
                deps = [":" + name],
                legacy_create_init = _LEGACY_CREATE_INIT,
            )
