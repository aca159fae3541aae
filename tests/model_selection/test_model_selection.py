"""Tests of skarm.model_selection: the robust_refit strategy and the robust_search grid."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skarm import ARMClassifier, ARMSAEClassifier
from skarm.metrics import make_adversarial_scorer
from skarm.model_selection import robust_refit, robust_search

X, Y = make_multilabel_classification(
    n_samples=90, n_features=6, n_classes=3, random_state=0
)
X = StandardScaler().fit_transform(X)
EPS = 0.2  # about 8% of the median row norm of X
KEYS = ("penalty", "alpha", "adversarial_eps")


def _results(f1, robust, robustness="adversarial_f1"):
    return {"mean_test_f1": np.array(f1, dtype=float),
            f"mean_test_{robustness}": np.array(robust, dtype=float)}


def _candidates(search, prefix=""):
    """The (penalty, alpha, adversarial_eps) of every candidate of a search, in order."""
    return [tuple(params[prefix + key] for key in KEYS)
            for params in ParameterGrid(search.param_grid)]


def _tolerance_rule(results, tolerance, score="f1", robustness="adversarial_f1"):
    """The refit rule written out candidate by candidate, independently of robust_refit."""
    clean = list(results[f"mean_test_{score}"])
    robust = list(results[f"mean_test_{robustness}"])
    best_clean = max(c for c in clean if np.isfinite(c))
    chosen = None
    for i, (c, r) in enumerate(zip(clean, robust, strict=True)):
        if not (np.isfinite(c) and np.isfinite(r)) or c < best_clean - tolerance - 1e-12:
            continue
        if chosen is None or (r, c) > (robust[chosen], clean[chosen]):
            chosen = i
    return chosen


# robust_refit on hand-made cv_results


def test_robust_refit_skips_the_most_robust_candidate_outside_the_tolerance():
    # Candidate 3 is the most robust but 0.05 below the best clean score.
    results = _results([0.80, 0.79, 0.70, 0.75], [0.50, 0.60, 0.55, 0.90])
    refit = robust_refit(0.02, robustness="adversarial_f1")
    assert refit(results) == 1
    assert robust_refit(0.05, robustness="adversarial_f1")(results) == 3
    assert robust_refit(0.0, robustness="adversarial_f1")(results) == 0


def test_robust_refit_tolerance_is_inclusive():
    results = _results([0.90, 0.88, 0.8799], [0.1, 0.2, 0.3])
    assert robust_refit(0.02, robustness="adversarial_f1")(results) == 1


def test_robust_refit_ties_go_to_the_better_clean_score_then_the_first():
    refit = robust_refit(0.05, robustness="adversarial_f1")
    assert refit(_results([0.80, 0.78, 0.79, 0.79], [0.5, 0.6, 0.6, 0.6])) == 2
    assert refit(_results([0.80, 0.79, 0.79], [0.6, 0.6, 0.6])) == 0


def test_robust_refit_never_picks_a_nan_robustness_score():
    # The NaN would sort above every number in a plain argsort.
    results = _results([0.80, 0.80, 0.79, 0.60], [np.nan, 0.4, 0.5, 0.9])
    assert robust_refit(0.02, robustness="adversarial_f1")(results) == 2


def test_robust_refit_ignores_nan_clean_scores():
    # A failed fit (NaN everywhere) neither wins nor sets the best clean score.
    results = _results([np.nan, 0.80, 0.77, 0.79], [np.nan, 0.3, 0.9, 0.4])
    assert robust_refit(0.02, robustness="adversarial_f1")(results) == 3


def test_robust_refit_keeps_sae_as_the_default_robustness():
    refit = robust_refit()
    assert refit.robustness == "sae"
    assert refit(_results([0.8, 0.79], [-3.0, -2.0], robustness="sae")) == 1
    assert repr(refit) == "robust_refit(tolerance=0.02, score='f1', robustness='sae')"


def test_robust_refit_raises_when_no_clean_score_is_finite():
    results = _results([np.nan, np.nan], [0.5, np.nan])
    with pytest.raises(ValueError, match="no finite mean 'f1' score among the 2 candidate"):
        robust_refit(robustness="adversarial_f1")(results)


def test_robust_refit_raises_when_no_eligible_robustness_is_finite():
    # Candidate 1 has a finite robustness but lies outside the tolerance.
    results = _results([0.80, 0.70], [np.nan, 0.9])
    with pytest.raises(ValueError, match="no finite mean 'adversarial_f1' score among the 1"):
        robust_refit(0.02, robustness="adversarial_f1")(results)


def test_robust_refit_names_a_missing_adversarial_scorer():
    with pytest.raises(ValueError, match="has no 'mean_test_adversarial_f1'"):
        robust_refit(robustness="adversarial_f1")({"mean_test_f1": [0.5]})


def test_robust_refit_rejects_a_negative_tolerance_in_sklearn_wording():
    with pytest.raises(ValueError, match=r"The 'tolerance' parameter of robust_refit must be "
                                         r"a float in the range \[0.0, inf\)"):
        robust_refit(-0.1)


def test_robust_refit_skips_failed_fits_in_a_grid_search():
    # adversarial_method="pgd" is torch-only: the eps > 0 candidates fail to fit, and
    # error_score=np.nan (the default) leaves NaN scores the refit must step over.
    search = GridSearchCV(
        ARMClassifier(penalty=None, adversarial_method="pgd"),
        {"adversarial_eps": [0.0, EPS]}, cv=3,
        scoring={"f1": "f1_micro", "adversarial_f1": make_adversarial_scorer(eps=EPS)},
        refit=robust_refit(1.0, robustness="adversarial_f1"),
    )
    with pytest.warns(FitFailedWarning), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "One or more of the test scores are non-finite")
        search.fit(X, Y)
    assert np.isnan(search.cv_results_["mean_test_adversarial_f1"][1])
    assert search.best_index_ == 0


# robust_search: the grid


def test_robust_search_returns_an_unfitted_grid_search_with_both_scorers():
    search = robust_search(EPS, tolerance=0.03)
    assert isinstance(search, GridSearchCV)
    assert not hasattr(search, "cv_results_")
    assert isinstance(search.estimator, ARMClassifier)
    assert search.cv == 3 and search.n_jobs is None
    assert search.scoring["f1"] == "f1_micro"
    assert repr(search.scoring["adversarial_f1"]) == (
        f"make_adversarial_scorer('f1_micro', eps={EPS!r}, attack='gase')"
    )
    assert repr(search.refit) == (
        "robust_refit(tolerance=0.03, score='f1', robustness='adversarial_f1')"
    )
    assert isinstance(search.param_grid, list)


def test_robust_search_grid_holds_exactly_the_expected_candidates():
    alphas, train = [1e-3, 1e-2, 1e-1], [0.25 * EPS, 0.5 * EPS, EPS]
    expected = [(None, 0.0, 0.0)]
    expected += [(p, a, 0.0) for p in ("l2", "nuclear", "sae") for a in alphas]
    expected += [(None, 0.0, e) for e in train]
    expected += [(p, 1e-2, e) for p in ("l2", "nuclear", "sae") for e in train]
    candidates = _candidates(robust_search(EPS))
    assert len(candidates) == 1 + 9 + 3 + 9 == len(set(candidates))
    assert candidates == expected
    # Without the combinations: the first 13.
    assert _candidates(robust_search(EPS, combine_adversarial=False)) == expected[:13]


def test_robust_search_param_grid_dicts():
    search = robust_search(1.0, penalties=["l2"], alphas=[0.3, 0.1], adversarial_eps=[0.5])
    assert search.param_grid == [
        {"penalty": ["l2"], "alpha": [0.3, 0.1], "adversarial_eps": [0.0]},
        {"penalty": ["l2"], "alpha": [0.1], "adversarial_eps": [0.5]},  # lower middle
    ]


def test_robust_search_none_in_penalties_brings_the_unregularised_model_and_at():
    assert _candidates(robust_search(EPS, penalties=[None], alphas=[], adversarial_eps=[])) \
        == [(None, 0.0, 0.0)]
    assert _candidates(robust_search(1.0, penalties=[None, "l2"], alphas=[0.1, 0.1],
                                     adversarial_eps=[1.0, 2.0], combine_adversarial=False)) \
        == [(None, 0.0, 0.0), ("l2", 0.1, 0.0), (None, 0.0, 1.0), (None, 0.0, 2.0)]
    assert _candidates(robust_search(1.0, penalties=("nuclear", "nuclear"), alphas=(0.1,),
                                     adversarial_eps=np.array([2.0]))) \
        == [("nuclear", 0.1, 0.0), ("nuclear", 0.1, 2.0)]


def test_robust_search_prefixes_the_parameters_of_a_pipeline():
    pipe = make_pipeline(StandardScaler(), ARMClassifier())
    search = robust_search(EPS, estimator=pipe, random_state=3)
    keys = {key for grid in search.param_grid for key in grid}
    assert keys == {f"armclassifier__{key}" for key in KEYS}
    assert _candidates(search, "armclassifier__") == _candidates(robust_search(EPS))
    # random_state goes to a clone's classifier; the given pipeline is left alone.
    assert search.estimator is not pipe
    assert search.estimator.get_params()["armclassifier__random_state"] == 3
    assert pipe.get_params()["armclassifier__random_state"] is None
    nested = Pipeline([("outer", Pipeline([("scale", StandardScaler()),
                                           ("clf", ARMClassifier())]))])
    keys = {key for grid in robust_search(EPS, estimator=nested).param_grid for key in grid}
    assert keys == {f"outer__clf__{key}" for key in KEYS}


def test_robust_search_keeps_the_estimator_and_forwards_search_params():
    clf = ARMClassifier(C=0.5)
    search = robust_search(EPS, estimator=clf, cv=KFold(2), n_jobs=2, verbose=1,
                           error_score="raise", attack="pgd", attack_params={"max_iter": 5})
    assert search.estimator is clf
    assert isinstance(search.cv, KFold) and search.n_jobs == 2
    assert search.verbose == 1 and search.error_score == "raise"
    assert "attack='pgd', attack_params={'max_iter': 5}" in repr(search.scoring["adversarial_f1"])


# robust_search: fitting


def test_robust_search_fits_and_refits_by_the_tolerance_rule():
    search = robust_search(EPS, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a large adversarial_eps may stop L-BFGS early
        search.fit(X, Y)
    results = search.cv_results_
    assert len(results["params"]) == 22
    assert np.isfinite(results["mean_test_f1"]).all()
    assert np.isfinite(results["mean_test_adversarial_f1"]).all()
    assert search.best_index_ == _tolerance_rule(results, 0.02)
    chosen = search.best_estimator_
    for key in KEYS:
        assert getattr(chosen, key) == results["params"][search.best_index_][key]
    assert chosen.predict(X).shape == Y.shape
    # The attack only flips labels away from the truth: F1 under attack <= clean F1.
    assert (results["mean_test_adversarial_f1"] <= results["mean_test_f1"] + 1e-12).all()
    # The refit is a plain function of cv_results_: other tolerances, same rule.
    for tolerance in (0.0, 0.01, 0.05, 1.0):
        refit = robust_refit(tolerance, robustness="adversarial_f1")
        assert refit(results) == _tolerance_rule(results, tolerance)


def test_robust_search_fits_a_pipeline():
    pipe = make_pipeline(StandardScaler(), ARMClassifier())
    search = robust_search(EPS, estimator=pipe, penalties=(None, "l2"), alphas=(0.1,),
                           adversarial_eps=(0.1,), random_state=0).fit(X, Y)
    assert set(search.best_params_) == {f"armclassifier__{key}" for key in KEYS}
    assert isinstance(search.best_estimator_, Pipeline)
    assert search.best_index_ == _tolerance_rule(search.cv_results_, 0.02)


# robust_search: bad parameters


@pytest.mark.parametrize(
    "params, match",
    [
        ({"eps": 0}, r"The 'eps' parameter of robust_search must be a float in the range "
                     r"\(0.0, inf\)\. Got 0 instead\."),
        ({"eps": "big"}, r"The 'eps' parameter of robust_search must be"),
        ({"tolerance": -0.01}, r"The 'tolerance' parameter of robust_search must be a "
                               r"float in the range \[0.0, inf\)"),
        ({"penalties": "l2"}, r"The 'penalties' parameter of robust_search must be an "
                              r"array-like\. Got 'l2' instead\."),
        ({"penalties": ("l2", "l3")}, r"The 'penalties' parameter of robust_search must be "
                                      r"a non-empty array-like of penalties among"),
        ({"penalties": ()}, r"The 'penalties' parameter of robust_search must be a non-empty"),
        ({"alphas": (0.0, 0.1)}, r"The 'alphas' parameter of robust_search must be a 1-D "
                                 r"array-like of finite floats > 0\. Got \(0.0, 0.1\)"),
        ({"alphas": [[0.1]]}, r"The 'alphas' parameter of robust_search must be a 1-D"),
        ({"alphas": ()}, r"The 'alphas' parameter of robust_search must be non-empty"),
        ({"adversarial_eps": (np.inf,)}, r"The 'adversarial_eps' parameter of robust_search"),
        ({"adversarial_eps": 0.5}, r"The 'adversarial_eps' parameter of robust_search must "
                                   r"be an array-like or None\. Got 0.5 instead\."),
        ({"combine_adversarial": "yes"}, r"The 'combine_adversarial' parameter"),
        ({"cv": "three"}, r"The 'cv' parameter of robust_search must be"),
        ({"n_jobs": 1.5}, r"The 'n_jobs' parameter of robust_search must be"),
        ({"estimator": "svm"}, r"The 'estimator' parameter of robust_search must be"),
        ({"attack": "fgsm"}, r"The 'attack' parameter of robust_search must be a str among"),
        ({"attack_params": [("max_iter", 5)]}, r"The 'attack_params' parameter"),
        ({"random_state": "seed"}, r"The 'random_state' parameter of robust_search"),
    ],
)
def test_robust_search_bad_parameters_raise_in_sklearn_wording(params, match):
    params = {"eps": EPS, **params}
    with pytest.raises(ValueError, match=match):
        robust_search(params.pop("eps"), **params)


def test_robust_search_needs_an_arm_classifier_with_a_penalty_parameter():
    with pytest.raises(ValueError, match=r"final estimator ARMSAEClassifier has no 'penalty'"):
        robust_search(EPS, estimator=make_pipeline(StandardScaler(), ARMSAEClassifier()))


def test_robust_search_rejects_search_params_it_sets_or_does_not_know():
    with pytest.raises(TypeError, match=r"sets 'refit', 'scoring' of the GridSearchCV"):
        robust_search(EPS, scoring="f1_micro", refit=True)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'n_iter'"):
        robust_search(EPS, n_iter=10)
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        robust_search(EPS, attack_params={"foo": 1})


def test_robust_search_result_clones():
    search = robust_search(EPS, estimator=make_pipeline(StandardScaler(), ARMClassifier()))
    cloned = clone(search)
    assert cloned.param_grid == search.param_grid
    assert repr(cloned.refit) == repr(search.refit)
