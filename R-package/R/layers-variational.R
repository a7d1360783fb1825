# The variational layers: dense, convolution, DenseVariational, recurrent and
# embedding.

# tfprobability's arguments of every dense and convolution layer, after its
# own; the defaults are tfnx's Python builders, so a model saves and loads.
variational_arguments <- alist(
  activation = NULL,
  activity_regularizer = NULL,
  trainable = TRUE,
  kernel_posterior_fn = tfnx_keras$util$default_mean_field_normal_fn(),
  kernel_posterior_tensor_fn = tfnx_keras$posterior_sample,
  kernel_prior_fn = tfnx_keras$util$default_multivariate_normal_fn,
  kernel_divergence_fn = tfnx_keras$kl_divergence,
  bias_posterior_fn =
    tfnx_keras$util$default_mean_field_normal_fn(is_singular = TRUE),
  bias_posterior_tensor_fn = tfnx_keras$posterior_sample,
  bias_prior_fn = NULL,
  bias_divergence_fn = tfnx_keras$kl_divergence)

convolution_arguments <- alist(
  filters = , kernel_size = , strides = 1, padding = "valid",
  data_format = "channels_last", dilation_rate = 1)

convolution_layer <- function(class_name, rank) {
  layer_function(class_name, c(convolution_arguments, variational_arguments),
                 rank = rank)
}

#' Variational dense layers
#'
#' Dense layers whose kernel and bias have learned posterior distributions,
#' drawn by reparameterization, Flipout or local reparameterization (the
#' `tfnx.keras` layers `DenseReparameterization`, `DenseFlipout` and
#' `DenseLocalReparameterization`). Their `losses` hold the KL divergences,
#' which `fit` adds to the loss.
#'
#' @param object What to compose the layer with: missing, the layer is
#'   returned; a Sequential model gets it added and is returned; a tensor is
#'   passed through it.
#' @param units The size of the outputs' last axis (a whole number).
#' @param activation A Keras activation, its name, or `NULL` for none.
#' @param activity_regularizer A regularizer of the outputs, or `NULL`.
#' @param trainable Whether the posterior's variables are trainable.
#' @param kernel_posterior_fn Builds the kernel's posterior,
#'   `(dtype, shape, name, trainable, add_variable_fn)`.
#' @param kernel_posterior_tensor_fn Draws a kernel from its posterior; an R
#'   function of the distribution, or a Python one.
#' @param kernel_prior_fn Builds the kernel's prior; `NULL` for none.
#' @param kernel_divergence_fn `(posterior, prior, sample)` to the KL term,
#'   an R or Python function; e.g. [kl_per_example()].
#' @param bias_posterior_fn Builds the bias's posterior; `NULL` for no bias.
#' @param bias_posterior_tensor_fn Draws a bias from its posterior.
#' @param bias_prior_fn Builds the bias's prior; `NULL` (default) for none.
#' @param bias_divergence_fn As `kernel_divergence_fn`, for the bias.
#' @param seed A whole number seeding the layer's initial weights and calls,
#'   or `NULL`.
#' @param ... Further arguments of the `tfnx.keras` layer (`seed`, `name`,
#'   `dtype`).
#' @return The layer, `object` with the layer added, or the layer's output.
#' @examples
#' \donttest{
#' keras <- reticulate::import("keras")
#' model <- keras$Sequential(list(keras$Input(shape = list(3L)))) %>%
#'   layer_dense_flipout(units = 4, activation = "relu") %>%
#'   layer_dense_reparameterization(units = 1)
#' }
#' @name layer_dense_variational_family
NULL

#' @rdname layer_dense_variational_family
#' @export
layer_dense_reparameterization <- layer_function(
  "DenseReparameterization", c(alist(units = ), variational_arguments))

#' @rdname layer_dense_variational_family
#' @export
layer_dense_flipout <- layer_function(
  "DenseFlipout", c(alist(units = ), variational_arguments,
                    alist(seed = NULL)))

#' @rdname layer_dense_variational_family
#' @export
layer_dense_local_reparameterization <- layer_function(
  "DenseLocalReparameterization", c(alist(units = ), variational_arguments))

#' Variational convolution layers
#'
#' 1-, 2- and 3-dimensional convolutions whose kernel and bias have learned
#' posterior distributions, by reparameterization or Flipout (the
#' `tfnx.keras` layers `Conv1DReparameterization`, ..., `Conv3DFlipout`).
#'
#' @inheritParams layer_dense_variational_family
#' @param filters The number of output channels (a whole number).
#' @param kernel_size The convolution window: one whole number for every
#'   axis, or a vector with one per axis.
#' @param strides The strides, like `kernel_size`.
#' @param padding `"valid"` or `"same"`.
#' @param data_format `"channels_last"` or `"channels_first"`.
#' @param dilation_rate The dilation rates, like `kernel_size`.
#' @return The layer, `object` with the layer added, or the layer's output.
#' @examples
#' \donttest{
#' keras <- reticulate::import("keras")
#' model <- keras$Sequential(list(keras$Input(shape = list(8L, 8L, 1L)))) %>%
#'   layer_conv_2d_flipout(filters = 2, kernel_size = c(3, 3))
#' }
#' @name layer_conv_variational_family
NULL

