"""The generalized Gauss-Newton curvature of the chosen weights, and the Gaussian it makes.

Every chosen layer is a linear map `s = rows @ W~` (`W~ = [kernel; bias]`, so
the Jacobian of the outputs `f` by `W~` is `rows (x) df/ds`, summed over a
convolution's locations. The GGN of a batch is `sum_n J_n^T Lambda_n J_n`,
`Lambda` the Hessian of the negative log likelihood by `f` (`output_hessian`).
Three structures keep it:

- `Diag`: its diagonal;
- `Full`: all of it, one `[P, P]` matrix over every chosen weight;
- `Kron`: per layer `A (x) G` (Ritter et al. 2018), `A` the sum of the rows'
  outer products and `G` the mean of `df/ds^T Lambda df/ds` over the same
  examples and locations, so that one example of a dense layer gives its
  GGN exactly (convolutions: the "expand" approximation).

The posterior precision is `factor * GGN + diag(prior)`, `factor` being
`1 / (temperature * sigma_noise**2)` (see `tfnx.laplace.Laplace`), and each
structure answers the questions the marginal likelihood and the predictive
ask of it: its log determinant, the variance of `f` it implies (and, for
the probit, only the variances of the outputs' differences), samples. Where
the chosen weights are the dense output layer's alone, `f = rows @ W~` and
the covariance of `f` is a quadratic form of the rows with the posterior's
factors: `Diag` and `Kron` answer it without a Jacobian.
"""

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

__all__ = ['output_hessian', 'dense_grads', 'Curvature', 'Diag', 'Kron', 'Full',
           'STRUCTURES']


def output_hessian(likelihood: str, f: tf.Tensor) -> tf.Tensor:
  """The Hessian of the negative log likelihood by the outputs, `[n, c, c]`.

  Args:
    likelihood: `'classification'` (softmax cross entropy: `diag(p) - pp^T`)
      or `'regression'` (unit-variance Gaussian: the identity).
    f: the outputs (logits or means), `[n, c]`.

  Returns:
    `Lambda`, `[n, c, c]`.
  """
  if likelihood == 'classification':
    p = tf.nn.softmax(f)
    return tf.linalg.diag(p) - p[:, :, None] * p[:, None, :]
  return tf.eye(f.shape[-1], batch_shape=[tf.shape(f)[0]], dtype=f.dtype)


def dense_grads(grads: Optional[tf.Tensor], rows: tf.Tensor,
                classes: int) -> tf.Tensor:
  """`df/ds` `[n, c, locations, out]`, the identity written out for `None`.

  Args:
    grads: `df/ds`, or `None` where `s` is the outputs (`c = out`).
    rows: the layer's rows, for the batch size and dtype.
    classes: the layer's `out`, the outputs' size when `grads` is `None`.

  Returns:
    `grads`, or the identity `[n, out, 1, out]`.
  """
  if grads is not None:
    return grads
  eye = tf.eye(classes, dtype=rows.dtype)[None, :, None, :]
  return tf.tile(eye, [tf.shape(rows)[0], 1, 1, 1])


def _pair_variance(f_var: tf.Tensor) -> tf.Tensor:
  """`var(f_c - f_k)`, `[n, c, c]`, from the outputs' covariance `[n, c, c]`."""
  diag = tf.linalg.diag_part(f_var)
  return diag[:, :, None] + diag[:, None, :] - 2. * f_var


def _basis_variance(w: tf.Tensor, q: Optional[tf.Tensor]) -> tf.Tensor:
  """`q diag(w_n) q^T`, `[n, c, c]`, from `w [n, j]`, `q [c, j]` (None: I)."""
  if q is None:
    return tf.linalg.diag(w)
  return (w[:, None, :] * q) @ tf.transpose(q)


def _basis_pair_variance(w: tf.Tensor, q: Optional[tf.Tensor]) -> tf.Tensor:
  """`var(f_c - f_k)` of `q diag(w_n) q^T` without forming it.

  `sum_j w_nj (q_cj - q_kj)^2`: one `[n, j] @ [j, c * c]` product.
  """
  if q is None:
    pairs = w[:, :, None] + w[:, None, :]
    return tf.linalg.set_diag(pairs, tf.zeros_like(w))
  c = q.shape[0]
  gaps = tf.reshape(tf.square(q[:, None, :] - q[None, :, :]), [c * c, -1])
  return tf.reshape(w @ tf.transpose(gaps), [-1, c, c])


