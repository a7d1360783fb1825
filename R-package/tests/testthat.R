library(testthat)
library(tfnx)

test_check("tfnx")
