# The distribution layers, the KL layers, VariableLayer, the variational
# Gaussian process and the autoregressive transform.

# The default of argument `arg` of the tfnx.keras class `class_name`, for
# defaults that tfnx.keras does not export by name.
python_default <- function(class_name, arg) {
  inspect <- reticulate::import("inspect")
  inspect$signature(tfnx_keras[[class_name]])$parameters[[arg]]$default
}

#' Distribution layers
#'
#' Layers whose outputs are distributions, parameterized by their inputs
#' (the `tfnx.keras` layers of the same names): `layer_distribution_lambda()`
#' makes any distribution with `make_distribution_fn` (an R or Python
#' function of the inputs); the others make a given family from
#' `params_size_*()` inputs. A loss receives the output as a distribution,
#' e.g. `function(y, d) -d$log_prob(y)`.
#'
#' @inheritParams layer_dense_variational_family
#' @param make_distribution_fn A function from the layer's inputs to a
#'   distribution.
#' @param convert_to_tensor_fn How the output is read as a tensor by the
#'   next layer: a function of the distribution, e.g. its `sample` (default)
#'   or `mean`.
#' @param event_shape The distribution's event shape (a vector of whole
#'   numbers).
#' @param event_size The distribution's event size (a whole number).
#' @param num_components The number of mixture components.
#' @param component_layer The layer making each mixture component, e.g.
#'   `layer_independent_normal(event_shape = 1)`.
#' @param sample_dtype The dtype of samples, or `NULL` for the default.
#' @param validate_args Whether the distributions check their arguments.
#' @param ... Further arguments of the `tfnx.keras` layer (`name`, `seed`).
#' @return The layer, `object` with the layer added, or the layer's output.
#' @examples
#' \donttest{
#' keras <- reticulate::import("keras")
#' model <- keras$Sequential(list(keras$Input(shape = list(3L)))) %>%
#'   layer_dense_flipout(units = params_size_independent_normal(1)) %>%
#'   layer_independent_normal(event_shape = 1)
#' }
#' @name layer_distribution_family
NULL

convert_to_tensor_argument <- alist(
  convert_to_tensor_fn = tfp$distributions$Distribution$sample)

#' @rdname layer_distribution_family
#' @export
layer_distribution_lambda <- layer_function(
  "DistributionLambda",
  c(alist(make_distribution_fn = ), convert_to_tensor_argument))

independent_layer <- function(class_name, size, discrete = FALSE) {
  layer_function(class_name, c(
    size, convert_to_tensor_argument,
    if (discrete) alist(sample_dtype = NULL), alist(validate_args = FALSE)))
}

#' @rdname layer_distribution_family
#' @export
layer_independent_normal <- independent_layer(
  "IndependentNormal", alist(event_shape = ))

#' @rdname layer_distribution_family
#' @export
layer_independent_bernoulli <- independent_layer(
  "IndependentBernoulli", alist(event_shape = ), discrete = TRUE)

#' @rdname layer_distribution_family
#' @export
layer_independent_logistic <- independent_layer(
  "IndependentLogistic", alist(event_shape = ))

#' @rdname layer_distribution_family
#' @export
layer_independent_poisson <- independent_layer(
  "IndependentPoisson", alist(event_shape = ))

#' @rdname layer_distribution_family
#' @export
layer_multivariate_normal_tri_l <- independent_layer(
  "MultivariateNormalTriL", alist(event_size = ))

#' @rdname layer_distribution_family
#' @export
layer_one_hot_categorical <- independent_layer(
  "OneHotCategorical", alist(event_size = ), discrete = TRUE)

#' @rdname layer_distribution_family
#' @export
layer_categorical_mixture_of_one_hot_categorical <- independent_layer(
  "CategoricalMixtureOfOneHotCategorical",
  alist(event_size = , num_components = ), discrete = TRUE)

#' @rdname layer_distribution_family
#' @export
layer_mixture_same_family <- independent_layer(
  "MixtureSameFamily", alist(num_components = , component_layer = ))

#' @rdname layer_distribution_family
#' @export
layer_mixture_normal <- independent_layer(
  "MixtureNormal", alist(num_components = , event_shape = list()))

#' @rdname layer_distribution_family
#' @export
layer_mixture_logistic <- independent_layer(
  "MixtureLogistic", alist(num_components = , event_shape = list()))

