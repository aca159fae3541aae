"""Input validation shared by the metrics and the attacks."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_consistent_length

__all__ = ["check_label_indicator", "check_model_input", "to_dense"]


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


def to_dense(a):
    """A dense float64 view (or copy, for sparse input) of an array or sparse matrix."""
    return a.toarray() if sp.issparse(a) else np.asarray(a, dtype=np.float64)
