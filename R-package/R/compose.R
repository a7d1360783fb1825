# Every layer function, made once: its arguments converted (convert.R), the
# tfnx.keras layer built, and keras' composition convention applied.

# `layer` composed with `object` as keras' R layer functions do: `object`
# missing (`NULL`) gives the layer, a Sequential model gets it added and is
# returned, anything else (a tensor, an array) is passed through it.
compose_layer <- function(object, layer) {
  if (is.null(object)) return(layer)
  builtins <- reticulate::import_builtins()
  if (builtins$isinstance(object, keras$Sequential)) {
    object$add(layer)
    return(object)
  }
  layer(object)
}

# The name a call was made by, e.g. "layer_dense_flipout" or
# "tfnx::layer_dense_flipout", for errors.
function_name <- function(call, fallback) {
  head <- call[[1]]
  if (is.name(head) || is.call(head)) deparse(head) else fallback
}

# Builds `tfnx_keras[[class_name]]` from the named R values `args`.
create_layer <- function(class_name, args, fn, rank = NULL) {
  do.call(tfnx_keras[[class_name]], convert_args(args, fn, rank))
}

# The R function for a tfnx.keras class: `object`, then `arguments` (an
# `alist` of names and defaults, tfprobability's order), then `...` passed
# on. Its arguments are converted by name, as convert.R says.
layer_function <- function(class_name, arguments, rank = NULL) {
  force(class_name)
  force(rank)
  build <- function() {
    fn <- function_name(sys.call(), class_name)
    defaults <- formals(sys.function())
    names <- setdiff(names(defaults), c("object", "..."))
    for (name in names) {
      if (identical(defaults[[name]], quote(expr = )) &&
          eval(call("missing", as.name(name))))
        stop_argument(fn, sprintf("a value for `%s`", name), "none")
    }
    args <- c(mget(names, envir = environment()), list(...))
    compose_layer(if (missing(object)) NULL else object,
                  create_layer(class_name, args, fn, rank))
  }
  formals(build) <- c(alist(object = ), arguments, alist(... = ))
  build
}
