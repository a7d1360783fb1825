#' tfnx: tfprobability's layer functions on Keras 3
#'
#' The `layer_*` functions of the tfprobability R package, with the same
#' argument names, order and defaults, building the Keras 3 layers of the
#' Python package `tfnx.keras`. Each takes `object` first, as keras' layer
#' functions do: missing, it returns the layer; a Sequential model gets the
#' layer added and is returned; a tensor is passed through the layer.
#'
#' R values are converted as R users write them: whole doubles to integers
#' (`units = 16`), `NULL` to `None`, vectors to tuples (`kernel_size = c(3, 3)`),
#' and R functions to Python callables. A model holding an R function trains
#' and predicts, but saving it warns that the file cannot be reloaded, and the
#' function cannot run under a multi-replica strategy (see `docs/r.md`).
#'
#' The Python environment is the one reticulate finds (e.g. through
#' `RETICULATE_PYTHON`); it needs `tfnx`, TensorFlow and TensorFlow
#' Probability, and, with reticulate older than 1.41, NumPy older than 2.
#'
#' @keywords internal
"_PACKAGE"

#' @importFrom magrittr %>%
#' @export
magrittr::`%>%`

# Python modules, imported when first used.
tfnx_keras <- NULL
tfp <- NULL
keras <- NULL
r_functions <- NULL

.onLoad <- function(libname, pkgname) {
  tfnx_keras <<- reticulate::import("tfnx.keras", delay_load = TRUE)
  tfp <<- reticulate::import("tensorflow_probability", delay_load = TRUE)
  keras <<- reticulate::import("keras", delay_load = TRUE)
  r_functions <<- reticulate::import_from_path(
    "tfnx_r", system.file("python", package = pkgname), delay_load = TRUE)
}
