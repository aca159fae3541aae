"""Text and sparse input end to end: the feature-space threat model, and no densifying."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, PolynomialFeatures, StandardScaler
from sklearn.svm import SVC, LinearSVC

from skarm import ARMClassifier, GASEAttack, PGDAttack, feature_space
from skarm.experiments import budgets
from skarm.metrics import (
    attackability_score,
    make_adversarial_scorer,
    sae_score,
    soft_attackability,
)
from skarm.utils import median_row_norm

RNG = np.random.RandomState(0)
WORDS = [f"w{i}" for i in range(40)]
# Three topics, each a block of words; a document's labels are the topics it draws from.
Y_TEXT = RNG.randint(0, 2, size=(60, 3))
Y_TEXT[Y_TEXT.sum(axis=1) == 0, 0] = 1
DOCS = [
    " ".join(w for t in np.flatnonzero(y) for w in RNG.choice(WORDS[13 * t : 13 * t + 13], 6))
    for y in Y_TEXT
]


def text_pipeline(final=None):
    final = final if final is not None else OneVsRestClassifier(LinearSVC())
    return make_pipeline(TfidfVectorizer(), final).fit(DOCS, Y_TEXT)


@pytest.mark.parametrize(
    "call",
    [
        lambda p: soft_attackability(p, DOCS),
        lambda p: sae_score(p, DOCS),
        lambda p: attackability_score(p, DOCS, Y_TEXT, eps=0.1),
        lambda p: GASEAttack(p, eps=0.1).attack(DOCS, Y_TEXT),
        lambda p: PGDAttack(p, eps=0.1).attack(DOCS, Y_TEXT),
    ],
)
def test_text_pipeline_raises_type_error_naming_the_step_and_recipe(call):
    with pytest.raises(TypeError, match=r"'tfidfvectorizer' \(TfidfVectorizer\).*feature_space"):
        call(text_pipeline())


def test_feature_space_splits_after_the_last_non_affine_step():
    pipe = make_pipeline(
        TfidfVectorizer(), MaxAbsScaler(), OneVsRestClassifier(LinearSVC())
    ).fit(DOCS, Y_TEXT)
    model, X_features = feature_space(pipe, DOCS)
    # The affine scaler stays with the model (folded into W); the vectoriser is split off.
    assert [name for name, _ in model.steps] == ["maxabsscaler", "onevsrestclassifier"]
    assert sp.issparse(X_features)
    assert_allclose(X_features.toarray(), pipe[0].transform(DOCS).toarray())
    # Same predictions as the whole pipeline: the split loses nothing.
    assert_array_equal(model.predict(X_features), pipe.predict(DOCS))
    sae = soft_attackability(model, X_features)
    assert sae.shape == (len(DOCS),) and np.all(np.isfinite(sae))


def test_feature_space_returns_the_final_step_when_it_is_alone():
    pipe = text_pipeline(ARMClassifier(penalty="l2", alpha=0.01, random_state=0))
    model, X_features = feature_space(pipe, DOCS)
    assert model is pipe[-1]
    assert_array_equal(model.predict(X_features), pipe.predict(DOCS))


def test_feature_space_leaves_differentiable_models_alone():
    X = RNG.normal(size=(20, 4))
    pipe = make_pipeline(StandardScaler(), RidgeClassifier()).fit(X, Y_TEXT[:20])
    assert feature_space(pipe, X) == (pipe, X)
    ridge = pipe[-1]
    assert feature_space(ridge, X) == (ridge, X)
    # A non-affine step that is not a vectoriser is split off too.
    poly = make_pipeline(PolynomialFeatures(2), RidgeClassifier()).fit(X, Y_TEXT[:20])
    model, X_features = feature_space(poly, X)
    assert model is poly[-1] and X_features.shape == (20, 15)


@pytest.mark.parametrize("sub", [SVC(), KNeighborsClassifier(n_neighbors=3)])
def test_ovr_over_a_non_linear_classifier_raises_type_error(sub):
    X = RNG.normal(size=(30, 4))
    model = OneVsRestClassifier(sub).fit(X, Y_TEXT[:30])
    name = type(sub).__name__
    with pytest.raises(TypeError, match=f"estimators_\\[0\\] is a {name}, which has no linear"):
        soft_attackability(model, X)
    with pytest.raises(TypeError, match=f"{name}, which has no linear"):
        GASEAttack(model, eps=1.0).attack(X)


def test_median_row_norm_and_budgets_on_sparse_input_equal_dense():
    X = sp.random(300, 200, density=0.05, format="csr", random_state=0)
    dense = np.median(np.linalg.norm(X.toarray(), axis=1))
    assert median_row_norm(X) == pytest.approx(dense, rel=1e-12)
    assert median_row_norm(X.tocsc()) == pytest.approx(dense, rel=1e-12)
    assert budgets(X, (0.5,))["0.5"] == pytest.approx(0.5 * dense, rel=1e-12)


def test_sparse_attack_equals_dense_attack_across_batches():
    # More rows than one batch (128), so the per-batch densification is exercised.
    X = sp.random(300, 30, density=0.2, format="csr", random_state=1)
    Y = (RNG.uniform(size=(300, 4)) < 0.4).astype(int)
    Y[0] = 1 - Y[1]  # no constant column
    model = OneVsRestClassifier(LinearSVC()).fit(X, Y)
    eps = 0.5 * median_row_norm(X)
    sparse_result = GASEAttack(model, eps=eps).attack(X, Y)
    dense_result = GASEAttack(model, eps=eps).attack(X.toarray(), Y)
    assert_array_equal(sparse_result.n_flipped, dense_result.n_flipped)
    assert_allclose(sparse_result.X_adv, dense_result.X_adv, atol=1e-12)
    assert attackability_score(model, X, Y, eps=eps) == pytest.approx(
        dense_result.n_flipped.mean()
    )


@pytest.mark.parametrize("attack", ["gase", "pgd"])
def test_adversarial_scorer_by_chunks_equals_scoring_the_attacked_data(attack, monkeypatch):
    from skarm.metrics import _adversarial

    X = sp.random(200, 20, density=0.3, format="csr", random_state=2)
    Y = (RNG.uniform(size=(200, 3)) < 0.5).astype(int)
    model = OneVsRestClassifier(LinearSVC()).fit(X, Y)
    eps = 0.3 * median_row_norm(X)
    cls = GASEAttack if attack == "gase" else PGDAttack
    expected = f1_score(Y, model.predict(cls(model, eps=eps).attack(X, Y).X_adv), average="micro")
    # Chunks of 128 rows (the smallest): the attacked X is never held whole.
    monkeypatch.setattr(_adversarial, "_SCORER_CHUNK_VALUES", 1)
    scorer = make_adversarial_scorer("f1_micro", eps=eps, attack=attack)
    assert scorer(model, X, Y) == pytest.approx(expected)


@pytest.mark.parametrize("penalty", [None, "l2", "nuclear", "sae", "primal", "single"])
def test_every_penalty_fits_tfidf_features_and_is_scored_in_feature_space(penalty):
    pipe = text_pipeline(ARMClassifier(penalty=penalty, alpha=0.01, random_state=0))
    model, X_features = feature_space(pipe, DOCS)
    assert sp.issparse(X_features)
    c_a = attackability_score(model, X_features, Y_TEXT, eps=0.2)
    assert 0 <= c_a <= Y_TEXT.shape[1]
    # F1 under attack is below the clean F1 of the same model on the same rows.
    clean = f1_score(Y_TEXT, model.predict(X_features), average="micro")
    attacked = make_adversarial_scorer(eps=0.2)(model, X_features, Y_TEXT)
    assert attacked <= clean + 1e-12


def test_adversarial_scorer_callable_metric_gets_the_attacked_data():
    X = RNG.normal(size=(120, 5))
    Y = (X[:, :3] + 0.3 * RNG.normal(size=(120, 3)) > 0).astype(int)
    model = OneVsRestClassifier(LinearSVC()).fit(X, Y)
    X_adv = GASEAttack(model, eps=1.0).attack(X, Y).X_adv
    # A metric that uses score(), and one that looks at a subset of the rows.
    by_score = make_adversarial_scorer(lambda e, X_, y_: e.score(X_, y_), eps=1.0)
    assert by_score(model, X, Y) == pytest.approx(model.score(X_adv, Y))
    half = make_adversarial_scorer(
        lambda e, X_, y_: f1_score(y_[60:], e.predict(X_[60:]), average="micro"), eps=1.0
    )
    assert half(model, X, Y) == pytest.approx(
        f1_score(Y[60:], model.predict(X_adv[60:]), average="micro")
    )


# scores passed as probabilities on purpose.
@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one:UserWarning")
def test_adversarial_scorer_handles_list_responses_and_list_input():
    from sklearn.linear_model import LogisticRegression
    from sklearn.multioutput import MultiOutputClassifier

    X = RNG.normal(size=(150, 4))
    Y = (X[:, :3] + 0.5 * RNG.normal(size=(150, 3)) > 0).astype(int)
    model = MultiOutputClassifier(LogisticRegression()).fit(X, Y)
    X_adv = GASEAttack(model, eps=0.5).attack(X, Y).X_adv
    from sklearn.metrics import get_scorer

    for name in ("roc_auc", "neg_log_loss"):
        expected = get_scorer(name)(model, X_adv, Y)
        assert make_adversarial_scorer(name, eps=0.5)(model, X, Y) == pytest.approx(expected)
    ridge = RidgeClassifier().fit(X, Y)
    listed = make_adversarial_scorer(eps=0.5)(ridge, X.tolist(), Y)
    assert listed == pytest.approx(make_adversarial_scorer(eps=0.5)(ridge, X, Y))
