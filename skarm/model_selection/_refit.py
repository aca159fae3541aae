"""Refit strategies for hyper-parameter searches that trade clean accuracy for robustness."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np

from ..utils._sklearn_compat import Interval, validate_params

__all__ = ["robust_refit"]


class _RobustRefit:
    """Callable for ``refit=``: the most robust candidate within a tolerance of the best."""

    def __init__(self, tolerance, score, robustness):
        self.tolerance = tolerance
        self.score = score
        self.robustness = robustness

    def __call__(self, cv_results):
        try:
            clean = np.asarray(cv_results[f"mean_test_{self.score}"], dtype=float)
            robust = np.asarray(cv_results[f"mean_test_{self.robustness}"], dtype=float)
        except KeyError as exc:
            raise ValueError(
                f"robust_refit needs the scorers {self.score!r} and {self.robustness!r} in "
                f"scoring=; cv_results_ has no {exc.args[0]!r}."
            ) from None
        eligible = clean >= np.nanmax(clean) - self.tolerance
        # Among the eligible, the most robust (greater is better: sae_score is -SAE); ties
        # go to the better clean score, then to the first candidate.
        order = np.lexsort((-np.arange(len(clean)), clean, np.where(eligible, robust, -np.inf)))
        return int(order[-1])

    def __repr__(self):
        return (
            f"robust_refit(tolerance={self.tolerance!r}, score={self.score!r}, "
            f"robustness={self.robustness!r})"
        )


@validate_params(
    {
        "tolerance": [Interval(Real, 0, None, closed="left")],
        "score": [str],
        "robustness": [str],
    },
    prefer_skip_nested_validation=True,
)
def robust_refit(tolerance=0.02, *, score="f1", robustness="sae"):
    """Refit strategy: the most robust candidate whose clean score is near the best.

    Pass the result as ``refit=`` to :class:`~sklearn.model_selection.GridSearchCV` or
    :class:`~sklearn.model_selection.RandomizedSearchCV` with a dict of scorers. Among the
    candidates whose mean clean score is within ``tolerance`` of the best one, it picks the
    one with the greatest mean robustness score (for :func:`~skarm.metrics.sae_score`, the
    lowest mean SAE).

    Parameters
    ----------
    tolerance : float, default=0.02
        How much clean score (absolute, in the scorer's units) to give up for robustness.
    score : str, default="f1"
        Key of the clean scorer in ``scoring=``.
    robustness : str, default="sae"
        Key of the robustness scorer in ``scoring=`` (greater is better).

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> best_index``.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skarm import ARMSAEClassifier
    >>> from skarm.metrics import sae_score
    >>> from skarm.model_selection import robust_refit
    >>> X, Y = make_multilabel_classification(n_samples=150, n_classes=4, random_state=0)
    >>> search = GridSearchCV(
    ...     ARMSAEClassifier(), {"alpha": [0.0, 0.1, 1.0]},
    ...     scoring={"f1": "f1_micro", "sae": sae_score}, refit=robust_refit(0.02),
    ... ).fit(X, Y)
    >>> search.best_params_
    {'alpha': ...}
    """
    return _RobustRefit(tolerance, score, robustness)
