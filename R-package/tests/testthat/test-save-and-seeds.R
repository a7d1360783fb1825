test_that("a model saves to .keras and loads with identical weights", {
  skip_if_no_tfnx()
  keras <- py_keras()
  data <- toy_data()
  model <- sequential(2) %>%
    layer_dense_flipout(units = 3, kernel_divergence_fn = kl_per_example(32),
                        seed = 1) %>%
    layer_dense_reparameterization(units = 1, seed = 2)
  fit_losses(model, data, epochs = 2L)
  path <- tempfile(fileext = ".keras")
  model$save(path)
  loaded <- keras$saving$load_model(path)
  weights <- lapply(model$get_weights(), as.array)
  expect_identical(lapply(loaded$get_weights(), as.array), weights)
  expect_true(is_instance(loaded$layers[[1]]$kernel_divergence_fn,
                          tfnx_python()$KLPerExample))
})

test_that("saving a model holding an R function warns that it cannot be reloaded", {
  skip_if_no_tfnx()
  keras <- py_keras()
  warnings <- reticulate::import("warnings", convert = FALSE)
  model <- sequential(2) %>%
    layer_dense_flipout(units = 1, seed = 1,
                        kernel_divergence_fn = function(q, p, s) q$kl_divergence(p))
  model(toy_data()$x)
  path <- tempfile(fileext = ".keras")
  with(warnings$catch_warnings(record = TRUE) %as% caught, {
    warnings$simplefilter("always")
    model$save(path)
  })
  messages <- vapply(reticulate::py_to_r(caught),
                     function(w) reticulate::py_str(w$message), "")
  expect_true(any(grepl("cannot be reloaded", messages, fixed = TRUE)))
  expect_error(keras$saving$load_model(path),
               "layer_dense_flipout(kernel_divergence_fn): expected a savable function",
               fixed = TRUE)
})

test_that("layers built with the same seed give identical outputs", {
  skip_if_no_tfnx()
  x <- toy_data(n = 4)$x
  outputs <- lapply(1:2, function(i) {
    layer <- layer_dense_flipout(units = 3, seed = 11)
    as_r(layer(x))
  })
  expect_identical(outputs[[1]], outputs[[2]])
  other <- as_r(layer_dense_flipout(units = 3, seed = 12)(x))
  expect_false(identical(other, outputs[[1]]))
})

test_that("a call seed gives identical outputs, eager and traced", {
  skip_if_no_tfnx()
  tf <- reticulate::import("tensorflow")
  x <- tf$constant(toy_data(n = 4)$x, dtype = "float32")
  # Flipout: tfnx's local reparameterization rounds differently traced.
  layer <- layer_dense_flipout(units = 3, seed = 5)
  seed <- tf$constant(c(1L, 2L))
  eager <- as_r(layer(x, seed = seed))
  traced <- as_r(tf$`function`(function(x, seed) layer(x, seed = seed))(x, seed))
  expect_identical(eager, traced)
  expect_identical(as_r(layer(x, seed = seed)), eager)
})
