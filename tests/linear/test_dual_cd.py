"""Dual coordinate descent (solver="dual-cd") against L-BFGS and the duality gap."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy import optimize
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from skarm import ARMClassifier, ARMPrimalClassifier
from skarm.linear._dual_cd import _duality_gap, minimize_dual_cd, svm_weights
from skarm.linear._objective import Objective

X, Y = make_multilabel_classification(
    n_samples=120, n_features=8, n_classes=4, random_state=1, allow_unlabeled=True
)
X = X / X.std(axis=0)  # scaled, not centred: a nonzero intercept to find
X_SPARSE = sp.csr_matrix(X)


def objective_of(clf, X, Y, intercept=None):
    """The documented objective of a fitted linear ARMClassifier at its coef_ and intercept_
    (or ``intercept``): value, gradient in W, gradient in b."""
    objective = Objective(
        X, 2.0 * Y - 1.0, penalty=clf.penalty, alpha=clf.alpha, C=clf.C,
        margin_floor=clf.margin_floor, loss=clf.loss, loss_reduction=clf.loss_reduction,
    )
    return objective.value_and_grad(
        clf.coef_, clf.intercept_ if intercept is None else intercept
    )


def best_intercepts(clf, X, Y):
    """Each label's intercept minimising the objective with coef_ held fixed (1-D search)."""
    b = clf.intercept_.copy()
    for j in range(len(b)):
        def value(bj, j=j):
            trial = b.copy()
            trial[j] = bj
            return objective_of(clf, X, Y, intercept=trial)[0]
        b[j] = optimize.minimize_scalar(value, bracket=(b[j] - 0.1, b[j] + 0.1), tol=1e-12).x
    return b


# Tight tolerances: dual CD's last digits come slowly on dense data, so the point of the
# test is the optimum, not the warning.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize(
    "penalty, alpha, reduction", [(None, 0.0, "sum"), ("l2", 0.05, "sum"), ("l2", 0.05, "mean")]
)
@pytest.mark.parametrize("X_fit", [X, X_SPARSE], ids=["dense", "sparse"])
def test_dual_cd_reaches_the_lbfgs_optimum(X_fit, penalty, alpha, reduction, loss):
    params = dict(penalty=penalty, alpha=alpha, loss=loss, loss_reduction=reduction,
                  max_iter=20_000, tol=1e-9)
    cd = ARMClassifier(solver="dual-cd", random_state=0, **params).fit(X_fit, Y)
    lbfgs = ARMClassifier(solver="lbfgs", **params).fit(X_fit, Y)
    value_cd = objective_of(cd, X, Y)[0]
    value_lbfgs = objective_of(lbfgs, X, Y)[0]
    # Strictly convex (ridge): one optimum, and both solvers reach it.
    assert_allclose(value_cd, value_lbfgs, rtol=1e-7)
    assert_allclose(cd.coef_, lbfgs.coef_, atol=1e-3 * np.abs(lbfgs.coef_).max())
    # The intercept is not penalised: no better intercept for the same weights (a
    # penalised one, as liblinear's, is ~1e-4 worse here).
    best = objective_of(cd, X, Y, intercept=best_intercepts(cd, X, Y))[0]
    assert value_cd <= best * (1 + 1e-8)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_dual_cd_closes_the_duality_gap(loss):
    objective = Objective(
        X, 2.0 * Y - 1.0, penalty=None, alpha=0.0, C=1.0, margin_floor=0.01, loss=loss,
        loss_reduction="sum",
    )
    lam = objective.decoupled_ridge()
    W, b, _, converged = minimize_dual_cd(
        X, 2.0 * Y - 1.0, lam=lam, loss_scale=objective.loss_scale, loss=loss, width=0.01,
        max_iter=20_000, tol=1e-6, random_state=np.random.RandomState(0),
    )
    assert converged
    # The primal the gap is computed on is the documented objective divided by lam: the
    # dual-form loss of svm_weights equals the smoothed hinge (or squared hinge).
    csr = sp.csr_matrix(X)
    diag, upper = svm_weights(lam, objective.loss_scale, loss, 0.01)
    total = 0.0
    for j in range(Y.shape[1]):
        y = 2.0 * Y[:, j] - 1.0
        primal, dual = _duality_gap(csr.indptr, csr.indices, csr.data, y, np.zeros(len(y)),
                                    diag, upper, W[j].copy(), np.zeros(len(y)), b[j], 0.0, 1.0,
                                    False)
        total += primal
    assert_allclose(lam * total, objective.value_and_grad(W, b)[0], rtol=1e-12)


def test_auto_solver_is_dual_cd_for_sparse_and_lbfgs_for_dense():
    for X_fit, solver in [(X_SPARSE, "dual-cd"), (X, "lbfgs")]:
        params = dict(penalty=None, random_state=0, max_iter=20_000)
        auto = ARMClassifier(**params).fit(X_fit, Y)
        explicit = ARMClassifier(solver=solver, **params).fit(X_fit, Y)
        assert_array_equal(auto.coef_, explicit.coef_)
    # The other coupled penalties always take L-BFGS ("sae": test_prox_cd.py).
    auto = ARMPrimalClassifier(alpha=0.01).fit(X_SPARSE, Y)
    lbfgs = ARMPrimalClassifier(alpha=0.01, solver="lbfgs").fit(X_SPARSE, Y)
    assert_array_equal(auto.coef_, lbfgs.coef_)


def test_auto_solver_finishes_with_lbfgs_when_dual_cd_has_not_converged():
    with pytest.warns(ConvergenceWarning):  # one label needs ~1300 sweeps here
        ARMClassifier(penalty=None, solver="dual-cd", random_state=0).fit(X_SPARSE, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        auto = ARMClassifier(penalty=None, random_state=0).fit(X_SPARSE, Y)
    optimum = ARMClassifier(penalty=None, solver="lbfgs", tol=1e-9).fit(X_SPARSE, Y)
    assert_allclose(objective_of(auto, X, Y)[0], objective_of(optimum, X, Y)[0], rtol=1e-4)


def test_dual_cd_is_deterministic_given_random_state():
    params = dict(penalty=None, solver="dual-cd", random_state=3, max_iter=20_000)
    a = ARMClassifier(**params).fit(X_SPARSE, Y)
    b = ARMClassifier(**params).fit(X_SPARSE, Y)
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)


@pytest.mark.parametrize(
    "params",
    [dict(penalty="primal", alpha=0.1), dict(penalty="single", alpha=0.1),
     dict(penalty="nuclear", alpha=0.1), dict(penalty=None, C=np.inf),
     dict(penalty="sae", alpha=0.0, C=np.inf)],
)
def test_dual_cd_rejects_objectives_that_are_not_one_svm_per_label(params):
    with pytest.raises(ValueError, match="solver='dual-cd' solves one SVM per label"):
        ARMClassifier(solver="dual-cd", **params).fit(X, Y)


def test_dual_cd_warns_when_max_iter_is_too_small():
    match = "did not converge: it used all max_iter=2 iterations"
    with pytest.warns(ConvergenceWarning, match=match):
        clf = ARMClassifier(penalty=None, solver="dual-cd", max_iter=2, tol=1e-8).fit(X, Y)
    assert clf.n_iter_ == 2


def test_bad_solver_raises_in_sklearn_wording():
    with pytest.raises(ValueError, match="The 'solver' parameter of ARMClassifier must be"):
        ARMClassifier(solver="newton").fit(X, Y)
