"""Adversarial training of the linear backend: the per-label worst case."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy import optimize
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score

from skarm import ARMClassifier, ARMSAEClassifier
from skarm.attacks import GASEAttack
from skarm.exceptions import CollapsedModelWarning
from skarm.linear._dual_cd import minimize_dual_cd
from skarm.linear._objective import Objective, hinge_loss
from skarm.linear._solvers import minimize_lbfgs

PENALTIES = [None, "l2", "single", "primal", "sae"]


def _problem(n=120, d=8, m=4, seed=0):
    X, Y = make_multilabel_classification(n_samples=n, n_features=d, n_classes=m,
                                          random_state=seed)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, Y


def _objective(X, Y, eps, penalty=None, alpha=0.0, loss="hinge", weighting="floor"):
    return Objective(X, 2.0 * Y - 1.0, penalty=penalty, alpha=alpha, C=1.0, margin_floor=0.01,
                     loss=loss, loss_reduction="sum", margin_weighting=weighting,
                     adversarial_eps=eps)


def test_per_label_worst_case_equals_a_numerical_minimisation_over_the_ball():
    # The closed form min_{||r|| <= eps} y (w . (x + r) + b) = y h(x) - eps ||w||, checked
    # against SLSQP on the ball for every label and a few instances; the objective's loss is
    # the loss at those minima.
    X, Y = _problem(n=6, d=5, m=3)
    rng = np.random.default_rng(0)
    W, b, eps = rng.normal(size=(3, 5)), rng.normal(size=3), 0.7
    Ys = 2.0 * Y - 1.0
    worst = np.empty_like(Ys)
    for i in range(len(X)):
        for j in range(3):
            result = optimize.minimize(
                lambda r, i=i, j=j: Ys[i, j] * (W[j] @ (X[i] + r) + b[j]), np.zeros(5),
                method="SLSQP",
                constraints=[{"type": "ineq", "fun": lambda r: eps**2 - r @ r}],
            )
            worst[i, j] = result.fun
    closed = Ys * (X @ W.T + b) - eps * np.linalg.norm(W, axis=1)
    assert_allclose(worst, closed, atol=1e-6)
    objective = _objective(X, Y, eps)
    expected = hinge_loss(worst, "hinge", objective.smoothing)[0].sum() / len(X)
    expected += 0.5 * objective.ridge * np.sum(W * W)
    assert_allclose(objective.value_and_grad(W, b)[0], expected, rtol=1e-6)


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighting", ["floor", "soft"])
def test_adversarial_gradient_matches_finite_differences(penalty, sparse, weighting):
    X, Y = _problem(n=40, d=6, m=4, seed=1)
    objective = _objective(sp.csr_matrix(X) if sparse else X, Y, eps=0.3, penalty=penalty,
                           alpha=0.0 if penalty is None else 0.1, weighting=weighting)
    objective.smoothing = 0.5  # smooth enough for central differences
    rng = np.random.default_rng(2)
    W, b = rng.normal(size=(4, 6)), rng.normal(scale=0.3, size=4)
    _, grad_W, grad_b = objective.value_and_grad(W, b)
    theta = np.concatenate([W.ravel(), b])

    def value(t):
        return objective.value_and_grad(t[:24].reshape(4, 6), t[24:])[0]

    h = 1e-6
    numeric = np.array([(value(theta + h * e) - value(theta - h * e)) / (2 * h)
                        for e in np.eye(theta.size)])
    assert_allclose(np.concatenate([grad_W.ravel(), grad_b]), numeric, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("eps", [0.05, 0.2, 0.6, 3.0])
def test_dual_cd_solves_the_per_label_worst_case_objective(loss, eps):
    # The robust SVM's dual (exact coordinate steps) against L-BFGS on the primal, run to a
    # tight tolerance: the same optimum, including the eps where W = 0 wins.
    X, Y = _problem(n=150, d=10, m=4, seed=3)
    objective = _objective(sp.csr_matrix(X), Y, eps, loss=loss)
    objective.smoothing = objective.smoothing_schedule()[-1]
    W_ref, b_ref, ref, _, _ = minimize_lbfgs(objective, np.zeros((4, 10)), np.zeros(4),
                                             max_iter=20000, tol=1e-10)
    W, b, _, converged = minimize_dual_cd(
        objective.X, objective.Y, lam=objective.ridge, loss_scale=objective.loss_scale,
        loss=loss, width=objective.smoothing, max_iter=5000, tol=1e-6,
        random_state=np.random.RandomState(0), adversarial_eps=eps,
    )
    assert converged
    value = objective.value_and_grad(W, b)[0]
    assert value <= ref * (1 + 1e-5)
    assert_allclose(W, W_ref, atol=2e-2 * max(1.0, np.abs(W_ref).max()))


def test_adversarial_eps_zero_is_the_clean_fit():
    X, Y = _problem()
    clean = ARMClassifier(penalty="l2", alpha=0.01).fit(X, Y)
    zero = ARMClassifier(penalty="l2", alpha=0.01, adversarial_eps=0.0).fit(X, Y)
    assert_allclose(zero.coef_, clean.coef_)


@pytest.mark.parametrize("sparse", [False, True])
def test_certified_per_label_margins_hold_after_per_label_training(sparse):
    # After a per-label AT fit, every training (instance, label) whose robust margin
    # y h - eps ||w|| is positive is certified: no perturbation within eps flips it, so the
    # worst one (-eps y w / ||w||) and GASE's joint attack leave it correct.
    X, Y = _problem(n=200, d=10, m=5, seed=4)
    eps = 0.1 * np.median(np.linalg.norm(X, axis=1))
    Xf = sp.csr_matrix(X) if sparse else X
    robust = ARMClassifier(penalty=None, adversarial_eps=eps, random_state=0).fit(Xf, Y)
    Ys = 2.0 * Y - 1.0
    cert = Ys * robust.decision_function(X) - eps * np.linalg.norm(robust.coef_, axis=1) > 0
    assert cert.mean() > 0.5
    W, b = robust.coef_, robust.intercept_
    unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    for j in range(Y.shape[1]):
        X_worst = X - eps * Ys[:, [j]] * unit[j]
        assert np.all(Ys[cert[:, j], j] * (X_worst[cert[:, j]] @ W[j] + b[j]) > 0)
    flipped = GASEAttack(robust, eps=eps).attack(X, Y).flipped
    assert not np.any(flipped & cert)


def test_per_label_training_lowers_gase_flips_on_a_correlated_generator():
    # High-dimensional correlated labels (d > n): the clean SVM separates the training data
    # with small geometric margins; per-label AT at a small budget buys margin and lowers
    # the labels GASE flips on held-out data at that budget.
    from skarm.datasets import make_correlated_multilabel

    X, Y = make_correlated_multilabel(500, 40, 6, random_state=0)
    X = (X - X[:250].mean(axis=0)) / X[:250].std(axis=0)
    Xtr, Ytr, Xte, Yte = X[:250], Y[:250], X[250:], Y[250:]
    eps = 0.05 * np.median(np.linalg.norm(Xtr, axis=1))
    clean = ARMClassifier(penalty=None).fit(Xtr, Ytr)
    robust = ARMClassifier(penalty=None, adversarial_eps=eps).fit(Xtr, Ytr)
    flips_clean = GASEAttack(clean, eps=eps).attack(Xte, Yte).n_flipped.mean()
    flips_robust = GASEAttack(robust, eps=eps).attack(Xte, Yte).n_flipped.mean()
    assert flips_robust < flips_clean


def test_large_budget_gives_the_constant_model_and_warns():
    X, Y = _problem()
    with pytest.warns(CollapsedModelWarning, match="adversarial_eps=100.0"):
        model = ARMClassifier(penalty=None, adversarial_eps=100.0).fit(X, Y)
    assert not model.coef_.any()
    b_best, _ = _objective(X, Y, 0.0).best_intercept()
    assert_allclose(model.intercept_, b_best, atol=1e-3)


@pytest.mark.parametrize("penalty, alpha", [("l2", 1e4), ("sae", 1e4), ("nuclear", 1e4)])
def test_a_penalty_that_collapses_the_model_warns(penalty, alpha):
    X, Y = _problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(CollapsedModelWarning, match=f"penalty='{penalty}' with alpha="):
            ARMClassifier(penalty=penalty, alpha=alpha).fit(X, Y)


def test_a_working_penalty_does_not_warn():
    X, Y = _problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapsedModelWarning)
        ARMClassifier(penalty="sae", alpha=0.1).fit(X, Y)
        ARMClassifier(penalty=None, adversarial_eps=0.05).fit(X, Y)


@pytest.mark.parametrize("penalty", PENALTIES + ["nuclear"])
def test_adversarial_training_combines_with_every_penalty(penalty):
    X, Y = _problem()
    eps = 0.05 * np.median(np.linalg.norm(X, axis=1))
    model = ARMClassifier(penalty=penalty, alpha=0.0 if penalty is None else 0.01,
                          adversarial_eps=eps).fit(X, Y)
    objective = _objective(X, Y, eps, penalty=penalty,
                           alpha=0.0 if penalty is None else 0.01)
    clean_objective = _objective(X, Y, 0.0, penalty=penalty,
                                 alpha=0.0 if penalty is None else 0.01)
    clean = ARMClassifier(penalty=penalty, alpha=0.0 if penalty is None else 0.01).fit(X, Y)
    # Each fit is better at its own objective than the other fit is.
    nuclear = 0.01 if penalty == "nuclear" else 0.0

    def total(obj, m):
        return (obj.value_and_grad(m.coef_, m.intercept_)[0]
                + nuclear * np.linalg.svd(m.coef_, compute_uv=False).sum())

    assert total(objective, model) <= total(objective, clean) + 1e-6
    assert total(clean_objective, clean) <= total(clean_objective, model) + 1e-6


def test_the_joint_gase_method_is_not_offered():
    # Measured and not shipped (benchmarks/bench_adversarial_training.py): the option is
    # refused with the options that exist.
    X, Y = _problem()
    with pytest.raises(ValueError, match="The 'adversarial_method' parameter.*'per-label'"):
        ARMClassifier(adversarial_eps=0.1, adversarial_method="gase").fit(X, Y)


def test_torch_only_method_is_refused_by_the_linear_backend():
    X, Y = _problem()
    with pytest.raises(ValueError, match="adversarial_method='pgd' is not available with "
                                         "backend='linear'"):
        ARMClassifier(adversarial_eps=0.1, adversarial_method="pgd").fit(X, Y)


def test_bad_adversarial_parameters_get_sklearn_messages():
    X, Y = _problem()
    with pytest.raises(ValueError, match="The 'adversarial_eps' parameter of ARMClassifier "
                                         "must be a float in the range"):
        ARMClassifier(adversarial_eps=-1.0).fit(X, Y)
    with pytest.raises(ValueError, match="The 'adversarial_method' parameter"):
        ARMClassifier(adversarial_method="fgsm").fit(X, Y)
    with pytest.raises(ValueError, match="The 'margin_weighting' parameter"):
        ARMSAEClassifier(margin_weighting="hard").fit(X, Y)


def test_soft_margin_weighting_caps_the_weights_near_1_43():
    from skarm._sae import arm_sae_label_weights

    margins = np.array([[-50.0, -1.0, 0.0, 1.0, 5.0, 40.0]])
    soft, _ = arm_sae_label_weights(margins, np.ones_like(margins), 0.01, "soft")
    floor, _ = arm_sae_label_weights(margins, np.ones_like(margins), 0.01, "floor")
    assert_allclose(-soft[0, 0], 1.0 / np.log(1.0 + np.exp(0.01)), rtol=1e-12)
    assert_allclose(-floor[0, 0], 100.0)
    # Both decay as exp(-t) for large margins.
    assert_allclose(soft[0, -2:], floor[0, -2:], rtol=1e-2)
    X, Y = _problem()
    a = ARMSAEClassifier(alpha=0.3).fit(X, Y)
    b = ARMSAEClassifier(alpha=0.3, margin_weighting="soft").fit(X, Y)
    assert not np.allclose(a.coef_, b.coef_)
    assert f1_score(Y, b.predict(X), average="micro") > 0.5
