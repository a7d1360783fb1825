"""A Python toolchain for the interpreter this machine already runs tfnx with.

Bazel's autodetecting toolchain looks for `python3` on the restricted PATH of
test actions and may find a system interpreter without TensorFlow. This
repository rule instead resolves, when the repository is fetched,
`$PYTHON_BIN_PATH` or else the `python3` on the caller's PATH to the real
executable (`sys.executable`, which sees through pyenv shims), and pins the
toolchain to it.
"""

def _local_python_impl(rctx):
    python = rctx.os.environ.get("PYTHON_BIN_PATH") or rctx.which("python3")
    if not python:
        fail("local_python: no python3 on PATH; set PYTHON_BIN_PATH to the " +
             "interpreter that has tfnx's dependencies")
    result = rctx.execute([python, "-c", "import sys; print(sys.executable)"])
    if result.return_code != 0:
        fail("local_python: %s failed to run: %s" % (python, result.stderr))
    interpreter = result.stdout.strip()
    rctx.file("BUILD", """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")

py_runtime(
    name = "python3",
    interpreter_path = "{interpreter}",
    python_version = "PY3",
    stub_shebang = "#!{interpreter}",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":python3",
)

toolchain(
    name = "toolchain",
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)
""".format(interpreter = interpreter))

local_python = repository_rule(
    implementation = _local_python_impl,
    environ = ["PATH", "PYTHON_BIN_PATH"],
)
