test_that("whole doubles become integers", {
  skip_if_no_tfnx()
  layer <- layer_dense_flipout(units = 16)
  expect_identical(layer$units, 16L)
  expect_identical(layer_dense_variational(
    units = 2, make_posterior_fn = function(k, b, d) NULL,
    make_prior_fn = function(k, b, d) NULL)$units, 2L)
})

test_that("NULL stays None", {
  skip_if_no_tfnx()
  expect_null(layer_dense_flipout(units = 2, seed = NULL)$seed)
  expect_null(layer_dense_reparameterization(units = 2)$bias_prior_fn)
})

test_that("vectors become tuples of one number per axis", {
  skip_if_no_tfnx()
  layer <- layer_conv_2d_reparameterization(filters = 2, kernel_size = c(3, 2),
                                            strides = 1)
  expect_identical(layer$kernel_size, list(3L, 2L))
  expect_identical(layer$strides, list(1L, 1L))
  expect_identical(layer_conv_3d_flipout(filters = 1, kernel_size = 2)$kernel_size,
                   list(2L, 2L, 2L))
  expect_identical(layer_variable(shape = c(2, 3))$shape, list(2L, 3L))
  expect_identical(layer_mixture_normal(num_components = 2)$event_shape, list())
})

test_that("a non-whole units is an error naming the function", {
  skip_if_no_tfnx()
  expect_error(layer_dense_flipout(units = 16.5),
               "layer_dense_flipout: expected `units` to be a positive whole number; received 16.5.",
               fixed = TRUE)
})

test_that("a units given as text is an error quoting it", {
  skip_if_no_tfnx()
  expect_error(layer_dense_reparameterization(units = "16"),
               'layer_dense_reparameterization: expected `units` to be a positive whole number; received "16".',
               fixed = TRUE)
})

test_that("a negative filters is an error naming the function", {
  skip_if_no_tfnx()
  expect_error(layer_conv_1d_flipout(filters = -2, kernel_size = 3),
               "layer_conv_1d_flipout: expected `filters` to be a positive whole number; received -2.",
               fixed = TRUE)
})

test_that("a kernel_size of the wrong length is an error naming the function", {
  skip_if_no_tfnx()
  expect_error(
    layer_conv_2d_flipout(filters = 2, kernel_size = c(3, 3, 3)),
    paste("layer_conv_2d_flipout: expected `kernel_size` to be a positive",
          "whole number or a vector of 2 of them; received c(3, 3, 3) (length 3)."),
    fixed = TRUE)
})

test_that("a missing required argument is an error naming it", {
  skip_if_no_tfnx()
  expect_error(layer_independent_normal(),
               "layer_independent_normal: expected a value for `event_shape`; received none.",
               fixed = TRUE)
})

test_that("a zero num_examples or a non-whole seed is an error naming the function", {
  skip_if_no_tfnx()
  expect_error(kl_per_example(num_examples = 0),
               "kl_per_example: expected `num_examples` to be a positive whole number; received 0.",
               fixed = TRUE)
  expect_error(layer_dense_flipout(units = 2, seed = 1.5),
               "layer_dense_flipout: expected `seed` to be a non-negative whole number or NULL; received 1.5.",
               fixed = TRUE)
})

test_that("defaults are tfnx's own Python builders", {
  skip_if_no_tfnx()
  tfk <- tfnx_python()
  layer <- layer_dense_reparameterization(units = 2)
  expect_true(is_instance(layer$kernel_posterior_fn, tfk$MeanFieldNormalFn))
  expect_true(reticulate::py_id(layer$kernel_divergence_fn) ==
                reticulate::py_id(tfk$kl_divergence))
  expect_true(reticulate::py_id(layer$kernel_posterior_tensor_fn) ==
                reticulate::py_id(tfk$posterior_sample))
})
