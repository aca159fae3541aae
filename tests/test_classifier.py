"""ARMClassifier and presets with the linear backend: behaviour, model selection, bad input."""

import inspect
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skarm import ARMClassifier, ARMPrimalClassifier, ARMSAEClassifier
from skarm.datasets import load_mulan
from skarm.metrics import alignment_score, sae_score, soft_attackability
from skarm.model_selection import robust_refit

X, Y = make_multilabel_classification(
    n_samples=150, n_features=10, n_classes=5, random_state=0, allow_unlabeled=True
)
X = StandardScaler().fit_transform(X)
PENALTIES = [None, "l2", "nuclear", "single", "primal", "sae"]


@pytest.mark.parametrize("penalty", PENALTIES)
def test_clone_and_pickle_round_trips_predict_identically(penalty):
    clf = ARMClassifier(penalty=penalty, alpha=0.05).fit(X, Y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict(X), clf.predict(X))
    refit = clone(clf).fit(X, Y)
    assert_array_equal(refit.decision_function(X), clf.decision_function(X))


@pytest.mark.parametrize("penalty", PENALTIES)
def test_sparse_input_fits_the_dense_model(penalty):
    # One solver for both ("auto" takes dual CD for sparse X, tested in test_dual_cd.py).
    dense = ARMClassifier(penalty=penalty, alpha=0.05, solver="lbfgs").fit(X, Y)
    sparse = ARMClassifier(penalty=penalty, alpha=0.05, solver="lbfgs").fit(sp.csr_matrix(X), Y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-3, atol=1e-4)
    assert_array_equal(sparse.predict(sp.csr_matrix(X)), dense.predict(X))


def test_presets_equal_armclassifier_with_the_penalty():
    for preset, penalty in [(ARMSAEClassifier, "sae"), (ARMPrimalClassifier, "primal")]:
        a = preset(alpha=0.1).fit(X, Y)
        b = ARMClassifier(penalty=penalty, alpha=0.1).fit(X, Y)
        assert_array_equal(a.coef_, b.coef_)
        assert "penalty" not in preset().get_params()


def test_presets_take_the_same_parameters_as_armclassifier_but_penalty():
    # The presets repeat ARMClassifier's explicit __init__ (scikit-learn reads parameters
    # from the signature); this keeps the copies from drifting apart.
    reference = dict(inspect.signature(ARMClassifier).parameters)
    del reference["penalty"]
    for preset in (ARMSAEClassifier, ARMPrimalClassifier):
        params = dict(inspect.signature(preset).parameters)
        assert params.keys() == reference.keys()
        for name, param in params.items():
            assert param.default == reference[name].default, (preset.__name__, name)


def test_binary_y_works_as_one_vs_rest():
    y = np.where(Y[:, 0] == 1, "spam", "ham")
    clf = ARMClassifier(penalty=None).fit(X, y)
    ovr = OneVsRestClassifier(LinearSVC()).fit(X, y)
    assert_array_equal(clf.classes_, ovr.classes_)
    scores = clf.decision_function(X)
    assert scores.shape == ovr.decision_function(X).shape == (len(X),)
    assert_array_equal(clf.predict(X), np.where(scores > 0, "spam", "ham"))
    assert np.mean(clf.predict(X) == ovr.predict(X)) > 0.9


def test_multiclass_y_works_as_one_vs_rest():
    y = np.argmax(X[:, :3], axis=1) * 10  # three well-separated classes: 0, 10, 20
    clf = ARMClassifier(penalty="sae", alpha=0.01).fit(X, y)
    ovr = OneVsRestClassifier(LinearSVC()).fit(X, y)
    assert_array_equal(clf.classes_, [0, 10, 20])
    scores = clf.decision_function(X)
    assert scores.shape == ovr.decision_function(X).shape == (len(X), 3)
    assert_array_equal(clf.predict(X), clf.classes_[np.argmax(scores, axis=1)])
    assert np.mean(clf.predict(X) == y) >= np.mean(ovr.predict(X) == y) - 0.03


