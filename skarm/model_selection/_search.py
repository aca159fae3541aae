"""A ready-made search across robust-training methods, chosen by F1 under attack."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from .._classifier import ARMClassifier
from ..attacks import ATTACKS, GASEAttack
from ..linear._objective import PENALTIES
from ..metrics import make_adversarial_scorer
from ..utils._sklearn_compat import (
    N_JOBS_CONSTRAINT,
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_params,
)
from ._refit import robust_refit

__all__ = ["robust_search"]

# The keys of ``scoring=`` in the search robust_search builds.
CLEAN_KEY = "f1"
ROBUST_KEY = "adversarial_f1"
# The parameters of the classifier the grid sets, and the relative default training budgets.
_SEARCHED = ("penalty", "alpha", "adversarial_eps")
_DEFAULT_RELATIVE_EPS = (0.25, 0.5, 1.0)
# GridSearchCV arguments robust_search decides itself.
_RESERVED = ("estimator", "param_grid", "scoring", "refit")


def _final_step(estimator):
    """``(prefix, final estimator)``: descend through (nested) Pipelines to the classifier."""
    prefix = ""
    while isinstance(estimator, Pipeline):
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    return prefix, estimator


def _positive_grid(values, name):
    """The distinct values of a 1-D array-like of finite floats > 0, in their given order."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 1 or not np.all(np.isfinite(array) & (array > 0)):
        raise InvalidParameterError(
            f"The {name!r} parameter of robust_search must be a 1-D array-like of finite "
            f"floats > 0. Got {values!r} instead."
        )
    return list(dict.fromkeys(float(v) for v in array))


def _penalty_list(penalties):
    """The distinct penalties, in their given order, each one of ARMClassifier's."""
    given = list(penalties)
    if not given or any(p is not None and not isinstance(p, str) for p in given) or any(
        p not in PENALTIES for p in given
    ):
        raise InvalidParameterError(
            "The 'penalties' parameter of robust_search must be a non-empty array-like of "
            f"penalties among {list(PENALTIES)!r}. Got {penalties!r} instead."
        )
    return list(dict.fromkeys(None if p is None else str(p) for p in given))


