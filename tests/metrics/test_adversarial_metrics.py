"""attackability_score and make_adversarial_scorer, alone and in model selection."""

import itertools
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import f1_score, get_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC

from skarm.attacks import GASEAttack, PGDAttack, exact_attack
from skarm.metrics import attackability_score, make_adversarial_scorer
from skarm.utils._sklearn_compat import InvalidParameterError

X, Y = make_multilabel_classification(
    n_samples=90, n_features=8, n_classes=5, random_state=0, allow_unlabeled=True
)
EPS_GRID = (1e-3, 0.1, 0.3, 1.0, 3.0, 10.0)


def ovr():
    return OneVsRestClassifier(LinearSVC()).fit(X, Y)


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_attackability_is_the_mean_gase_count(container):
    model = ovr()
    expected = GASEAttack(model, eps=1.0).attack(X, Y).n_flipped.mean()
    assert_allclose(attackability_score(model, container(X), container(Y), eps=1.0), expected)
    expected = GASEAttack(model, eps=1.0).attack(X).n_flipped.mean()
    assert_allclose(attackability_score(model, X, eps=1.0), expected)
    assert_allclose(attackability_score(model, X, Y, eps=1.0, reference="prediction"), expected)


@pytest.mark.parametrize("with_y", [True, False])
def test_attackability_does_not_decrease_with_eps(with_y):
    model = ovr()
    y = Y if with_y else None
    scores = [attackability_score(model, X, y, eps=eps) for eps in EPS_GRID]
    assert all(a <= b for a, b in itertools.pairwise(scores))
    assert scores[-1] > scores[0]


def test_attackability_is_zero_at_tiny_eps_when_all_labels_are_right():
    # Well separated labels and a hard margin: every training label right, margins >= 1.
    rng = np.random.RandomState(0)
    W = rng.standard_normal((4, 6))
    Xs = rng.standard_normal((60, 6))
    Ys = (Xs @ W.T > 0).astype(int)
    keep = np.all(np.abs(Xs @ W.T) > 0.3, axis=1)
    Xs, Ys = Xs[keep], Ys[keep]
    model = OneVsRestClassifier(LinearSVC(C=1e4, max_iter=100_000)).fit(Xs, Ys)
    assert (model.predict(Xs) == Ys).all()
    assert attackability_score(model, Xs, Ys, eps=1e-9) == 0.0
    # And it bounds the exact attackability from below at any budget.
    for eps in (0.1, 0.5):
        assert attackability_score(model, Xs, Ys, eps=eps) <= np.mean(
            exact_attack(model, Xs, Ys, eps=eps).n_flipped
        )


def test_attackability_counts_labels_already_wrong_against_y():
    model = ovr()
    wrong = (model.predict(X) != Y).sum(axis=1).mean()
    assert attackability_score(model, X, Y, eps=1e-9) == pytest.approx(wrong)


@pytest.mark.parametrize("attack", ["gase", "pgd"])
def test_adversarial_scorer_scores_the_attacked_data(attack):
    model = ovr()
    scorer = make_adversarial_scorer("f1_macro", eps=1.0, attack=attack)
    Attack = {"gase": GASEAttack, "pgd": PGDAttack}[attack]
    X_adv = Attack(model, eps=1.0).attack(X, Y).X_adv
    expected = f1_score(Y, model.predict(X_adv), average="macro", zero_division=0)
    assert_allclose(scorer(model, X, Y), expected)
    assert "make_adversarial_scorer('f1_macro', eps=1.0" in repr(scorer)


def test_gase_scorer_never_beats_the_clean_score():
    # GASE keeps the labels already wrong wrong and adds errors: micro-F1 can only drop.
    model = ovr()
    clean = get_scorer("f1_micro")(model, X, Y)
    attacked = [make_adversarial_scorer(eps=eps)(model, X, Y) for eps in EPS_GRID]
    assert all(a <= clean + 1e-12 for a in attacked)
    assert all(a >= b for a, b in itertools.pairwise(attacked))


def test_scorers_in_cross_validate_match_per_fold_values():
    cv = KFold(3, shuffle=True, random_state=0)
    scoring = {
        "f1": "f1_micro",
        "adv_f1": make_adversarial_scorer(eps=0.5),
        "c_a": partial(attackability_score, eps=0.5),
    }
    res = cross_validate(
        OneVsRestClassifier(LinearSVC()), X, Y, cv=cv, scoring=scoring, return_estimator=True
    )
    for k, (_, test) in enumerate(cv.split(X)):
        est = res["estimator"][k]
        X_adv = GASEAttack(est, eps=0.5).attack(X[test], Y[test]).X_adv
        assert_allclose(
            res["test_adv_f1"][k], f1_score(Y[test], est.predict(X_adv), average="micro")
        )
        assert_allclose(res["test_c_a"][k], attackability_score(est, X[test], Y[test], eps=0.5))
    assert (res["test_adv_f1"] <= res["test_f1"] + 1e-12).all()


def test_scorers_in_grid_search():
    search = GridSearchCV(
        RidgeClassifier(),
        {"alpha": [1e-2, 1.0, 1e2]},
        cv=3,
        scoring={
            "f1": "f1_micro",
            "adv_f1": make_adversarial_scorer(eps=0.5, attack_params={"n_jobs": 2}),
            "c_a": partial(attackability_score, eps=0.5),
        },
        refit="adv_f1",
    ).fit(X, Y)
    results = search.cv_results_
    assert np.isfinite(results["mean_test_c_a"]).all()
    assert search.best_index_ == np.argmax(results["mean_test_adv_f1"])
    # Alone, as the only scorer.
    alone = GridSearchCV(
        RidgeClassifier(), {"alpha": [1e-2, 1e2]}, cv=3, scoring=make_adversarial_scorer(eps=0.5)
    )
    assert 0 <= alone.fit(X, Y).best_score_ <= 1


@pytest.mark.parametrize("eps", [0, -1.0, np.nan])
def test_bad_eps_raises(eps):
    msg = "The 'eps' parameter of {} must be a float in the range"
    with pytest.raises(InvalidParameterError, match=msg.format("attackability_score")):
        attackability_score(ovr(), X, Y, eps=eps)
    with pytest.raises(InvalidParameterError, match=msg.format("make_adversarial_scorer")):
        make_adversarial_scorer(eps=eps)


def test_bad_scorer_arguments_raise():
    with pytest.raises(ValueError, match="'f2_micro' is not a valid scoring value"):
        make_adversarial_scorer("f2_micro", eps=1.0)
    with pytest.raises(InvalidParameterError, match="The 'attack' parameter"):
        make_adversarial_scorer(eps=1.0, attack="fgsm")
    with pytest.raises(TypeError, match="unexpected keyword argument 'step'"):
        make_adversarial_scorer(eps=1.0, attack_params={"step": 3})


def test_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError):
        attackability_score(OneVsRestClassifier(LinearSVC()), X, Y, eps=1.0)
    with pytest.raises(NotFittedError):
        make_adversarial_scorer(eps=1.0)(RidgeClassifier(), X, Y)


def test_wrong_width_raises_value_error():
    with pytest.raises(ValueError, match="X has 3 features, but OneVsRestClassifier is expecting"):
        attackability_score(ovr(), X[:, :3], Y, eps=1.0)
