# R values to the Python values tfnx.keras expects, by argument name, and the
# errors that name the function, what it expected and what it received.

# Stops with "<fn>: expected <expected>; received <received>."
stop_argument <- function(fn, expected, received) {
  stop(sprintf("%s: expected %s; received %s.", fn, expected, received),
       call. = FALSE)
}

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.function(x)) return("an R function")
  if (!is.atomic(x)) return(sprintf("an object of class %s", class(x)[[1]]))
  values <- if (is.character(x)) encodeString(x, quote = '"') else
    format(x, digits = 15)
  text <- paste(values, collapse = ", ")
  if (length(x) == 1) text else sprintf("c(%s) (length %d)", text, length(x))
}

is_python <- function(x) inherits(x, "python.builtin.object")

is_whole <- function(x, min) {
  is.numeric(x) && !anyNA(x) && all(is.finite(x)) &&
    all(x == round(x)) && all(x >= min)
}

# `x` as integers, checked: whole numbers at least `min`, and of one of
# `lengths` (`NULL`: any length); `expected` says so in the error.
as_whole <- function(x, fn, arg, min, expected, lengths = 1L) {
  if ((!is.null(lengths) && !length(x) %in% lengths) || !is_whole(x, min))
    stop_argument(fn, sprintf("`%s` to be %s", arg, expected), describe(x))
  as.integer(x)
}

as_count <- function(x, fn, arg) {
  as_whole(x, fn, arg, 1, "a positive whole number")
}

as_seed <- function(x, fn, arg) {
  as_whole(x, fn, arg, 0, "a non-negative whole number or NULL")
}

as_tuple <- function(min, expected) {
  function(x, fn, arg) {
    if (is_python(x)) return(x)
    if (length(x) == 0) return(reticulate::tuple())
    reticulate::tuple(as.list(as_whole(x, fn, arg, min, expected, NULL)))
  }
}

as_shape <- as_tuple(0, "a vector of non-negative whole numbers")

as_axes <- as_tuple(-Inf, "a vector of whole numbers")

as_int_list <- function(x, fn, arg) {
  as.list(as_whole(x, fn, arg, 0, "a vector of non-negative whole numbers",
                   NULL))
}

# A convolution's per-axis argument: one number for all `rank` axes, or one
# for each.
as_spatial <- function(rank) {
  force(rank)
  expected <- if (rank == 1) "a positive whole number" else sprintf(
    "a positive whole number or a vector of %d of them", rank)
  function(x, fn, arg) {
    whole <- as_whole(x, fn, arg, 1, expected, unique(c(1L, rank)))
    reticulate::tuple(as.list(rep_len(whole, rank)))
  }
}

# R functions anywhere in a value become `tfnx_r.RFunction`s, which save with
# a warning, refuse to run off the main thread and declare the R function's
# arguments (`args()` gives a primitive's too).
as_callable <- function(x, fn, arg) {
  if (is_python(x)) return(x)
  if (is.function(x))
    return(r_functions$RFunction(x, sprintf("%s(%s)", fn, arg),
                                 as.list(names(formals(args(x))))))
  if (is.list(x))
    return(lapply(x, as_callable, fn = fn, arg = arg))
  x
}

count_args <- c("units", "filters", "event_size", "num_components",
                "num_inducing_points", "input_dim", "output_dim",
                "num_examples", "component_params_size")

converter_for <- function(arg, rank) {
  if (arg %in% count_args) return(as_count)
  switch(arg,
         seed = as_seed,
         shape = , event_shape = as_shape,
         test_points_reduce_axis = as_axes,
         sizes = as_int_list,
         kernel_size = , strides = , dilation_rate =
           if (is.null(rank)) as_callable else as_spatial(rank),
         as_callable)
}

# `args` (a named list of R values) as tfnx.keras takes them; `fn` names the
# R function for errors and `rank` is a convolution's number of axes.
convert_args <- function(args, fn, rank = NULL) {
  for (arg in names(args)) {
    if (!is.null(args[[arg]]))
      args[arg] <- list(converter_for(arg, rank)(args[[arg]], fn, arg))
  }
  args
}
