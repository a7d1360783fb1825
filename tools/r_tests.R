# Runs the R package's testthat tests against the installed package and
# prints the plain count line CI reads, "N passed, N failed, N skipped";
# exits non-zero on any failure or when no test passed.
# Usage: Rscript tools/r_tests.R R-package/tests/testthat
args <- commandArgs(trailingOnly = TRUE)
library(testthat)
results <- as.data.frame(test_dir(args[[1]], package = "tfnx",
                                  load_package = "installed",
                                  reporter = "summary",
                                  stop_on_failure = FALSE))
failed <- results$failed > 0 | results$error
skipped <- !failed & results$skipped
passed <- !failed & !skipped
cat(sprintf("\n%d passed, %d failed, %d skipped\n",
            sum(passed), sum(failed), sum(skipped)))
quit(status = if (any(failed) || !any(passed)) 1 else 0)
