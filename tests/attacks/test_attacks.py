"""GASE, PGD and the exact oracle against closed forms, brute force and each other."""

import itertools
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_multilabel_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import RidgeClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skarm._decision import as_decision
from skarm.attacks import GASEAttack, PGDAttack, exact_attack, make_targets
from skarm.attacks._kernels import min_norm_perturbation
from skarm.utils._sklearn_compat import InvalidParameterError

X, Y = make_multilabel_classification(
    n_samples=80, n_features=8, n_classes=6, random_state=0, allow_unlabeled=True
)
OVERSHOOT = 1e-6  # the attacks' default, used by the references below


def ovr():
    return OneVsRestClassifier(LinearSVC()).fit(X, Y)


MODELS = {
    "ovr-linearsvc": ovr,
    "ridge-2d": lambda: RidgeClassifier().fit(X, Y),
    "scaler-ovr": lambda: make_pipeline(StandardScaler(), OneVsRestClassifier(LinearSVC())).fit(
        X, Y
    ),
}


class GradientOnly:
    """A model known only through decision_function and input_gradients (no Gram shortcut)."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def decision_function(self, X):
        return X @ self.W.T + self.b

    def input_gradients(self, X):
        return np.repeat(self.W[np.newaxis], X.shape[0], axis=0)


class Quadratic(GradientOnly):
    """A non-linear differentiable model: h_j(x) = w_j^T x + b_j + c_j ||x||^2 / 2."""

    def __init__(self, W, b, c):
        super().__init__(W, b)
        self.c = c

    def decision_function(self, X):
        return super().decision_function(X) + 0.5 * np.sum(X**2, axis=1)[:, None] * self.c

    def input_gradients(self, X):
        return self.W[np.newaxis] + self.c[np.newaxis, :, None] * X[:, np.newaxis, :]


class ReLUNet:
    """A piecewise-linear network: h(x) = V relu(U x + c) + b, as torch's ReLU layers."""

    def __init__(self, U, c, V, b):
        self.U, self.c, self.V, self.b = U, c, V, b

    def decision_function(self, X):
        return np.maximum(X @ self.U.T + self.c, 0.0) @ self.V.T + self.b

    def input_gradients(self, X):
        active = (X @ self.U.T + self.c > 0).astype(float)
        return np.einsum("jh,bh,hd->bjd", self.V, active, self.U)


def random_problem(rng, n, m, d):
    """A RidgeClassifier on random data, with its (W, b) and noisy labels."""
    Xr = rng.standard_normal((n, d))
    Yr = (Xr @ rng.standard_normal((d, m)) + 0.7 * rng.standard_normal((n, m)) > 0).astype(int)
    model = RidgeClassifier().fit(Xr, Yr)
    return model, Xr, Yr


def reference_signs(model, X, y):
    return 2.0 * y - 1.0 if y is not None else 2.0 * model.predict(X) - 1.0


def count_flips(model, X_adv, signs):
    """Flips checked with the model's own predict, independently of the attack code."""
    pred = np.asarray(model.predict(X_adv)).reshape(len(X_adv), -1)
    return ((2.0 * pred - 1.0) != signs).sum(axis=1)


def brute_min_norm(V, mu):
    """min ||r|| s.t. V r <= -mu, by enumerating active sets (the optimum is the min-norm
    solution of its active equalities, and every feasible such point is no shorter)."""
    k = len(mu)
    best = np.inf
    scale = 1.0 + np.abs(mu).max(initial=0.0)
    for size in range(k + 1):
        for A in itertools.combinations(range(k), size):
            A = list(A)
            r = np.zeros(V.shape[1]) if not A else np.linalg.lstsq(V[A], -mu[A], rcond=None)[0]
            if A and not np.allclose(V[A] @ r, -mu[A], atol=1e-9 * scale):
                continue
            if np.all(V @ r <= -mu + 1e-9 * scale):
                best = min(best, np.linalg.norm(r))
    return best


def thresholds(h, s, W, eps):
    """What each label must reach, as the attacks define it (see label_thresholds): kappa
    past the boundary, kappa = overshoot * max(|h|, min(1, eps ||w_j||))."""
    reach = eps * np.linalg.norm(W, axis=1)
    kappa = OVERSHOOT * np.maximum(np.minimum(1.0, reach), np.abs(h))
    wrong = (h > 0) != (s > 0)
    return np.where(wrong, np.maximum(-kappa, s * h), -kappa)


# ---------------------------------------------------------------------------------------
# The inner QP
# ---------------------------------------------------------------------------------------


