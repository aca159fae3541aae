"""Synthetic multi-label data whose label boundaries are aligned to a chosen degree."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from scipy.stats import norm
from sklearn.utils import check_random_state

from ..utils._sklearn_compat import Count, Interval, validate_params

__all__ = ["make_correlated_multilabel"]

# Label frequencies are drawn from this range: frequent enough that every label is
# learnable from a few hundred samples, rare enough that labels are not mostly on.
_FREQUENCY_RANGE = (0.15, 0.5)

# Largest noise accepted. Far beyond it the labels are pure noise already (at noise=10 the
# signal explains 1% of a score's variance); the bound keeps the biases, which grow with the
# noise's standard deviation, finite floats.
_MAX_NOISE = 1e100


def _unit_rows(A):
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.where(norms > 0, norms, 1.0)


@validate_params(
    {
        "n_samples": [Count(Integral, 1, None, closed="left")],
        "n_features": [Count(Integral, 1, None, closed="left")],
        "n_labels": [Count(Integral, 1, None, closed="left")],
        "correlation": [Interval(Real, 0.0, 1.0, closed="both")],
        "noise": [Interval(Real, 0.0, _MAX_NOISE, closed="both")],
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

    A frequency ``p_j`` is drawn uniformly from [0.15, 0.5] for each label, and the bias
    ``b_j`` is set from the sample so that label ``j`` is on in ``round(p_j * n_samples)``
    of the samples (the nearest count whose share lies in [0.15, 0.5]): with two samples or
    more, every label is on in a share of the samples in that range. A single sample gets
    the population bias instead, which puts label ``j`` on with probability ``p_j``.

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
        thresholding, in [0, 1e100]; 0 makes the labels exact functions of ``X``. The
        signal ``w_j . x`` has standard deviation 1, so a noise of a few units already
        makes the labels mostly noise.
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
    combined = np.sqrt(correlation) * signs[:, None] * shared[None, :] + np.sqrt(
        1.0 - correlation
    ) * own
    # With one feature and correlation=0.5, s_j * u and v_j can cancel exactly: such a label
    # takes the shared direction instead (in one dimension every direction is +-u anyway).
    degenerate = np.linalg.norm(combined, axis=1) == 0
    combined[degenerate] = signs[degenerate, None] * shared[None, :]
    directions = _unit_rows(combined)
    frequencies = rng.uniform(*_FREQUENCY_RANGE, size=n_labels)

    X = rng.standard_normal((n_samples, n_features))
    # w_j . x + noise * e_j ~ N(0, 1 + noise^2); divided by its standard deviation it is
    # O(1) whatever the noise, so nothing overflows.
    scale = np.hypot(1.0, noise)
    scores = (X @ directions.T) / scale + (noise / scale) * rng.standard_normal(
        (n_samples, n_labels)
    )
    thresholds = _thresholds(scores, frequencies)
    Y = (scores > thresholds).astype(np.int64)
    if return_directions:
        return X, Y, directions, -scale * thresholds
    return X, Y


def _thresholds(scores, frequencies):
    """Per-label thresholds on standardised scores that put label j on in a share p_j.

    The share of the sample itself: ``round(p_j * n)`` of the n samples, clipped to the
    counts whose share lies in ``_FREQUENCY_RANGE``, each threshold midway between the
    lowest score on and the highest off. A single sample has no such count, so it gets the
    population threshold (on with probability p_j).
    """
    n_samples = scores.shape[0]
    if n_samples == 1:
        return norm.ppf(1.0 - frequencies)
    low, high = _FREQUENCY_RANGE
    # The counts k with low <= k / n <= high (the 1e-9 absorbs 0.15 * 20 = 3.0000000000000004);
    # there is one from n = 2 on.
    n_on = np.clip(
        np.rint(frequencies * n_samples).astype(np.intp),
        int(np.ceil(low * n_samples - 1e-9)),
        int(np.floor(high * n_samples + 1e-9)),
    )
    thresholds = np.empty(scores.shape[1])
    for j, k in enumerate(n_on):
        # 1 <= k <= n / 2 < n: the last score on and the first off both exist.
        last_off, first_on = np.partition(scores[:, j], (n_samples - k - 1, n_samples - k))[
            [n_samples - k - 1, n_samples - k]
        ]
        thresholds[j] = last_off / 2 + first_on / 2
    return thresholds
