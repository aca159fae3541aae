"""Untargeted L2 projected gradient descent on the capped margin loss (doc: alg-pgd)."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np

from ..utils._sklearn_compat import Interval
from ..utils._validation import to_dense
from ._base import (
    _ATTRIBUTES_DOC,
    _BUDGET_CONSTRAINTS,
    _BUDGET_PARAMS_DOC,
    _JOBS_PARAMS_DOC,
    BaseAttack,
    flipped_labels,
    is_linear,
    row_norms,
)

__all__ = ["PGDAttack", "projected_gradient"]


class PGDAttack(BaseAttack):
    __doc__ = f"""Projected gradient descent on the capped margin loss: the baseline attack.

    Minimises ``F(r) = sum_j max(s_j h_j(x + r), -kappa_j)`` over the ball
    ``||r||_2 <= eps``, where ``s`` are the reference signs: every label is pushed towards
    its boundary and stops pulling once it is ``kappa_j`` past it, so no budget is spent on
    labels already flipped. Each step is ``r <- Proj(r - step_size * g / ||g||)`` (L2) or
    ``r <- Proj(r - step_size * sign(g))`` (L-inf), ``Proj`` onto the budget and the
    ``clip`` box; the iterate that flips the most labels on the model is returned.

    It needs only the scores and the input gradients of the model, so it runs on the same
    models as :class:`GASEAttack`, and has the same transformer interface.

    Read more in the :ref:`User Guide <gase>`.

    Parameters
    ----------
    estimator : estimator instance
        The multi-label model to attack, as in :class:`GASEAttack` (linear in X, or with
        ``decision_function`` and ``input_gradients``): used as it is when fitted, else
        cloned and fitted by :meth:`fit`.
    eps : float
        The budget: ``||x_adv - x|| <= eps`` in the norm ``norm``.
    {_BUDGET_PARAMS_DOC}
    reference : {{"label", "prediction"}}, default="label"
        What flips are counted against: y where given (labels already wrong count), else
        the model's prediction; ``"prediction"`` always uses the prediction. See
        :class:`GASEAttack`.
    max_iter : int, default=100
        Number of gradient steps.
    step_size : float, default=None
        Length of each step (L2: of the step; L-inf: of each coordinate's move, the
        signed-gradient step); None means ``2.5 * eps / max_iter``.
    overshoot : float, default=1e-6
        The cap: label j stops pulling ``kappa_j = overshoot * max(min(1, eps ||w_j||),
        |h_j(x)|)`` past its boundary (the gradient's norm for non-linear models).
    {_JOBS_PARAMS_DOC}

    {_ATTRIBUTES_DOC}

    See Also
    --------
    GASEAttack : The greedy attack; on linear models it usually flips at least as many
        labels (every cell of the reproduction; not every instance, see the User Guide).

    Notes
    -----
    The attack is deterministic: it starts from ``r = 0`` (no random restarts), so each
    instance gets the same perturbation whatever batch it is in. X may be sparse, but the
    perturbed output is dense.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.svm import LinearSVC
    >>> from skarm.attacks import PGDAttack
    >>> X, Y = make_multilabel_classification(n_samples=100, n_classes=5, random_state=0)
    >>> model = OneVsRestClassifier(LinearSVC()).fit(X, Y)
    >>> X_adv = PGDAttack(model, eps=1.0).fit_transform(X[:5], Y[:5])
    >>> bool(np.all(np.linalg.norm(X_adv - X[:5], axis=1) <= 1.0))
    True
    """

    _parameter_constraints: dict = {
        **BaseAttack._parameter_constraints,
        **_BUDGET_CONSTRAINTS,
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "step_size": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        estimator,
        *,
        eps,
        norm="l2",
        clip=None,
        reference="label",
        max_iter=100,
        step_size=None,
        overshoot=1e-6,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(
            estimator,
            eps=eps,
            reference=reference,
            overshoot=overshoot,
            n_jobs=n_jobs,
            verbose=verbose,
        )
        self.norm = norm
        self.clip = clip
        self.max_iter = max_iter
        self.step_size = step_size

    def _perturb(self, decision, context, X, scores, signs, tau, flipped0, kappa, J0):
        X = to_dense(X)
        eps = float(self.eps)
        step = self.step_size if self.step_size is not None else 2.5 * eps / self.max_iter
        return projected_gradient(
            decision, X, np.zeros_like(X), scores, J0, signs, flipped0, kappa, eps, step,
            self.max_iter, self.norm, self.clip,
        )

    def _geometry(self):
        return self.norm, self.clip


def project(X, R, eps, norm="l2", clip=None):
    """``R`` moved into the budget: the ``norm`` ball of radius eps and, with ``clip =
    (low, high)``, the box ``low <= X + R <= high`` (X inside it).

    L-inf: both are coordinate intervals, and clipping to one then the other is the exact
    projection onto their intersection. L2: the box first, then the radial shrink, which
    keeps ``X + R`` in the box because the box is convex and holds X.
    """
    if norm == "linf":
        R = np.clip(R, -eps, eps)
    if clip is not None:
        R = np.clip(X + R, clip[0], clip[1]) - X
    if norm == "l2":
        r_norm = row_norms(R)[:, np.newaxis]
        R = R * np.minimum(1.0, eps / np.where(r_norm > 0, r_norm, 1.0))
    return R


def projected_gradient(
    decision, X, R, H, J, signs, flipped, kappa, eps, step, n_steps, norm="l2", clip=None
):
    """L2 projected gradient steps on the capped margin loss from the perturbations ``R``.

    ``H`` and ``J`` are the scores and input gradients at ``X + R`` (``J`` unused for a
    linear model), ``flipped`` the labels flipped there. Each step moves every row by
    ``step`` along the normalised gradient of the labels not yet ``kappa`` past their
    boundary (L2), or by ``step`` times its sign in every coordinate (L-inf), then back
    into the budget (:func:`project`). Returns the perturbation that flipped the most labels
    along the way (``R`` itself when no step beats it) and those labels: PGDAttack runs it
    from ``R = 0``, GASE from its own solution on a non-linear model. A row that a step
    leaves where it was stays there for good (the step is a function of the point), so it
    is not evaluated again, nor is one that comes back to where it was two steps before
    (a fixed step bounces between two points around a boundary or on the sphere for good),
    both to within ``1e-9`` of the row's step length.
    """
    linear = is_linear(decision)
    R = R.copy()
    H = np.array(H, dtype=float)
    J = None if linear else np.array(J)
    best_R = R.copy()
    best_flipped = flipped.copy()
    best_count = best_flipped.sum(axis=1)
    # Per-row step length: halved where a step lands on non-finite scores.
    steps = np.full((X.shape[0], 1), float(step))
    live = np.arange(X.shape[0])
    R_before = np.full_like(R, np.nan)  # each row's point two steps back
    for it in range(n_steps):
        if live.size == 0:
            break
        R_l, H_l = R[live], H[live]
        # Gradient of the capped loss: the labels not yet kappa past their boundary.
        coef = np.where(signs[live] * H_l > -kappa[live], signs[live], 0.0)
        if linear:
            grad = coef @ decision.coef
        else:
            grad = np.einsum("bj,bjd->bd", coef, J[live])
        if norm == "linf":
            direction = np.sign(grad)
        else:
            length = row_norms(grad)[:, np.newaxis]
            direction = np.divide(grad, length, out=np.zeros_like(grad), where=length > 0)
        R_new = project(X[live], R_l - steps[live] * direction, eps, norm, clip)
        with np.errstate(over="ignore", invalid="ignore"):
            H_new = decision.decision_function(X[live] + R_new)
        # A budget far beyond what the model's arithmetic holds (a float32 network at
        # eps 1e40) overflows its scores: such a step is refused and the row steps
        # back with at most half the length, and no more than twice the scale of where
        # it stands (so a budget of 1e300 does not take 1000 halvings). Every iterate
        # kept has finite scores.
        bad = ~np.isfinite(H_new).all(axis=1)
        R_new[bad], H_new[bad] = R_l[bad], H_l[bad]
        scale = np.maximum(row_norms(R_l[bad]), row_norms(X[live[bad]]))
        steps[live[bad], 0] = np.minimum(0.5 * steps[live[bad], 0],
                                         2.0 * np.maximum(scale, 1.0))
        tol = 1e-9 * steps[live, 0]
        still = ~bad & (
            (row_norms(R_new - R_l) <= tol) | (row_norms(R_new - R_before[live]) <= tol)
        )
        R_before[live] = R_l
        R[live], H[live] = R_new, H_new
        flipped = flipped_labels(H_new, signs[live])
        count = flipped.sum(axis=1)
        better = count > best_count[live]
        best_R[live[better]] = R_new[better]
        best_flipped[live[better]] = flipped[better]
        best_count[live[better]] = count[better]
        live = live[~still]
        moved = live[~bad[~still]]
        if not linear and it + 1 < n_steps and moved.size:
            J[moved] = decision.input_gradients(X[moved] + R[moved])
    return best_R, best_flipped
