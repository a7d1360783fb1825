# Shared by the tests: the Python modules, small models and data.

skip_if_no_tfnx <- function() {
  if (!reticulate::py_module_available("tfnx.keras"))
    skip("the Python package tfnx.keras is not available to reticulate")
}

py_keras <- function() reticulate::import("keras")

tfnx_python <- function() reticulate::import("tfnx.keras")

# Whether `x` is an instance of the Python class `class`.
is_instance <- function(x, class) {
  reticulate::import_builtins()$isinstance(x, class)
}

# A Sequential model that starts with an input of `shape`.
sequential <- function(shape) {
  keras <- py_keras()
  keras$Sequential(list(keras$Input(shape = as.list(as.integer(shape)))))
}

# `n` rows of `shape` inputs and a target that depends on them; fixed seed.
toy_data <- function(n = 32, shape = 2) {
  set.seed(1)
  x <- array(stats::rnorm(n * prod(shape)), c(n, shape))
  y <- matrix(apply(x, 1, sum) + stats::rnorm(n, sd = 0.1), n, 1)
  list(x = x, y = y)
}

# The per-epoch training losses of `model` compiled with `loss` and fitted.
fit_losses <- function(model, data, loss = "mse", epochs = 10L,
                       learning_rate = 0.05) {
  keras <- py_keras()
  keras$utils$set_random_seed(1L)
  model$compile(optimizer = keras$optimizers$Adam(learning_rate), loss = loss)
  history <- model$fit(data$x, data$y, epochs = epochs, batch_size = 16L,
                       verbose = 0L)
  unlist(history$history$loss)
}

# Whether the last epochs' mean loss is below the first epochs'.
expect_loss_falls <- function(losses) {
  k <- max(1L, length(losses) %/% 3L)
  expect_lt(mean(utils::tail(losses, k)), mean(utils::head(losses, k)))
}

# A tensor's value as an R vector (rank 0 or 1) or array.
as_r <- function(tensor) {
  value <- tensor$numpy()
  if (length(dim(value)) <= 1) as.vector(value) else value
}

`%as%` <- reticulate::`%as%`
