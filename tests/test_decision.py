"""The linear decision read off a Pipeline equals the Pipeline's own, for every folded step."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, Normalizer, StandardScaler
from sklearn.svm import LinearSVC

from skarm._decision import as_decision
from skarm.attacks import GASEAttack
from skarm.datasets import make_correlated_multilabel


def _data(sparse):
    X, Y = make_correlated_multilabel(120, 6, 3, random_state=0)
    # Off-centre columns on different scales: a step that ignores its mean or its scale
    # (StandardScaler(with_mean=False) keeps mean_) changes every score.
    X = X * np.array([1.0, 3.0, 0.5, 10.0, 2.0, 1.0]) + np.array([3.0, -2.0, 5.0, 0, 1, 7])
    if sparse:
        X[np.random.default_rng(0).random(X.shape) < 0.4] = 0.0
        X = sp.csr_matrix(X)
    return X, Y


# Every affine step as_decision folds, with the settings that change what it computes.
# scikit-learn refuses to centre sparse X, and MinMaxScaler does not take it.
DENSE_STEPS = {
    "StandardScaler()": lambda: StandardScaler(),
    "StandardScaler(with_mean=False)": lambda: StandardScaler(with_mean=False),
    "StandardScaler(with_std=False)": lambda: StandardScaler(with_std=False),
    "StandardScaler(neither)": lambda: StandardScaler(with_mean=False, with_std=False),
    "MaxAbsScaler()": lambda: MaxAbsScaler(),
    "MinMaxScaler()": lambda: MinMaxScaler(),
    "MinMaxScaler((-2, 5))": lambda: MinMaxScaler(feature_range=(-2, 5)),
    "PCA(4)": lambda: PCA(n_components=4),
    "PCA(4, whiten)": lambda: PCA(n_components=4, whiten=True),
    "PCA(whiten, all)": lambda: PCA(whiten=True),
    "TruncatedSVD(4)": lambda: TruncatedSVD(n_components=4, random_state=0),
}
SPARSE_STEPS = {
    "StandardScaler(with_mean=False)": lambda: StandardScaler(with_mean=False),
    "StandardScaler(neither)": lambda: StandardScaler(with_mean=False, with_std=False),
    "MaxAbsScaler()": lambda: MaxAbsScaler(),
    "PCA(4, arpack)": lambda: PCA(n_components=4, svd_solver="arpack", random_state=0),
    "PCA(4, arpack, whiten)": lambda: PCA(
        n_components=4, svd_solver="arpack", whiten=True, random_state=0
    ),
    "TruncatedSVD(4)": lambda: TruncatedSVD(n_components=4, random_state=0),
}
CASES = [(name, False) for name in DENSE_STEPS] + [(name, True) for name in SPARSE_STEPS]


def _pipeline(name, sparse, *extra):
    step = (SPARSE_STEPS if sparse else DENSE_STEPS)[name]()
    return make_pipeline(step, *extra, OneVsRestClassifier(LinearSVC(random_state=0)))


@pytest.mark.parametrize("name, sparse", CASES)
def test_folded_step_gives_the_pipeline_decision_function(name, sparse):
    X, Y = _data(sparse)
    pipe = _pipeline(name, sparse).fit(X, Y)
    expected = pipe.decision_function(X)
    got = as_decision(pipe).decision_function(X)
    assert_allclose(got, expected, rtol=1e-8, atol=1e-8 * np.abs(expected).max())


@pytest.mark.parametrize("sparse", [False, True])
def test_chained_steps_fold_in_order(sparse):
    X, Y = _data(sparse)
    if sparse:
        pipe = _pipeline("StandardScaler(with_mean=False)", True, MaxAbsScaler(),
                         TruncatedSVD(n_components=4, random_state=0))
    else:
        pipe = _pipeline("MinMaxScaler((-2, 5))", False, StandardScaler(with_mean=False),
                         PCA(n_components=4, whiten=True))
    pipe.fit(X, Y)
    expected = pipe.decision_function(X)
    assert_allclose(as_decision(pipe).decision_function(X), expected,
                    rtol=1e-8, atol=1e-8 * np.abs(expected).max())


@pytest.mark.parametrize("name, sparse", CASES)
def test_gase_flips_on_a_pipeline_are_the_pipeline_s_own(name, sparse):
    # The flips GASE reports are checked on the folded decision; they must be the
    # Pipeline's own predictions at X_adv.
    X, Y = _data(sparse)
    pipe = _pipeline(name, sparse).fit(X[:80], Y[:80])
    res = GASEAttack(pipe, eps=1.0).attack(X[80:], Y[80:])
    assert res.n_flipped.sum() > 0
    assert_allclose((pipe.predict(res.X_adv) != Y[80:]).sum(axis=1), res.n_flipped)


@pytest.mark.parametrize("step", [Normalizer(), MinMaxScaler(clip=True)])
def test_non_affine_step_is_refused_naming_it(step):
    X, Y = _data(False)
    pipe = make_pipeline(step, OneVsRestClassifier(LinearSVC())).fit(X, Y)
    with pytest.raises(TypeError, match=f"{type(step).__name__}.*not an affine map"):
        as_decision(pipe)


# ---------------------------------------------------------------- the decision protocol
class _LinearByGradients:
    """A linear model seen only through decision_function and input_gradients."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def decision_function(self, X):
        return X @ self.W.T + self.b

    def input_gradients(self, X):
        return np.broadcast_to(self.W, (X.shape[0], *self.W.shape)).copy()


