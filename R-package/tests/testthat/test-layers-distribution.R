# Each distribution layer after a dense layer of its params_size, its
# params_size as the family's parameter count.
heads <- list(
  list(layer_independent_normal, list(event_shape = 2), 2 * 2),
  list(layer_independent_bernoulli, list(event_shape = 2), 2),
  list(layer_independent_logistic, list(event_shape = 2), 2 * 2),
  list(layer_independent_poisson, list(event_shape = 2), 2),
  list(layer_multivariate_normal_tri_l, list(event_size = 2), 2 + 2 * 3 / 2),
  list(layer_one_hot_categorical, list(event_size = 3), 3),
  list(layer_categorical_mixture_of_one_hot_categorical,
       list(event_size = 3, num_components = 2), 2 + 2 * 3),
  list(layer_mixture_normal, list(num_components = 2, event_shape = 1),
       2 + 2 * 2),
  list(layer_mixture_logistic, list(num_components = 2, event_shape = 1),
       2 + 2 * 2))

params_sizes <- list(
  function(a) params_size_independent_normal(a$event_shape),
  function(a) params_size_independent_bernoulli(a$event_shape),
  function(a) params_size_independent_logistic(a$event_shape),
  function(a) params_size_independent_poisson(a$event_shape),
  function(a) params_size_multivariate_normal_tri_l(a$event_size),
  function(a) params_size_one_hot_categorical(a$event_size),
  function(a) params_size_categorical_mixture_of_one_hot_categorical(
    a$event_size, a$num_components),
  function(a) params_size_mixture_normal(a$num_components, a$event_shape),
  function(a) params_size_mixture_logistic(a$num_components, a$event_shape))

test_that("each params_size counts its family's parameters", {
  skip_if_no_tfnx()
  for (i in seq_along(heads)) {
    expect_identical(params_sizes[[i]](heads[[i]][[2]]),
                     as.integer(heads[[i]][[3]]))
  }
  expect_identical(params_size_mixture_same_family(3, 4), 3L + 3L * 4L)
})

test_that("each distribution layer outputs a distribution of its family", {
  skip_if_no_tfnx()
  x <- toy_data(n = 4, shape = 3)$x
  for (i in seq_along(heads)) {
    head <- do.call(heads[[i]][[1]], heads[[i]][[2]])
    model <- sequential(3) %>%
      layer_dense_reparameterization(units = params_sizes[[i]](heads[[i]][[2]]),
                                     seed = 1)
    model$add(head)
    distribution <- model(x)
    expect_equal(as.vector(as_r(distribution$batch_shape_tensor())), 4L)
  }
})

test_that("layer_independent_normal fits by negative log-likelihood", {
  skip_if_no_tfnx()
  data <- toy_data()
  model <- sequential(2) %>%
    layer_dense_flipout(units = params_size_independent_normal(1),
                        kernel_divergence_fn = kl_per_example(32), seed = 2) %>%
    layer_independent_normal(event_shape = 1)
  negloglik <- function(y, distribution) -distribution$log_prob(y)
  expect_loss_falls(fit_losses(model, data, loss = negloglik))
})

test_that("layer_mixture_same_family mixes its component layer", {
  skip_if_no_tfnx()
  size <- params_size_mixture_same_family(2, params_size_independent_normal(1))
  model <- sequential(3) %>%
    layer_dense_reparameterization(units = size, seed = 1) %>%
    layer_mixture_same_family(num_components = 2,
                              component_layer = layer_independent_normal(event_shape = 1))
  expect_equal(dim(as_r(model(toy_data(n = 4, shape = 3)$x)$mean())), c(4L, 1L))
})

test_that("layer_distribution_lambda takes an R distribution maker", {
  skip_if_no_tfnx()
  tfd <- reticulate::import("tensorflow_probability")$distributions
  layer <- layer_distribution_lambda(
    make_distribution_fn = function(t) tfd$Normal(loc = t, scale = 1),
    convert_to_tensor_fn = function(d) d$mean())
  out <- sequential(2) %>% layer_dense_reparameterization(units = 1, seed = 1)
  out$add(layer)
  expect_equal(dim(as_r(out(toy_data(n = 3)$x)$mean())), c(3L, 1L))
})

# Applied eagerly: tfnx's KLDivergenceAddLoss does not yet build inside a
# Sequential model (in Python too).
test_that("the KL layers add their penalty to the losses", {
  skip_if_no_tfnx()
  tfd <- reticulate::import("tensorflow_probability")$distributions
  prior <- tfd$Independent(tfd$Normal(loc = c(0, 0), scale = 1),
                           reinterpreted_batch_ndims = 1L)
  x <- toy_data(n = 4, shape = 3)$x
  dense <- layer_dense_reparameterization(units = 4, seed = 1)
  add_loss <- layer_kl_divergence_add_loss(distribution_b = prior,
                                           weight = 1 / 4)
  add_loss(layer_independent_normal(event_shape = 2)(dense(x)))
  expect_length(add_loss$losses, 1)
  head <- layer_independent_normal(
    event_shape = 2,
    activity_regularizer = layer_kl_divergence_regularizer(
      distribution_b = prior, use_exact_kl = TRUE))
  head(dense(x))
  expect_length(head$losses, 1)
})

test_that("layer_autoregressive_transform transforms a distribution", {
  skip_if_no_tfnx()
  keras <- py_keras()
  tfd <- reticulate::import("tensorflow_probability")$distributions
  reticulate::py_run_string(paste(
    "import keras",
    "class ShiftOnly(keras.layers.Layer):",
    "  params = 2",
    "  def call(self, x):",
    "    return keras.ops.stack([keras.ops.zeros_like(x), keras.ops.zeros_like(x)], axis=-1)",
    sep = "\n"))
  made <- reticulate::py$ShiftOnly()
  model <- sequential(2) %>%
    layer_distribution_lambda(function(t) tfd$MultivariateNormalDiag(loc = t)) %>%
    layer_autoregressive_transform(made = made)
  expect_equal(dim(as_r(model(toy_data(n = 3)$x)$sample())), c(3L, 2L))
})

test_that("layer_variational_gaussian_process outputs a process at the inputs", {
  skip_if_no_tfnx()
  reticulate::py_run_string(paste(
    "import keras, tensorflow_probability as tfp",
    "class RBF(keras.layers.Layer):",
    "  @property",
    "  def kernel(self):",
    "    return tfp.math.psd_kernels.ExponentiatedQuadratic()",
    sep = "\n"))
  model <- sequential(1) %>%
    layer_variational_gaussian_process(
      num_inducing_points = 3, kernel_provider = reticulate::py$RBF(),
      event_shape = 1)
  out <- model(matrix(c(0, 0.5, 1), 3, 1))
  expect_equal(length(as_r(out$mean())), 3L)
})

test_that("initializer_blockwise initializes each block by its initializer", {
  skip_if_no_tfnx()
  init <- initializer_blockwise(list("zeros", "ones"), sizes = c(2, 1))
  value <- as_r(init(shape = list(2L, 3L)))
  expect_equal(value, cbind(matrix(0, 2, 2), matrix(1, 2, 1)),
               ignore_attr = TRUE)
})