def test_qp_single_label_equals_closed_form(global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    for _ in range(20):
        v = rng.standard_normal(rng.randint(1, 10)) * rng.uniform(0.01, 100)
        mu = rng.uniform(1e-3, 10)
        lam, cost = min_norm_perturbation(np.array([[v @ v]]), np.array([mu]))
        # r = -(mu / ||v||^2) v, cost = mu / ||v|| (doc: alg-inner-qp).
        assert_allclose(lam[0], mu / (v @ v), rtol=1e-12)
        assert_allclose(cost, mu / np.linalg.norm(v), rtol=1e-12)


def test_qp_all_active_equals_closed_form(global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    for _ in range(20):
        k = rng.randint(2, 7)
        V = rng.standard_normal((k, k + rng.randint(0, 5)))
        Q = V @ V.T
        lam_true = rng.uniform(0.1, 2.0, k)
        mu = Q @ lam_true  # every constraint active with lambda > 0
        lam, cost = min_norm_perturbation(Q, mu)
        assert_allclose(lam, np.linalg.solve(Q, mu), rtol=1e-8)
        assert_allclose(cost**2, mu @ np.linalg.solve(Q, mu), rtol=1e-8)


def test_qp_matches_brute_force_active_sets(global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    for trial in range(60):
        k, d = rng.randint(1, 6), rng.randint(1, 6)
        V = rng.standard_normal((k, d))
        if trial % 4 == 0 and k > 1:
            V[-1] = 2.0 * V[0]  # dependent rows: a singular Gram
        mu = rng.standard_normal(k)
        lam, cost = min_norm_perturbation(V @ V.T, mu)
        expected = brute_min_norm(V, mu)
        if np.isinf(expected):
            assert np.isinf(cost)
            continue
        assert_allclose(cost, expected, rtol=1e-7, atol=1e-10)
        r = -lam @ V
        assert np.all(lam >= 0)
        assert np.all(V @ r <= -mu + 1e-8)
        assert_allclose(np.linalg.norm(r), cost, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize(
    "gram, mu",
    [
        (np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([1.0, 1.0])),  # opposite directions
        (np.array([[0.0]]), np.array([1.0])),  # a label that cannot move
    ],
)
def test_qp_infeasible_is_infinite(gram, mu):
    lam, cost = min_norm_perturbation(gram, mu)
    assert np.isinf(cost)
    assert_array_equal(lam, 0.0)


def _ridge_with(coef, intercept):
    """A RidgeClassifier with the given weights (fitted first, for its attributes)."""
    m, d = np.shape(coef)
    model = RidgeClassifier(fit_intercept=intercept is not None)
    model.fit(np.eye(m, d), np.eye(m, dtype=int))
    model.coef_ = np.asarray(coef, dtype=float)
    model.intercept_ = np.zeros(m) if intercept is None else np.asarray(intercept, float)
    return model


def test_qp_with_a_far_slack_constraint_of_a_tiny_gradient():
    # The second constraint holds at r = 0 by 6.19 with a gradient of norm 1e-12: in units
    # of its gradient it is 6e12 from binding. It must not swamp the first one.
    V = np.array([[-7.35], [1e-12]])
    lam, cost = min_norm_perturbation(V @ V.T, np.array([5.18, -6.19]))
    assert_allclose(cost, 5.18 / 7.35, rtol=1e-10)
    assert_allclose(lam, [5.18 / 7.35**2, 0.0], atol=1e-12)


@pytest.mark.parametrize("tiny", [1e-12, 1e-9, 0.0])
def test_gase_keeps_a_wrong_label_of_tiny_weight_and_flips_the_other(tiny):
    # Label 1 is already wrong and its weight is a tiny multiple of label 0's: flipping
    # label 0 (at norm 5.18 / 7.35) keeps label 1 wrong, so both count.
    model = _ridge_with([[-7.35], [-tiny]], [5.18, 6.19])
    x, y = np.zeros((1, 1)), np.array([[1, 0]])
    for result in (GASEAttack(model, eps=1.0).attack(x, y), exact_attack(model, x, y, eps=1.0)):
        assert_array_equal(result.n_flipped, [2])
        assert_allclose(result.norms, 5.18 / 7.35, rtol=1e-5)


def test_oracle_beats_pgd_and_gase_on_models_without_intercept():
    # More labels than features and no intercept: nearly dependent QP data everywhere.
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = int(rng.integers(1, 4))
        m = int(rng.integers(d + 1, 9))
        Xs = rng.normal(size=(40, d))
        Ys = rng.integers(0, 2, size=(40, m))
        model = _ridge_with(rng.normal(size=(m, d)), None)
        eps = float(rng.choice([0.1, 0.5, 1.0, 2.0]))
        exact = exact_attack(model, Xs, Ys, eps=eps).n_flipped
        assert np.all(exact >= PGDAttack(model, eps=eps).attack(Xs, Ys).n_flipped)
        assert np.all(exact >= GASEAttack(model, eps=eps).attack(Xs, Ys).n_flipped)


def test_exact_attack_without_intercept_and_more_labels_than_features():
    # Without an intercept every constraint passes within the overshoot of one point, so
    # the QP's data are nearly dependent (smallest singular value ~1e-7); the solver used
    # to drop a needed constraint and call feasible sets infeasible. PGD flips all 7
    # labels here within the budget: the oracle and GASE must too.
    W = [[1.2295008614331246, -0.06416921633742403, -0.5461688154334842],
         [0.3148209696175649, -0.605812847991671, -0.5731292157665655],
         [-0.6077406304422468, -2.2954241955331667, 0.10549947766059664],
         [-1.263835358595468, -0.1072691206682774, 1.4499687804848278],
         [-0.5210003231072904, -0.5420091584474772, 1.3639093845017958],
         [0.5463057654642988, 0.9765270973526429, -0.35529123398699336],
         [0.7480832128709275, -0.6861685891568023, -0.676001725621899]]
    model = _ridge_with(W, None)
    x = np.array([[-0.6651946734866135, 0.3515100700930197, 0.9034701816518086]])
    y = np.array([[1, 0, 0, 0, 1, 1, 0]])
    pgd = PGDAttack(model, eps=2.0).attack(x, y).n_flipped
    assert_array_equal(pgd, [7])
    assert_array_equal(exact_attack(model, x, y, eps=2.0).n_flipped, pgd)
    assert_array_equal(GASEAttack(model, eps=2.0).attack(x, y).n_flipped, pgd)


# ---------------------------------------------------------------------------------------
# GASE on linear models
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("with_y", [True, False])
def test_gase_flips_are_verified_and_norms_within_eps(name, container, with_y):
    model = MODELS[name]()
    y = Y if with_y else None
    eps = 1.5
    result = GASEAttack(model, eps=eps).attack(container(X), y)
    assert isinstance(result.X_adv, np.ndarray)
    assert np.all(result.norms <= eps)
    assert_allclose(result.norms, np.linalg.norm(result.X_adv - X, axis=1))
    signs = reference_signs(model, X, y)
    assert_array_equal(result.n_flipped, count_flips(model, result.X_adv, signs))
    assert np.all(result.targets <= result.flipped)  # every target really flipped
    assert result.reference == ("label" if with_y else "prediction")
    assert result.n_flipped.sum() > 0


def test_gase_between_best_single_label_attack_and_oracle(global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    for _ in range(6):
        m, d = rng.randint(2, 9), rng.randint(2, 10)
        model, Xr, Yr = random_problem(rng, 40, m, d)
        eps = rng.uniform(0.2, 1.5)
        for y in (Yr, None):
            gase = GASEAttack(model, eps=eps).attack(Xr, y).n_flipped
            oracle = exact_attack(model, Xr, y, eps=eps).n_flipped
            assert np.all(gase <= oracle)
            # Best single-label attack, from the closed form, checked with predict.
            W, b = model.coef_, model.intercept_
            s = reference_signs(model, Xr, y)
            H = Xr @ W.T + b
            best = count_flips(model, Xr, s)
            tau = thresholds(H, s, W, eps)
            for j in range(m):
                cost = (s[:, j] * H[:, j] - tau[:, j]) / np.linalg.norm(W[j])
                fits = (cost > 0) & (cost <= eps)
                R = -(cost / np.linalg.norm(W[j]) * s[:, j])[:, None] * W[j]
                counts = count_flips(model, Xr + R, s)
                best = np.where(fits, np.maximum(best, counts), best)
            assert np.all(gase >= best)


def test_exact_attack_matches_brute_force_over_label_sets(global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    model, Xr, Yr = random_problem(rng, 12, 4, 3)
    eps = 0.8
    result = exact_attack(model, Xr, Yr, eps=eps)
    W, b = model.coef_, model.intercept_
    H = Xr @ W.T + b
    s = 2.0 * Yr - 1.0
    tau = thresholds(H, s, W, eps)
    for i in range(len(Xr)):
        V = s[i][:, None] * W
        mu = s[i] * H[i] - tau[i]
        best = max(
            len(T)
            for size in range(5)
            for T in itertools.combinations(range(4), size)
            if brute_min_norm(V[list(T)], mu[list(T)]) <= eps
        )
        assert result.targets[i].sum() == best
        assert result.n_flipped[i] >= best


def test_gase_close_to_oracle_on_average(global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    model, Xr, Yr = random_problem(rng, 150, 10, 6)
    gase = GASEAttack(model, eps=1.0).attack(Xr, Yr).n_flipped.sum()
    oracle = exact_attack(model, Xr, Yr, eps=1.0).n_flipped.sum()
    assert gase >= 0.95 * oracle


@pytest.mark.parametrize("marginal_cost", ["exact", "first_order"])
def test_attack_is_monotone_in_eps(marginal_cost):
    model = ovr()
    counts = [
        GASEAttack(model, eps=eps, marginal_cost=marginal_cost).attack(X, Y).n_flipped
        for eps in (0.1, 0.5, 1.0, 2.0, 4.0)
    ]
    for small, large in itertools.pairwise(counts):
        assert np.all(small <= large) if marginal_cost == "exact" else small.sum() <= large.sum()


def test_first_order_estimator_is_valid_and_no_better_than_oracle():
    model = ovr()
    result = GASEAttack(model, eps=1.5, marginal_cost="first_order").attack(X, Y)
    assert np.all(result.norms <= 1.5)
    assert_array_equal(result.n_flipped, count_flips(model, result.X_adv, 2.0 * Y - 1.0))
    assert np.all(result.n_flipped <= exact_attack(model, X, Y, eps=1.5).n_flipped)


def test_constant_label_is_never_flipped():
    Yc = Y.copy()
    Yc[:, 2] = 1  # OvR fits a constant predictor: a label no perturbation moves
    with pytest.warns(UserWarning, match="Label 2 is present in all training examples"):
        model = OneVsRestClassifier(LinearSVC()).fit(X, Yc)
    result = GASEAttack(model, eps=5.0).attack(X, Yc)
    assert not result.flipped[:, 2].any()
    assert result.n_flipped.sum() > 0


def test_tiny_eps_flips_nothing_on_correct_labels():
    model = ovr()
    pred = model.predict(X)
    result = GASEAttack(model, eps=1e-12).attack(X, pred)
    assert_array_equal(result.n_flipped, 0)
    assert_allclose(result.X_adv, X, atol=1e-12)


# ---------------------------------------------------------------------------------------
# The generic path (scores and input gradients only)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_y", [True, False])
def test_generic_path_matches_linear_path(with_y, global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    model, Xr, Yr = random_problem(rng, 30, 6, 5)
    y = Yr if with_y else None
    wrapper = GradientOnly(model.coef_, model.intercept_)
    for eps in (0.3, 1.0):
        linear = GASEAttack(model, eps=eps).attack(Xr, y)
        # The greedy itself (the refinement on the model, which may add, is tested below).
        generic = GASEAttack(wrapper, eps=eps, marginal_cost="exact", refine_steps=0).attack(
            Xr, y
        )
        assert_array_equal(generic.targets, linear.targets)
        assert_array_equal(generic.n_flipped, linear.n_flipped)
        assert_allclose(generic.X_adv, linear.X_adv, atol=1e-9)


def test_generic_path_first_order_is_valid():
    model = ovr()
    decision = as_decision(model)
    wrapper = GradientOnly(decision.coef, decision.intercept)
    result = GASEAttack(wrapper, eps=1.5).attack(X, Y)  # auto: first_order
    assert np.all(result.norms <= 1.5)
    assert_array_equal(result.n_flipped, count_flips(model, result.X_adv, 2.0 * Y - 1.0))
    assert np.all(result.n_flipped <= exact_attack(model, X, Y, eps=1.5).n_flipped)


@pytest.mark.parametrize("marginal_cost", ["exact", "first_order"])
def test_generic_path_on_a_nonlinear_model(marginal_cost):
    rng = np.random.RandomState(0)
    W, b, c = rng.standard_normal((5, 4)), rng.standard_normal(5), 0.3 * rng.standard_normal(5)
    model = Quadratic(W, b, c)
    Xq = rng.standard_normal((25, 4))
    result = GASEAttack(model, eps=1.0, marginal_cost=marginal_cost).attack(Xq)
    assert np.all(result.norms <= 1.0)
    signs = np.where(model.decision_function(Xq) > 0, 1.0, -1.0)
    h_adv = model.decision_function(result.X_adv)
    assert_array_equal(result.n_flipped, ((h_adv > 0) != (signs > 0)).sum(axis=1))
    assert np.all(result.targets <= result.flipped)
    assert result.n_flipped.mean() > 0.5


def _relu_problem(seed, n=40, d=6, hidden=12, m=8):
    rng = np.random.RandomState(seed)
    net = ReLUNet(rng.standard_normal((hidden, d)), rng.standard_normal(hidden),
                  rng.standard_normal((m, hidden)), 0.5 * rng.standard_normal(m))
    return net, rng.standard_normal((n, d))


def test_relu_net_gradients_match_finite_differences():
    net, Xn = _relu_problem(0, n=5)
    J, h = net.input_gradients(Xn), 1e-6
    for k in range(Xn.shape[1]):
        step = np.zeros(Xn.shape[1])
        step[k] = h
        fd = (net.decision_function(Xn + step) - net.decision_function(Xn - step)) / (2 * h)
        assert_allclose(J[:, :, k], fd, atol=1e-6)


@pytest.mark.parametrize("eps", [0.5, 2.0])
def test_gase_on_a_relu_net_never_flips_fewer_than_pgd_or_its_greedy(eps, global_random_seed):
    net, Xn = _relu_problem(global_random_seed)
    signs = np.where(net.decision_function(Xn) > 0, 1.0, -1.0)
    gase = GASEAttack(net, eps=eps, refine_steps=30).attack(Xn)
    greedy = GASEAttack(net, eps=eps, refine_steps=0).attack(Xn)
    pgd = PGDAttack(net, eps=eps, max_iter=30).attack(Xn)
    for result in (gase, greedy):
        assert np.all(result.norms <= eps * (1 + 1e-12))
        flipped = (net.decision_function(result.X_adv) > 0) != (signs > 0)
        assert_array_equal(result.n_flipped, flipped.sum(axis=1))
    # With restart, the refinement's second start is PGD's own path: never below it.
    assert np.all(gase.n_flipped >= pgd.n_flipped)
    assert np.all(gase.n_flipped >= greedy.n_flipped)


def test_gase_refinement_from_the_greedy_alone_adds_flips_on_a_relu_net():
    # Without the second start, the steps from the greedy's solution are what adds.
    totals = {}
    for steps in (0, 30):
        totals[steps] = sum(
            GASEAttack(net, eps=2.0, refine_steps=steps, restart=False).attack(Xn).n_flipped.sum()
            for net, Xn in (_relu_problem(seed) for seed in range(3))
        )
    assert totals[30] > totals[0]


# ---------------------------------------------------------------------------------------
# The budget's geometry: L-inf and the input box
# ---------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:A column-vector y")  # fitting the one-label stand-in
@pytest.mark.parametrize("Attack", [GASEAttack, PGDAttack])
def test_linf_attack_on_one_label_flips_exactly_what_its_closed_form_allows(Attack):
    # One linear label: the least L-inf perturbation that flips it has norm |h| / ||w||_1.
    rng = np.random.RandomState(0)
    w, b = rng.standard_normal((1, 5)), np.array([0.3])
    model = GradientOnly(w, b) if Attack is PGDAttack else _ridge_with(w, b)
    Xl = rng.standard_normal((200, 5))
    eps = 0.2
    cost = np.abs(Xl @ w.T + b).ravel() / np.abs(w).sum()
    result = Attack(model, eps=eps, norm="linf").attack(Xl)
    assert np.all(np.max(np.abs(result.X_adv - Xl), axis=1) <= eps)
    assert_allclose(result.norms, np.max(np.abs(result.X_adv - Xl), axis=1))
    flipped = result.n_flipped.astype(bool)
    assert np.all(flipped[cost < 0.9 * eps])
    assert not np.any(flipped[cost > eps])
    # The L2 attack of the same eps reaches fewer: its ball is inside the L-inf one.
    l2 = Attack(model, eps=eps).attack(Xl)
    assert l2.n_flipped.sum() < result.n_flipped.sum()


@pytest.mark.parametrize("norm", ["l2", "linf"])
@pytest.mark.parametrize("Attack", [GASEAttack, PGDAttack])
def test_attacks_stay_in_the_box_and_the_budget(Attack, norm):
    net, Xn = _relu_problem(1)
    Xn = np.clip(0.5 + 0.2 * Xn, 0.0, 1.0)
    eps = 0.3
    result = Attack(net, eps=eps, norm=norm, clip=(0.0, 1.0)).attack(Xn)
    assert result.X_adv.min() >= 0.0 and result.X_adv.max() <= 1.0
    D = result.X_adv - Xn
    measured = np.max(np.abs(D), axis=1) if norm == "linf" else np.linalg.norm(D, axis=1)
    assert np.all(measured <= eps)
    signs = np.where(net.decision_function(Xn) > 0, 1.0, -1.0)
    flipped = (net.decision_function(result.X_adv) > 0) != (signs > 0)
    assert_array_equal(result.n_flipped, flipped.sum(axis=1))
    # The box only removes perturbations: never more flips than without it.
    free = Attack(net, eps=eps, norm=norm).attack(Xn)
    assert result.n_flipped.sum() <= free.n_flipped.sum()
    assert result.n_flipped.sum() > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linf_gase_never_flips_fewer_than_linf_pgd(seed):
    net, Xn = _relu_problem(seed)
    for eps in (0.1, 0.4):
        gase = GASEAttack(net, eps=eps, norm="linf", refine_steps=30).attack(Xn)
        pgd = PGDAttack(net, eps=eps, norm="linf", max_iter=30).attack(Xn)
        assert np.all(gase.n_flipped >= pgd.n_flipped)
    model, Xr, Yr = random_problem(np.random.RandomState(seed), 40, 6, 5)
    gase = GASEAttack(model, eps=0.3, norm="linf", refine_steps=30).attack(Xr, Yr)
    pgd = PGDAttack(model, eps=0.3, norm="linf", max_iter=30).attack(Xr, Yr)
    assert np.all(gase.n_flipped >= pgd.n_flipped)


@pytest.mark.parametrize("Attack", [GASEAttack, PGDAttack])
def test_bad_clip_and_x_outside_the_box_are_refused(Attack):
    net, Xn = _relu_problem(0, n=4)
    for clip in [(1.0, 0.0), (0.0,), (0.0, np.inf), ("a", 1.0)]:
        with pytest.raises(ValueError, match="The 'clip' parameter of"):
            Attack(net, eps=0.1, clip=clip).attack(Xn)
    with pytest.raises(ValueError, match=r"X has values outside clip=\(0, 1\)"):
        Attack(net, eps=0.1, clip=(0.0, 1.0)).attack(Xn)  # standard normal X
    with pytest.raises(ValueError, match="The 'norm' parameter of"):
        Attack(net, eps=0.1, norm="l1").attack(Xn)


# ---------------------------------------------------------------------------------------
# Targeted attacks
# ---------------------------------------------------------------------------------------


def test_make_targets_changes_one_label_or_hides_all(global_random_seed):
    P = np.random.RandomState(global_random_seed).randint(0, 2, (60, 5))
    P[0], P[1] = 0, 1  # a row with nothing to hide, one with nothing to show
    hide_all, ok_all = make_targets(P, "hide_all")
    assert not hide_all.any()
    assert_array_equal(ok_all, P.any(axis=1))
    for goal, sign in (("hide_one", -1), ("show_one", 1)):
        target, ok = make_targets(P, goal, random_state=global_random_seed)
        change = target - P
        assert_array_equal(np.abs(change).sum(axis=1), ok.astype(int))
        assert np.all(change * sign >= 0)
        assert not ok[0 if goal == "hide_one" else 1]
        again, _ = make_targets(P, goal, random_state=global_random_seed)
        assert_array_equal(again, target)
    with pytest.raises(ValueError, match="The 'goal' parameter of make_targets"):
        make_targets(P, "hide_some")


@pytest.mark.parametrize("goal", ["hide_all", "hide_one", "show_one"])
def test_targeted_gase_succeeds_only_where_the_exact_oracle_does(goal, global_random_seed):
    model, Xr, _ = random_problem(np.random.RandomState(global_random_seed), 80, 5, 6)
    target, ok = make_targets(model.predict(Xr), goal, random_state=0)
    for eps in (0.3, 1.0):
        result = GASEAttack(model, eps=eps).attack_target(Xr, target)
        # Success is the model's own prediction at X_adv, label for label.
        assert_array_equal(result.success, np.all(model.predict(result.X_adv) == target, 1))
        assert np.all(result.norms <= eps)
        # The oracle of the untargeted attack against the complement: all labels at target.
        best = exact_attack(model, Xr, 1 - target, eps=eps).n_flipped == target.shape[1]
        assert np.all(result.success <= best)
        assert result.success[ok].mean() >= best[ok].mean() - 0.05
        assert result.success_rate == result.success.mean()


def test_targeted_gase_on_a_relu_net_never_below_targeted_pgd():
    net, Xn = _relu_problem(0)
    predicted = (net.decision_function(Xn) > 0).astype(int)
    target, _ = make_targets(predicted, "hide_one", random_state=0)
    gase = GASEAttack(net, eps=1.0, refine_steps=30).attack_target(Xn, target)
    pgd = PGDAttack(net, eps=1.0, max_iter=30).attack_target(Xn, target)
    at_target = (net.decision_function(gase.X_adv) > 0) == (target > 0)
    assert_array_equal(gase.matched, at_target)
    assert np.all(gase.n_mismatched <= pgd.n_mismatched)
    assert gase.success.sum() >= pgd.success.sum() > 0


# ---------------------------------------------------------------------------------------
# PGD
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_pgd_flips_are_verified_and_gase_flips_at_least_as_many(container):
    model = ovr()
    pgd = PGDAttack(model, eps=1.5).attack(container(X), Y)
    assert np.all(pgd.norms <= 1.5)
    assert_array_equal(pgd.n_flipped, count_flips(model, pgd.X_adv, 2.0 * Y - 1.0))
    assert_array_equal(pgd.targets, pgd.flipped)
    gase = GASEAttack(model, eps=1.5).attack(X, Y)
    assert gase.n_flipped.sum() >= pgd.n_flipped.sum()


def test_pgd_generic_path_matches_linear_path():
    model = RidgeClassifier().fit(X, Y)
    wrapper = GradientOnly(model.coef_, model.intercept_)
    linear = PGDAttack(model, eps=1.0, max_iter=30).attack(X, Y)
    generic = PGDAttack(wrapper, eps=1.0, max_iter=30).attack(X, Y)
    assert_allclose(generic.X_adv, linear.X_adv, atol=1e-9)
    assert_array_equal(generic.n_flipped, linear.n_flipped)


# ---------------------------------------------------------------------------------------
# The transformer and estimator contract
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("Attack", [GASEAttack, PGDAttack])
def test_fit_transform_attacks_labels_and_transform_attacks_predictions(Attack):
    model = ovr()
    attack = Attack(model, eps=1.0)
    Y_noisy = Y.copy()
    Y_noisy[::4] = 1 - Y_noisy[::4]
    assert_allclose(attack.fit_transform(X, Y_noisy), attack.attack(X, Y_noisy).X_adv)
    assert_allclose(attack.transform(X), attack.attack(X).X_adv)
    assert not np.allclose(attack.transform(X), attack.fit_transform(X, Y_noisy))
    assert attack.n_features_in_ == X.shape[1]


def test_attack_in_a_pipeline_sees_predictions_at_predict_time():
    model = ovr()
    attack = GASEAttack(FrozenEstimator(model), eps=1.0)
    pipe = make_pipeline(attack, FrozenEstimator(model)).fit(X, Y)
    assert_array_equal(pipe.predict(X), model.predict(attack.transform(X)))
    # Adversarial training: a fresh model fitted on GASE's output for the true labels.
    trained = make_pipeline(clone(attack), OneVsRestClassifier(LinearSVC())).fit(X, Y)
    assert trained.predict(X).shape == Y.shape


@pytest.mark.parametrize("Attack", [GASEAttack, PGDAttack])
@pytest.mark.parametrize("generic", [False, True])
def test_same_output_whatever_the_batch(Attack, generic):
    rng = np.random.RandomState(0)
    X_big = np.vstack([X] * 3) + 0.05 * rng.standard_normal((3 * len(X), X.shape[1]))
    model = ovr()
    if generic:
        decision = as_decision(model)
        model = GradientOnly(decision.coef, decision.intercept)
    whole = Attack(model, eps=1.0, n_jobs=2).attack(X_big)
    order = rng.permutation(len(X_big))
    shuffled = Attack(model, eps=1.0).attack(X_big[order])
    assert_allclose(shuffled.X_adv, whole.X_adv[order], atol=1e-12)
    assert_array_equal(shuffled.targets, whole.targets[order])
    single = Attack(model, eps=1.0).attack(X_big[7:8])
    assert_allclose(single.X_adv, whole.X_adv[7:8], atol=1e-12)


def test_feature_names_pass_through():
    attack = GASEAttack(ovr(), eps=1.0).fit(X)
    assert_array_equal(attack.get_feature_names_out(), [f"x{i}" for i in range(X.shape[1])])


def test_params_clone_and_pickle():
    model = ovr()
    attack = GASEAttack(FrozenEstimator(model), eps=1.0, marginal_cost="exact")
    params = attack.get_params(deep=False)
    assert params["eps"] == 1.0 and params["marginal_cost"] == "exact"
    cloned = clone(attack)
    assert_allclose(cloned.attack(X, Y).X_adv, attack.attack(X, Y).X_adv)
    cloned.set_params(eps=2.0)
    assert cloned.eps == 2.0 and attack.eps == 1.0
    restored = pickle.loads(pickle.dumps(attack.fit(X)))
    assert_allclose(restored.transform(X), attack.transform(X))


def test_fit_attaches_a_fitted_model_as_it_is():
    model = ovr()
    attack = GASEAttack(model, eps=1.0).fit(X, Y)
    assert attack.estimator_ is model


@pytest.mark.parametrize("Attack", [GASEAttack, PGDAttack])
def test_fit_fits_a_clone_of_an_unfitted_model(Attack):
    # clone unfits the estimator parameter (as in GridSearchCV); fit then fits a clone of
    # it on (X, y), and the attack equals one on a model fitted independently.
    attack = clone(Attack(ovr(), eps=1.0)).fit(X, Y)
    reference = Attack(clone(ovr()).fit(X, Y), eps=1.0)
    assert attack.estimator_ is not attack.estimator
    np.testing.assert_array_equal(attack.estimator_.predict(X), reference.estimator.predict(X))
    np.testing.assert_allclose(attack.transform(X), reference.fit(X).transform(X))


def test_fit_without_y_needs_a_fitted_model():
    with pytest.raises(ValueError, match="not fitted, and fit\\(X, y\\) fits a clone"):
        clone(GASEAttack(ovr(), eps=1.0)).fit(X)


def test_verbose_reports_progress(capsys):
    GASEAttack(ovr(), eps=1.0, verbose=1).attack(np.vstack([X] * 2))
    assert "labels flipped on average" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("Attack", [GASEAttack, PGDAttack])
@pytest.mark.parametrize("eps", [-1, 0, 0.0, np.nan, np.inf, "1"])
def test_bad_eps_raises(Attack, eps):
    match = (
        f"The 'eps' parameter of {Attack.__name__} must be a float in the range "
        r"\(0.0, inf\)"
    )
    with pytest.raises(InvalidParameterError, match=match):
        Attack(ovr(), eps=eps).fit(X)
    with pytest.raises(InvalidParameterError, match=match):
        Attack(ovr(), eps=eps).attack(X)


def test_bad_parameters_raise_invalid_parameter_error():
    with pytest.raises(InvalidParameterError, match="The 'reference' parameter of GASEAttack"):
        GASEAttack(ovr(), eps=1.0, reference="truth").attack(X)
    with pytest.raises(InvalidParameterError, match="The 'marginal_cost' parameter"):
        GASEAttack(ovr(), eps=1.0, marginal_cost="greedy").attack(X)
    with pytest.raises(InvalidParameterError, match="The 'estimator' parameter of PGDAttack"):
        PGDAttack(3, eps=1.0).attack(X)


@pytest.mark.parametrize("Attack", [GASEAttack, PGDAttack])
def test_unfitted_estimator_raises_not_fitted(Attack):
    with pytest.raises(NotFittedError):
        Attack(OneVsRestClassifier(LinearSVC()), eps=1.0).attack(X)
    with pytest.raises(NotFittedError):
        Attack(OneVsRestClassifier(LinearSVC()), eps=1.0).fit(X)
    with pytest.raises(NotFittedError, match="This GASEAttack instance is not fitted yet"):
        GASEAttack(ovr(), eps=1.0).transform(X)


@pytest.mark.parametrize("Attack", [GASEAttack, PGDAttack])
def test_non_differentiable_estimator_raises_type_error(Attack):
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, Y)
    with pytest.raises(TypeError, match=f"{Attack.__name__} needs a differentiable model"):
        Attack(forest, eps=1.0).attack(X)


def test_wrong_width_raises_value_error():
    model = ovr()
    msg = "X has 3 features, but OneVsRestClassifier is expecting 8 features as input."
    with pytest.raises(ValueError, match=msg):
        GASEAttack(model, eps=1.0).attack(X[:, :3])
    with pytest.raises(ValueError, match=msg):
        GASEAttack(model, eps=1.0).fit(X[:, :3])
    fitted = GASEAttack(model, eps=1.0).fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but GASEAttack is expecting 8"):
        fitted.transform(X[:, :3])
    with pytest.raises(ValueError, match="X has 3 features, but GradientOnly is expecting 8"):
        wrapper = GradientOnly(np.ones((2, 8)), np.zeros(2))
        wrapper.n_features_in_ = 8
        GASEAttack(wrapper, eps=1.0).attack(X[:, :3])


def test_bad_y_raises_value_error():
    model = ovr()
    with pytest.raises(ValueError, match="y has 2 label columns, but the model has 6 labels"):
        GASEAttack(model, eps=1.0).attack(X, Y[:, :2])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GASEAttack(model, eps=1.0).fit_transform(X, Y[:10])
    with pytest.raises(ValueError, match=r"y must be a \{0, 1\} label indicator"):
        GASEAttack(model, eps=1.0).attack(X, 2 * Y - 1)


def test_exact_attack_refuses_many_labels_and_nonlinear_models():
    Xm, Ym = make_multilabel_classification(n_samples=60, n_classes=17, random_state=0)
    model = RidgeClassifier().fit(Xm, Ym)
    with pytest.raises(ValueError, match="supports at most 16 labels; got 17"):
        exact_attack(model, Xm[:2], eps=1.0)
    with pytest.raises(TypeError, match="needs a model whose decision function is linear"):
        exact_attack(GradientOnly(np.ones((2, 8)), np.zeros(2)), X[:2], eps=1.0)
    with pytest.raises(InvalidParameterError, match="The 'eps' parameter of exact_attack"):
        exact_attack(model, Xm[:2], eps=-1.0)


def test_generic_gase_evaluates_each_point_once():
    # The generic path linearises the model at points X + R; scores and Jacobians at a point
    # already linearised are reused, not evaluated again (for a torch model each Jacobian
    # row costs m backward passes).
    calls = []

    class Counting(GradientOnly):
        def input_gradients(self, X):
            calls.append(X.copy())
            return super().input_gradients(X)

    decision = as_decision(ovr())
    model = Counting(decision.coef, decision.intercept)
    GASEAttack(model, eps=1.0, refine_steps=0).attack(X, Y)
    points = np.vstack(calls)
    assert np.unique(points.round(12), axis=0).shape[0] == points.shape[0]
    # The refinement starts where the greedy stopped (at most one more Jacobian per
    # instance, there); its steps stop where they would only revisit points.
    calls.clear()
    GASEAttack(model, eps=1.0).attack(X, Y)
    points = np.vstack(calls)
    assert points.shape[0] - np.unique(points.round(12), axis=0).shape[0] <= X.shape[0]


def test_process_backend_gets_one_task_per_worker_and_the_same_result(monkeypatch):
    from joblib import parallel_config

    from skarm.attacks import _base

    rows = np.vstack([X] * 5)  # 400 rows: four batches of 128
    labels = np.vstack([Y] * 5)
    model = ovr()
    expected = GASEAttack(model, eps=1.0).attack(rows, labels)
    tasks = []
    original = _base.BaseAttack._attack_rows

    def counting(self, decision, context, X_part, *args):
        tasks.append(X_part.shape[0])
        return original(self, decision, context, X_part, *args)

    monkeypatch.setattr(_base.BaseAttack, "_attack_rows", counting)
    with parallel_config(backend="threading"):
        threaded = GASEAttack(model, eps=1.0, n_jobs=2).attack(rows, labels)
    assert tasks == [128, 128, 128, 16]  # threads share the model: one batch per task
    tasks.clear()
    monkeypatch.setattr(_base, "_shared_memory_backend", lambda: False)
    with parallel_config(backend="threading"):  # as a process backend would be handled
        coarse = GASEAttack(model, eps=1.0, n_jobs=2).attack(rows, labels)
    assert tasks == [200, 200]  # one task per worker, each in batches inside
    for result in (threaded, coarse):
        assert_array_equal(result.n_flipped, expected.n_flipped)
        assert_allclose(result.X_adv, expected.X_adv)
    monkeypatch.undo()
    with parallel_config(backend="loky"):
        assert not _base._shared_memory_backend()
    with parallel_config(backend="threading"):
        assert _base._shared_memory_backend()


def test_loky_backend_gives_the_threaded_result():
    from joblib import parallel_config

    rows, labels = np.vstack([X] * 3), np.vstack([Y] * 3)
    model = ovr()
    expected = GASEAttack(model, eps=1.0).attack(rows, labels)
    with parallel_config(backend="loky"):
        result = GASEAttack(model, eps=1.0, n_jobs=2).attack(rows, labels)
    assert_array_equal(result.n_flipped, expected.n_flipped)
    assert_allclose(result.X_adv, expected.X_adv)


@pytest.mark.parametrize("Attack, params", [
    (PGDAttack, {}), (PGDAttack, {"step_size": 1e300}), (GASEAttack, {}),
])
def test_returned_norms_are_within_eps_as_numpy_measures_them(Attack, params):
    # The projection used to check a norm that can sit one rounding step below
    # np.linalg.norm's, returning 1.0000000000000002 for eps 1 on a few rows.
    rng = np.random.default_rng(0)
    X_big = rng.normal(size=(5400, 5))
    W = rng.normal(size=(4, 5))
    Y_big = (X_big @ W.T > 0).astype(int)
    model = RidgeClassifier().fit(X_big, Y_big)
    result = Attack(model, eps=1.0, **params).attack(X_big, Y_big)
    measured = np.linalg.norm(result.X_adv - X_big, axis=1)
    assert np.all(measured <= 1.0)
    assert np.all(result.norms >= measured)


def test_into_ball_ends_where_rounding_of_x_plus_r_does_not_shrink():
    from skarm.attacks._base import _into_ball

    X_far = np.array([[1e16, 0.0]])
    X_adv, norms = _into_ball(X_far, np.array([[1.5, 0.0]]), 1.2)
    assert norms[0] <= 1.2
    assert np.linalg.norm(X_adv - X_far) <= 1.2


class Float32Linear(GradientOnly):
    """A linear model computed in float32, as a torch network is: inf beyond 3.4e38."""

    def decision_function(self, X):
        with np.errstate(over="ignore"):
            scores = X.astype(np.float32) @ self.W.T.astype(np.float32)
        return scores.astype(np.float64) + self.b


@pytest.mark.parametrize("eps", [1e40, 1e100, 1e300])
def test_pgd_with_a_budget_beyond_float32_steps_back_to_finite_scores(eps):
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    model, Xs = Float32Linear(W, b), rng.normal(size=(6, 3))
    # It used to stop with "scores not finite" blaming the model's weights and its input.
    result = PGDAttack(model, eps=eps).attack(Xs)
    oracle = exact_attack(_ridge_with(W, b), Xs, eps=1e3).n_flipped
    # Every iterate kept has finite scores, and the flips are real ones (3-4 labels per row
    # are reachable within 1e3).
    assert np.all(np.isfinite(model.decision_function(result.X_adv)))
    assert np.all(result.n_flipped >= 2) and np.all(result.n_flipped <= oracle)


def test_non_finite_scores_at_the_perturbed_points_name_eps():
    class OverflowsAway(GradientOnly):
        def decision_function(self, X):
            scores = super().decision_function(X)
            return np.where(np.linalg.norm(X, axis=1, keepdims=True) > 50, np.inf, scores)

    rng = np.random.default_rng(0)
    model = OverflowsAway(rng.normal(size=(3, 2)), np.full(3, -60.0))
    with pytest.raises(ValueError, match=r"perturbed instances.*eps=1000.*smaller eps"):
        GASEAttack(model, eps=1e3).attack(rng.normal(size=(4, 2)))