def test_generic_decision_gives_the_linear_models_sae_and_gram():
    from sklearn.linear_model import RidgeClassifier

    from skarm import DecisionProtocol, DifferentiableDecision
    from skarm.metrics import soft_attackability

    X, Y = _data(False)
    ridge = RidgeClassifier().fit(X, Y)
    generic = _LinearByGradients(ridge.coef_, ridge.intercept_)
    decision = as_decision(generic)
    assert isinstance(decision, DifferentiableDecision)
    assert isinstance(decision, DecisionProtocol)
    Xc = decision.check_X(X[:7])
    assert decision.n_labels == 3
    W = ridge.coef_
    assert_allclose(decision.gradient_gram(Xc), np.broadcast_to(W @ W.T, (7, 3, 3)),
                    rtol=1e-12)
    # The SAE through per-instance Grams equals the SAE through the shared linear Gram.
    assert_allclose(soft_attackability(generic, X[:20]), soft_attackability(ridge, X[:20]),
                    rtol=1e-9)


def test_a_decision_object_is_its_own_decision():
    from skarm import DecisionProtocol, LinearDecision

    decision = LinearDecision(np.eye(3, 4), np.zeros(3), "mine")
    assert as_decision(decision) is decision
    assert isinstance(decision, DecisionProtocol)
    assert not isinstance(OneVsRestClassifier(LinearSVC()), DecisionProtocol)


def test_skarm_models_are_read_through_their_public_decision():
    from skarm import ARMClassifier, LinearDecision

    X, Y = _data(False)
    clf = ARMClassifier(penalty="l2", alpha=0.01).fit(X, Y)
    assert isinstance(clf.decision_, LinearDecision)
    assert as_decision(clf) is clf.decision_
    assert clf.coef_ is clf.decision_.coef and clf.intercept_ is clf.decision_.intercept
    # coef_ stays settable (derived from decision_, not a copy of it).
    clf.coef_ = 2.0 * clf.coef_
    assert_allclose(clf.decision_function(X), X @ clf.decision_.coef.T + clf.intercept_)
    pipe = make_pipeline(StandardScaler(), ARMClassifier(penalty=None)).fit(X, Y)
    assert_allclose(as_decision(pipe).decision_function(X), pipe.decision_function(X),
                    atol=1e-10)


def test_unfitted_skarm_model_has_no_coef_and_is_not_fitted():
    from sklearn.exceptions import NotFittedError

    from skarm import ARMClassifier

    clf = ARMClassifier()
    assert not hasattr(clf, "coef_")
    with pytest.raises(NotFittedError):
        as_decision(clf)


def test_a_torch_module_is_read_as_a_deep_decision():
    torch = pytest.importorskip("torch")
    from skarm.deep import DeepDecision

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    module = module.double()
    decision = as_decision(module)
    assert isinstance(decision, DeepDecision)
    X, _ = _data(False)
    Xc = decision.check_X(X[:9])
    assert (decision.n_features, decision.n_labels) == (6, 3)
    with torch.no_grad():
        expected = module(torch.as_tensor(X[:9])).numpy()
    assert_allclose(decision.decision_function(Xc), expected, rtol=1e-12)
    # Input gradients against central finite differences.
    J = decision.input_gradients(Xc[:2])
    step = 1e-6
    for k in range(6):
        e = np.zeros(6)
        e[k] = step
        fd = (decision.decision_function(Xc[:2] + e) - decision.decision_function(Xc[:2] - e))
        assert_allclose(J[:, :, k], fd / (2 * step), atol=1e-7)
    with pytest.raises(ValueError, match="6 features"):
        decision.check_X(np.zeros((2, 4)))


def _relu_module(torch, d, m):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(d, 8), torch.nn.ReLU(), torch.nn.Linear(8, m)
    ).double()


def test_a_plain_torch_module_and_a_skorch_net_are_attacked_as_they_are():
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    from skarm import PGDAttack

    X, Y = _data(False)
    X = StandardScaler().fit_transform(X)
    net = skorch.NeuralNet(
        _relu_module(torch, X.shape[1], Y.shape[1]), criterion=torch.nn.BCEWithLogitsLoss,
        max_epochs=5, lr=0.05, verbose=0, train_split=None,
    ).fit(X, Y.astype(np.float64))
    eps = 2.0
    for model in (net, net.module_):
        for attack in (GASEAttack(model, eps=eps), PGDAttack(model, eps=eps)):
            result = attack.attack(X[:10], Y[:10])
            # Checked on the module's own logits, not through skarm's decision.
            with torch.no_grad():
                logits = net.module_(torch.as_tensor(result.X_adv)).numpy()
            assert_array_equal(result.n_flipped, ((logits > 0) != (Y[:10] > 0)).sum(axis=1))
            assert np.all(result.norms <= eps)
    gase_net = GASEAttack(net, eps=eps).attack(X[:10], Y[:10])
    gase_module = GASEAttack(net.module_, eps=eps).attack(X[:10], Y[:10])
    assert_array_equal(gase_net.n_flipped, gase_module.n_flipped)


def test_a_classifier_chain_is_refused_with_the_reason():
    X, Y = _data(False)
    chain = ClassifierChain(LogisticRegression()).fit(X, Y)
    with pytest.raises(TypeError, match="ClassifierChain feeds each label's prediction"):
        GASEAttack(chain, eps=1.0).attack(X[:3], Y[:3])
