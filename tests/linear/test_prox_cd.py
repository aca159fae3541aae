"""Proximal steps with per-label dual CD (solver="dual-cd" for penalty="sae")."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy import optimize
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from skarm import ARMSAEClassifier
from skarm.linear._dual_cd import _duality_gap, _solve_label, svm_weights
from skarm.linear._objective import Objective
from skarm.linear._prox_cd import _Point, _proximal_step

X, Y = make_multilabel_classification(
    n_samples=100, n_features=8, n_classes=4, random_state=2, allow_unlabeled=True
)
X = X / X.std(axis=0)
X_SPARSE = sp.csr_matrix(X)
RNG = np.random.RandomState(0)


def sae_objective(X_fit, alpha, loss="hinge"):
    return Objective(X_fit, 2.0 * Y - 1.0, penalty="sae", alpha=alpha, C=1.0,
                     margin_floor=0.01, loss=loss, loss_reduction="sum")


def value_of(clf, loss="hinge"):
    objective = sae_objective(X, clf.alpha, loss)
    return objective.value_and_grad(clf.coef_, clf.intercept_)[0]


def dual_form_loss(t, diag, upper):
    """``max_{0 <= a <= U} a t - D a^2 / 2``, elementwise: the kernel's loss."""
    a = np.clip(t / diag, 0.0, upper)
    return a * t - 0.5 * diag * a * a


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_fixed_centre_kernel_solves_its_primal(loss):
    # min_{v, b} |v|^2 / 2 + (b - centre)^2 / (2 rho) + sum_i loss(1 - y_i (v.x_i + o_i + b)),
    # solved by L-BFGS on the primal directly.
    y = 2.0 * Y[:, 0] - 1.0
    offset = RNG.normal(size=len(y))
    diag, upper = svm_weights(0.05, 1.0 / len(y), loss, 0.01)
    rho, centre = 0.7, 0.3
    csr = X_SPARSE
    sqnorm = np.asarray(csr.multiply(csr).sum(axis=1)).ravel()
    v, alpha = np.zeros(X.shape[1]), np.zeros(len(y))
    b, _, converged = _solve_label(csr.indptr, csr.indices, csr.data, sqnorm, y, offset, diag,
                                   upper, rho, centre, True, 1e-10, 100_000, 0, v, alpha)
    assert converged

    def primal(theta):
        w, bias = theta[:-1], theta[-1]
        t = 1.0 - y * (X @ w + offset + bias)
        return 0.5 * w @ w + (bias - centre) ** 2 / (2 * rho) + dual_form_loss(
            t, diag, upper).sum()

    ref = optimize.minimize(primal, np.zeros(X.shape[1] + 1), method="L-BFGS-B",
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000})
    assert_allclose(primal(np.append(v, b)), ref.fun, rtol=1e-8)
    assert_allclose(np.append(v, b), ref.x, atol=1e-4)
    # v is the dual's: sum_i alpha_i y_i x_i, and the gap closes.
    assert_allclose(v, X.T @ (alpha * y), atol=1e-10)
    p, d = _duality_gap(csr.indptr, csr.indices, csr.data, y, offset, diag, upper, v, alpha, b,
                        centre, rho, True)
    assert_allclose(p, primal(np.append(v, b)), rtol=1e-12)
    assert p - d <= 1e-8 * abs(p)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_proximal_step_minimises_the_linearised_model(loss):
    # One step from a random Z, solved exactly, against L-BFGS on
    # S(W, b) + <grad P(Z), (W, b) - Z> + L/2 |(W, b) - Z|^2.
    objective = sae_objective(X_SPARSE, 0.1, loss)
    objective.smoothing = width = objective.smoothing_schedule()[-1]
    m, d = Y.shape[1], X.shape[1]
    Z = _Point(objective, RNG.normal(scale=0.3, size=(m, d)), RNG.normal(size=m))
    L = 0.05
    labels = [np.ascontiguousarray(2.0 * Y[:, k] - 1.0) for k in range(m)]
    kernel = (X_SPARSE, np.asarray(X_SPARSE.multiply(X_SPARSE).sum(axis=1)).ravel())
    W, b = _proximal_step(objective, kernel, labels, Z, L, np.arange(m), width,
                          (100_000, 1e-11))

    def model(theta):
        Wt, bt = theta[: m * d].reshape(m, d), theta[m * d:]
        dW, db = Wt - Z.W, bt - Z.b
        svm = objective.svm_terms(Wt, objective.scores(Wt, bt))[0]
        return (svm + np.sum(Z.grad_W * dW) + Z.grad_b @ db
                + 0.5 * L * (np.sum(dW * dW) + db @ db))

    ref = optimize.minimize(model, np.concatenate([Z.W.ravel(), Z.b]), method="L-BFGS-B",
                            options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 20_000})
    assert_allclose(model(np.concatenate([W.ravel(), b])), ref.fun, rtol=1e-8)
    assert_allclose(np.concatenate([W.ravel(), b]), ref.x, atol=1e-4)


