"""The accuracy-robustness trade-off: the unit of the budgets and the fronts of two scores.

:func:`median_row_norm` is the scale every documented budget ``eps`` is a fraction of;
:func:`pareto_mask`, :func:`pareto_front` and :func:`hypervolume` compare models on two
scores (clean and under attack). One definition for the whole package, so that the
reproduction's tables, the Displays' plots and user code agree point for point.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.extmath import row_norms

__all__ = ["hypervolume", "median_row_norm", "pareto_front", "pareto_mask"]


def median_row_norm(X):
    """Return the median L2 norm of the rows of X: the scale budgets are given in.

    A budget ``eps = 0.05 * median_row_norm(X_train)`` moves a typical instance by 5% of its
    length, whatever the units of the features.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data; a sparse matrix is read without densifying it (its memory stays that of X).

    Returns
    -------
    norm : float
        The median row norm.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm.utils import median_row_norm
    >>> median_row_norm(np.array([[3.0, 4.0], [0.0, 1.0], [0.0, 2.0]]))
    2.0
    """
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=np.float64, input_name="X")
    return float(np.median(row_norms(X)))


def pareto_mask(clean, adversarial):
    """Return the mask of the points that no other point dominates (NaN points: False).

    A point is dominated when another one is at least as good on both scores and better on
    one. Equal points are all kept.

    Parameters
    ----------
    clean : array-like of shape (n_points,)
        The score without attack, greater is better.
    adversarial : array-like of shape (n_points,)
        The score under attack, greater is better.

    Returns
    -------
    mask : ndarray of bool of shape (n_points,)
        True for the points on the front.

    Examples
    --------
    >>> from skarm.utils import pareto_mask
    >>> pareto_mask([0.7, 0.6, 0.5], [0.3, 0.5, 0.4])
    array([ True,  True, False])
    """
    c, a = np.asarray(clean, dtype=float), np.asarray(adversarial, dtype=float)
    mask = np.zeros(c.shape, dtype=bool)
    finite = np.flatnonzero(np.isfinite(c) & np.isfinite(a))
    order = finite[np.lexsort((-a[finite], -c[finite]))]  # clean desc, then adversarial desc
    best_before = -np.inf  # the best adversarial score among strictly greater clean scores
    start = 0
    while start < len(order):
        stop = start
        while stop < len(order) and c[order[stop]] == c[order[start]]:
            stop += 1
        group = order[start:stop]
        top = a[group[0]]  # the best adversarial score at this clean score
        if top > best_before:
            mask[group[a[group] == top]] = True
        best_before = max(best_before, top)
        start = stop
    return mask


def hypervolume(clean, adversarial):
    """Return the area of the score plane the points dominate, above the origin.

    Larger is better: one number for a whole set of models' trade-off.

    Parameters
    ----------
    clean : array-like of shape (n_points,)
        The score without attack (NaN points are ignored).
    adversarial : array-like of shape (n_points,)
        The score under attack (NaN points are ignored).

    Returns
    -------
    area : float
        The union of the rectangles ``[0, clean] x [0, adversarial]`` of the points.

    Examples
    --------
    >>> from skarm.utils import hypervolume
    >>> hypervolume([1.0, 0.5], [0.5, 1.0])
    0.75
    """
    c, a = np.asarray(clean, dtype=float), np.asarray(adversarial, dtype=float)
    front = np.flatnonzero(pareto_mask(c, a))
    front = front[np.argsort(a[front], kind="stable")]  # adversarial up, clean down
    area, previous = 0.0, 0.0
    for i in front:
        area += c[i] * (a[i] - previous)
        previous = a[i]
    return float(area)


def pareto_front(clean, adversarial):
    """Return the indices of the points on the front, by decreasing clean score.

    Along the front the adversarial score increases; equal points are all on it (in index
    order) and NaN points never are (see :func:`pareto_mask`).

    Parameters
    ----------
    clean : array-like of shape (n_points,)
        The score without attack.
    adversarial : array-like of shape (n_points,)
        The score under attack.

    Returns
    -------
    indices : list of int
        The front, from the most accurate point to the most robust.

    Examples
    --------
    >>> from skarm.utils import pareto_front
    >>> pareto_front([0.7, 0.6, 0.5, 0.65, 0.6], [0.3, 0.5, 0.4, 0.2, 0.5])
    [0, 1, 4]
    """
    c = np.asarray(clean, dtype=float)
    front = np.flatnonzero(pareto_mask(clean, adversarial))
    return [int(i) for i in front[np.argsort(-c[front], kind="stable")]]