def _jacobian(rows: Sequence[tf.Tensor], grads: Sequence[Optional[tf.Tensor]],
              shapes: Sequence[Tuple[int, int]]) -> tf.Tensor:
  """`df/dW~` of every chosen layer, `[n, c, P]`, row-major in each `W~`."""
  parts = []
  for r, g, (_, out) in zip(rows, grads, shapes):
    j = tf.einsum('blk,bclo->bcko', r, dense_grads(g, r, out))
    parts.append(tf.reshape(j, tf.concat([tf.shape(j)[:2], [-1]], 0)))
  return tf.concat(parts, axis=-1)


class Curvature(tf.Module):
  """What the three structures share: the layers' shapes and the prior's expansion.

  Args:
    shapes: each chosen layer's `W~` shape `(K, out)`.
    dtype: the weights' dtype.
  """

  def __init__(self, shapes: Sequence[Tuple[int, int]], dtype: tf.DType):
    super().__init__(name=type(self).__name__.lower())
    self.shapes = [tuple(s) for s in shapes]
    self.sizes = [int(np.prod(s)) for s in self.shapes]
    self.dtype = dtype

  def _zeros(self, shape, name: str) -> tf.Variable:
    return tf.Variable(tf.zeros(shape, self.dtype), trainable=False,
                       name=name)

  def expand(self, prior: tf.Tensor) -> tf.Tensor:
    """A per-layer prior precision `[layers]` as one per weight, `[P]`."""
    return tf.repeat(prior, self.sizes)

  def reset(self) -> None:
    """Sets the curvature to zero."""
    for v in self.variables:
      v.assign(tf.zeros_like(v))

  def finalize(self) -> None:
    """Prepares what predictions reuse, once `update` has seen all data."""

  # The structures' protocol, one method per question (Args throughout:
  # `rows` and `grads` per chosen layer as `_network.Trace` has them,
  # `lam` the output Hessians `[n, c, c]`, `factor` the GGN's multiplier,
  # `prior` the prior precision per layer, `eps` standard normals
  # `[num_samples, P]`).

  def update(self, rows, grads, lam) -> None:
    """Adds one batch's GGN."""
    raise NotImplementedError

  def precision(self, factor, prior) -> Any:
    """The posterior precision, in the structure's own form."""
    raise NotImplementedError

  def log_det(self, factor, prior) -> tf.Tensor:
    """The posterior precision's log determinant."""
    raise NotImplementedError

  def variance(self, factor, prior) -> tf.Tensor:
    """Each weight's marginal posterior variance, `[P]`."""
    raise NotImplementedError

  def functional_variance(self, rows, grads, factor, prior) -> tf.Tensor:
    """`J Sigma J^T` of the outputs, `[n, c, c]`."""
    raise NotImplementedError

  def pair_variance(self, rows, grads, factor, prior) -> tf.Tensor:
    """`var(f_c - f_k)` of the outputs, `[n, c, c]`: what the probit uses."""
    return _pair_variance(self.functional_variance(rows, grads, factor,
                                                   prior))

  def sample(self, eps, factor, prior) -> tf.Tensor:
    """Deviations from the mean with the posterior's covariance, `[n, P]`."""
    raise NotImplementedError


class Diag(Curvature):
  """The GGN's diagonal: a mean-field Gaussian posterior."""

  def __init__(self, shapes, dtype):
    super().__init__(shapes, dtype)
    self.ggn = self._zeros([sum(self.sizes)], 'ggn_diagonal')

  def update(self, rows, grads, lam) -> None:
    j = _jacobian(rows, grads, self.shapes)
    self.ggn.assign_add(tf.einsum('bcp,bcd,bdp->p', j, lam, j))

  def precision(self, factor, prior) -> tf.Tensor:
    """The posterior precision's diagonal, `[P]`."""
    return factor * self.ggn + self.expand(prior)

  def log_det(self, factor, prior) -> tf.Tensor:
    return tf.reduce_sum(tf.math.log(self.precision(factor, prior)))

  def variance(self, factor, prior) -> tf.Tensor:
    return 1. / self.precision(factor, prior)

  def _output_layer_variances(self, rows, grads, factor, prior
                              ) -> Optional[tf.Tensor]:
    """The outputs' variances where only the dense output layer is chosen.

    Its outputs are then uncorrelated, each of variance `rows^2 @ var(W~)`
    `[n, c]`; `None` for any other choice (the Jacobian's general path).
    """
    if len(rows) != 1 or grads[0] is not None or rows[0].shape[1] != 1:
      return None
    var = tf.reshape(self.variance(factor, prior), self.shapes[0])
    return tf.square(rows[0][:, 0]) @ var

  def functional_variance(self, rows, grads, factor, prior) -> tf.Tensor:
    w = self._output_layer_variances(rows, grads, factor, prior)
    if w is not None:
      return _basis_variance(w, None)
    j = _jacobian(rows, grads, self.shapes)
    return tf.einsum('bcp,p,bdp->bcd', j, self.variance(factor, prior), j)

  def pair_variance(self, rows, grads, factor, prior) -> tf.Tensor:
    w = self._output_layer_variances(rows, grads, factor, prior)
    if w is not None:
      return _basis_pair_variance(w, None)
    return super().pair_variance(rows, grads, factor, prior)

  def sample(self, eps, factor, prior) -> tf.Tensor:
    return eps * tf.sqrt(self.variance(factor, prior))


