"""soft_attackability, sae_score and alignment_score on the models users already have."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.datasets import make_multilabel_classification
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, Normalizer, StandardScaler
from sklearn.svm import LinearSVC
from test_greedy import plain_greedy

from skarm.exceptions import NearBoundaryWarning
from skarm.metrics import alignment_score, sae_score, soft_attackability

X, Y = make_multilabel_classification(
    n_samples=120, n_features=8, n_classes=5, random_state=0, allow_unlabeled=True
)
X_TEST = X[:15] + 0.1


def scores_of(model, X):
    """The model's own per-label scores h(x): decision_function, or logits of probabilities."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X)).reshape(len(X), -1)
    proba = np.column_stack([p[:, 1] for p in model.predict_proba(X)])
    return np.log(proba) - np.log1p(-proba)


def reference_sae(model, X, y=None):
    """SAE from finite-difference gradients of the model's scores and the plain greedy."""
    d = X.shape[1]
    h0 = scores_of(model, np.zeros((1, d)))[0]
    W = (scores_of(model, np.eye(d)) - h0).T  # exact for an affine model
    H = scores_of(model, X)
    out = []
    for i in range(len(X)):
        keep = np.ones(W.shape[0], bool) if y is None else (2 * y[i] - 1) * H[i] > 0
        A = (-W / H[i][:, None])[keep]
        out.append(plain_greedy(A)[0] if len(A) else 0.0)
    return np.array(out)


MODELS = {
    "ovr-linearsvc": lambda: OneVsRestClassifier(LinearSVC()),
    "ovr-logistic": lambda: OneVsRestClassifier(LogisticRegression()),
    "multioutput-logistic": lambda: MultiOutputClassifier(LogisticRegression()),
    "ridge-2d": lambda: RidgeClassifier(),
    "scaler-pca-ovr": lambda: make_pipeline(
        StandardScaler(), PCA(n_components=6, whiten=True), OneVsRestClassifier(LinearSVC())
    ),
    "minmax-maxabs-svd-ridge": lambda: make_pipeline(
        MinMaxScaler(), MaxAbsScaler(), TruncatedSVD(n_components=5, random_state=0),
        RidgeClassifier(),
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_soft_attackability_matches_reference_on_supported_models(name):
    model = MODELS[name]().fit(X, Y)
    assert_allclose(soft_attackability(model, X_TEST), reference_sae(model, X_TEST), rtol=1e-6)


@pytest.mark.parametrize("name", ["ovr-linearsvc", "ridge-2d"])
def test_label_variant_drops_misclassified_labels(name):
    model = MODELS[name]().fit(X, Y)
    Y_noisy = Y[:15].copy()
    Y_noisy[::3] = 1 - Y_noisy[::3]  # make some labels wrong
    got = soft_attackability(model, X_TEST, y=Y_noisy)
    assert_allclose(got, reference_sae(model, X_TEST, Y_noisy), rtol=1e-6)


def test_frozen_models_are_looked_through():
    # FrozenEstimator keeps a fitted model fitted through clone; the metrics (and the
    # attacks, through the same as_decision) read the model inside it, alone or as the
    # last step of a Pipeline.
    scaler = StandardScaler().fit(X)
    model = OneVsRestClassifier(LinearSVC()).fit(scaler.transform(X), Y)
    expected = soft_attackability(make_pipeline(scaler, model), X)
    frozen = make_pipeline(FrozenEstimator(scaler), FrozenEstimator(model))
    assert_allclose(soft_attackability(frozen, X), expected)
    Xs = scaler.transform(X)
    assert_allclose(soft_attackability(FrozenEstimator(model), Xs), soft_attackability(model, Xs))
    assert alignment_score(FrozenEstimator(model)) == alignment_score(model)


def test_binary_linear_classifier_has_one_label():
    model = LinearSVC().fit(X, Y[:, 0])
    sae = soft_attackability(model, X_TEST)
    # With one label the SAE is ||w|| / |h(x)|: the inverse distance to the boundary.
    h = model.decision_function(X_TEST)
    assert_allclose(sae, np.linalg.norm(model.coef_) / np.abs(h), rtol=1e-10)


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix])
def test_sparse_input_gives_the_dense_result(container):
    model = RidgeClassifier().fit(X, Y)
    assert_allclose(
        soft_attackability(model, container(X_TEST)), soft_attackability(model, X_TEST)
    )


@pytest.mark.parametrize("scale", [1e-3, 0.5, 7.0, 1e4])
def test_sae_is_invariant_to_positive_scaling_of_the_model(scale):
    model = RidgeClassifier().fit(X, Y)
    before = soft_attackability(model, X_TEST)
    model.coef_ = model.coef_ * scale
    model.intercept_ = model.intercept_ * scale
    assert_allclose(soft_attackability(model, X_TEST), before, rtol=1e-10)


def _ridge_with_coef(W, b=None):
    model = RidgeClassifier().fit(np.random.RandomState(0).randn(20, W.shape[1]),
                                  np.eye(W.shape[0], dtype=int)[np.arange(20) % W.shape[0]])
    model.coef_ = np.asarray(W, float)
    model.intercept_ = np.zeros(W.shape[0]) if b is None else np.asarray(b, float)
    return model


