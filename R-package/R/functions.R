# The functions that are not layers: parameter counts, the blockwise
# initializer, the per-example KL and the conversion of trained networks.

# Calls the Python function `python_fn` with the R values `args`, converted
# as a layer function's are; `fn` names the R function for errors.
call_python <- function(python_fn, args, fn) {
  do.call(python_fn, convert_args(args, fn))
}

#' Number of parameters of the distribution layers
#'
#' How many inputs the distribution layer of the same name needs, e.g. the
#' `units` of the dense layer before it.
#'
#' @param event_size The event's size; for `params_size_independent_*` its
#'   shape (a vector of whole numbers).
#' @param num_components The number of mixture components.
#' @param component_params_size The parameters of one component.
#' @param event_shape The event's shape (a vector of whole numbers).
#' @return A whole number.
#' @examples
#' \donttest{
#' params_size_independent_normal(3)
#' }
#' @name params_size_family
NULL

# `class_name`'s `params_size(args)`; the independent families call their
# event size an `event_shape` in Python.
params_size <- function(class_name, args) {
  fn <- function_name(sys.call(-1), class_name)
  if (!is.null(args$event_size) && startsWith(class_name, "Independent")) {
    args$event_shape <- as_shape(args$event_size, fn, "event_size")
    args$event_size <- NULL
  }
  call_python(tfnx_keras[[class_name]]$params_size, args, fn)
}

#' @rdname params_size_family
#' @export
params_size_independent_normal <- function(event_size) {
  params_size("IndependentNormal", list(event_size = event_size))
}

#' @rdname params_size_family
#' @export
params_size_independent_bernoulli <- function(event_size) {
  params_size("IndependentBernoulli", list(event_size = event_size))
}

#' @rdname params_size_family
#' @export
params_size_independent_logistic <- function(event_size) {
  params_size("IndependentLogistic", list(event_size = event_size))
}

#' @rdname params_size_family
#' @export
params_size_independent_poisson <- function(event_size) {
  params_size("IndependentPoisson", list(event_size = event_size))
}

#' @rdname params_size_family
#' @export
params_size_multivariate_normal_tri_l <- function(event_size) {
  params_size("MultivariateNormalTriL", list(event_size = event_size))
}

#' @rdname params_size_family
#' @export
params_size_one_hot_categorical <- function(event_size) {
  params_size("OneHotCategorical", list(event_size = event_size))
}

#' @rdname params_size_family
#' @export
params_size_categorical_mixture_of_one_hot_categorical <- function(
    event_size, num_components) {
  params_size("CategoricalMixtureOfOneHotCategorical",
              list(event_size = event_size, num_components = num_components))
}

#' @rdname params_size_family
#' @export
params_size_mixture_same_family <- function(num_components,
                                            component_params_size) {
  params_size("MixtureSameFamily",
              list(num_components = num_components,
                   component_params_size = component_params_size))
}

#' @rdname params_size_family
#' @export
params_size_mixture_normal <- function(num_components, event_shape) {
  params_size("MixtureNormal", list(num_components = num_components,
                                    event_shape = event_shape))
}

#' @rdname params_size_family
#' @export
params_size_mixture_logistic <- function(num_components, event_shape) {
  params_size("MixtureLogistic", list(num_components = num_components,
                                      event_shape = event_shape))
}

#' Blockwise initializer
#'
#' Initializes consecutive blocks of a variable's last axis with different
#' initializers (the `tfnx.keras` `BlockwiseInitializer`).
#'
#' @param initializers A list of initializers or their names, one per block.
#' @param sizes The blocks' sizes (a vector of whole numbers).
#' @param validate_args Whether to check that the sizes add up.
#' @return The initializer.
#' @export
initializer_blockwise <- function(initializers, sizes, validate_args = FALSE) {
  call_python(tfnx_keras$BlockwiseInitializer,
              list(initializers = as.list(initializers), sizes = sizes,
                   validate_args = validate_args),
              "initializer_blockwise")
}

#' KL divergence per training example
#'
#' A divergence function for `kernel_divergence_fn` (and
#' `bias_divergence_fn`) that divides the KL by the number of training
#' examples, so `fit` minimizes the per-example negative ELBO. Unlike an R
#' function, it saves and loads with the model.
#'
#' @param num_examples The number of training examples (not the batch size).
#' @param kl_weight The KL's weight; 1 is the ELBO.
#' @param divergence_fn The divergence to scale; default the closed-form KL.
#' @return The divergence function (a `tfnx.keras.KLPerExample`).
#' @examples
#' \donttest{
#' layer <- layer_dense_flipout(units = 4,
#'                              kernel_divergence_fn = kl_per_example(100))
#' }
#' @export
kl_per_example <- function(num_examples, kl_weight = 1,
                           divergence_fn = tfnx_keras$kl_divergence) {
  call_python(tfnx_keras$KLPerExample,
              list(num_examples = num_examples, kl_weight = kl_weight,
                   divergence_fn = divergence_fn),
              "kl_per_example")
}

# `layers` as `to_variational` takes them: a list, positions 0-based.
layer_references <- function(layers, fn) {
  if (is.null(layers) || is_python(layers)) return(layers)
  if (is.numeric(layers))
    return(as.list(as_whole(layers, fn, "layers", 1,
                            "a vector of positive whole numbers", NULL) - 1L))
  as.list(layers)
}

#' Convert a trained network to a Bayesian one
#'
#' `tfnx.keras.to_variational`: a copy of a trained Keras model whose dense
#' and convolution layers are variational, with posteriors centred on the
#' trained weights.
#'
#' @param model The trained Keras model.
#' @param num_examples The number of training examples, scaling the KL.
#' @param estimator `"flipout"`, `"local"` (dense layers only) or
#'   `"reparameterization"`.
#' @param moped_delta The posterior's initial relative scale.
#' @param posterior_scale How that scale is set, `"layer"` or `"weight"`.
#' @param prior `"default"`, the standard normal, or `"moped"`, a normal
#'   around the trained kernel.
#' @param layers The layers to convert, by name, by (1-based) position in
#'   `model$layers` or as the layers; `NULL` for every dense and convolution
#'   layer.
#' @param seed A whole number seeding the new layers, or `NULL`.
#' @return The new model.
#' @export
to_variational <- function(model, num_examples, estimator = "flipout",
                           moped_delta = 0.5, posterior_scale = "layer",
                           prior = "default", layers = NULL, seed = NULL) {
  call_python(tfnx_keras$to_variational,
              list(model = model, num_examples = num_examples,
                   estimator = estimator, moped_delta = moped_delta,
                   posterior_scale = posterior_scale, prior = prior,
                   layers = layer_references(layers, "to_variational"),
                   seed = seed),
              "to_variational")
}
