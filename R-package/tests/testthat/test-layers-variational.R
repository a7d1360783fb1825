dense_layers <- list(
  layer_dense_reparameterization = layer_dense_reparameterization,
  layer_dense_flipout = layer_dense_flipout,
  layer_dense_local_reparameterization = layer_dense_local_reparameterization)

convolution_layers <- list(
  list(layer_conv_1d_reparameterization, c(6, 1)),
  list(layer_conv_1d_flipout, c(6, 1)),
  list(layer_conv_2d_reparameterization, c(4, 4, 1)),
  list(layer_conv_2d_flipout, c(4, 4, 1)),
  list(layer_conv_3d_reparameterization, c(3, 3, 3, 1)),
  list(layer_conv_3d_flipout, c(3, 3, 3, 1)))

test_that("each dense layer fits with the loss falling and holds its KL", {
  skip_if_no_tfnx()
  data <- toy_data()
  for (name in names(dense_layers)) {
    model <- sequential(2) %>%
      dense_layers[[name]](units = 1, kernel_divergence_fn = kl_per_example(32),
                           seed = 3)
    expect_loss_falls(fit_losses(model, data))
    model(data$x)
    expect_length(model$losses, 1)
    expect_gt(as_r(model$losses[[1]]), 0)
  }
})

test_that("each convolution layer fits with the loss falling and holds its KL", {
  skip_if_no_tfnx()
  keras <- py_keras()
  for (layer in convolution_layers) {
    data <- toy_data(n = 16, shape = layer[[2]])
    model <- sequential(layer[[2]]) %>%
      layer[[1]](filters = 2, kernel_size = 2,
                 kernel_divergence_fn = kl_per_example(16), seed = 4)
    model$add(keras$layers$Flatten())
    model$add(keras$layers$Dense(1L))
    expect_loss_falls(fit_losses(model, data, epochs = 6L))
    model(data$x)
    expect_length(model$losses, 1)
  }
})

test_that("layer_dense_variational trains with R posterior and prior makers", {
  skip_if_no_tfnx()
  tfd <- reticulate::import("tensorflow_probability")$distributions
  posterior <- function(kernel_size, bias_size = 0, dtype = NULL) {
    n <- kernel_size + bias_size
    sequential(1) %>%
      layer_variable(shape = 2 * n, dtype = dtype) %>%
      layer_distribution_lambda(function(t) {
        parts <- py_keras()$ops$split(t, 2L)
        tfd$Independent(tfd$Normal(loc = parts[[1]],
                                   scale = 1e-5 + py_keras()$ops$softplus(parts[[2]])),
                        reinterpreted_batch_ndims = 1L)
      })
  }
  prior <- function(kernel_size, bias_size = 0, dtype = NULL) {
    n <- kernel_size + bias_size
    sequential(1) %>%
      layer_variable(shape = n, dtype = dtype, trainable = FALSE) %>%
      layer_distribution_lambda(function(t) {
        tfd$Independent(tfd$Normal(loc = t, scale = 1),
                        reinterpreted_batch_ndims = 1L)
      })
  }
  data <- toy_data()
  model <- sequential(2) %>%
    layer_dense_variational(units = 1, make_posterior_fn = posterior,
                            make_prior_fn = prior, kl_weight = 1 / 32)
  expect_loss_falls(fit_losses(model, data))
  model(data$x)
  expect_length(model$losses, 1)
})

test_that("the recurrent cells run in layer_variational_rnn and train", {
  skip_if_no_tfnx()
  cells <- list(layer_lstm_cell_flipout, layer_lstm_cell_reparameterization,
                layer_gru_cell_flipout, layer_gru_cell_reparameterization)
  data <- toy_data(n = 16, shape = c(3, 2))
  for (cell in cells) {
    model <- sequential(c(3, 2)) %>%
      layer_variational_rnn(cell(units = 2, seed = 5)) %>%
      layer_dense_reparameterization(units = 1, seed = 6)
    expect_loss_falls(fit_losses(model, data, epochs = 6L))
    model(data$x)
    expect_gte(length(model$losses), 1)
  }
})

test_that("layer_embedding_reparameterization embeds indices and holds its KL", {
  skip_if_no_tfnx()
  layer <- layer_embedding_reparameterization(input_dim = 5, output_dim = 3,
                                              seed = 7)
  out <- layer(matrix(c(0L, 1L, 4L, 2L), 2, 2))
  expect_equal(dim(as_r(out)), c(2L, 2L, 3L))
  expect_length(layer$losses, 1)
})

test_that("to_variational converts a trained dense network", {
  skip_if_no_tfnx()
  keras <- py_keras()
  model <- sequential(2)
  model$add(keras$layers$Dense(3L))
  model$add(keras$layers$Dense(1L))
  converted <- to_variational(model, num_examples = 32, seed = 1)
  expect_true(is_instance(converted$layers[[1]], tfnx_python()$DenseFlipout))
  converted(toy_data()$x)
  expect_length(converted$losses, 2)
})

test_that("the layer_dense_variational example runs and its loss falls", {
  skip_if_no_tfnx()
  example <- system.file("examples", "dense_variational.R", package = "tfnx")
  previous <- Sys.getenv("TFNX_EXAMPLE_EPOCHS", unset = NA)
  Sys.setenv(TFNX_EXAMPLE_EPOCHS = "15")
  on.exit(if (is.na(previous)) Sys.unsetenv("TFNX_EXAMPLE_EPOCHS")
          else Sys.setenv(TFNX_EXAMPLE_EPOCHS = previous))
  env <- new.env()
  expect_output(source(example, local = env), "negative log-likelihood")
  expect_loss_falls(env$losses)
  expect_equal(dim(env$means), c(150L, 20L))
})

test_that("to_variational takes layers by name or by 1-based position", {
  skip_if_no_tfnx()
  keras <- py_keras()
  model <- sequential(2)
  model$add(keras$layers$Dense(3L, name = "first"))
  model$add(keras$layers$Dense(1L, name = "second"))
  by_position <- to_variational(model, num_examples = 32, layers = 2)
  by_name <- to_variational(model, num_examples = 32, layers = "second")
  for (converted in list(by_position, by_name)) {
    expect_false(is_instance(converted$layers[[1]], tfnx_python()$DenseFlipout))
    expect_true(is_instance(converted$layers[[2]], tfnx_python()$DenseFlipout))
  }
})