# Explicit "dual-cd" may stop unconverged where the steps stall (and warn); the point here
# is the objective it reaches.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("alpha", [0.01, 0.1])
@pytest.mark.parametrize("X_fit", [X, X_SPARSE], ids=["dense", "sparse"])
def test_dual_cd_sae_is_as_low_as_lbfgs(X_fit, alpha, loss):
    params = dict(alpha=alpha, loss=loss, tol=1e-8, max_iter=5000)
    cd = ARMSAEClassifier(solver="dual-cd", random_state=0, **params).fit(X_fit, Y)
    lbfgs = ARMSAEClassifier(solver="lbfgs", **params).fit(X_fit, Y)
    # The SAE objective is not convex: the two may stop at different points, but dual CD's
    # is never worse than L-BFGS's by more than its tolerance.
    assert value_of(cd, loss) <= value_of(lbfgs, loss) * (1 + 1e-4)


# collapse on purpose.
@pytest.mark.filterwarnings("ignore::skarm.exceptions.CollapsedModelWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("alpha", [1.0, 3.0])
def test_auto_solver_finishes_a_stalled_sae_fit_with_lbfgs(alpha):
    # With the penalty dominant its kinks stall the proximal steps: alone they stop short,
    # "auto" goes on with L-BFGS and ends as low as L-BFGS alone.
    params = dict(alpha=alpha, tol=1e-8, max_iter=5000)
    lbfgs = value_of(ARMSAEClassifier(solver="lbfgs", **params).fit(X_SPARSE, Y))
    cd = ARMSAEClassifier(solver="dual-cd", random_state=0, **params).fit(X_SPARSE, Y)
    auto = ARMSAEClassifier(random_state=0, **params).fit(X_SPARSE, Y)
    assert value_of(auto) <= lbfgs * (1 + 1e-4)
    assert value_of(auto) <= value_of(cd)


def test_auto_solver_takes_dual_cd_for_sparse_sae_and_lbfgs_for_dense():
    for X_fit, solver in [(X_SPARSE, "dual-cd"), (X, "lbfgs")]:
        auto = ARMSAEClassifier(alpha=0.01, random_state=0).fit(X_fit, Y)
        explicit = ARMSAEClassifier(alpha=0.01, solver=solver, random_state=0).fit(X_fit, Y)
        assert_array_equal(auto.coef_, explicit.coef_)


def test_dual_cd_sae_is_deterministic_given_random_state():
    params = dict(alpha=0.1, solver="dual-cd", random_state=4)
    a = ARMSAEClassifier(**params).fit(X_SPARSE, Y)
    b = ARMSAEClassifier(**params).fit(X_SPARSE, Y)
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)


def test_dual_cd_sae_warns_when_max_iter_is_too_small():
    match = "did not converge: it used all max_iter=2 iterations"
    with pytest.warns(ConvergenceWarning, match=match):
        clf = ARMSAEClassifier(alpha=0.1, solver="dual-cd", max_iter=2, tol=1e-8).fit(
            X_SPARSE, Y)
    assert clf.n_iter_ == 2


# collapse on purpose.
@pytest.mark.filterwarnings("ignore::skarm.exceptions.CollapsedModelWarning")
def test_dual_cd_sae_with_a_large_alpha_returns_the_best_constant_model():
    # The penalty dominates: W = 0 with each intercept at its optimum, as with L-BFGS.
    cd = ARMSAEClassifier(alpha=1e3, solver="dual-cd", random_state=0).fit(X_SPARSE, Y)
    lbfgs = ARMSAEClassifier(alpha=1e3, solver="lbfgs").fit(X_SPARSE, Y)
    assert value_of(cd) <= value_of(lbfgs) * (1 + 1e-8)
