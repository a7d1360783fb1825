#!/usr/bin/env bash
# CI's R step (docs/r.md): R and the R packages from Debian, a Python
# environment the installed reticulate can use, the R package's tests with a
# plain "N passed, N failed" line, then R CMD build and R CMD check.
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
mkdir "$work/lib"
R CMD INSTALL --no-test-load -l "$work/lib" R-package >/dev/null
R_LIBS="$work/lib" Rscript tools/r_tests.R R-package/tests/testthat

cd "$work"
R CMD build "$root/R-package" >/dev/null
R CMD check --no-manual tfnx_*.tar.gz | tee check.out | grep -E '^(\* checking|Status)' || true
# R CMD check exits 0 on warnings; a warning or an error fails the step.
tail -n 1 check.out | grep -Eq '^Status: (OK|[0-9]+ NOTEs?)$' || {
  cat tfnx.Rcheck/00check.log; exit 1; }