#' KL divergence penalties
#'
#' `layer_kl_divergence_add_loss()` passes its input distribution through
#' and adds `KL(input || distribution_b)` to the model's losses;
#' `layer_kl_divergence_regularizer()` makes the same penalty as an activity
#' regularizer for another layer.
#'
#' @inheritParams layer_dense_variational_family
#' @param distribution_b The distribution to compare with, or a layer or
#'   function making it.
#' @param use_exact_kl Whether to use the closed-form KL (else a Monte Carlo
#'   estimate at `test_points_fn`).
#' @param test_points_reduce_axis Axes of the test points to sum over;
#'   `NULL` for all.
#' @param test_points_fn Draws the test points from the input distribution.
#' @param weight A weight multiplying the penalty, or `NULL`.
#' @return The layer (or regularizer), `object` with the layer added, or the
#'   layer's output.
#' @name layer_kl_divergence_family
NULL

kl_arguments <- function(class_name) {
  c(alist(distribution_b = , use_exact_kl = FALSE,
          test_points_reduce_axis = NULL),
    list(test_points_fn = call("python_default", class_name,
                               "test_points_fn")),
    alist(weight = NULL))
}

#' @rdname layer_kl_divergence_family
#' @export
layer_kl_divergence_add_loss <- layer_function(
  "KLDivergenceAddLoss", kl_arguments("KLDivergenceAddLoss"))

#' @rdname layer_kl_divergence_family
#' @export
layer_kl_divergence_regularizer <- layer_function(
  "KLDivergenceRegularizer", kl_arguments("KLDivergenceRegularizer"))

#' A layer holding one trainable variable
#'
#' The `tfnx.keras` layer `VariableLayer`: it ignores its input and returns
#' its variable, e.g. as the parameters of a prior or posterior in
#' [layer_dense_variational()].
#'
#' @inheritParams layer_dense_variational_family
#' @param shape The variable's shape (a vector of whole numbers).
#' @param dtype The variable's dtype, or `NULL` for Keras' default float.
#' @param initializer The variable's initializer or its name.
#' @param regularizer A regularizer of the variable, or `NULL`.
#' @param constraint A constraint on the variable, or `NULL`.
#' @return The layer, `object` with the layer added, or the layer's output.
#' @export
layer_variable <- layer_function(
  "VariableLayer",
  alist(shape = , dtype = NULL, activation = NULL, initializer = "zeros",
        regularizer = NULL, constraint = NULL))

#' Variational Gaussian process layer
#'
#' The `tfnx.keras` layer `VariationalGaussianProcess`: its output is a
#' variational Gaussian process at the inputs, with learned inducing points.
#'
#' @inheritParams layer_dense_variational_family
#' @param num_inducing_points The number of inducing points.
#' @param kernel_provider A Keras layer with a `kernel` property, the GP's
#'   positive-definite kernel.
#' @param event_shape The GP's event shape.
#' @param inducing_index_points_initializer Initializes the inducing points;
#'   `NULL` for uniform on `[-1, 1]`.
#' @param unconstrained_observation_noise_variance_initializer Initializes
#'   the observation noise variance before softplus: a number or an
#'   initializer (tfprobability's `NULL` meant this default, -10).
#' @param mean_fn The GP's mean function, or `NULL` for zero.
#' @param jitter Added to the kernel's diagonal for stability.
#' @param name The layer's name, or `NULL`.
#' @return The layer, `object` with the layer added, or the layer's output.
#' @export
layer_variational_gaussian_process <- layer_function(
  "VariationalGaussianProcess",
  alist(num_inducing_points = , kernel_provider = , event_shape = 1,
        inducing_index_points_initializer = NULL,
        unconstrained_observation_noise_variance_initializer = -10,
        mean_fn = NULL, jitter = 1e-06, name = NULL))

#' Masked autoregressive flow layer
#'
#' The `tfnx.keras` layer `AutoregressiveTransform`: its input is a
#' distribution, its output that distribution transformed by a masked
#' autoregressive flow whose shift and log-scale `made` computes.
#'
#' @inheritParams layer_dense_variational_family
#' @param made A Keras 3 layer mapping `[..., event_size]` to
#'   `[..., event_size, 2]` autoregressively.
#' @return The layer, `object` with the layer added, or the layer's output.
#' @export
layer_autoregressive_transform <- layer_function(
  "AutoregressiveTransform", alist(made = ))