@pytest.mark.parametrize("m", [2, 5, 16])
def test_alignment_bounds_identical_and_orthogonal_rows(m):
    rng = np.random.RandomState(m)
    w = rng.randn(20)
    identical = _ridge_with_coef(np.tile(w, (m, 1)) * rng.choice([-1, 1], (m, 1)))
    assert_allclose(alignment_score(identical), 1.0)
    assert_allclose(alignment_score(identical, include_diagonal=False), 1.0)
    Q, _ = np.linalg.qr(rng.randn(20, m))
    orthogonal = _ridge_with_coef(Q.T * rng.uniform(0.5, 3, (m, 1)))
    assert_allclose(alignment_score(orthogonal), 1.0 / m)
    assert_allclose(alignment_score(orthogonal, include_diagonal=False), 0.0, atol=1e-12)


def test_alignment_zero_rows_contribute_nothing():
    W = np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0]])
    # |cos| = 1 for the 4 ordered pairs among rows 0 and 2; the zero row adds 0.
    assert_allclose(alignment_score(_ridge_with_coef(W)), 4 / 9)


def test_zero_score_is_clamped_counted_and_finite():
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    model = _ridge_with_coef(W, b=[0.0, 1.0, -1.0])
    X0 = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 2.0]])  # h_0 = 0 on the first two rows
    with pytest.warns(NearBoundaryWarning, match="2 decision score"):
        sae = soft_attackability(model, X0)
    assert np.isfinite(sae).all()
    assert sae[0] >= 1e8 - 1  # ||w_0|| / delta


def test_sae_score_is_minus_the_mean_in_cross_validate():
    cv = KFold(3, shuffle=True, random_state=0)
    res = cross_validate(
        OneVsRestClassifier(LinearSVC()), X, Y, cv=cv,
        scoring={"f1": "f1_micro", "sae": sae_score}, return_estimator=True,
    )
    for k, (_, test) in enumerate(cv.split(X)):
        expected = -soft_attackability(res["estimator"][k], X[test]).mean()
        assert_allclose(res["test_sae"][k], expected)
    assert (res["test_sae"] < 0).all()


def test_sae_score_in_grid_search_with_refit_f1():
    search = GridSearchCV(
        RidgeClassifier(), {"alpha": [1e-2, 1.0, 1e2]}, cv=3,
        scoring={"f1": "f1_micro", "sae": sae_score}, refit="f1",
    ).fit(X, Y)
    assert np.isfinite(search.cv_results_["mean_test_sae"]).all()
    assert search.best_index_ == np.argmax(search.cv_results_["mean_test_f1"])
    # Alone, as the only scorer.
    alone = GridSearchCV(RidgeClassifier(), {"alpha": [1e-2, 1e2]}, cv=3, scoring=sae_score)
    assert np.isfinite(alone.fit(X, Y).best_score_)


def test_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError):
        soft_attackability(OneVsRestClassifier(LinearSVC()), X)
    with pytest.raises(NotFittedError):
        alignment_score(make_pipeline(StandardScaler(), RidgeClassifier()))


@pytest.mark.parametrize(
    "bad_X, match",
    [
        (np.where(np.eye(15, 8) > 0, np.nan, X_TEST), "Input X contains NaN"),
        (np.where(np.eye(15, 8) > 0, np.inf, X_TEST), "Input X contains infinity"),
        (X_TEST[:, :3], "X has 3 features, but RidgeClassifier is expecting 8 features"),
        (X_TEST[0], "Expected 2D array, got 1D array instead"),
    ],
)
def test_bad_X_raises_value_error(bad_X, match):
    model = RidgeClassifier().fit(X, Y)
    with pytest.raises(ValueError, match=match):
        soft_attackability(model, bad_X)


@pytest.mark.parametrize(
    "model, multiclass, match",
    [
        (RandomForestClassifier(n_estimators=2, random_state=0), False, "no linear decision"),
        (
            make_pipeline(Normalizer(), RidgeClassifier()),
            False,
            r"\(Normalizer\) is not an affine map.*skarm.feature_space",
        ),
        (OneVsRestClassifier(LinearSVC()), True, "multiclass target"),
        (LogisticRegression(max_iter=1000), True, "multiclass"),
    ],
)
def test_unsupported_models_raise_type_error(model, multiclass, match):
    model.fit(X, Y.argmax(axis=1) if multiclass else Y)
    with pytest.raises(TypeError, match=match):
        soft_attackability(model, X_TEST)


def test_bad_y_and_parameters_raise():
    model = RidgeClassifier().fit(X, Y)
    with pytest.raises(ValueError, match="y has 2 label columns, but the model has 5"):
        soft_attackability(model, X_TEST, y=Y[:15, :2])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        soft_attackability(model, X_TEST, y=Y[:10])
    with pytest.raises(ValueError, match=r"\{0, 1\} label indicator"):
        soft_attackability(model, X_TEST, y=2 * Y[:15])
    with pytest.raises(ValueError, match="The 'delta' parameter of soft_attackability"):
        soft_attackability(model, X_TEST, delta=-1.0)
