"""Extreme inputs found by fuzzing: a correct result or a clear error, never a hang or nan."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import RidgeClassifier

from skarm import ARMClassifier, GASEAttack, PGDAttack
from skarm._greedy import greedy_subset_norm
from skarm.linear._solvers import minimize_proximal
from skarm.metrics import attackability_score, make_adversarial_scorer, soft_attackability
from skarm.utils._sklearn_compat import InvalidParameterError

X, Y = make_multilabel_classification(n_samples=60, n_features=6, n_classes=4, random_state=0)
X = X.astype(np.float64)


def linear_model(W, b=None):
    """A fitted multi-label RidgeClassifier whose weights are then set to W and b."""
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    m, d = W.shape
    Y2 = np.tile([[1] * m, [0] * m], (2, 1))
    Y2[0, 0] = 0 if m > 1 else 1
    Y2 = Y2.ravel() if m == 1 else Y2
    model = RidgeClassifier().fit(np.random.RandomState(0).normal(size=(4, d)), Y2)
    model.coef_ = W
    model.intercept_ = np.zeros(m) if b is None else np.asarray(b, dtype=np.float64)
    return model


class Custom(BaseEstimator):
    """A differentiable model known through decision_function and input_gradients."""

    def __init__(self, mode="ok"):
        self.mode = mode

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return (self.decision_function(X) > 0).astype(int)

    def decision_function(self, X):
        scores = X[:, :2] - 0.5
        return np.full_like(scores, np.nan) if self.mode == "nan" else scores

    def input_gradients(self, X):
        if self.mode == "shape":
            return np.ones((X.shape[0], X.shape[1]))  # the label axis is missing
        grads = np.zeros((X.shape[0], 2, X.shape[1]))
        grads[:, 0, 0] = grads[:, 1, 1] = 1.0
        return grads


# ---------------------------------------------------------------------------------------
# Fits
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("penalty", ["nuclear", "sae", "l2"])
def test_fit_on_overflowing_X_raises_value_error(penalty):
    with pytest.raises(ValueError, match="X is too large in magnitude for ARMClassifier"):
        ARMClassifier(penalty=penalty, alpha=0.1).fit(X * 1e300, Y)


def test_dual_cd_fit_with_a_float_max_cell_raises_value_error():
    X_big = X.copy()
    X_big[0, 0] = np.finfo(np.float64).max
    with pytest.raises(ValueError, match="squared L2 norm of row 0"):
        ARMClassifier(penalty="l2", alpha=0.01, solver="dual-cd").fit(X_big, Y)


def test_nuclear_fit_on_huge_but_representable_X_is_finite():
    # Lipschitz constant ~ 1e200: the backtracking needs ~660 halvings, and gets them.
    model = ARMClassifier(penalty="nuclear", alpha=0.1, random_state=0).fit(X * 1e100, Y)
    assert np.isfinite(model.coef_).all()
    assert_array_equal(model.predict(X * 1e100).shape, Y.shape)


class _NanObjective:
    """An objective that is nan everywhere (what overflow leaves in the solver)."""

    def value_and_grad(self, W, b):
        return np.nan, np.zeros_like(W), np.zeros_like(b)


def test_proximal_solver_stops_on_a_nan_objective():
    with pytest.raises(FloatingPointError, match="became nan at iteration 1"):
        minimize_proximal(
            _NanObjective(), np.zeros((2, 3)), np.zeros(2), weight=0.1, max_iter=10, tol=1e-6
        )


class _NoDecrease:
    """A finite objective that every evaluation finds larger: no step ever decreases it."""

    def __init__(self):
        self.calls = 0

    def value_and_grad(self, W, b):
        self.calls += 1
        return float(self.calls), np.ones_like(W), np.zeros_like(b)


@pytest.mark.parametrize("start", ["zero", "random"])
def test_proximal_backtracking_is_bounded(start):
    # From a random point the prox of a step that underflowed to 0 is not exactly the point
    # (rounding), which once let a zero step pass as a decrease and report convergence.
    W0 = np.zeros((2, 3)) if start == "zero" else np.random.RandomState(0).randn(2, 3)
    with pytest.raises(FloatingPointError, match="no step that decreases the objective"):
        minimize_proximal(_NoDecrease(), W0, np.zeros(2), weight=0.1, max_iter=10, tol=1e-6)


def test_greedy_names_what_is_not_finite():
    with pytest.raises(ValueError, match=r"weights C from the decision scores \(not finite\)"):
        greedy_subset_norm(np.eye(2), np.array([[1.0, np.inf]]))


# ---------------------------------------------------------------------------------------
# Metrics and attacks on extreme models
# ---------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_sae_of_overflowing_scores_raises_value_error():
    model = linear_model([[1e308, 1e308, 0, 0, 0, 0], [1.0, 0, 0, 0, 0, 0]])
    with pytest.raises(ValueError, match=r"decision scores of RidgeClassifier .* not finite"):
        soft_attackability(model, X)


@pytest.mark.parametrize("mode, match", [
    ("nan", r"decision scores of Custom on X are not finite \(nan\) for 60 of 60"),
    ("shape", r"Custom.input_gradients returned shape \(60, 6\); expected .* \(60, 2, 6\)"),
])
@pytest.mark.parametrize("attack", [GASEAttack, PGDAttack])
def test_bad_custom_model_output_raises_value_error(mode, match, attack):
    with pytest.raises(ValueError, match=match):
        attack(Custom(mode).fit(X), eps=1.0).attack(X)


def test_gase_flips_do_not_decrease_as_eps_grows_to_huge_budgets():
    model = ARMClassifier(penalty="l2", alpha=0.01, random_state=0).fit(X, Y)
    counts = [
        attackability_score(model, X, Y, eps=eps)
        for eps in (1.0, 10.0, 1e3, 1e8, 1e13, 1e14, 1e100, 1e300)
    ]
    assert all(a <= b for a, b in zip(counts[:-1], counts[1:], strict=True)), counts
    # Past every margin, every label with a non-zero weight row flips.
    assert counts[-1] == Y.shape[1]


@pytest.mark.parametrize(
    "W, x, eps",
    [
        ([[-0.41]], [[0.0]], 1e8),  # a huge budget on a score at exactly 0
        ([[0.0, 0.85, 0.0]], [[0.0, 0.0, 0.0]], 1e-6),  # a budget below the old overshoot
    ],
)
def test_gase_flips_at_least_what_pgd_flips_on_a_score_at_zero(W, x, eps):
    model = linear_model(W)
    x = np.asarray(x)
    gase = GASEAttack(model, eps=eps).attack(x)
    pgd = PGDAttack(model, eps=eps).attack(x)
    assert pgd.n_flipped[0] == 1  # any step along w flips a score at 0
    assert gase.n_flipped[0] >= pgd.n_flipped[0]
    assert gase.norms[0] <= eps


def test_pgd_and_gase_stay_in_the_ball_for_a_budget_whose_square_overflows():
    model = ARMClassifier(penalty="l2", alpha=0.01, random_state=0).fit(X, Y)
    for attack in (GASEAttack, PGDAttack):
        result = attack(model, eps=1e300).attack(X[:5], Y[:5])
        assert np.isfinite(result.X_adv).all()
        assert np.all(result.norms <= 1e300)
        assert np.all(result.n_flipped == Y.shape[1])


# ---------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", [GASEAttack, PGDAttack])
def test_n_jobs_zero_is_refused(attack):
    model = RidgeClassifier().fit(X, Y)
    match = f"The 'n_jobs' parameter of {attack.__name__} must be an int in the range"
    with pytest.raises(InvalidParameterError, match=match):
        attack(model, eps=1.0, n_jobs=0).attack(X[:5])  # fewer rows than one batch
    with pytest.raises(InvalidParameterError, match="The 'n_jobs' parameter of attackability"):
        attackability_score(model, X[:5], eps=1.0, n_jobs=0)
    with pytest.raises(InvalidParameterError, match="The 'n_jobs' parameter of ARMClassifier"):
        ARMClassifier(n_jobs=0).fit(X, Y)


def test_one_dimensional_y_on_a_multi_label_model_is_refused():
    model = ARMClassifier(penalty="l2", alpha=0.01, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match=r"y is 1-D, but ARMClassifier .* 4 labels"):
        GASEAttack(model, eps=1.0).attack(X, Y[:, 0])
    # On a binary model a 1-D y is the natural form and still works.
    binary = ARMClassifier(penalty="l2", alpha=0.01, random_state=0).fit(X, Y[:, 0])
    result = GASEAttack(binary, eps=1.0).attack(X, Y[:, 0])
    assert result.flipped.shape == (60, 1)


def test_adversarial_scorer_validates_attack_params_at_once():
    with pytest.raises(InvalidParameterError, match="The 'overshoot' entry of attack_params"):
        make_adversarial_scorer(eps=1.0, attack_params={"overshoot": -1})
    with pytest.raises(InvalidParameterError, match="The 'max_iter' entry of attack_params"):
        make_adversarial_scorer(eps=1.0, attack="pgd", attack_params={"max_iter": 0})


def test_one_dimensional_y_through_a_pipeline_or_frozen_model_is_refused():
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), ARMClassifier(penalty="l2", alpha=0.01)).fit(X, Y)
    for model in (pipe, FrozenEstimator(pipe)):
        with pytest.raises(ValueError, match="y is 1-D, but Pipeline was fitted on a multi"):
            GASEAttack(model, eps=1.0).attack(X, Y[:, 0])


def test_label_with_zero_gradient_at_a_zero_score_is_not_a_target():
    model = linear_model([[0.0, 0.0], [1.0, 0.0]])
    result = GASEAttack(model, eps=1.0).attack(np.zeros((1, 2)))
    assert result.targets.tolist() == [[False, True]]
    assert result.flipped.tolist() == [[False, True]]


def test_unfitted_affine_step_raises_not_fitted():
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    fitted = RidgeClassifier().fit(X, Y)
    with pytest.raises(NotFittedError):
        soft_attackability(Pipeline([("sc", StandardScaler()), ("clf", fitted)]), X)