def test_constant_label_warns_and_is_predicted_as_constant():
    Yc = Y.copy()
    Yc[:, 1] = 1
    Yc[:, 3] = 0
    with pytest.warns(UserWarning, match="Label 1 is present in all training examples"), \
            pytest.warns(UserWarning, match="Label not 3 is present in all training examples"):
        clf = ARMClassifier(penalty="sae", alpha=0.05).fit(X, Yc)
    pred = clf.predict(X + 5.0)
    assert (pred[:, 1] == 1).all() and (pred[:, 3] == 0).all()
    assert_array_equal(clf.coef_[[1, 3]], 0.0)
    # The other labels are fitted as without the constant columns.
    alone = ARMClassifier(penalty="sae", alpha=0.05).fit(X, Yc[:, [0, 2, 4]])
    assert_allclose(clf.coef_[[0, 2, 4]], alone.coef_)


def test_rows_without_labels_are_valid():
    Y0 = Y.copy()
    Y0[:20] = 0
    clf = ARMSAEClassifier(alpha=0.05).fit(X, Y0)
    assert clf.predict(X).shape == Y0.shape


def test_fit_is_deterministic():
    a = ARMSAEClassifier(alpha=0.1, random_state=0).fit(X, Y)
    b = ARMSAEClassifier(alpha=0.1, random_state=1).fit(X, Y)
    assert_array_equal(a.coef_, b.coef_)


def test_convergence_warning_when_max_iter_is_too_small():
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        ARMClassifier(penalty="sae", max_iter=3).fit(X, Y)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        ARMClassifier(penalty="nuclear", alpha=0.1, max_iter=3).fit(X, Y)


# the grid reaches collapse on purpose.
@pytest.mark.filterwarnings("ignore::skarm.exceptions.CollapsedModelWarning")
@pytest.mark.parametrize("penalty", ["sae", "single", "primal"])
def test_overwhelming_penalty_still_fits_the_intercept(penalty):
    # With a penalty weight so large that W = 0, the model must still fit b (which is not
    # penalised). At W = 0 the hinge objective over b_j is linear on [-1, 1] with slope
    # (n_negative - n_positive), so its minimum is b_j = -1 where negatives are the
    # majority, +1 otherwise; the 0.01-wide smoothing moves it by at most 0.01.
    model = ARMClassifier(penalty=penalty, alpha=100.0).fit(X, Y)
    assert_array_equal(model.coef_, 0.0)
    majority_sign = np.where(Y.mean(axis=0) < 0.5, -1.0, 1.0)
    assert_allclose(model.intercept_, majority_sign, atol=0.01)


# the grid reaches collapse on purpose.
@pytest.mark.filterwarnings("ignore::skarm.exceptions.CollapsedModelWarning")
def test_nuclear_penalty_shrinks_singular_values_to_zero():
    fits = [ARMClassifier("nuclear", alpha=a).fit(X, Y).coef_ for a in (0.0, 0.1, 0.3, 3.0)]
    nuclear = [np.linalg.svd(W, compute_uv=False).sum() for W in fits]
    assert all(np.diff(nuclear) < 0)
    assert np.linalg.matrix_rank(fits[0]) == 5 and np.linalg.matrix_rank(fits[-1]) == 0


# the grid reaches collapse on purpose.
@pytest.mark.filterwarnings("ignore::skarm.exceptions.CollapsedModelWarning")
def test_grid_search_with_sae_score_and_robust_refit():
    tolerance = 0.02
    search = GridSearchCV(
        ARMSAEClassifier(), {"alpha": [0.0, 0.03, 0.3, 3.0]}, cv=3,
        scoring={"f1": "f1_micro", "sae": sae_score}, refit=robust_refit(tolerance),
    ).fit(X, Y)
    f1 = search.cv_results_["mean_test_f1"]
    sae = search.cv_results_["mean_test_sae"]
    eligible = np.flatnonzero(f1 >= f1.max() - tolerance)
    assert search.best_index_ == eligible[np.argmax(sae[eligible])]
    assert search.best_estimator_.alpha == search.cv_results_["param_alpha"][search.best_index_]
    # tolerance=0 falls back to the best clean score.
    strict = robust_refit(0.0)(search.cv_results_)
    assert f1[strict] == f1.max()


def test_robust_refit_names_missing_scorers():
    with pytest.raises(ValueError, match="robust_refit needs the scorers 'f1' and 'sae'"):
        robust_refit()({"mean_test_f1": [0.5]})


