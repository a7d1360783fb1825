"""`pip_install` for an interpreter that already has every requirement.

Instead of downloading wheels, it turns each requirement of the requirements
file into an empty `py_library` and writes the `requirements.bzl` that
rules_python would, so BUILD files keep their `requirement("name")` deps and a
name missing from the file still fails the build.
"""

_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

def _distribution_name(line):
    """Returns the distribution name a requirement line starts with."""
    for i in range(len(line)):
        if line[i] not in _NAME_CHARS:
            return line[:i]
    return line

def _normalize(name):
    return name.lower().replace("-", "_").replace(".", "_")

def _pip_install_impl(rctx):
    names = []
    for line in rctx.read(rctx.attr.requirements).splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.append(_normalize(_distribution_name(line)))
    rctx.file("BUILD", "\n".join([
        'load("@rules_python//python:defs.bzl", "py_library")',
        "# Empty: the interpreter already provides these distributions.",
        'package(default_visibility = ["//visibility:public"])',
    ] + ['py_library(name = "%s")' % name for name in names]) + "\n")
    rctx.file("requirements.bzl", """\
_NAMES = {names}

def requirement(name):
    key = name.lower().replace("-", "_").replace(".", "_")
    if key not in _NAMES:
        fail("%s is not listed in {requirements}" % name)
    return "@{repo}//:" + key
""".format(
        names = repr(names),
        repo = rctx.name,
        requirements = str(rctx.attr.requirements),
    ))

pip_install = repository_rule(
    implementation = _pip_install_impl,
    attrs = {
        "requirements": attr.label(allow_single_file = True, mandatory = True),
    },
)
