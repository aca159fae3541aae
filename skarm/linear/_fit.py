"""Fitting an ARM estimator with ``backend="linear"``: constant labels, warm start, solve.

The estimator validates its parameters and data and binarises y, then hands the arrays to
:func:`fit_linear`, the linear counterpart of :func:`skarm.deep._fit.fit_net`. It builds
the :class:`~skarm.linear._objective.Objective` from the estimator's parameters, runs the
solver and turns its numerical trouble into errors (divergence) or warnings
(non-convergence).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ..utils._validation import check_finite_fit, check_fit_scale
from ._objective import Objective
from ._solvers import minimize, select_solver

__all__ = ["convergence_reason", "fit_linear"]

_CONVERGENCE_MSG = (
    "{name} did not converge: {why}. Increase max_iter, standardise the features, or lower "
    "alpha."
)

# Warnings point at the user's call: fit_linear, fit, scikit-learn's _fit_context wrapper.
_STACKLEVEL = 4


def convergence_reason(n_iter, max_iter):
    """Why a fit stopped short of the tolerance: the budget, or a stall before it."""
    if n_iter >= max_iter:
        return f"it used all max_iter={max_iter} iterations"
    return (
        f"the solver stopped after {n_iter} of max_iter={max_iter} iterations without "
        "meeting tol (no step lowered the objective further: a line-search stall)"
    )


def fit_linear(estimator, X, Y, penalty, adversarial_eps):
    """Fit ``h(x) = W x + b`` to the {0, 1} label matrix Y with the estimator's parameters.

    A label constant in training is predicted as that constant, as OvR does (with a
    warning), and left out of the solve. With ``warm_start`` the solve starts from the
    estimator's previous ``coef_`` and ``intercept_`` when their shape still fits.

    Returns
    -------
    coef : ndarray of shape (n_labels, n_features)
    intercept : ndarray of shape (n_labels,)
    n_iter : int
        The solver's iterations (0 when every label is constant).
    """
    m, n_features = Y.shape[1], X.shape[1]
    coef = np.zeros((m, n_features))
    intercept = np.zeros(m)
    constant = np.all(Y == Y[:1], axis=0)
    for j in np.flatnonzero(constant):
        warnings.warn(
            f"Label {j} is present in all training examples." if Y[0, j]
            else f"Label not {j} is present in all training examples.",
            UserWarning, stacklevel=_STACKLEVEL,
        )
        intercept[j] = 1.0 if Y[0, j] else -1.0
    fit_cols = np.flatnonzero(~constant)
    if not fit_cols.size:
        return coef, intercept, 0
    start = None
    previous = getattr(estimator, "coef_", None)  # still the previous fit's
    if estimator.warm_start and previous is not None and previous.shape == coef.shape:
        start = previous[fit_cols].copy(), estimator.intercept_[fit_cols].copy()
    W, b, n_iter = _solve(
        estimator, X, 2.0 * Y[:, fit_cols] - 1.0, penalty, adversarial_eps, start
    )
    coef[fit_cols], intercept[fit_cols] = W, b
    return coef, intercept, n_iter


def _solve(estimator, X, Y_signed, penalty, adversarial_eps, start):
    name = type(estimator).__name__
    check_fit_scale(X, name)
    objective = Objective(
        X, Y_signed, penalty=penalty, alpha=estimator.alpha, C=estimator.C,
        margin_floor=estimator.margin_floor, loss=estimator.loss,
        loss_reduction=estimator.loss_reduction,
        margin_weighting=estimator.margin_weighting, adversarial_eps=adversarial_eps,
    )
    solver = select_solver(estimator.solver, objective, sparse=sp.issparse(X))
    if start is None:
        start = np.zeros((Y_signed.shape[1], X.shape[1])), np.zeros(Y_signed.shape[1])
    hint = f"Lower alpha (got {estimator.alpha!r}) or C (got {estimator.C!r}), or scale X."
    try:
        W, b, n_iter, converged = minimize(
            objective, *start, max_iter=estimator.max_iter, tol=estimator.tol, solver=solver,
            random_state=check_random_state(estimator.random_state),
            polish=estimator.solver == "auto", n_jobs=estimator.n_jobs,
        )
    except FloatingPointError as exc:
        raise ValueError(f"{name} diverged: {exc} {hint}") from exc
    check_finite_fit(W, b, name, hint)
    if not converged:
        warnings.warn(
            _CONVERGENCE_MSG.format(
                name=name, why=convergence_reason(n_iter, estimator.max_iter)
            ),
            ConvergenceWarning,
            stacklevel=_STACKLEVEL + 1,
        )
    return W, b, n_iter
