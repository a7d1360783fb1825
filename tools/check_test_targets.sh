#!/usr/bin/env bash
# Fails unless every tests/**/test_*.py is the test file of a Bazel py_test,
# and lists the files that are not (or the targets whose file is gone).
set -euo pipefail
cd "$(dirname "$0")/.."

files=$(find tests -name 'test_*.py' -not -path '*/__pycache__/*' | sort)
# A py_test's srcs are the shared runner and its test file; a label such as
# //tests:conformance/test_x.py names the path tests/conformance/test_x.py.
targets=$(bazel query \
    'kind("source file", labels(srcs, kind(py_test, //...)))' 2>/dev/null \
  | sed -E 's|^//||; s|^:||; s|:|/|' \
  | grep -E '(^|/)test_[^/]*\.py$' | sort || true)

if [[ "$files" != "$targets" ]]; then
  echo "test files (<) and py_test sources (>) differ:" >&2
  diff <(echo "$files") <(echo "$targets") >&2 || true
  exit 1
fi
echo "bazel: every one of the $(echo "$files" | grep -c .) test files has a py_test"