def test_unfitted_model_raises_not_fitted():
    with pytest.raises(NotFittedError):
        ARMSAEClassifier().predict(X)
    with pytest.raises(NotFittedError):
        soft_attackability(ARMSAEClassifier(), X)


@pytest.mark.parametrize(
    "y, match",
    [
        (np.where(Y == 1, 2, 0), r"must be a \{0, 1\} label indicator; got the values \[0 2\]"),
        (np.linspace(0, 1, len(X)), "Unknown label type"),
        (np.where(Y == 1, "a", "b"), "got a multiclass-multioutput y"),
        (Y[:-5], "inconsistent numbers of samples"),
    ],
)
def test_bad_targets_raise_value_error(y, match):
    with pytest.raises(ValueError, match=match):
        ARMClassifier().fit(X, y)


def test_bad_X_and_parameters_raise_in_sklearn_wording():
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        ARMClassifier().fit(X_nan, Y)
    with pytest.raises(
        ValueError,
        match=r"The 'alpha' parameter of ARMClassifier must be a float in the range "
        r"\[0.0, inf\). Got -1 instead.",
    ):
        ARMClassifier(alpha=-1).fit(X, Y)
    with pytest.raises(
        ValueError, match=r"penalty' parameter of ARMClassifier.*Did you mean 'sae'"
    ):
        ARMClassifier(penalty="sea").fit(X, Y)
    with pytest.raises(ValueError, match="Did you mean 'nuclear'"):
        ARMClassifier(penalty="Nuclear").fit(X, Y)
    clf = ARMClassifier().fit(X, Y)
    with pytest.raises(ValueError, match="X has 3 features, but ARMClassifier is expecting 10"):
        clf.predict(X[:, :3])


# --- Real data (MULAN emotions and yeast from $SKARM_DATA) ----------------------------------


def standardised_split(name, data_home):
    Xtr, Ytr = load_mulan(name, subset="train", data_home=data_home, return_X_y=True)
    Xte, Yte = load_mulan(name, subset="test", data_home=data_home, return_X_y=True)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), Ytr, scaler.transform(Xte), Yte


# the liblinear reference, not skarm.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", ["emotions", pytest.param("yeast", marks=pytest.mark.slow)])
def test_no_penalty_matches_one_vs_rest_linear_svc(name, data_home):
    """Same loss, same split: micro-F1 within 0.02 of OvR(LinearSVC)."""
    Xtr, Ytr, Xte, Yte = standardised_split(name, data_home)

    def f1(model):
        return f1_score(Yte, model.fit(Xtr, Ytr).predict(Xte), average="micro")

    reference = f1(OneVsRestClassifier(LinearSVC()))  # squared hinge, as LinearSVC's default
    assert abs(f1(ARMClassifier(penalty=None, loss="squared_hinge")) - reference) <= 0.02
    hinge_ref = f1(OneVsRestClassifier(LinearSVC(loss="hinge", max_iter=100_000)))
    default = f1(ARMClassifier(penalty=None))
    assert abs(default - hinge_ref) <= 0.02
    assert default >= reference - 0.02


@pytest.mark.parametrize("name", ["emotions", "yeast"])
def test_raising_sae_alpha_lowers_sae_and_alignment(name, data_home):
    """Median and 95%-trimmed mean SAE and phi_align fall over 4 alphas.

    The plain mean is heavy-tailed (1/|h| explodes for test points near a boundary): only
    its fall from the first to the last alpha is checked. (On yeast it rose from alpha 0.1
    to 0.3, 12.3 -> 17.7, with scipy/numpy as installed on 2026-12-01, the same fits that
    had given a monotone mean before: a few test points near a boundary decide it.)
    """
    Xtr, Ytr, Xte, Yte = standardised_split(name, data_home)
    fits = [ARMClassifier(penalty="sae", alpha=a).fit(Xtr, Ytr) for a in (0, 0.03, 0.1, 0.3)]
    sae = [np.sort(soft_attackability(c, Xte)) for c in fits]
    medians = [np.median(s) for s in sae]
    trimmed = [s[: int(0.95 * len(s))].mean() for s in sae]
    means = [s.mean() for s in sae]
    align = [alignment_score(c) for c in fits]
    assert all(np.diff(medians) < 0) and all(np.diff(trimmed) < 0) and all(np.diff(align) < 0)
    assert means[-1] < means[0]