@validate_params(
    {
        "eps": GASEAttack._parameter_constraints["eps"],
        "penalties": ["array-like"],
        "alphas": ["array-like"],
        "adversarial_eps": ["array-like", None],
        "combine_adversarial": ["boolean"],
        "tolerance": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "n_jobs": N_JOBS_CONSTRAINT,
        "estimator": [HasMethods(["fit", "get_params", "set_params"]), None],
        "attack": [StrOptions(set(ATTACKS))],
        "attack_params": [dict, None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def robust_search(
    eps,
    *,
    penalties=(None, "l2", "nuclear", "sae"),
    alphas=(1e-3, 1e-2, 1e-1),
    adversarial_eps=None,
    combine_adversarial=True,
    tolerance=0.02,
    cv=3,
    n_jobs=None,
    estimator=None,
    attack="gase",
    attack_params=None,
    random_state=None,
    **search_params,
):
    """Search penalties, their weights and adversarial training for the most robust model.

    Build an unfitted :class:`~sklearn.model_selection.GridSearchCV` of an
    :class:`~skarm.ARMClassifier` over the robust-training methods: the unregularised
    model, each penalty at each weight in ``alphas``, adversarial training at each budget in
    ``adversarial_eps``, and (``combine_adversarial``) each penalty at its middle weight
    with adversarial training. Every candidate is scored on the validation folds by its
    micro-F1 (``"f1"``) and its micro-F1 under an attack of L2 budget ``eps``
    (``"adversarial_f1"``, :func:`~skarm.metrics.make_adversarial_scorer`), and ``refit``
    is :func:`robust_refit`: the search refits the candidate with the best F1 under attack
    among those whose clean F1 is within ``tolerance`` of the best one. This answers "the
    most robust model that costs at most ``tolerance`` clean F1" in one call.

    Read more in the :ref:`User Guide <tradeoff>`.

    Parameters
    ----------
    eps : float
        The L2 budget of the attack the candidates are scored under, in the units of the
        search's input X (for example a fraction of
        :func:`~skarm.utils.median_row_norm`).
    penalties : array-like, default=(None, "l2", "nuclear", "sae")
        The penalties of :class:`~skarm.ARMClassifier` to try (None, "l2", "nuclear",
        "single", "primal", "sae"). None stands for no penalty: the unregularised model
        (``alpha=0``) and adversarial training alone; leave it out to try neither.
    alphas : array-like, default=(1e-3, 1e-2, 1e-1)
        The penalty weights (floats > 0) each penalty other than None is tried with
        (``alpha=0`` is the unregularised model, which None covers).
    adversarial_eps : array-like, default=None
        The budgets (floats > 0) of adversarial training, in the units of the classifier's
        input. None means ``(0.25, 0.5, 1) * eps``: the linear backend's per-label worst
        case attacks every label with the whole budget, a stronger adversary than the
        multi-label attack of the scorer, so training at ``eps`` already costs clean F1 and
        twice ``eps`` tends to give the constant model. These defaults are in the attack's
        units only when nothing rescales X before the classifier; with a Pipeline whose
        steps rescale X (a scaler), give the budgets in the scaled units. An empty
        array-like tries no adversarial training.
    combine_adversarial : bool, default=True
        Also try each penalty other than None at the middle weight of ``alphas`` (the
        lower middle one for an even count) with each budget of ``adversarial_eps``.
    tolerance : float, default=0.02
        How much cross-validated micro-F1 (absolute) to give up for robustness; see
        :func:`robust_refit`.
    cv : int, cross-validation generator or iterable, default=3
        The cross-validation splitting, as ``cv`` of
        :class:`~sklearn.model_selection.GridSearchCV`.
    n_jobs : int, default=None
        Number of candidate fits run in parallel, as ``n_jobs`` of
        :class:`~sklearn.model_selection.GridSearchCV`.
    estimator : estimator instance, default=None
        The model to tune: an :class:`~skarm.ARMClassifier` (None means
        ``ARMClassifier()``), or a Pipeline ending in one, whose parameter names then get
        the step's prefix (``"armclassifier__alpha"``). Its other parameters are kept; the
        grid sets ``penalty``, ``alpha`` and ``adversarial_eps`` of every candidate.
    attack : {"gase", "pgd"}, default="gase"
        The attack of the robustness scorer, as in
        :func:`~skarm.metrics.make_adversarial_scorer`.
    attack_params : dict, default=None
        Further parameters of the attack (``n_jobs``, ``max_iter``, ...).
    random_state : int, RandomState instance or None, default=None
        Set as the classifier's ``random_state`` (on a clone of ``estimator``) when not
        None, for reproducible fits. The folds of an integer ``cv`` are not shuffled.
    **search_params : dict
        Further arguments of :class:`~sklearn.model_selection.GridSearchCV` (``verbose``,
        ``error_score``, ``return_train_score``, ...). ``estimator``, ``param_grid``,
        ``scoring`` and ``refit`` are set by this function.

    Returns
    -------
    search : GridSearchCV
        The unfitted search. After ``fit``, ``best_params_`` and ``best_estimator_`` are
        the robust choice, and ``cv_results_`` holds ``mean_test_f1`` and
        ``mean_test_adversarial_f1`` of every candidate. ``best_score_`` is not defined
        with a callable ``refit``: read the scores at ``best_index_`` of ``cv_results_``.

    See Also
    --------
    robust_refit : The refit strategy, for a search of your own.
    skarm.metrics.make_adversarial_scorer : The robustness scorer.

    Notes
    -----
    The grid is a list of dicts, one per family, in this order: the unregularised model;
    each penalty at each of ``alphas``; adversarial training (no penalty) at each of
    ``adversarial_eps``; each penalty at the middle alpha with each of ``adversarial_eps``.
    Ties in robustness go to the better clean F1, then to the earlier candidate, so the
    simpler model wins a tie.

    Each candidate is attacked on every validation fold, so the search costs about one
    attack of the training set per candidate on top of the fits.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skarm.model_selection import robust_search
    >>> X, Y = make_multilabel_classification(n_samples=90, n_features=6, n_classes=3,
    ...                                       random_state=0)
    >>> X = StandardScaler().fit_transform(X)
    >>> search = robust_search(0.2, penalties=(None, "l2"), alphas=(0.01, 0.1))
    >>> len(search.param_grid)  # unregularised, l2 x alphas, AT x eps, l2 + AT x eps
    4
    >>> search.fit(X, Y).best_params_
    {'adversarial_eps': ..., 'alpha': ..., 'penalty': ...}
    """
    penalties = _penalty_list(penalties)
    use_alphas = any(p is not None for p in penalties)
    alphas = _positive_grid(alphas, "alphas")
    if use_alphas and not alphas:
        raise InvalidParameterError(
            "The 'alphas' parameter of robust_search must be non-empty when 'penalties' "
            f"holds a penalty other than None; got penalties={penalties!r}."
        )
    if adversarial_eps is None:
        adversarial_eps = [factor * float(eps) for factor in _DEFAULT_RELATIVE_EPS]
    else:
        adversarial_eps = _positive_grid(adversarial_eps, "adversarial_eps")

    reserved = sorted(set(search_params) & set(_RESERVED))
    if reserved:
        raise TypeError(
            f"robust_search() sets {', '.join(map(repr, reserved))} of the GridSearchCV "
            "itself; build a GridSearchCV with robust_refit to choose them."
        )
    unknown = sorted(set(search_params) - set(inspect.signature(GridSearchCV).parameters))
    if unknown:
        raise TypeError(
            f"robust_search() got unexpected keyword argument(s) "
            f"{', '.join(map(repr, unknown))}: **search_params takes GridSearchCV's."
        )

    if estimator is None:
        estimator = ARMClassifier()
    prefix, final = _final_step(estimator)
    own = final.get_params(deep=False) if hasattr(final, "get_params") else {}
    missing = [name for name in _SEARCHED if name not in own]
    if missing:
        raise ValueError(
            "robust_search tunes the 'penalty', 'alpha' and 'adversarial_eps' parameters of "
            f"an ARMClassifier (or a Pipeline ending in one); the final estimator "
            f"{type(final).__name__} has no {', '.join(map(repr, missing))}."
        )
    if random_state is not None:
        estimator = clone(estimator).set_params(**{f"{prefix}random_state": random_state})

    penalty, alpha, train_eps = (f"{prefix}{name}" for name in _SEARCHED)
    penalised = [p for p in penalties if p is not None]
    grid = []
    if None in penalties:
        grid.append({penalty: [None], alpha: [0.0], train_eps: [0.0]})
    grid += [{penalty: [p], alpha: list(alphas), train_eps: [0.0]} for p in penalised]
    if adversarial_eps:
        if None in penalties:
            grid.append({penalty: [None], alpha: [0.0], train_eps: list(adversarial_eps)})
        if combine_adversarial and penalised:
            middle = sorted(alphas)[(len(alphas) - 1) // 2]
            grid += [
                {penalty: [p], alpha: [middle], train_eps: list(adversarial_eps)}
                for p in penalised
            ]

    scoring = {
        CLEAN_KEY: "f1_micro",
        ROBUST_KEY: make_adversarial_scorer(
            "f1_micro", eps=eps, attack=attack, attack_params=attack_params
        ),
    }
    return GridSearchCV(
        estimator,
        grid,
        scoring=scoring,
        refit=robust_refit(tolerance, score=CLEAN_KEY, robustness=ROBUST_KEY),
        cv=cv,
        n_jobs=n_jobs,
        **search_params,
    )
