"""Input validation shared by the metrics and the attacks."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_consistent_length

__all__ = ["check_label_indicator"]


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
