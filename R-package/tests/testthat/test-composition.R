test_that("a missing object gives the layer", {
  skip_if_no_tfnx()
  layer <- layer_dense_reparameterization(units = 3)
  expect_true(is_instance(layer, py_keras()$layers$Layer))
})

test_that("a Sequential model gets the layer added and is returned", {
  skip_if_no_tfnx()
  model <- sequential(2)
  returned <- model %>% layer_dense_flipout(units = 3, seed = 1)
  expect_identical(reticulate::py_id(returned), reticulate::py_id(model))
  expect_length(model$layers, 1)
  expect_equal(unlist(model$output_shape), 3L)
})

test_that("a symbolic tensor is passed through the layer (functional model)", {
  skip_if_no_tfnx()
  keras <- py_keras()
  inputs <- keras$Input(shape = list(2L))
  outputs <- inputs %>%
    layer_dense_local_reparameterization(units = 4, seed = 1) %>%
    layer_dense_reparameterization(units = 1, seed = 2)
  model <- keras$Model(inputs, outputs)
  data <- toy_data()
  expect_loss_falls(fit_losses(model, data))
})

test_that("an R array is passed through the layer", {
  skip_if_no_tfnx()
  out <- toy_data(n = 5)$x %>% layer_dense_flipout(units = 3, seed = 1)
  expect_equal(dim(as_r(out)), c(5L, 3L))
})