#' @rdname layer_conv_variational_family
#' @export
layer_conv_1d_reparameterization <-
  convolution_layer("Conv1DReparameterization", 1L)

#' @rdname layer_conv_variational_family
#' @export
layer_conv_1d_flipout <-
  convolution_layer("Conv1DFlipout", 1L)

#' @rdname layer_conv_variational_family
#' @export
layer_conv_2d_reparameterization <-
  convolution_layer("Conv2DReparameterization", 2L)

#' @rdname layer_conv_variational_family
#' @export
layer_conv_2d_flipout <-
  convolution_layer("Conv2DFlipout", 2L)

#' @rdname layer_conv_variational_family
#' @export
layer_conv_3d_reparameterization <-
  convolution_layer("Conv3DReparameterization", 3L)

#' @rdname layer_conv_variational_family
#' @export
layer_conv_3d_flipout <-
  convolution_layer("Conv3DFlipout", 3L)

#' Dense layer with a posterior and prior given as Keras models
#'
#' The `tfnx.keras` layer `DenseVariational`: at build,
#' `make_posterior_fn(kernel_size, bias_size, dtype)` and
#' `make_prior_fn(kernel_size, bias_size, dtype)` (R or Python functions)
#' return models whose outputs are the distributions of the flattened kernel
#' and bias, e.g. [layer_variable()] followed by
#' [layer_distribution_lambda()].
#'
#' @inheritParams layer_dense_variational_family
#' @param make_posterior_fn Makes the posterior model.
#' @param make_prior_fn Makes the prior model.
#' @param kl_weight The KL term's weight, e.g. `1 / n` for `n` training
#'   examples; `NULL` for 1.
#' @param kl_use_exact Whether to use the closed-form KL.
#' @param use_bias Whether the layer has a bias.
#' @return The layer, `object` with the layer added, or the layer's output.
#' @export
layer_dense_variational <- layer_function(
  "DenseVariational",
  alist(units = , make_posterior_fn = , make_prior_fn = , kl_weight = NULL,
        kl_use_exact = FALSE, activation = NULL, use_bias = TRUE))

#' Variational recurrent cells and layer
#'
#' tfnx's variational LSTM and GRU cells (`LSTMCellFlipout`,
#' `LSTMCellReparameterization`, `GRUCellFlipout`,
#' `GRUCellReparameterization`), whose kernels draw one sample per sequence,
#' and `VariationalRNN`, which runs a cell over a sequence.
#'
#' @inheritParams layer_dense_variational_family
#' @param units The size of the cell's state (a whole number).
#' @param reset_after Whether the GRU applies its reset gate after the
#'   recurrent matrix product.
#' @param cell A cell made by one of the `layer_*_cell_*` functions.
#' @param return_sequences Whether to return every step's output.
#' @param return_state Whether to return the final state too.
#' @param go_backwards Whether to run the sequence backwards.
#' @param stateful Whether each batch starts from the last one's state.
#' @param unroll Whether to unroll the loop.
#' @param zero_output_for_mask Whether masked steps output zeros.
#' @param ... Further arguments of the `tfnx.keras` cell or layer, e.g. the
#'   posterior and prior functions of [layer_dense_flipout()].
#' @return The cell or layer, `object` with it added, or its output.
#' @examples
#' \donttest{
#' keras <- reticulate::import("keras")
#' model <- keras$Sequential(list(keras$Input(shape = list(5L, 2L)))) %>%
#'   layer_variational_rnn(layer_lstm_cell_flipout(units = 3))
#' }
#' @name layer_recurrent_variational_family
NULL

#' @rdname layer_recurrent_variational_family
#' @export
layer_lstm_cell_flipout <- layer_function(
  "LSTMCellFlipout", alist(units = ))

#' @rdname layer_recurrent_variational_family
#' @export
layer_lstm_cell_reparameterization <- layer_function(
  "LSTMCellReparameterization", alist(units = ))

#' @rdname layer_recurrent_variational_family
#' @export
layer_gru_cell_flipout <- layer_function(
  "GRUCellFlipout", alist(units = , reset_after = TRUE))

#' @rdname layer_recurrent_variational_family
#' @export
layer_gru_cell_reparameterization <- layer_function(
  "GRUCellReparameterization", alist(units = , reset_after = TRUE))

#' @rdname layer_recurrent_variational_family
#' @export
layer_variational_rnn <- layer_function(
  "VariationalRNN",
  alist(cell = , return_sequences = FALSE, return_state = FALSE,
        go_backwards = FALSE, stateful = FALSE, unroll = FALSE,
        zero_output_for_mask = FALSE))

#' Variational embedding layer
#'
#' tfnx's `EmbeddingReparameterization`: an embedding whose table has a
#' learned posterior, one table drawn per call.
#'
#' @inheritParams layer_dense_variational_family
#' @param input_dim The vocabulary's size (a whole number).
#' @param output_dim The embedding's size (a whole number).
#' @param mask_zero Whether index 0 is a padding value to mask.
#' @param bias_posterior_fn `NULL` (the default): an embedding has no bias.
#' @return The layer, `object` with the layer added, or the layer's output.
#' @export
layer_embedding_reparameterization <- layer_function(
  "EmbeddingReparameterization",
  alist(input_dim = , output_dim = , mask_zero = FALSE,
        bias_posterior_fn = NULL))