def test_warm_start_starts_from_the_previous_solution(monkeypatch):
    from skarm.linear import _fit

    starts = []
    real_minimize = _fit.minimize

    def recording(objective, W0, b0, **kwargs):
        starts.append(W0.copy())
        return real_minimize(objective, W0, b0, **kwargs)

    monkeypatch.setattr(_fit, "minimize", recording)
    X, Y = make_multilabel_classification(
        n_samples=150, n_features=10, n_classes=4, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    cold = ARMClassifier(penalty="sae", alpha=0.03).fit(X, Y)
    # A refit from its own solution needs no more iterations than the fit from 0 and ends
    # at the same model (to the tolerance).
    same = ARMClassifier(penalty="sae", alpha=0.03, warm_start=True).fit(X, Y)
    same.fit(X, Y)
    assert same.n_iter_ <= cold.n_iter_
    assert_allclose(same.decision_function(X), cold.decision_function(X), atol=0.02)
    # Along a path: the solution at alpha=0.01 is the start, the end is alpha=0.03's model.
    warm = ARMClassifier(penalty="sae", alpha=0.01, warm_start=True).fit(X, Y)
    first_coef = warm.coef_.copy()
    starts.clear()
    warm.set_params(alpha=0.03).fit(X, Y)
    # The solver was started from the previous solution, not from 0.
    assert_array_equal(starts[0], first_coef)
    assert_allclose(warm.decision_function(X), cold.decision_function(X), atol=0.05)
    assert not np.array_equal(warm.coef_, first_coef)
    # Without warm_start a refit ignores the previous solution: the cold fit exactly.
    starts.clear()
    again = ARMClassifier(penalty="sae", alpha=0.01).fit(X, Y).set_params(alpha=0.03).fit(X, Y)
    assert not np.any(starts[1])  # the refit started from 0
    assert_array_equal(again.coef_, cold.coef_)


def test_warm_start_with_a_new_shape_starts_from_zero():
    X, Y = make_multilabel_classification(n_samples=80, n_features=6, n_classes=3, random_state=1)
    model = ARMClassifier(penalty="l2", alpha=0.01, warm_start=True).fit(X, Y)
    model.fit(X[:, :4], Y)  # another width: a cold start, no error
    assert_array_equal(model.coef_, ARMClassifier(penalty="l2", alpha=0.01).fit(X[:, :4], Y).coef_)


def test_warm_start_is_refused_by_the_torch_backend():
    pytest.importorskip("torch")
    X, Y = make_multilabel_classification(n_samples=30, n_features=4, n_classes=2, random_state=0)
    with pytest.raises(ValueError, match="warm_start=True is available with backend='linear'"):
        ARMClassifier(backend="torch", warm_start=True, max_epochs=1).fit(X, Y)


def test_convergence_warning_says_whether_the_budget_ran_out_or_the_solver_stalled():
    from skarm.linear._fit import convergence_reason

    assert convergence_reason(1000, 1000) == "it used all max_iter=1000 iterations"
    stalled = convergence_reason(74, 1000)
    assert "stopped after 74 of max_iter=1000" in stalled and "stall" in stalled


@pytest.mark.parametrize(
    "params",
    [{"penalty": None}, {"penalty": "l2", "alpha": 0.01}, {"penalty": "sae", "alpha": 0.1},
     {"penalty": None, "adversarial_eps": 0.05}],
)
def test_threads_over_labels_give_the_same_model(params, monkeypatch):
    from joblib import Parallel

    from skarm.linear import _dual_cd

    X, Y = make_multilabel_classification(n_samples=120, n_features=30, n_classes=5,
                                          random_state=0)
    X = sp.csr_matrix(X / np.linalg.norm(X, axis=1, keepdims=True))
    one = ARMClassifier(random_state=0, **params).fit(X, Y)
    calls = []

    class Counting(Parallel):
        def __call__(self, iterable):
            calls.append(self.n_jobs)
            return super().__call__(iterable)

    monkeypatch.setattr(_dual_cd, "Parallel", Counting)
    two = ARMClassifier(random_state=0, n_jobs=2, **params).fit(X, Y)
    assert calls and set(calls) == {2}  # the labels went to two threads
    assert_array_equal(two.coef_, one.coef_)
    assert_array_equal(two.intercept_, one.intercept_)
