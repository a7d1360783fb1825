library(testthat)
library(tfnx)

# The tests, then the plain count line CI reads ("N passed, N failed,
# N skipped", tools/r_check.sh); a failure, or no test passing, fails.
results <- as.data.frame(test_check("tfnx", stop_on_failure = FALSE))
failed <- results$failed > 0 | results$error
skipped <- !failed & results$skipped
passed <- !failed & !skipped
cat(sprintf("\n%d passed, %d failed, %d skipped\n",
            sum(passed), sum(failed), sum(skipped)))
if (any(failed) || !any(passed))
  stop("the R tests failed, or none passed", call. = FALSE)
