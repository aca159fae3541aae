"""Pareto fronts of two scores (clean and under attack): one definition for the whole
package, so that the reproduction's tables and the Displays' plots agree point for point."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

__all__ = ["hypervolume", "pareto_front", "pareto_mask"]


def pareto_mask(clean, adversarial):
    """Mask of the points that no other point dominates (NaN points: False).

    A point is dominated when another one is at least as good on both scores and better on
    one. Equal points are all kept.

    Parameters
    ----------
    clean, adversarial : array-like of shape (n_points,)
        The two scores, greater is better.

    Returns
    -------
    mask : ndarray of bool of shape (n_points,)
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
    """Area of the score plane the points dominate, above the origin (larger is better).

    Parameters
    ----------
    clean, adversarial : array-like of shape (n_points,)
        The two scores of the points (NaN points are ignored).

    Returns
    -------
    area : float
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
    """Indices of the points on the front (:func:`pareto_mask`), by decreasing clean score.

    Along the front the adversarial score increases; equal points are all on it (in index
    order) and NaN points never are.

    Examples
    --------
    >>> from skarm.utils._pareto import pareto_front
    >>> pareto_front([0.7, 0.6, 0.5, 0.65, 0.6], [0.3, 0.5, 0.4, 0.2, 0.5])
    [0, 1, 4]
    """
    c = np.asarray(clean, dtype=float)
    front = np.flatnonzero(pareto_mask(clean, adversarial))
    return [int(i) for i in front[np.argsort(-c[front], kind="stable")]]
