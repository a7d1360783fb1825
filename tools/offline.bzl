"""Chooses the downloaded or the local rule repositories as the WORKSPACE loads.

`--config=offline` (.bazelrc) sets `--repo_env=TFNX_OFFLINE=1`: Bazel 4 takes
only absolute paths in `--override_repository`, so the switch is an
environment variable that `offline_flag` turns into the constant `OFFLINE`
for `rule_repositories`.
"""

load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")

# Bazel's own WORKSPACE downloads the first three on first use; tfnx's BUILD
# files load rules_python.
_STAND_INS = [
    "rules_cc",
    "rules_java",
    "remote_coverage_tools",
    "rules_python",
]

def _offline_flag_impl(rctx):
    offline = rctx.os.environ.get("TFNX_OFFLINE", "") == "1"
    rctx.file("BUILD", "")
    rctx.file("flag.bzl", "OFFLINE = %s\n" % offline)

offline_flag = repository_rule(
    implementation = _offline_flag_impl,
    environ = ["TFNX_OFFLINE"],
)

def rule_repositories(offline):
    """Declares rules_python, and offline the stand-ins of third_party/offline.

    Args:
      offline: whether to use the local stand-ins instead of downloading.
    """
    if offline:
        for name in _STAND_INS:
            native.local_repository(
                name = name,
                path = "third_party/offline/" + name,
            )
        return
    http_archive(
        name = "rules_python",
        sha256 = "cd6730ed53a002c56ce4e2f396ba3b3be262fd7cb68339f0377a45e8227fe332",
        url = "https://github.com/bazelbuild/rules_python/releases/download/0.5.0/rules_python-0.5.0.tar.gz",
    )
