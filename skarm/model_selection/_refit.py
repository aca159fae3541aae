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
        # A failed fit or scorer (error_score=np.nan, the default) leaves a NaN mean: such a
        # candidate neither sets the best clean score nor gets picked.
        finite = np.isfinite(clean)
        if not finite.any():
            raise ValueError(
                f"robust_refit found no finite mean {self.score!r} score among the "
                f"{clean.size} candidate(s): every fit or scoring failed (see the search's "
                "FitFailedWarning and UserWarning messages, or pass error_score='raise')."
            )
        best = clean[finite].max()
        # Inclusive, up to rounding: a candidate exactly `tolerance` below the best is in.
        slack = self.tolerance + 1e-12 * max(1.0, abs(best))
        within = finite & (clean >= best - slack)
        eligible = np.flatnonzero(within & np.isfinite(robust))
        if eligible.size == 0:
            raise ValueError(
                f"robust_refit found no finite mean {self.robustness!r} score among the "
                f"{np.count_nonzero(within)} candidate(s) whose {self.score!r} is within "
                f"tolerance={self.tolerance!r} of the best ({best:.4g}): their robustness "
                "scoring failed (see the search's warnings, or pass error_score='raise')."
            )
        # Among the eligible, the most robust (greater is better: sae_score is -SAE, an
        # adversarial F1 is an F1); ties go to the better clean score, then to the first
        # candidate.
        top = eligible[robust[eligible] == robust[eligible].max()]
        return int(top[np.argmax(clean[top])])

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
    one with the greatest mean robustness score: for :func:`~skarm.metrics.sae_score`, the
    lowest mean SAE; for a scorer of :func:`~skarm.metrics.make_adversarial_scorer`, the
    best score under attack. :func:`robust_search` builds a whole search around it.

    Parameters
    ----------
    tolerance : float, default=0.02
        How much clean score (absolute, in the scorer's units) to give up for robustness:
        0.02 with micro-F1 is two points of F1. A candidate exactly ``tolerance`` below the
        best is eligible; ``tolerance=0`` keeps only the best clean score(s).
    score : str, default="f1"
        Key of the clean scorer in ``scoring=`` (greater is better).
    robustness : str, default="sae"
        Key of the robustness scorer in ``scoring=`` (greater is better). The default
        ``"sae"`` names :func:`~skarm.metrics.sae_score`; :func:`robust_search` uses
        ``"adversarial_f1"``, a :func:`~skarm.metrics.make_adversarial_scorer` scorer
        (micro-F1 under attack). Any key of ``scoring=`` works.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> best_index``. It raises ValueError when ``cv_results`` lacks
        either score, when no candidate has a finite clean score, or when no candidate
        within the tolerance has a finite robustness score.

    See Also
    --------
    robust_search : A ready-made search over penalties and adversarial training.

    Notes
    -----
    Candidates whose mean clean or robustness score is NaN (a failed fit or scorer under
    the search's default ``error_score=np.nan``) are never picked, and a NaN clean score
    does not count towards the best one. Ties in robustness go to the better clean score,
    then to the first candidate in ``cv_results``.

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
