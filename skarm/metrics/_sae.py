"""Soft Attackability Estimator as a metric and a scorer, and label alignment phi_align."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Real

import numpy as np

from .._decision import as_decision
from .._sae import DEFAULT_DELTA, soft_attackability_values
from ..exceptions import NearBoundaryWarning
from ..utils._sklearn_compat import Interval, validate_params
from ..utils._validation import check_label_indicator

__all__ = ["alignment_score", "sae_score", "soft_attackability"]


@validate_params(
    {
        "estimator": "no_validation",
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like", "sparse matrix", None],
        "delta": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def soft_attackability(estimator, X, *, y=None, delta=DEFAULT_DELTA):
    """Per-instance Soft Attackability Estimator (SAE) of a fitted multi-label model.

    The SAE (paper Eq. 12) of an instance x is
    ``max over S of || sum_{j in S} grad h_j(x) / h_j(x) ||_2``: how far one unit-norm input
    step can push many labels towards their decision boundaries at once. It needs no attack
    budget; larger means more attackable. The maximum over label sets is found by the greedy
    search of the paper's Algorithm 1.

    Read more in the :ref:`User Guide <sae>`.

    Parameters
    ----------
    estimator : estimator instance
        A fitted model whose decision function is linear in X, ``h(x) = W x + b``: skarm's
        estimators, ``OneVsRestClassifier`` or ``MultiOutputClassifier`` of linear binary
        classifiers, ``RidgeClassifier`` fitted on 2-D y, a binary linear classifier, or a
        Pipeline of affine steps (scalers, PCA, TruncatedSVD) ending in one of them; also
        skarm estimators fitted with ``backend="torch"`` (through their input gradients).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Instances to score.
    y : array-like of shape (n_samples, n_labels), default=None
        {0, 1} labels. None (default) measures flips of the model's own prediction, as the
        paper's Table 2 does. With y, only labels the model gets right count (the label
        variant of Eq. 10).
    delta : float, default=1e-8
        Scores with ``|h_j(x)| < delta`` are clamped to ``+/-delta`` before dividing; a
        :class:`~skarm.exceptions.NearBoundaryWarning` reports how many.

    Returns
    -------
    sae : ndarray of shape (n_samples,)
        The SAE of each instance.

    See Also
    --------
    sae_score : The scorer (minus the mean SAE) for model selection.
    alignment_score : Alignment of the label decision boundaries.

    Notes
    -----
    The SAE is invariant to scaling ``(W, b)`` by a positive constant. Its mean over a data
    set is heavy-tailed, since ``1 / |h_j(x)|`` explodes near a boundary; the median is a
    robust companion.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.svm import LinearSVC
    >>> from skarm.metrics import soft_attackability
    >>> X, Y = make_multilabel_classification(n_samples=100, n_classes=4, random_state=0)
    >>> model = OneVsRestClassifier(LinearSVC()).fit(X, Y)
    >>> soft_attackability(model, X[:3]).shape
    (3,)
    """
    decision = as_decision(estimator)
    X = decision.check_X(X)
    if y is not None:
        y = check_label_indicator(y, X.shape[0], decision.n_labels)
    sae, n_clamped = soft_attackability_values(decision, X, y, delta=delta)
    if n_clamped:
        warnings.warn(
            f"{n_clamped} decision score(s) had |h_j(x)| < delta={delta:g} and were clamped "
            "to +/-delta; the SAE of those instances is very large unless their label "
            "gradients vanish.",
            NearBoundaryWarning,
            stacklevel=3,  # past validate_params' wrapper, to the caller's line
        )
    return sae


def sae_score(estimator, X, y=None):
    """Scorer: minus the mean Soft Attackability Estimator (greater is better).

    Plugs into ``scoring=`` of :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`~sklearn.model_selection.cross_validate`, alone or in a dict with other metrics.
    It measures the SAE of the paper's Table 2, relative to the model's own prediction, so it
    ignores ``y`` (which scorers always receive).

    Parameters
    ----------
    estimator : estimator instance
        A fitted model supported by :func:`soft_attackability`.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Instances to score.
    y : array-like, default=None
        Ignored.

    Returns
    -------
    score : float
        ``-mean(soft_attackability(estimator, X))``.

    See Also
    --------
    soft_attackability : The per-instance values.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.linear_model import RidgeClassifier
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skarm.metrics import sae_score
    >>> X, Y = make_multilabel_classification(n_samples=100, n_classes=4, random_state=0)
    >>> search = GridSearchCV(RidgeClassifier(), {"alpha": [0.1, 10.0]},
    ...                       scoring={"f1": "f1_micro", "sae": sae_score}, refit="f1")
    >>> search.fit(X, Y).best_params_
    {'alpha': ...}
    """
    return -float(np.mean(soft_attackability(estimator, X)))


@validate_params(
    {"estimator": "no_validation", "include_diagonal": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def alignment_score(estimator, *, include_diagonal=True):
    """Alignment of the label decision boundaries, phi_align of the paper's Table 4.

    ``phi_align = (1/m^2) sum_{j,k} |cos(w_j, w_k)|`` over the rows of the (input-space)
    weight matrix W. With the diagonal included (as the paper's formula does) it lies in
    ``[1/m, 1]``: ``1/m`` for mutually orthogonal rows, 1 for parallel ones.

    Parameters
    ----------
    estimator : estimator instance
        A fitted model supported by :func:`soft_attackability`.
    include_diagonal : bool, default=True
        If False, return the mean over the ``m (m - 1)`` pairs ``j != k`` instead.

    Returns
    -------
    score : float
        The alignment; rows with ``||w_j|| = 0`` contribute 0.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.linear_model import RidgeClassifier
    >>> from skarm.metrics import alignment_score
    >>> X, Y = make_multilabel_classification(n_samples=100, n_classes=4, random_state=0)
    >>> 0.25 <= alignment_score(RidgeClassifier().fit(X, Y)) <= 1
    True
    """
    decision = as_decision(estimator)
    if not hasattr(decision, "coef"):
        raise TypeError(
            f"alignment_score compares label weight vectors, and {decision.name} has none: "
            "it needs a linear model or a torch module whose last layer is linear."
        )
    W = decision.coef
    m = W.shape[0]
    norms = np.linalg.norm(W, axis=1)
    U = np.divide(W, norms[:, None], out=np.zeros_like(W), where=norms[:, None] > 0)
    cosines = np.abs(U @ U.T)
    if include_diagonal:
        return float(cosines.sum() / m**2)
    if m < 2:
        raise ValueError("The off-diagonal alignment needs at least 2 labels; got 1.")
    return float((cosines.sum() - np.trace(cosines)) / (m * (m - 1)))