class Full(Curvature):
  """The whole GGN of the chosen weights, `[P, P]`."""

  def __init__(self, shapes, dtype):
    super().__init__(shapes, dtype)
    p = sum(self.sizes)
    self.ggn = self._zeros([p, p], 'ggn')

  def update(self, rows, grads, lam) -> None:
    j = _jacobian(rows, grads, self.shapes)
    lam_j = tf.einsum('bcd,bdq->bcq', lam, j)
    self.ggn.assign_add(tf.einsum('bcp,bcq->pq', j, lam_j))

  def precision(self, factor, prior) -> tf.Tensor:
    """The posterior precision, `[P, P]`."""
    return factor * self.ggn + tf.linalg.diag(self.expand(prior))

  def _cholesky(self, factor, prior) -> tf.Tensor:
    return tf.linalg.cholesky(self.precision(factor, prior))

  def log_det(self, factor, prior) -> tf.Tensor:
    chol = self._cholesky(factor, prior)
    return 2. * tf.reduce_sum(tf.math.log(tf.linalg.diag_part(chol)))

  def variance(self, factor, prior) -> tf.Tensor:
    chol = self._cholesky(factor, prior)
    eye = tf.eye(chol.shape[-1], dtype=self.dtype)
    return tf.linalg.diag_part(tf.linalg.cholesky_solve(chol, eye))

  def functional_variance(self, rows, grads, factor, prior) -> tf.Tensor:
    j = _jacobian(rows, grads, self.shapes)
    shape = tf.shape(j)
    chol = self._cholesky(factor, prior)
    w = tf.linalg.triangular_solve(chol, tf.transpose(
        tf.reshape(j, [-1, shape[-1]])))
    w = tf.reshape(tf.transpose(w), shape)
    return tf.einsum('bcp,bdp->bcd', w, w)

  def sample(self, eps, factor, prior) -> tf.Tensor:
    chol = self._cholesky(factor, prior)
    return tf.transpose(tf.linalg.triangular_solve(
        chol, tf.transpose(eps), adjoint=True))


