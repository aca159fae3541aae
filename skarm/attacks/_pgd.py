"""Untargeted L2 projected gradient descent on the capped margin loss (doc: alg-pgd)."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np

from ..utils._sklearn_compat import Interval
from ..utils._validation import to_dense
from ._base import (
    _ATTRIBUTES_DOC,
    _JOBS_PARAMS_DOC,
    BaseAttack,
    flipped_labels,
    is_linear,
    row_norms,
)

__all__ = ["PGDAttack"]


class PGDAttack(BaseAttack):
    __doc__ = f"""L2 projected gradient descent on the capped margin loss: the baseline attack.

    Minimises ``F(r) = sum_j max(s_j h_j(x + r), -kappa_j)`` over the ball
    ``||r||_2 <= eps``, where ``s`` are the reference signs: every label is pushed towards
    its boundary and stops pulling once it is ``kappa_j`` past it, so no budget is spent on
    labels already flipped. Each step is ``r <- Proj(r - step_size * g / ||g||)``; the
    iterate that flips the most labels on the model is returned.

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
        The L2 budget: ``||x_adv - x||_2 <= eps``.
    reference : {{"label", "prediction"}}, default="label"
        What flips are counted against: y where given (labels already wrong count), else
        the model's prediction; ``"prediction"`` always uses the prediction. See
        :class:`GASEAttack`.
    max_iter : int, default=100
        Number of gradient steps.
    step_size : float, default=None
        L2 length of each step; None means ``2.5 * eps / max_iter``.
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
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "step_size": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        estimator,
        *,
        eps,
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
        self.max_iter = max_iter
        self.step_size = step_size

    def _perturb(self, decision, context, X, scores, signs, tau, flipped0, kappa, J0):
        X = to_dense(X)
        eps = float(self.eps)
        step = self.step_size if self.step_size is not None else 2.5 * eps / self.max_iter
        linear = is_linear(decision)
        R = np.zeros_like(X)
        best_R = R.copy()
        best_flipped = flipped0.copy()
        best_count = best_flipped.sum(axis=1)
        H = scores
        # Per-row step length: halved where a step lands on non-finite scores.
        steps = np.full((X.shape[0], 1), float(step))
        J = J0  # the Jacobians at the current iterate (J0: at R = 0)
        for it in range(self.max_iter):
            # Gradient of the capped loss: the labels not yet kappa past their boundary.
            coef = np.where(signs * H > -kappa, signs, 0.0)
            if linear:
                grad = coef @ decision.coef
            else:
                grad = np.einsum("bj,bjd->bd", coef, J)
            norm = row_norms(grad)[:, np.newaxis]
            R_prev = R.copy()
            R -= steps * np.divide(grad, norm, out=np.zeros_like(grad), where=norm > 0)
            r_norm = row_norms(R)[:, np.newaxis]
            R *= np.minimum(1.0, eps / np.where(r_norm > 0, r_norm, 1.0))
            with np.errstate(over="ignore", invalid="ignore"):
                H_new = decision.decision_function(X + R)
            # A budget far beyond what the model's arithmetic holds (a float32 network at
            # eps 1e40) overflows its scores: such a step is refused and the row steps
            # back with at most half the length, and no more than twice the scale of where
            # it stands (so a budget of 1e300 does not take 1000 halvings). Every iterate
            # kept has finite scores.
            bad = ~np.isfinite(H_new).all(axis=1)
            R[bad] = R_prev[bad]
            scale = np.maximum(row_norms(R_prev[bad]), row_norms(X[bad]))
            steps[bad, 0] = np.minimum(0.5 * steps[bad, 0], 2.0 * np.maximum(scale, 1.0))
            H_new[bad] = H[bad]
            H = H_new
            if not linear and it + 1 < self.max_iter:
                J = decision.input_gradients(X + R)
            flipped = flipped_labels(H, signs)
            count = flipped.sum(axis=1)
            better = count > best_count
            best_R[better] = R[better]
            best_flipped[better] = flipped[better]
            best_count[better] = count[better]
        return best_R, best_flipped
