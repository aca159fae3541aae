"""Metrics under attack: the attackability C_a and scorers on adversarial data."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause


import numpy as np
from sklearn.metrics import get_scorer
from sklearn.utils import check_array

from .._decision import as_decision
from ..attacks import ATTACKS, GASEAttack
from ..utils._sklearn_compat import (
    StrOptions,
    _safe_indexing,
    validate_entries,
    validate_params,
)

__all__ = ["attackability_score", "make_adversarial_scorer"]



@validate_params(
    {
        "estimator": "no_validation",
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like", "sparse matrix", None],
        # GASEAttack's own rules (its validation is skipped as nested).
        **{
            key: GASEAttack._parameter_constraints[key]
            for key in ("eps", "reference", "n_jobs")
        },
    },
    prefer_skip_nested_validation=True,
)
def attackability_score(estimator, X, y=None, *, eps, reference="label", n_jobs=None):
    """Attackability C_a: the mean number of labels GASE flips within an L2 budget.

    For each instance, :class:`~skarm.attacks.GASEAttack` finds a perturbation of norm at
    most ``eps`` and counts the labels it flips, checked on the model; C_a is the mean of
    these counts (the paper's Table 2). Each count is a certified lower bound on the
    instance's attackability ``C*(x)`` (Eq. 1), so C_a is a lower bound on the mean
    ``C*``. It does not decrease as eps grows.

    Read more in the :ref:`User Guide <gase>`.

    Parameters
    ----------
    estimator : estimator instance
        A fitted multi-label model that :class:`~skarm.attacks.GASEAttack` can attack:
        linear in X, or with ``decision_function`` and ``input_gradients``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Instances to attack.
    y : array-like of shape (n_samples, n_labels), default=None
        {0, 1} labels. Flips are counted against y (labels the model already gets wrong
        count from the start, as in Eq. 1); None counts flips of the model's own
        prediction.
    eps : float
        The L2 budget, in the units of X.
    reference : {"label", "prediction"}, default="label"
        ``"prediction"`` counts flips of the prediction even when y is given.
    n_jobs : int, default=None
        Number of threads over batches of instances.

    Returns
    -------
    score : float
        C_a, between 0 and the number of labels. Greater means *more* attackable: as a
        scorer in model selection, report it, and choose the model with another metric
        (or negate it).

    See Also
    --------
    skarm.attacks.GASEAttack : The attack, with per-instance results.
    make_adversarial_scorer : Any metric, measured on attacked data.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.svm import LinearSVC
    >>> from skarm.metrics import attackability_score
    >>> X, Y = make_multilabel_classification(n_samples=100, n_classes=5, random_state=0)
    >>> model = OneVsRestClassifier(LinearSVC()).fit(X, Y)
    >>> small = attackability_score(model, X, Y, eps=0.5)
    >>> large = attackability_score(model, X, Y, eps=2.0)
    >>> bool(0 <= small <= large <= 5)
    True
    """
    attack = GASEAttack(estimator, eps=eps, reference=reference, n_jobs=n_jobs)
    # Only the counts are needed: the attacked X is dropped batch by batch, so a large
    # sparse X is never densified whole.
    return float(np.mean(attack.attack(X, y, return_X_adv=False).n_flipped))


# Rows of attacked data a scorer holds at a time: about 2^22 values (32 MB), at least 128.
_SCORER_CHUNK_VALUES = 1 << 22
_RESPONSE_METHODS = ("predict", "predict_proba", "decision_function", "predict_log_proba")


class _UnderAttack:
    """A fitted model seen through an attack on the scorer's own ``(X, y)``.

    Used for scikit-learn's named scorers only, which call one response method
    (``predict``, ``decision_function``, ...) on the X they were given. Those methods return
    the model's responses on the attacked X, computed by chunks of rows, so that the
    attacked data (dense even for sparse X) is never held whole. Any other attribute is the
    model's own (``classes_``, its tags), except ``score``, which would score clean data.
    """

    def __init__(self, estimator, attack, X, y):
        self._estimator = estimator
        self._attack = attack
        self._X = X
        self._y = y

    def __sklearn_tags__(self):
        return self._estimator.__sklearn_tags__()

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_estimator", "_attack", "_X", "_y", "score"):
            raise AttributeError(name)
        value = getattr(self._estimator, name)  # AttributeError when the model lacks it
        if name not in _RESPONSE_METHODS:
            return value

        def respond(X):
            if X is not self._X:
                raise RuntimeError(  # the labels attacked against are those of self._X
                    "make_adversarial_scorer's named scorers respond on the scorer's own X "
                    "only; pass a callable metric(estimator, X_adv, y) for other uses."
                )
            X = check_array(X, accept_sparse=("csr", "csc"), dtype=None, input_name="X")
            n_samples = X.shape[0]
            chunk = max(128, _SCORER_CHUNK_VALUES // max(1, X.shape[1]))
            parts = []
            for start in range(0, n_samples, chunk):
                rows = np.arange(start, min(start + chunk, n_samples))
                y = None if self._y is None else _safe_indexing(self._y, rows)
                parts.append(value(self._attack.attack(X[start : start + chunk], y).X_adv))
            if not parts:
                return value(X)
            if isinstance(parts[0], list):  # one array per label (MultiOutputClassifier)
                return [np.concatenate(per_label) for per_label in zip(*parts, strict=True)]
            return np.concatenate([np.asarray(part) for part in parts])

        respond.__name__ = name  # scikit-learn's scorers dispatch on the method's name
        return respond


class _AdversarialScorer:
    """Scorer ``(estimator, X, y)``: attack the estimator, then score it on the attacked X."""

    def __init__(self, scorer, metric, eps, attack, attack_params):
        self._scorer = scorer
        self._metric = metric
        self._eps = eps
        self._attack = attack
        self._attack_params = attack_params

    def __call__(self, estimator, X, y, **kwargs):
        attack = ATTACKS[self._attack](estimator, eps=self._eps, **self._attack_params)
        # An unfitted or unsupported model fails here, with the attack's own error, before
        # the scorer looks at its attributes.
        as_decision(estimator, owner=type(attack).__name__)
        if not isinstance(self._metric, str):
            # A callable metric may use the data in any way (score, a subset of rows, ...):
            # it gets the attacked X itself.
            return self._scorer(estimator, attack.attack(X, y).X_adv, y, **kwargs)
        return self._scorer(_UnderAttack(estimator, attack, X, y), X, y, **kwargs)

    def __repr__(self):
        extra = f", attack_params={self._attack_params!r}" if self._attack_params else ""
        return (
            f"make_adversarial_scorer({self._metric!r}, eps={self._eps!r}, "
            f"attack={self._attack!r}{extra})"
        )


@validate_params(
    {
        "metric": [str, callable],
        "eps": GASEAttack._parameter_constraints["eps"],
        "attack": [StrOptions(set(ATTACKS))],
        "attack_params": [dict, None],
    },
    prefer_skip_nested_validation=True,
)
def make_adversarial_scorer(metric="f1_micro", *, eps, attack="gase", attack_params=None):
    """Make a scorer that attacks the estimator it scores, then scores it on the attacked X.

    The scorer ``scorer(estimator, X, y)`` perturbs X against the true labels y with
    :class:`~skarm.attacks.GASEAttack` (or :class:`~skarm.attacks.PGDAttack`) within the L2
    budget ``eps``, then returns ``metric`` of the same estimator on the perturbed data:
    the "F1 under attack" of the paper's Table 3 (:ref:`alg-f1-under-attack`). Because it
    attacks whichever estimator it is given, it fits in ``scoring=`` of
    :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`~sklearn.model_selection.cross_validate`, where each candidate is attacked with
    its own weights.

    Read more in the :ref:`User Guide <gase>`.

    Parameters
    ----------
    metric : str or callable, default="f1_micro"
        A scikit-learn scoring name (see :func:`sklearn.metrics.get_scorer_names`) or a
        scorer callable ``(estimator, X, y)``.
    eps : float
        The L2 budget, in the units of X.
    attack : {"gase", "pgd"}, default="gase"
        The attack: GASE (default, as in the paper) or L2 PGD.
    attack_params : dict, default=None
        Further parameters of the attack (``n_jobs``, ``overshoot``, ``max_iter``, ...).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` returning the metric on the attacked data (greater is
        better, as for the metric itself).

    See Also
    --------
    attackability_score : The mean number of labels GASE flips.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.linear_model import RidgeClassifier
    >>> from sklearn.model_selection import cross_validate
    >>> from skarm.metrics import make_adversarial_scorer
    >>> X, Y = make_multilabel_classification(n_samples=100, n_classes=4, random_state=0)
    >>> scoring = {"clean": "f1_micro", "attacked": make_adversarial_scorer(eps=1.0)}
    >>> cv = cross_validate(RidgeClassifier(), X, Y, scoring=scoring, cv=3)
    >>> bool((cv["test_attacked"] <= cv["test_clean"]).all())
    True
    """
    attack_params = dict(attack_params or {})
    # Fail now, not in the middle of a search: an unknown metric name raises scikit-learn's
    # "'...' is not a valid scoring value", unknown attack parameters a TypeError and bad
    # values the attack's own InvalidParameterError.
    scorer = get_scorer(metric)
    attack_class = ATTACKS[attack]
    params = attack_class(None, eps=eps, **attack_params).get_params()
    validate_entries(
        attack_class._parameter_constraints,
        {key: value for key, value in params.items() if key != "estimator"},
        owner=attack_class.__name__, container="attack_params",
    )
    return _AdversarialScorer(scorer, metric, eps, attack, attack_params)
