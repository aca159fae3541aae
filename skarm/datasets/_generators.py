"""Synthetic multi-label data whose label boundaries are aligned to a chosen degree."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from scipy.stats import norm
from sklearn.utils import check_random_state

from ..utils._sklearn_compat import Interval, validate_params

__all__ = ["make_correlated_multilabel"]

# Label frequencies are drawn from this range: frequent enough that every label is
# learnable from a few hundred samples, rare enough that labels are not mostly on.
_FREQUENCY_RANGE = (0.15, 0.5)


def _unit_rows(A):
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.where(norms > 0, norms, 1.0)


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_labels": [Interval(Integral, 1, None, closed="left")],
        "correlation": [Interval(Real, 0.0, 1.0, closed="both")],
        "noise": [Interval(Real, 0.0, None, closed="left")],
        "return_directions": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_correlated_multilabel(
    n_samples=200,
    n_features=20,
    n_labels=5,
    *,
    correlation=0.5,
    noise=0.1,
    return_directions=False,
    random_state=None,
):
    """Generate multi-label data whose label decision boundaries are aligned.

    Inputs are standard normal, ``X ~ N(0, I)``. Label ``j`` is a noisy linear threshold,
    ``y_j = 1[w_j . x + b_j + noise * e_j > 0]``, along the unit direction::

        w_j = sqrt(correlation) * s_j * u + sqrt(1 - correlation) * v_j

    with one direction ``u`` shared by all labels, one own direction ``v_j`` per label
    and a random sign ``s_j``. When ``n_features > n_labels``, ``u`` and the ``v_j`` are
    orthonormal, so ``|cos(w_j, w_k)| = correlation`` exactly for ``j != k``: 0 gives
    orthogonal (independent) boundaries, 1 the same boundary up to sign. With fewer
    features the ``v_j`` are random unit vectors and the rows are normalised, so the
    cosines are only close to that. Higher ``correlation`` makes the labels more
    correlated and a model's label boundaries more aligned (more attackable, in
    skarm's sense; see :func:`skarm.metrics.alignment_score`).

    The biases ``b_j`` are set so that label ``j`` is on in a fraction ``p_j`` of the
    samples, with ``p_j`` drawn uniformly from [0.15, 0.5].

    Parameters
    ----------
    n_samples : int, default=200
        Number of samples.
    n_features : int, default=20
        Number of features.
    n_labels : int, default=5
        Number of labels.
    correlation : float, default=0.5
        Alignment of the label directions, in [0, 1]: the absolute cosine between any
        two of them.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to each label's score before
        thresholding; 0 makes the labels exact functions of ``X``.
    return_directions : bool, default=False
        If True, also return the label directions and biases.
    random_state : int, RandomState instance or None, default=None
        Determines random number generation. Pass an int for reproducible output across
        multiple function calls.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The input samples.
    Y : ndarray of shape (n_samples, n_labels)
        The {0, 1} label indicator matrix, int64.
    directions : ndarray of shape (n_labels, n_features)
        The unit directions ``w_j``. Only returned if ``return_directions`` is True.
    biases : ndarray of shape (n_labels,)
        The biases ``b_j``. Only returned if ``return_directions`` is True.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm.datasets import make_correlated_multilabel
    >>> X, Y, W, b = make_correlated_multilabel(
    ...     n_samples=100, n_features=10, n_labels=3, correlation=0.8,
    ...     return_directions=True, random_state=0)
    >>> X.shape, Y.shape
    ((100, 10), (100, 3))
    >>> np.round(np.abs(W @ W.T), 6)
    array([[1. , 0.8, 0.8],
           [0.8, 1. , 0.8],
           [0.8, 0.8, 1. ]])
    """
    rng = check_random_state(random_state)
    if n_features > n_labels:
        # Orthonormal shared and own directions: the cosines are then exactly +-correlation.
        Q, _ = np.linalg.qr(rng.standard_normal((n_features, n_labels + 1)))
        shared, own = Q[:, 0], Q[:, 1:].T
    else:
        shared = _unit_rows(rng.standard_normal((1, n_features)))[0]
        own = _unit_rows(rng.standard_normal((n_labels, n_features)))
    signs = rng.choice([-1.0, 1.0], size=n_labels)
    directions = _unit_rows(
        np.sqrt(correlation) * signs[:, None] * shared[None, :] + np.sqrt(1.0 - correlation) * own
    )
    # w_j . x + noise * e_j ~ N(0, 1 + noise^2), so this bias puts label j on with
    # probability p_j.
    frequencies = rng.uniform(*_FREQUENCY_RANGE, size=n_labels)
    biases = np.sqrt(1.0 + noise**2) * norm.ppf(frequencies)

    X = rng.standard_normal((n_samples, n_features))
    scores = X @ directions.T + biases + noise * rng.standard_normal((n_samples, n_labels))
    Y = (scores > 0).astype(np.int64)
    if return_directions:
        return X, Y, directions, biases
    return X, Y
