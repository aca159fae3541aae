"""Input validation shared by the metrics and the attacks."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_consistent_length

__all__ = [
    "check_finite_fit",
    "check_finite_scores",
    "check_fit_scale",
    "check_label_indicator",
    "check_model_input",
    "to_dense",
]


def check_label_indicator(y, n_samples, n_labels):
    """Validate a {0, 1} label indicator of shape (n_samples, n_labels); float64 out.

    Parameters
    ----------
    y : {array-like, sparse matrix} of shape (n_samples,) or (n_samples, n_labels)
        Labels; 1-D means one label.
    n_samples : int
        Number of rows y must have.
    n_labels : int
        Number of labels of the model.

    Returns
    -------
    y : ndarray of shape (n_samples, n_labels)
        The labels as float64.
    """
    y = check_array(y, accept_sparse=True, ensure_2d=False, dtype=None, input_name="y")
    if sp.issparse(y):
        y = y.toarray()
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    check_consistent_length(np.empty(n_samples), y)
    if y.shape[1] != n_labels:
        raise ValueError(f"y has {y.shape[1]} label columns, but the model has {n_labels} labels.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must be a {0, 1} label indicator; got other values.")
    return y.astype(np.float64)


def check_model_input(X, n_features, name, *, dense=False):
    """Validate X for a fitted model: 2-D, finite, float64, dense or CSR/CSC, right width.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The input.
    n_features : int or None
        The width the model expects; None skips the check.
    name : str
        The model's name, for the error message.
    dense : bool, default=False
        Return a dense array (models differentiated through their input need one).

    Returns
    -------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    """
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=np.float64, input_name="X")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but {name} is expecting {n_features} features "
            "as input."
        )
    return to_dense(X) if dense else X


def check_fit_scale(X, name):
    """Raise a ValueError when X is too large in magnitude for the linear solvers.

    They work with ``X W^T``, ``X^T g`` and Lipschitz constants built from the squared row
    norms; a row whose squared norm (times the number of rows) overflows float64 would make
    the objective inf or nan. That is the user's data, so it is named as such, before any
    work is done.
    """
    data = X.data if sp.issparse(X) else X
    if data.size == 0:
        return
    peak = float(np.max(np.abs(data)))
    longest = int(np.diff(X.tocsr().indptr).max()) if sp.issparse(X) else X.shape[1]
    with np.errstate(over="ignore"):
        if np.isfinite(peak * peak * longest * X.shape[0]):
            return  # a bound on every row's squared norm: no copy of X needed
        # Scaled, so that the norms themselves do not overflow.
        scaled = X / peak
        sq = np.asarray(scaled.multiply(scaled).sum(axis=1)).ravel() if sp.issparse(X) else (
            np.einsum("ij,ij->i", scaled, scaled)
        )
        worst = int(np.argmax(sq))
        total = peak * peak * sq[worst] * X.shape[0]
    if not np.isfinite(total):
        raise ValueError(
            f"X is too large in magnitude for {name}: the squared L2 norm of row {worst} "
            f"(times the {X.shape[0]} rows) overflows float64 (max |X| = {peak:.3g}). "
            "Scale X first, for example with StandardScaler, MaxAbsScaler or Normalizer."
        )


def check_finite_fit(coef, intercept, name, hint):
    """Raise a ValueError when a fit ended with non-finite coefficients (it diverged)."""
    if np.isfinite(coef).all() and np.isfinite(intercept).all():
        return
    raise ValueError(
        f"{name} diverged: the fitted coefficients are not finite (nan or inf). {hint}"
    )


def check_finite_scores(scores, name, where="X", cause=None):
    """Raise a ValueError naming the model when its decision scores are not all finite.

    A score of nan or inf (a model that overflowed, or a custom model returning nan) would
    otherwise count as a label on the negative side and make every flip, weight or SAE
    silently wrong.
    """
    finite = np.isfinite(scores)
    if finite.all():
        return
    rows = ~finite.reshape(finite.shape[0], -1).all(axis=1)
    kind = "nan" if np.isnan(scores).any() else "inf"
    if cause is None:
        cause = (
            "check the model's weights and its input (values far above 1e150 overflow "
            "float64 arithmetic; scale them down)"
        )
    raise ValueError(
        f"The decision scores of {name} on {where} are not finite ({kind}) for "
        f"{int(rows.sum())} of {rows.size} instances (first: row {int(np.argmax(rows))}). "
        f"Nothing can be scored or attacked from such scores: {cause}."
    )


def to_dense(a):
    """A dense float64 view (or copy, for sparse input) of an array or sparse matrix."""
    return a.toarray() if sp.issparse(a) else np.asarray(a, dtype=np.float64)
