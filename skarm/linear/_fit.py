"""The linear backend's entry point: constant labels, warm start, solve.

The estimator validates its parameters and data and binarises y, then hands the arrays and
its parameters, as plain values, to :func:`fit_linear` (the linear counterpart of
:func:`skarm.deep._fit.fit_net`). It builds the :class:`~skarm.linear._objective.Objective`,
runs the solver, turns its numerical trouble into errors (divergence) or warnings
(non-convergence) and returns the fitted :class:`~skarm._decision.LinearDecision`.
:data:`LINEAR_PARAMETERS` declares the parameters only this backend reads.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .._decision import LinearDecision
from .._spec import LOSSES
from ..utils._sklearn_compat import N_JOBS_CONSTRAINT, Interval, StrOptions
from ..utils._validation import check_finite_fit, check_fit_scale
from ._objective import Objective
from ._solvers import SOLVERS, minimize, select_solver

__all__ = ["LINEAR_PARAMETERS", "convergence_reason", "fit_linear"]

# The estimator parameters only this backend reads, with scikit-learn's constraints.
LINEAR_PARAMETERS = {
    "C": [Interval(Real, 0, None, closed="right")],
    "loss": [StrOptions(set(LOSSES))],
    "solver": [StrOptions(set(SOLVERS))],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "warm_start": ["boolean"],
    "n_jobs": N_JOBS_CONSTRAINT,
}

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


def fit_linear(
    X, Y, *, penalty, alpha, C, margin_floor, margin_weighting, loss, loss_reduction,
    adversarial_eps, solver, max_iter, tol, n_jobs, random_state, start=None,
    name="estimator",
):
    """Fit ``h(x) = W x + b`` to the {0, 1} label matrix Y.

    A label constant in training is predicted as that constant, as OvR does (with a
    warning), and left out of the solve.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated float64 training data (dense or CSR).
    Y : ndarray of shape (n_samples, n_labels)
        {0, 1} label indicator.
    penalty, alpha, C, margin_floor, margin_weighting, loss, loss_reduction : see ARMClassifier
        The objective.
    adversarial_eps : float
        L2 budget of per-label adversarial training (0: off).
    solver, max_iter, tol, n_jobs, random_state : see ARMClassifier
        The solver and its budget.
    start : LinearDecision, default=None
        Warm start: the previous fit's decision, used when its shape still fits.
    name : str, default="estimator"
        The estimator's name, for messages.

    Returns
    -------
    decision : LinearDecision
        ``(W, b)`` of shape (n_labels, n_features) and (n_labels,).
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
        return LinearDecision(coef, intercept, name), 0
    start_point = np.zeros((fit_cols.size, n_features)), np.zeros(fit_cols.size)
    if start is not None and start.coef.shape == coef.shape:
        start_point = start.coef[fit_cols].copy(), start.intercept[fit_cols].copy()
    check_fit_scale(X, name)
    objective = Objective(
        X, 2.0 * Y[:, fit_cols] - 1.0, penalty=penalty, alpha=alpha, C=C,
        margin_floor=margin_floor, loss=loss, loss_reduction=loss_reduction,
        margin_weighting=margin_weighting, adversarial_eps=adversarial_eps,
    )
    hint = f"Lower alpha (got {alpha!r}) or C (got {C!r}), or scale X."
    try:
        W, b, n_iter, converged = minimize(
            objective, *start_point, max_iter=max_iter, tol=tol,
            solver=select_solver(solver, objective, sparse=sp.issparse(X)),
            random_state=check_random_state(random_state), polish=solver == "auto",
            n_jobs=n_jobs,
        )
    except FloatingPointError as exc:
        raise ValueError(f"{name} diverged: {exc} {hint}") from exc
    check_finite_fit(W, b, name, hint)
    if not converged:
        warnings.warn(
            _CONVERGENCE_MSG.format(name=name, why=convergence_reason(n_iter, max_iter)),
            ConvergenceWarning,
            stacklevel=_STACKLEVEL,
        )
    coef[fit_cols], intercept[fit_cols] = W, b
    return LinearDecision(coef, intercept, name), n_iter
