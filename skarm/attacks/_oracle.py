"""The exact attackability C*(x) of a linear model, by enumerating label sets (few labels).

``C*(x)`` is the largest label set T that some perturbation of norm at most eps flips
(doc: alg-attackability). The cost of a set only grows with the set, so the sets within
budget form a down-closed family that can be enumerated level by level, apriori style
(doc: alg-exact-attack): a set of size k + 1 is solved only when all of its k-subsets fit
the budget. Each set costs one exact QP on the label Gram. Meant for tests and benchmarks
with up to 16 labels.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause



from ..utils._sklearn_compat import validate_params
from ._base import BaseAttack, is_linear, linear_attack
from ._kernels import exact_kernel, normalised_gram

__all__ = ["MAX_EXACT_LABELS", "exact_attack"]

# 2^m label sets; beyond this the enumeration takes too long for anything but a test.
MAX_EXACT_LABELS = 16


class _ExactAttack(BaseAttack):
    """The oracle as an attack object, so it shares GASE's targets, checks and batching."""

    def _prepare(self, decision):
        if not is_linear(decision):
            raise TypeError(
                "exact_attack needs a model whose decision function is linear in X; got "
                f"{decision.name}."
            )
        if decision.n_labels > MAX_EXACT_LABELS:
            raise ValueError(
                f"exact_attack enumerates label sets and supports at most {MAX_EXACT_LABELS} "
                f"labels; got {decision.n_labels}."
            )
        return normalised_gram(decision.gradient_gram())

    def _perturb(self, decision, context, X, scores, signs, tau, flipped0, kappa, J0):
        return linear_attack(decision, context, scores, signs, tau, float(self.eps), exact_kernel)


@validate_params(
    {
        "estimator": "no_validation",
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like", "sparse matrix", None],
        # The attack's own rules (its validation is skipped as nested).
        **{
            key: BaseAttack._parameter_constraints[key]
            for key in ("eps", "reference", "overshoot", "n_jobs")
        },
    },
    prefer_skip_nested_validation=True,
)
def exact_attack(estimator, X, y=None, *, eps, reference="label", overshoot=1e-6, n_jobs=None):
    """Exact attackability of a linear multi-label model, by enumerating label sets.

    For each instance, finds a largest label set T that a perturbation of L2 norm at most
    eps flips (``C*(x)`` of Eq. 1) and returns that perturbation. Label sets are enumerated
    by size, and a set is solved (one exact QP) only when all its subsets one label smaller
    fit the budget, since the cost of a set only grows with the set. The cost is
    exponential in the number of labels: this is the reference GASE is checked against, for
    at most 16 labels (12 is quick).

    Parameters
    ----------
    estimator : estimator instance
        A fitted multi-label model whose decision function is linear in X (see
        :class:`~skarm.attacks.GASEAttack`).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Instances to attack.
    y : array-like of shape (n_samples, n_labels), default=None
        {0, 1} labels; with ``reference="label"`` flips are counted against them.
    eps : float
        The L2 budget.
    reference : {"label", "prediction"}, default="label"
        As in :class:`~skarm.attacks.GASEAttack`.
    overshoot : float, default=1e-6
        As in :class:`~skarm.attacks.GASEAttack`; use the same value to compare.
    n_jobs : int, default=None
        Number of threads over batches of instances.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        As :meth:`GASEAttack.attack <skarm.attacks.GASEAttack.attack>`: ``X_adv``,
        ``n_flipped``, ``flipped``, ``targets`` (a largest feasible set), ``norms``,
        ``reference`` and ``eps``.

    See Also
    --------
    GASEAttack : The greedy attack, a lower bound on this one.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.linear_model import RidgeClassifier
    >>> from skarm.attacks import GASEAttack, exact_attack
    >>> X, Y = make_multilabel_classification(n_samples=60, n_classes=6, random_state=0)
    >>> model = RidgeClassifier().fit(X, Y)
    >>> best = exact_attack(model, X[:10], Y[:10], eps=2.0).n_flipped
    >>> greedy = GASEAttack(model, eps=2.0).attack(X[:10], Y[:10]).n_flipped
    >>> bool((greedy <= best).all())
    True
    """
    attack = _ExactAttack(
        estimator, eps=eps, reference=reference, overshoot=overshoot, n_jobs=n_jobs
    )
    return attack._attack(X, y)