class Kron(Curvature):
  """Per layer `A (x) G`: a block-diagonal, Kronecker-factored posterior.

  `A` sums the rows' outer products and `G` averages `df/ds^T Lambda df/ds`
  over the same `count` examples and locations (`A (x) G` then sums their
  products as if each factor's mean held for all). `finalize` keeps both
  factors' eigendecompositions, from which every question is answered in
  `O(K^3 + out^3)`: the posterior precision's eigenvalues are
  `factor * a_i * g_j + prior`.
  """

  def __init__(self, shapes, dtype):
    super().__init__(shapes, dtype)
    self.a = [self._zeros([k, k], f'a_{i}') for i, (k, _) in
              enumerate(self.shapes)]
    self.g = [self._zeros([o, o], f'g_{i}') for i, (_, o) in
              enumerate(self.shapes)]
    self.count = [self._zeros([], f'count_{i}') for i in range(len(shapes))]
    # The factors' eigendecompositions, written by `finalize`.
    self.eig_a = [self._zeros([k], f'eig_a_{i}') for i, (k, _) in
                  enumerate(self.shapes)]
    self.vec_a = [self._zeros([k, k], f'vec_a_{i}') for i, (k, _) in
                  enumerate(self.shapes)]
    self.eig_g = [self._zeros([o], f'eig_g_{i}') for i, (_, o) in
                  enumerate(self.shapes)]
    self.vec_g = [self._zeros([o, o], f'vec_g_{i}') for i, (_, o) in
                  enumerate(self.shapes)]

  def update(self, rows, grads, lam) -> None:
    for i, (r, g) in enumerate(zip(rows, grads)):
      self.a[i].assign_add(tf.einsum('blk,blj->kj', r, r))
      locations = tf.cast(tf.shape(r)[1], self.dtype)
      self.count[i].assign_add(tf.cast(tf.shape(r)[0], self.dtype)
                               * locations)
      if g is None:  # The output layer: G sums Lambda.
        self.g[i].assign_add(tf.reduce_sum(lam, axis=0) * locations)
      else:
        self.g[i].assign_add(tf.einsum('bclo,bcd,bdlp->op', g, lam, g))

  def finalize(self) -> None:
    for i in range(len(self.shapes)):
      for m, eig, vec in ((self.a[i], self.eig_a[i], self.vec_a[i]),
                          (self.g[i] / tf.maximum(self.count[i], 1.),
                           self.eig_g[i], self.vec_g[i])):
        e, v = tf.linalg.eigh(m)
        eig.assign(tf.maximum(e, 0.))  # Round-off may leave e < 0.
        vec.assign(v)

  def _eigenvalues(self, factor, prior) -> List[tf.Tensor]:
    """The posterior precision's eigenvalues per layer, `[K, out]`."""
    return [factor * ea[:, None] * eg[None, :] + prior[i]
            for i, (ea, eg) in enumerate(zip(self.eig_a, self.eig_g))]

  def precision(self, factor, prior) -> List[tf.Tensor]:
    """The posterior precision's blocks, one `[P_l, P_l]` per layer."""
    blocks = []
    for lam, qa, qg in zip(self._eigenvalues(factor, prior), self.vec_a,
                           self.vec_g):
      m = tf.einsum('ik,jl,kl,mk,nl->ijmn', qa, qg, lam, qa, qg)
      size = lam.shape[0] * lam.shape[1]
      blocks.append(tf.reshape(m, [size, size]))
    return blocks

  def log_det(self, factor, prior) -> tf.Tensor:
    return tf.add_n([tf.reduce_sum(tf.math.log(lam))
                     for lam in self._eigenvalues(factor, prior)])

  def variance(self, factor, prior) -> tf.Tensor:
    return tf.concat([
        tf.reshape(tf.square(qa) @ (1. / lam) @ tf.transpose(tf.square(qg)),
                   [-1])
        for lam, qa, qg in zip(self._eigenvalues(factor, prior), self.vec_a,
                               self.vec_g)], axis=0)

  def _variance_terms(self, rows, grads, factor, prior) -> List[Any]:
    """Each layer's share of `J Sigma J^T`.

    `[n, c, c]`, or for the output layer `(w, Qg)`, standing for
    `Qg diag(w_n) Qg^T`: no Jacobian, and the probit needs no covariance.
    """
    terms = []
    for r, g, lam, qa, qg in zip(rows, grads,
                                 self._eigenvalues(factor, prior),
                                 self.vec_a, self.vec_g):
      if r.shape[1] == 1:  # Dense: J = rows (x) df/ds has no sum to expand.
        w = tf.square(r[:, 0] @ qa) @ (1. / lam)
        if g is None:  # The output layer.
          terms.append((w, qg))
          continue
        gq = tf.einsum('bco,op->bcp', g[:, :, 0], qg)
        terms.append(tf.einsum('bo,bco,bdo->bcd', w, gq, gq))
      else:
        j = tf.einsum('blk,km,bclo,op->bcmp', r, qa,
                      dense_grads(g, r, qg.shape[0]), qg)
        terms.append(tf.einsum('bcko,ko,bdko->bcd', j, 1. / lam, j))
    return terms

  def functional_variance(self, rows, grads, factor, prior) -> tf.Tensor:
    return tf.add_n([
        _basis_variance(*t) if isinstance(t, tuple) else t
        for t in self._variance_terms(rows, grads, factor, prior)])

  def pair_variance(self, rows, grads, factor, prior) -> tf.Tensor:
    return tf.add_n([
        _basis_pair_variance(*t) if isinstance(t, tuple) else
        _pair_variance(t)
        for t in self._variance_terms(rows, grads, factor, prior)])

  def sample(self, eps, factor, prior) -> tf.Tensor:
    parts = tf.split(eps, self.sizes, axis=-1)
    out = []
    for e, lam, qa, qg in zip(parts, self._eigenvalues(factor, prior),
                              self.vec_a, self.vec_g):
      e = tf.reshape(e, [-1] + list(lam.shape)) / tf.sqrt(lam)
      w = tf.einsum('ik,nkl,jl->nij', qa, e, qg)
      out.append(tf.reshape(w, [tf.shape(eps)[0], -1]))
    return tf.concat(out, axis=-1)


STRUCTURES = {'diag': Diag, 'kron': Kron, 'full': Full}
