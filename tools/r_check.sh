#!/usr/bin/env bash
# CI's R step (docs/r.md): R and the R packages from Debian, a Python
# environment the installed reticulate can use, then R CMD build and
# R CMD check --no-manual of R-package/, whose test run prints the plain
# "N passed, N failed, N skipped" line shown here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends r-base-core \
  r-cran-reticulate r-cran-testthat r-cran-magrittr >/dev/null

# reticulate before 1.41 cannot convert R arrays with NumPy 2.
numpy=$(Rscript -e 'cat(if (packageVersion("reticulate") < "1.41") "numpy<2" else "numpy")')
env=${TFNX_R_PYTHON:-/tmp/tfnx-r-python}
python -m venv "$env"
"$env/bin/pip" install -qq "$numpy" 'tensorflow==2.21.*' \
  'tensorflow-probability[tf]==0.25.*'
"$env/bin/pip" install -qq --no-deps -e "$root"
export RETICULATE_PYTHON="$env/bin/python" TF_CPP_MIN_LOG_LEVEL=2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
R CMD build "$root/R-package" >/dev/null
status=0
R CMD check --no-manual tfnx_*.tar.gz > check.out 2>&1 || status=$?
grep -E '^\* checking (tests|examples)|^Status' check.out || true
# The count line of the tests' run (testthat.Rout, or .Rout.fail).
grep -hE '^[0-9]+ passed, [0-9]+ failed' tfnx.Rcheck/tests/testthat.Rout* \
  || echo "0 passed, 0 failed"
# R CMD check exits 0 on warnings; a warning or an error fails the step.
if (( status != 0 )) || ! grep -Eq '^Status: (OK|[0-9]+ NOTEs?)$' check.out
then
  cat check.out
  tail -n 60 tfnx.Rcheck/tests/testthat.Rout.fail 2>/dev/null || true
  exit 1
fi
