# Uncertainty estimates with layer_dense_variational, after tfprobability's
# vignette of that name: a posterior over the weights (epistemic
# uncertainty) and a learned spread of the data (aleatoric), on synthetic
# data. Run: Rscript dense_variational.R (TFNX_EXAMPLE_EPOCHS sets the
# epochs, 300 by default).
library(tfnx)
keras <- reticulate::import("keras")
tfd <- reticulate::import("tensorflow_probability")$distributions
ops <- keras$ops

epochs <- as.integer(Sys.getenv("TFNX_EXAMPLE_EPOCHS", "300"))
set.seed(1)
keras$utils$set_random_seed(1L)

# The data: y = w0 x (1 + sin x) + b0, with noise growing along x.
x_min <- -40
x_max <- 60
n <- 150
w0 <- 0.125
b0 <- 5
normalize <- function(x) (x - x_min) / (x_max - x_min)
x <- as.matrix(x_min + (x_max - x_min) * runif(n))
eps <- rnorm(n) * (3 * (0.25 + normalize(x)^2))
y <- (w0 * x * (1 + sin(x)) + b0) + eps
x_test <- as.matrix(seq(x_min, x_max, length.out = n))

# A trainable prior: a normal whose mean the network learns.
prior_trainable <- function(kernel_size, bias_size = 0, dtype = NULL) {
  n <- kernel_size + bias_size
  keras$Sequential(list(keras$Input(shape = list(1L)))) %>%
    layer_variable(n, dtype = dtype, trainable = TRUE) %>%
    layer_distribution_lambda(function(t) {
      tfd$Independent(tfd$Normal(loc = t, scale = 1),
                      reinterpreted_batch_ndims = 1L)
    })
}

# The posterior: a mean-field normal, its means and scales in one variable.
posterior_mean_field <- function(kernel_size, bias_size = 0, dtype = NULL) {
  n <- kernel_size + bias_size
  c <- log(expm1(1))
  keras$Sequential(list(keras$Input(shape = list(1L)))) %>%
    layer_variable(shape = 2 * n, dtype = dtype) %>%
    layer_distribution_lambda(make_distribution_fn = function(t) {
      parts <- ops$split(t, 2L)
      tfd$Independent(tfd$Normal(loc = parts[[1]],
                                 scale = 1e-5 + ops$softplus(c + parts[[2]])),
                      reinterpreted_batch_ndims = 1L)
    })
}

# Two units: the mean and the (softplus) scale of each prediction.
model <- keras$Sequential(list(keras$Input(shape = list(1L)))) %>%
  layer_dense_variational(units = 2,
                          make_posterior_fn = posterior_mean_field,
                          make_prior_fn = prior_trainable,
                          kl_weight = 1 / n) %>%
  layer_distribution_lambda(function(x) {
    parts <- ops$split(x, 2L, axis = -1L)
    tfd$Normal(loc = parts[[1]], scale = 1e-3 + ops$softplus(0.01 * parts[[2]]))
  })

negloglik <- function(y, model) -model$log_prob(y)
model$compile(optimizer = keras$optimizers$Adam(0.01), loss = negloglik)
history <- model$fit(x, y, epochs = epochs, batch_size = 50L, verbose = 0L)
losses <- unlist(history$history$loss)
cat(sprintf("negative log-likelihood + KL: %.2f after the first epoch, %.2f after the last\n",
            losses[[1]], losses[[length(losses)]]))

# Each call draws new weights: an ensemble of lines, each with its spread.
draws <- lapply(1:20, function(i) model(x_test))
means <- sapply(draws, function(d) as.vector(d$mean()$numpy()))
sds <- sapply(draws, function(d) as.vector(d$stddev()$numpy()))
cat(sprintf("at x = %d: mean %.2f, spread of the means (epistemic) %.2f, mean sd (aleatoric) %.2f\n",
            c(x_min, 10, x_max), means[c(1, n %/% 2, n), 1],
            apply(means, 1, sd)[c(1, n %/% 2, n)],
            rowMeans(sds)[c(1, n %/% 2, n)]), sep = "")
