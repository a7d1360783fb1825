# Arithmetic and comparisons on TensorFlow tensors in R code, as in an R
# divergence function `function(q, p, ignore) q$kl_divergence(p) / n`.
# Registered for TensorFlow's public `tf.Tensor` class, which eager and
# traced tensors share.

ops_functions <- c(
  "+" = "add", "-" = "subtract", "*" = "multiply", "/" = "divide",
  "^" = "power", "%%" = "mod", "%/%" = "floor_divide", "==" = "equal",
  "!=" = "not_equal", "<" = "less", "<=" = "less_equal", ">" = "greater",
  ">=" = "greater_equal", "&" = "logical_and", "|" = "logical_or")

#' Arithmetic on tensors
#'
#' R's arithmetic, comparison and logical operators on TensorFlow tensors,
#' through `keras$ops`, so R functions passed to layers (divergences, losses,
#' distribution makers) can compute with the tensors they receive.
#'
#' @param e1,e2 Tensors or R numbers; `e2` missing for unary `-`, `+`, `!`.
#' @return A tensor.
#' @keywords internal
#' @export
Ops.tensorflow.python.framework.tensor.Tensor <- function(e1, e2) {
  if (missing(e2)) {
    return(switch(.Generic, "-" = keras$ops$negative(e1), "+" = e1,
                  "!" = keras$ops$logical_not(e1),
                  stop_argument(.Generic, "two arguments", "one")))
  }
  keras$ops[[ops_functions[[.Generic]]]](e1, e2)
}
