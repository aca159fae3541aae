"""Soft Attackability Estimator (paper Eq. 9-14): the per-label weights and the score.

The SAE of an instance is ``max_S ||sum_{j in S} a_j||`` with ``a_j = c_j grad_x h_j(x)``;
only the weights ``c_j`` differ between the metric and the training penalty:

* metric (Eq. 12): ``c_j = -1 / h_j(x)``; with ``reference="label"`` (y given) only labels
  with ``y_j h_j(x) > 0`` count (doc: alg-sae);
* ARM-SAE penalty (Eq. 13-14): ``c_j = -y_j / max(exp(y_j h_j(x)), alpha)`` (or the
  authors' code's soft cap, :func:`arm_sae_label_weights`).

Either way the search is :func:`skarm._greedy.greedy_subset_norm` on ``diag(c) K diag(c)``.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from ._greedy import greedy_subset_norm
from .utils._validation import check_finite_scores

__all__ = [
    "arm_sae_label_weights",
    "sae_label_weights",
    "soft_attackability_values",
]

# |h_j(x)| below this is clamped (sign kept, 0 counted as negative) before 1/h_j is taken.
DEFAULT_DELTA = 1e-8


def sae_label_weights(scores, y=None, *, delta=DEFAULT_DELTA):
    """Weights ``c_j = -1 / h_j`` of the SAE vectors ``a_j = c_j grad h_j`` (Eq. 12).

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_labels)
        Decision scores ``h(x)``.
    y : ndarray of shape (n_samples, n_labels), default=None
        {0, 1} label indicator. If given, labels the model already gets wrong
        (``y_j h_j <= 0``, with y in {-1, +1}) get weight 0 (``reference="label"``).
    delta : float, default=1e-8
        Scores with ``|h_j| < delta`` are clamped to ``+/-delta``; 0 counts as negative, as
        the prediction does.

    Returns
    -------
    weights : ndarray of shape (n_samples, n_labels)
    n_clamped : int
        Number of clamped scores (among the labels that count).
    """
    scores = np.asarray(scores, dtype=np.float64)
    sign = np.where(scores > 0, 1.0, -1.0)
    near = np.abs(scores) < delta
    if y is not None:
        counts = (2.0 * np.asarray(y, dtype=np.float64) - 1.0) * scores > 0
        near &= counts
    clamped = np.where(near, sign * delta, scores)
    weights = -1.0 / clamped
    if y is not None:
        weights = np.where(counts, weights, 0.0)
    return weights, int(near.sum())


# Past this margin the "soft" weight is e^-t: e^t and the log overflow together beyond it.
SOFT_LARGE_MARGIN = 30.0


def arm_sae_label_weights(scores, y_signed, margin_floor, weighting="floor"):
    """Signed weights ``-y_j c_j`` of the ARM-SAE vectors (Eq. 13-14) and their slope in h.

    ``c_j`` is a decreasing function of the margin ``t = y_j h_j``:

    * "floor" (the paper, Eq. 13): ``c = 1 / max(exp(t), margin_floor)``, capped at
      ``1 / margin_floor``, with slope 0 where the cap is active;
    * "soft" (the authors' released code): ``c = 1 / log(exp(margin_floor) + exp(exp(t)))``,
      smooth, capped near ``1 / log(1 + exp(margin_floor))`` (1.43 for 0.01).

    Both are ``~exp(-t)`` for large margins.

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_labels)
        Decision scores ``h(x)``.
    y_signed : ndarray of shape (n_samples, n_labels)
        Labels in {-1, +1}.
    margin_floor : float
        The paper's alpha.
    weighting : {"floor", "soft"}, default="floor"

    Returns
    -------
    weights : ndarray of shape (n_samples, n_labels)
        ``-y_j c_j``.
    slope : ndarray of shape (n_samples, n_labels)
        ``d weights / d h_j = -dc/dt`` (``c`` itself for "floor" below the cap, 0 where
        the cap is active).
    """
    margins = y_signed * scores
    if weighting == "floor":
        capped = margins < np.log(margin_floor)
        c = np.where(capped, 1.0 / margin_floor,
                     np.exp(-np.maximum(margins, np.log(margin_floor))))
        return -y_signed * c, np.where(capped, 0.0, c)
    # log(e^floor + e^(e^t)) = logaddexp(floor, e^t); its derivative in t is
    # e^t sigmoid(e^t - floor), so dc/dt = -c^2 e^t sigmoid(e^t - floor). For large t both
    # e^t and the log overflow together (c -> e^-t, dc/dt -> -c): the limit is used there.
    large = margins > SOFT_LARGE_MARGIN
    e = np.exp(np.minimum(margins, SOFT_LARGE_MARGIN))
    c = np.where(large, np.exp(-np.maximum(margins, SOFT_LARGE_MARGIN)),
                 1.0 / np.logaddexp(margin_floor, e))
    sig = 0.5 * (1.0 + np.tanh(0.5 * (e - margin_floor)))
    slope = np.where(large, c, c * c * e * sig)
    return -y_signed * c, slope


def soft_attackability_values(decision, X, y=None, *, delta=DEFAULT_DELTA):
    """Per-instance SAE of a decision model on validated X.

    Parameters
    ----------
    decision : LinearDecision or compatible
        Provides ``decision_function(X)`` and ``gradient_gram(X)``.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated input.
    y : ndarray of shape (n_samples, n_labels), default=None
        {0, 1} labels for the label reference; None uses the model's prediction.
    delta : float, default=1e-8
        Clamp for scores near 0.

    Returns
    -------
    sae : ndarray of shape (n_samples,)
    n_clamped : int
    """
    scores = decision.decision_function(X)
    check_finite_scores(scores, decision.name)
    weights, n_clamped = sae_label_weights(scores, y, delta=delta)
    sae, _ = greedy_subset_norm(decision.gradient_gram(X), weights)
    return sae, n_clamped
