test_that("an R divergence function is called and trains under fit", {
  skip_if_no_tfnx()
  calls <- 0
  divergence <- function(q, p, ignore) {
    calls <<- calls + 1
    q$kl_divergence(p) / 32
  }
  data <- toy_data()
  model <- sequential(2) %>%
    layer_dense_flipout(units = 1, kernel_divergence_fn = divergence, seed = 1)
  expect_loss_falls(fit_losses(model, data))
  expect_gt(calls, 0)
  model(data$x)
  expected <- as_r(model$layers[[1]]$kernel_posterior$kl_divergence(
    model$layers[[1]]$kernel_prior)) / 32
  expect_equal(as_r(model$losses[[1]]), expected, tolerance = 1e-6)
})

test_that("an R posterior tensor function draws the kernel", {
  skip_if_no_tfnx()
  layer <- layer_dense_reparameterization(
    units = 2, kernel_posterior_tensor_fn = function(d) d$mean(), seed = 1)
  x <- toy_data(n = 3)$x
  expect_equal(as_r(layer(x)), as_r(layer(x)))
})

test_that("an R function called off the main thread raises instead of crashing R", {
  skip_if_no_tfnx()
  layer <- layer_dense_flipout(units = 1,
                               kernel_divergence_fn = function(q, p, s) 0)
  reticulate::py_run_string(paste(
    "import threading",
    "def call_in_thread(fn):",
    "  errors = []",
    "  def run():",
    "    try:",
    "      fn(None, None, None)",
    "    except RuntimeError as e:",
    "      errors.append(str(e))",
    "  thread = threading.Thread(target=run)",
    "  thread.start()",
    "  thread.join()",
    "  return errors",
    sep = "\n"))
  errors <- reticulate::py$call_in_thread(layer$kernel_divergence_fn)
  expect_length(errors, 1)
  expect_match(errors[[1]], "layer_dense_flipout(kernel_divergence_fn): expected to be called on the main thread",
               fixed = TRUE)
  expect_match(errors[[1]], "MirroredStrategy", fixed = TRUE)
})

test_that("an R divergence under MirroredStrategy raises a clear error and R survives", {
  skip_if_no_tfnx()
  # A fresh R process: the two logical CPUs must be set before TensorFlow
  # starts.
  script <- tempfile(fileext = ".R")
  writeLines(c(
    "library(tfnx)",
    "tf <- reticulate::import('tensorflow')",
    "keras <- reticulate::import('keras')",
    "cpu <- tf$config$list_physical_devices('CPU')[[1]]",
    "tf$config$set_logical_device_configuration(cpu, list(",
    "  tf$config$LogicalDeviceConfiguration(),",
    "  tf$config$LogicalDeviceConfiguration()))",
    "strategy <- tf$distribute$MirroredStrategy(list('/cpu:0', '/cpu:1'))",
    "with(strategy$scope(), {",
    "  model <- keras$Sequential(list(keras$Input(shape = list(2L)))) %>%",
    "    layer_dense_flipout(units = 1, seed = 1,",
    "      kernel_divergence_fn = function(q, p, s) q$kl_divergence(p))",
    "  model$compile(optimizer = 'adam', loss = 'mse')",
    "})",
    "x <- matrix(rnorm(16), 8, 2)",
    "y <- matrix(rnorm(8), 8, 1)",
    "message(tryCatch({model$fit(x, y, epochs = 1L, verbose = 0L); 'ran'},",
    "                 error = conditionMessage))",
    "message('R survived')"), script)
  output <- system2(file.path(R.home("bin"), "Rscript"), script,
                    stdout = TRUE, stderr = TRUE,
                    env = sprintf("R_LIBS=%s",
                                  paste(.libPaths(), collapse = ":")))
  output <- paste(output, collapse = "\n")
  expect_match(output, "kernel_divergence_fn): expected to be called on the main thread",
               fixed = TRUE)
  expect_match(output, "R survived", fixed = TRUE)
})

test_that("arithmetic on tensors in R follows keras ops", {
  skip_if_no_tfnx()
  keras <- py_keras()
  a <- keras$ops$convert_to_tensor(c(1, 2, 4))
  expect_equal(as_r(a / 2), c(0.5, 1, 2))
  expect_equal(as_r(-a + 1), c(0, -1, -3))
  expect_equal(as_r(2 * a - a), c(1, 2, 4))
  expect_equal(as_r(a^2), c(1, 4, 16))
  expect_equal(as_r(a > 1), c(FALSE, TRUE, TRUE))
})

test_that("an R tensor function with a seed argument gets the call's seed", {
  skip_if_no_tfnx()
  tf <- reticulate::import("tensorflow")
  layer <- layer_dense_reparameterization(
    units = 2, kernel_posterior_tensor_fn = function(d, seed) d$sample(seed = seed))
  x <- toy_data(n = 3)$x
  first <- as_r(layer(x, seed = tf$constant(c(1L, 2L))))
  expect_identical(as_r(layer(x, seed = tf$constant(c(1L, 2L)))), first)
  expect_false(identical(as_r(layer(x, seed = tf$constant(c(1L, 3L)))), first))
})
