"""The torch backend: penalties against the linear backend, skorch plumbing, metrics, checks.

Everything runs on the CPU with tiny data and few epochs; tests that need a GPU are marked
``cuda`` and skipped without one. The whole file is skipped when torch or skorch is absent,
except the tests of that situation itself, which run in a subprocess with torch hidden.
"""

import copy
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_multilabel_classification

from skarm import ARMClassifier, ARMPrimalClassifier, ARMSAEClassifier
from skarm._decision import LinearDecision
from skarm._sae import arm_sae_label_weights as np_arm_sae_label_weights
from skarm._sae import soft_attackability_values
from skarm.attacks import GASEAttack, PGDAttack
from skarm.linear._objective import Objective
from skarm.metrics import alignment_score, sae_score, soft_attackability

PENALTIES = [None, "l2", "nuclear", "single", "primal", "sae"]


# ---------------------------------------------------------------------------------------
# Without torch (subprocess: torch and skorch hidden by an import hook)
# ---------------------------------------------------------------------------------------

def _run_python(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_and_linear_backend_without_torch():
    out = _run_python(
        """
        import sys

        class HideDeepExtra:  # as if torch and skorch were not installed
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in ("torch", "skorch"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)

        sys.meta_path.insert(0, HideDeepExtra())
        import numpy as np
        import skarm
        from skarm import ARMSAEClassifier
        from skarm.exceptions import BackendNotAvailableError
        X = np.random.RandomState(0).randn(40, 3)
        Y = (X[:, :2] > 0).astype(int)
        print(ARMSAEClassifier(alpha=0.1).fit(X, Y).score(X, Y) > 0.5)
        try:
            ARMSAEClassifier(backend="torch").fit(X, Y)
        except BackendNotAvailableError as exc:
            print(isinstance(exc, ImportError), 'pip install "skarm[deep]"' in str(exc))
        import skarm.deep  # works: its torch names are imported on first use
        try:
            skarm.deep.DeepDecision
        except ImportError as exc:
            print(type(exc).__name__)
        """
    )
    assert out.split() == ["True", "True", "True", "BackendNotAvailableError"]


def test_import_skarm_does_not_import_torch():
    out = _run_python(
        """
        import sys
        import numpy as np
        import skarm
        from skarm import ARMClassifier
        X = np.random.RandomState(0).randn(30, 3)
        ARMClassifier(penalty="primal").fit(X, (X[:, :2] > 0).astype(int))
        print("torch" in sys.modules, "skorch" in sys.modules)
        """
    )
    assert out.split() == ["False", "False"]


# The rest needs the deep extra; each test is skipped without it (fixture below).
try:
    import torch
    from skorch.callbacks import Callback, EarlyStopping

    from skarm.deep import (
        MLP,
        ARMNet,
        DeepDecision,
        arm_penalty,
        arm_sae_label_weights,
        input_jacobian,
    )
    from skarm.deep._fit import resolve_device
except ImportError:
    torch = None

_Module = object if torch is None else torch.nn.Module
_TORCH_FREE_TESTS = {
    "test_import_and_linear_backend_without_torch",
    "test_import_skarm_does_not_import_torch",
}

requires_cuda = pytest.mark.skipif(
    torch is None or not torch.cuda.is_available(), reason="no CUDA device"
)


@pytest.fixture(autouse=True)
def _deep_extra(request):
    """Skip without torch or skorch; run the networks on one intra-op thread.

    The networks here are tiny, and on a small (or shared) CI machine torch's thread pool
    costs far more than it saves (fits 15x slower on a loaded 2-core machine).
    """
    if request.node.originalname in _TORCH_FREE_TESTS:
        yield
        return
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


# Small and fast: converge enough on the checks' toy data in a few epochs.
FAST = dict(backend="torch", hidden_layer_sizes=(8,), max_epochs=5, lr=0.05, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(
        n_samples=120, n_features=6, n_classes=4, random_state=0
    )
    return (X - X.mean(0)) / X.std(0), Y


def _linear_module(W, b):
    """A float64 torch.nn.Linear holding (W, b)."""
    layer = torch.nn.Linear(W.shape[1], W.shape[0]).double()
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(W))
        layer.bias.copy_(torch.as_tensor(b))
    return layer


# ---------------------------------------------------------------------------------------
# The maths: torch penalties equal the numpy (linear backend) ones on a linear module
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("weighting", ["floor", "soft"])
def test_arm_sae_label_weights_match_numpy(weighting):
    rng = np.random.RandomState(0)
    H = rng.randn(50, 6) * 4
    H[0, :2] = [40.0, -40.0]  # past the "soft" switch to exp(-t) at t = 30, both signs
    Y = np.where(rng.rand(50, 6) > 0.5, 1.0, -1.0)
    Y[0, :2] = [1.0, -1.0]
    margin_floor = 0.05
    expected, slope = np_arm_sae_label_weights(H, Y, margin_floor, weighting)
    H_t = torch.tensor(H, requires_grad=True)
    weights = arm_sae_label_weights(H_t, torch.tensor(Y), margin_floor, weighting)
    assert_allclose(weights.detach().numpy(), expected, rtol=1e-12)
    # Autograd's d(-y c)/dh is the slope the linear backend's chain rule uses.
    weights.sum().backward()
    assert_allclose(H_t.grad.numpy(), slope, rtol=1e-10, atol=1e-300)
    if weighting == "floor":
        # The slope is c where the cap is off and 0 on it.
        capped = Y * H < np.log(margin_floor)
        assert capped.any() and not capped.all()
        assert_array_equal(slope == 0, capped)
        assert_allclose(slope[~capped], np.abs(expected)[~capped], rtol=1e-12)
    else:  # smooth, capped near 1 / log(1 + exp(margin_floor)), ~exp(-t) for large t
        assert np.all(slope > 0)
        assert np.abs(expected).max() <= 1.0 / np.log1p(np.exp(margin_floor))
        assert_allclose(np.abs(expected[0, :2]), np.exp(-40.0), rtol=1e-12)


def test_arm_sae_label_weights_rejects_unknown_weighting():
    with pytest.raises(ValueError, match="must be 'floor' or 'soft'; got 'hard'"):
        arm_sae_label_weights(torch.zeros(1, 2), torch.ones(1, 2), 0.01, "hard")


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(
    "penalty, weighting",
    [("l2", "floor"), ("nuclear", "floor"), ("primal", "floor"), ("single", "floor"),
     ("sae", "floor"), ("single", "soft"), ("sae", "soft")],
)
def test_penalty_value_and_gradient_match_linear_backend(penalty, weighting, batched):
    rng = np.random.RandomState(1)
    n, d, m = 40, 7, 5
    X = rng.randn(n, d)
    Y = np.where(rng.rand(n, m) > 0.5, 1.0, -1.0)
    W, b = rng.randn(m, d), rng.randn(m)
    alpha, margin_floor = 0.3, 0.2
    objective = Objective(
        X, Y, penalty=penalty, alpha=alpha, C=np.inf, margin_floor=margin_floor,
        loss="hinge", loss_reduction="sum", margin_weighting=weighting,
    )
    H = X @ W.T + b
    if penalty == "nuclear":  # the linear backend handles it by its proximal operator
        U, _, Vt = np.linalg.svd(W, full_matrices=False)
        value, grad_W, grad_b = alpha * np.linalg.norm(W, "nuc"), alpha * U @ Vt, np.zeros(m)
    else:
        value, grad_h, grad_coef = objective.penalty_terms(W, H)
        grad_h = np.zeros_like(H) if grad_h is None else grad_h
        grad_W, grad_b = grad_coef + grad_h.T @ X, grad_h.sum(axis=0)

    layer = _linear_module(W, b)
    X_t = torch.tensor(X, requires_grad=True)
    logits = layer(X_t)
    pen = arm_penalty(
        penalty, logits=logits, y_signed=torch.tensor(Y), alpha=alpha,
        margin_floor=margin_floor, X=X_t, weight=layer.weight, batched_jacobian=batched,
        margin_weighting=weighting,
    )
    pen.backward()
    bias_grad = np.zeros(m) if layer.bias.grad is None else layer.bias.grad.numpy()
    assert_allclose(pen.item(), value, rtol=1e-6)
    assert_allclose(layer.weight.grad.numpy(), grad_W, rtol=1e-6, atol=1e-12)
    assert_allclose(bias_grad, grad_b, rtol=1e-6, atol=1e-12)

    # Evaluation only (validation loss): same value, no double-backprop graph.
    logits = layer(X_t)
    value_only = arm_penalty(
        penalty, logits=logits, y_signed=torch.tensor(Y), alpha=alpha,
        margin_floor=margin_floor, X=X_t, weight=layer.weight, create_graph=False,
        margin_weighting=weighting,
    )
    assert_allclose(value_only.item(), value, rtol=1e-6)


def test_sae_penalty_gradient_reaches_hidden_layers():
    torch.manual_seed(0)
    module = MLP(5, 3, hidden_layer_sizes=(6,)).double()
    X = torch.randn(20, 5, dtype=torch.float64, requires_grad=True)
    Y = torch.where(torch.rand(20, 3) > 0.5, 1.0, -1.0).double()
    pen = arm_penalty("sae", logits=module(X), y_signed=Y, alpha=1.0, X=X)
    pen.backward()
    hidden = module.hidden[0].weight.grad
    assert hidden is not None and hidden.abs().sum() > 0


@pytest.mark.parametrize("batched", [True, False])
def test_input_jacobian_against_autograd(batched):
    torch.manual_seed(0)
    module = MLP(4, 3, hidden_layer_sizes=(5,)).double()
    X = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    J = input_jacobian(module(X), X, batched=batched)
    for i in range(6):
        expected = torch.autograd.functional.jacobian(lambda x: module(x[None])[0], X[i])
        assert_allclose(J[i].numpy(), expected.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# DeepDecision: what the metrics and attacks use
# ---------------------------------------------------------------------------------------


def test_deep_decision_on_linear_module_equals_linear_decision():
    rng = np.random.RandomState(0)
    W, b, X = rng.randn(4, 6), rng.randn(4), rng.randn(30, 6)
    linear = LinearDecision(W, b)
    deep = DeepDecision(_linear_module(W, b), n_features=6, n_labels=4, batch_size=7)
    X = deep.check_X(X)
    assert_allclose(deep.decision_function(X), linear.decision_function(X), rtol=1e-12)
    assert_allclose(deep.input_gradients(X), linear.input_gradients(X), rtol=1e-12)
    assert_allclose(deep.gradient_gram(X), np.broadcast_to(W @ W.T, (30, 4, 4)), rtol=1e-12)
    assert_allclose(deep.coef, W)
    assert_allclose(deep.intercept, b)
    # The same SAE numbers on the same weights.
    for y in (None, (X @ W.T + b > 0.3).astype(float)):
        assert_allclose(
            soft_attackability_values(deep, X, y)[0],
            soft_attackability_values(linear, X, y)[0],
            rtol=1e-10,
        )


def test_deep_decision_autograd_fallback_matches_torch_func():
    torch.manual_seed(0)
    module = MLP(5, 3, hidden_layer_sizes=(4,))
    decision = DeepDecision(module, n_features=5, n_labels=3)
    X = decision.check_X(np.random.RandomState(0).randn(9, 5))
    J_func = decision.input_gradients(X)
    decision._use_func = False
    assert_allclose(decision.input_gradients(X), J_func, rtol=1e-5, atol=1e-7)


def test_deep_decision_errors():
    decision = DeepDecision(MLP(3, 2, hidden_layer_sizes=()), n_features=3, n_labels=2)
    with pytest.raises(ValueError, match="X has 4 features, but estimator is expecting 3"):
        decision.check_X(np.ones((2, 4)))
    no_linear = DeepDecision(torch.nn.Identity(), n_features=2, n_labels=2)
    with pytest.raises(ValueError, match="no torch.nn.Linear layer with 2 outputs"):
        no_linear.coef


def test_metrics_and_attacks_same_numbers_on_same_weights(data):
    X, Y = data
    linear = ARMClassifier(penalty="sae", alpha=0.1).fit(X, Y)
    deep = ARMClassifier(
        backend="torch", module=torch.nn.Linear(X.shape[1], Y.shape[1]).double(),
        max_epochs=1, random_state=0,
    ).fit(X, Y)
    with torch.no_grad():
        deep.net_.module_.weight.copy_(torch.as_tensor(linear.coef_))
        deep.net_.module_.bias.copy_(torch.as_tensor(linear.intercept_))
    assert_allclose(deep.decision_function(X), linear.decision_function(X), rtol=1e-12)
    assert_array_equal(deep.predict(X), linear.predict(X))
    assert_allclose(soft_attackability(deep, X), soft_attackability(linear, X), rtol=1e-10)
    assert_allclose(sae_score(deep, X), sae_score(linear, X), rtol=1e-10)
    assert_allclose(alignment_score(deep), alignment_score(linear), rtol=1e-12)
    # GASE: the generic (Jacobian) path on a linear network gives the linear numbers.
    Xs, Ys = X[:25], Y[:25]
    gase_lin = GASEAttack(linear, eps=1.0, marginal_cost="exact").attack(Xs, Ys)
    gase_deep = GASEAttack(deep, eps=1.0, marginal_cost="exact").attack(Xs, Ys)
    assert_array_equal(gase_deep.n_flipped, gase_lin.n_flipped)
    pgd_lin = PGDAttack(linear, eps=1.0, max_iter=20).attack(Xs, Ys)
    pgd_deep = PGDAttack(deep, eps=1.0, max_iter=20).attack(Xs, Ys)
    assert_allclose(pgd_deep.X_adv, pgd_lin.X_adv, rtol=1e-8, atol=1e-10)


def test_attacks_and_metrics_on_mlp(data):
    X, Y = data
    clf = ARMSAEClassifier(alpha=0.1, **FAST).fit(X, Y)
    sae = soft_attackability(clf, X[:10], y=Y[:10])
    assert sae.shape == (10,) and np.all(np.isfinite(sae)) and np.all(sae >= 0)
    W = clf.net_.module_.output.weight.detach().double().numpy()
    norms = np.linalg.norm(W, axis=1)
    assert_allclose(
        alignment_score(clf), np.mean(np.abs((W @ W.T) / np.outer(norms, norms))), rtol=1e-6
    )
    # The scorers attack the estimator they score, here through its input gradients.
    from skarm.metrics import attackability_score, make_adversarial_scorer

    c_a = attackability_score(clf, X[:8], Y[:8], eps=0.5)
    assert 0 <= c_a <= Y.shape[1]
    scorer = make_adversarial_scorer("f1_micro", eps=0.5, attack="pgd")
    assert 0 <= scorer(clf, X[:8], Y[:8]) <= 1
    for attack in (GASEAttack(clf, eps=0.5), PGDAttack(clf, eps=0.5, max_iter=10)):
        result = attack.attack(X[:8], Y[:8])
        assert np.all(np.linalg.norm(result.X_adv - X[:8], axis=1) <= 0.5)
        flipped = clf.predict(result.X_adv) != Y[:8]
        assert_array_equal(flipped.sum(axis=1), result.n_flipped)


# ---------------------------------------------------------------------------------------
# The estimator and its skorch net
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("penalty", PENALTIES)
def test_every_penalty_trains(data, penalty):
    X, Y = data
    clf = ARMClassifier(penalty=penalty, alpha=0.05, **FAST).fit(X, Y)
    assert isinstance(clf.net_, ARMNet)
    assert clf.n_iter_ == 5 and len(clf.net_.history) == 5
    losses = clf.net_.history[:, "train_loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert clf.predict(X).shape == Y.shape
    assert not hasattr(clf, "coef_")


def test_presets_set_their_penalty(data):
    X, Y = data
    assert ARMSAEClassifier(**FAST).fit(X, Y).net_.penalty == "sae"
    assert ARMPrimalClassifier(**FAST).fit(X, Y).net_.penalty == "primal"


def test_deterministic_given_random_state(data):
    X, Y = data
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = ARMSAEClassifier(alpha=0.1, **FAST).fit(X, Y).decision_function(X)
    b = ARMSAEClassifier(alpha=0.1, **FAST).fit(X, Y).decision_function(X)
    c = ARMSAEClassifier(alpha=0.1, **{**FAST, "random_state": 1}).fit(X, Y)
    assert_array_equal(a, b)
    assert not np.allclose(a, c.decision_function(X))
    # The caller's torch RNG is left as it was.
    assert torch.equal(torch.get_rng_state(), state)


def test_multilabel_net_outputs(data):
    X, Y = data
    clf = ARMClassifier(penalty=None, **FAST).fit(X, Y)
    scores = clf.decision_function(X)
    X32 = X.astype(np.float32)
    assert_allclose(clf.net_.predict_proba(X32), 1 / (1 + np.exp(-scores)), rtol=1e-5)
    assert_array_equal(clf.net_.predict(X32), clf.predict(X))
    assert clf.net_.train_split is None
    assert clf.net_.iterator_train__shuffle is True


def test_validation_split_and_callbacks(data):
    X, Y = data

    class Recorder(Callback):
        def __init__(self):
            self.epochs = 0

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    recorder = Recorder()
    clf = ARMSAEClassifier(
        alpha=0.1, **{**FAST, "max_epochs": 50}, validation_fraction=0.25,
        callbacks=[("rec", recorder), EarlyStopping(patience=2, threshold=10.0)],
    ).fit(X, Y)
    history = clf.net_.history
    # Early stopping saw a validation loss (BCE + penalty) and ended training early.
    assert np.all(np.isfinite(history[:, "valid_loss"]))
    assert clf.n_iter_ < 50 and clf.n_iter_ == len(history)
    # Non-stratified 25% hold-out; the callbacks passed were copied, not trained in place.
    assert sum(history[0, "batches", :, "valid_batch_size"]) == 30
    assert recorder.epochs == 0
    assert dict(clf.net_.callbacks_)["rec"].epochs == clf.n_iter_


def test_checkpoint_and_progress_bar_callbacks(data, tmp_path):
    from skorch.callbacks import Checkpoint, ProgressBar

    pytest.importorskip("tqdm")
    X, Y = data
    clf = ARMPrimalClassifier(
        alpha=0.1, **{**FAST, "max_epochs": 2}, validation_fraction=0.2,
        callbacks=[Checkpoint(dirname=str(tmp_path)), ProgressBar()],
    ).fit(X, Y)
    assert (tmp_path / "params.pt").exists()
    assert clf.n_iter_ == 2


@pytest.mark.parametrize("fraction, n_samples, n_valid", [(0.99, 30, 30), (0.97, 30, 30),
                                                          (0.5, 1, 1)])
def test_validation_fraction_that_leaves_no_training_row_is_rejected(
    data, fraction, n_samples, n_valid
):
    X, Y = data
    message = (
        f"validation_fraction={fraction} leaves 0 training rows of {n_samples}: it holds out "
        f"ceil({fraction} * {n_samples}) = {n_valid} for validation; "
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        ARMClassifier(**FAST, validation_fraction=fraction).fit(X[:n_samples], Y[:n_samples])


def test_small_validation_fraction_holds_out_one_row(data):
    # A fraction rounds its row count up: the validation part is never empty.
    X, Y = data
    clf = ARMClassifier(**{**FAST, "max_epochs": 1}, validation_fraction=0.01).fit(
        X[:30], Y[:30]
    )
    assert sum(clf.net_.history[0, "batches", :, "valid_batch_size"]) == 1
    assert sum(clf.net_.history[0, "batches", :, "train_batch_size"]) == 29


@pytest.mark.parametrize(
    "params, message",
    [
        # The first Adam step is beyond float32: torch's RuntimeError before.
        ({"lr": 1e300, "penalty": None},
         "Training diverged: the optimizer step overflowed the parameters' torch.float32 at "
         "epoch 1, batch 1. Lower lr (got 1e+300), or scale X."),
        ({"lr": 1e20, "penalty": None},
         "Training diverged: the training loss became nan at epoch 1, batch 2. Lower lr "
         "(got 1e+20), or scale X."),
        # The penalties' own errors on an overflowed network ("K and C must be finite.").
        ({"lr": 1e20, "penalty": "primal", "alpha": 0.1},
         "Training diverged: the logits became non-finite on a training batch at epoch 1, "
         "batch 2. Lower lr (got 1e+20) or alpha (got 0.1), or scale X."),
        ({"lr": 1e10, "penalty": "sae", "alpha": 0.1},
         "Training diverged: the Gram of the input gradients became non-finite on a training "
         "batch at epoch 1, batch 2. Lower lr (got 10000000000.0) or alpha (got 0.1), or "
         "scale X."),
    ],
    ids=["optimizer-overflow", "nan-loss", "penalty-logits", "penalty-gram"],
)
def test_diverging_training_stops_with_a_clear_error(data, params, message):
    X, Y = data
    with pytest.raises(ValueError, match=re.escape(message)):
        ARMClassifier(**{**FAST, **params}).fit(X, Y)


def test_parameters_non_finite_after_the_last_step_stop_training(data, tmp_path):
    # No later loss would show the NaN: the end-of-epoch check does, before the callbacks'
    # (a checkpoint would save the NaN parameters).
    from skorch.callbacks import Checkpoint

    X, Y = data

    class Poison(Callback):
        def on_batch_end(self, net, training=False, **kwargs):
            if training:
                with torch.no_grad():
                    net.module_.output.bias.fill_(float("nan"))

    clf = ARMClassifier(
        **{**FAST, "max_epochs": 1}, penalty=None, batch_size=len(X),
        callbacks=[Poison(), Checkpoint(monitor=None, dirname=str(tmp_path))],
    )
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Training diverged: the parameters output.bias became non-finite at epoch 1. "
            "Lower lr (got 0.05), or scale X."
        ),
    ):
        clf.fit(X, Y)
    assert not (tmp_path / "params.pt").exists()


def test_module_class_gets_its_dimensions(data):
    X, Y = data

    class Net(torch.nn.Module):
        def __init__(self, n_features, n_labels, width=3):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(n_features, width), torch.nn.Tanh())
            self.head = torch.nn.Linear(width, n_labels)

        def forward(self, X):
            return self.head(self.body(X))

    clf = ARMPrimalClassifier(
        alpha=0.1, module=Net, net_params={"module__width": 5}, **FAST
    ).fit(X, Y)
    assert clf.net_.module_.head.weight.shape == (4, 5)


def test_module_instance_is_copied(data):
    X, Y = data
    module = torch.nn.Sequential(torch.nn.Linear(6, 4))
    before = copy.deepcopy(module.state_dict())
    clf = ARMSAEClassifier(alpha=0.1, module=module, **FAST).fit(X, Y)
    assert clf.net_.module_ is not module
    for key, value in module.state_dict().items():
        assert torch.equal(value, before[key])
    # Idempotent: a second fit starts again from the instance's weights.
    again = clone(clf).fit(X, Y)
    assert_allclose(again.decision_function(X), clf.decision_function(X), rtol=1e-6)


class _PairSum(_Module):
    """Logits that do not come out of a Linear layer with one output per label."""

    def __init__(self, n_features, n_labels):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, 2 * n_labels)

    def forward(self, X):
        return self.linear(X).reshape(len(X), -1, 2).sum(dim=2)


def test_module_errors(data):
    X, Y = data
    with pytest.raises(ValueError, match=r"logits of shape \(n_samples, 4\).*\(2, 3\)"):
        ARMClassifier(module=torch.nn.Linear(6, 3), **FAST).fit(X, Y)
    for penalty in ("primal", "l2", "nuclear"):
        with pytest.raises(ValueError, match=f'penalty="{penalty}" acts on the last linear'):
            ARMClassifier(penalty=penalty, module=_PairSum, **FAST).fit(X, Y)
    # The input-gradient penalties need no linear layer.
    ARMClassifier(penalty="sae", module=_PairSum, **FAST).fit(X, Y)
    # A standalone net checks the same: the last Linear of _PairSum has 2 * n_labels outputs.
    for penalty in ("primal", "l2", "nuclear"):
        net = ARMNet(_PairSum, module__n_features=3, module__n_labels=2, penalty=penalty,
                     alpha=0.1, max_epochs=1, verbose=0)
        X3 = np.random.RandomState(0).randn(8, 3).astype(np.float32)
        with pytest.raises(ValueError, match="no torch.nn.Linear layer with 2 outputs"):
            net.fit(X3, (X3[:, :2] > 0).astype(np.float32))
    with pytest.raises(ValueError, match="'module' parameter"):
        ARMClassifier(module="mlp", **FAST).fit(X, Y)


def test_parameter_errors(data):
    X, Y = data
    with pytest.raises(ValueError, match="The 'device' parameter must be 'auto' or a torch"):
        ARMClassifier(**{**FAST, "device": "gpu7"}).fit(X, Y)
    with pytest.raises(ValueError, match="net_params may not set lr"):
        ARMClassifier(net_params={"lr": 0.1}, **FAST).fit(X, Y)
    with pytest.raises(ValueError, match="did you mean optimizer__momentum"):
        ARMClassifier(net_params={"optimizer_momentum": 0.9}, **FAST).fit(X, Y)
    with pytest.raises(TypeError, match="Sparse data was passed"):
        import scipy.sparse as sp

        ARMClassifier(**FAST).fit(sp.csr_matrix(X), Y)


def test_hidden_layer_sizes(data):
    X, Y = data
    one = ARMClassifier(**{**FAST, "hidden_layer_sizes": 3}).fit(X, Y)
    assert one.net_.module_.output.in_features == 3
    linear = ARMClassifier(**{**FAST, "hidden_layer_sizes": ()}).fit(X, Y)
    assert len(linear.net_.module_.hidden) == 0
    # A linear network's input gradients are its weights: the SAE Gram is W W^T.
    W = linear.net_.module_.output.weight.detach().double().numpy()
    decision = linear.decision_
    assert_allclose(decision.gradient_gram(X[:3]), np.broadcast_to(W @ W.T, (3, 4, 4)),
                    rtol=1e-6)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        ARMClassifier(**{**FAST, "hidden_layer_sizes": (4, 0)}).fit(X, Y)


def test_arm_net_on_its_own(data):
    X, Y = data
    net = ARMNet(
        MLP, module__n_features=6, module__n_labels=4, module__hidden_layer_sizes=(5,),
        penalty="sae", alpha=0.1, max_epochs=2, lr=0.01, optimizer=torch.optim.Adam,
        verbose=0,
    ).fit(X.astype(np.float32), Y.astype(np.float32))
    proba = net.predict_proba(X.astype(np.float32))
    assert proba.shape == (len(X), 4) and np.all((proba > 0) & (proba < 1))
    assert set(np.unique(net.predict(X.astype(np.float32)))) <= {0, 1}


def test_net_params_reach_the_net(data):
    X, Y = data
    clf = ARMClassifier(
        penalty="l2", alpha=0.01,
        net_params={"optimizer": torch.optim.SGD, "optimizer__momentum": 0.5}, **FAST
    ).fit(X, Y)
    assert isinstance(clf.net_.optimizer_, torch.optim.SGD)
    assert clf.net_.optimizer_.param_groups[0]["momentum"] == 0.5


def test_device_auto_and_backend_switch(data):
    X, Y = data
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="finds no CUDA device. Use device='auto'"):
            resolve_device("cuda")
    clf = ARMClassifier(penalty="primal", alpha=0.1, **FAST).fit(X, Y)
    clf.set_params(backend="linear").fit(X, Y)
    assert hasattr(clf, "coef_") and not hasattr(clf, "net_")
    clf.set_params(backend="torch").fit(X, Y)
    assert hasattr(clf, "net_") and not hasattr(clf, "coef_")


def test_binary_and_multiclass_targets(data):
    X, Y = data
    binary = ARMSAEClassifier(alpha=0.1, **FAST).fit(X, Y[:, 0])
    assert binary.decision_function(X).shape == (len(X),)
    assert set(np.unique(binary.predict(X))) <= {0, 1}
    y3 = Y[:, 0] + Y[:, 1]
    multiclass = ARMSAEClassifier(alpha=0.1, **FAST).fit(X, y3)
    assert multiclass.decision_function(X).shape == (len(X), 3)


def test_pickle_roundtrip(data):
    X, Y = data
    clf = ARMSAEClassifier(alpha=0.1, **FAST).fit(X, Y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.decision_function(X), clf.decision_function(X))
    assert_allclose(soft_attackability(restored, X[:5]), soft_attackability(clf, X[:5]))


# ---------------------------------------------------------------------------------------
# Recipe: a pretrained image backbone as module (skarm.deep's docstring)
# ---------------------------------------------------------------------------------------


class _TinyBackbone(_Module):
    """Stands in for a torchvision classifier: convolutions, pooling, an ``fc`` head."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2)
        )
        self.fc = torch.nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def _image_tagging_data(n=48, n_labels=5, size=8):
    rng = np.random.RandomState(0)
    images = rng.randn(n, 3, size, size)
    Y = (images.mean(axis=(2, 3)) @ rng.randn(3, n_labels) > 0).astype(int)
    return images, Y


def _check_recipe(backbone, images, Y, image_shape):
    backbone.fc = torch.nn.Linear(backbone.fc.in_features, Y.shape[1])
    for param in backbone.parameters():  # fine-tune the head only
        param.requires_grad_(False)
    backbone.fc.requires_grad_(True)
    module = torch.nn.Sequential(torch.nn.Unflatten(1, image_shape), backbone)
    frozen = copy.deepcopy(backbone.state_dict())
    X = images.reshape(len(images), -1)
    clf = ARMSAEClassifier(
        alpha=1e-2, backend="torch", module=module, lr=1e-2, batch_size=16, max_epochs=2,
        random_state=0,
    ).fit(X, Y)
    assert clf.predict(X).shape == Y.shape
    trained = clf.net_.module_[1].state_dict()
    for key, value in frozen.items():  # the backbone did not move, the head did
        assert torch.equal(trained[key], value) != key.startswith("fc.")
    assert soft_attackability(clf, X[:4]).shape == (4,)
    assert alignment_score(clf) > 0
    return clf


def test_pretrained_backbone_recipe_with_tiny_network():
    images, Y = _image_tagging_data()
    clf = _check_recipe(_TinyBackbone(), images, Y, (3, 8, 8))
    # Convolutions on the CPU: the penalty loops over labels for its input gradients.
    assert clf.net_.input_jacobian == "auto" and not clf.net_._batched_jacobian()


def test_pretrained_backbone_recipe_with_torchvision():
    torchvision = pytest.importorskip("torchvision")
    images, Y = _image_tagging_data(n=16, size=32)
    _check_recipe(torchvision.models.resnet18(weights=None), images, Y, (3, 32, 32))


# ---------------------------------------------------------------------------------------
# CUDA
# ---------------------------------------------------------------------------------------


@pytest.mark.cuda
@requires_cuda
def test_cuda_fit_metrics_and_attacks(data):
    X, Y = data
    clf = ARMSAEClassifier(alpha=0.1, **{**FAST, "device": "auto"}).fit(X, Y)
    assert next(clf.net_.module_.parameters()).is_cuda
    decision = clf.decision_
    J = decision.input_gradients(decision.check_X(X[:10]))
    assert J.shape == (10, 4, 6) and J.dtype == np.float64
    cpu = DeepDecision(
        copy.deepcopy(clf.net_.module_).cpu(), n_features=6, n_labels=4, device="cpu"
    )
    assert_allclose(cpu.input_gradients(X[:10]), J, rtol=1e-4, atol=1e-6)
    assert_allclose(soft_attackability(clf, X[:10]), soft_attackability_values(cpu, X[:10])[0],
                    rtol=1e-3)
    result = GASEAttack(clf, eps=0.5).attack(X[:8], Y[:8])
    assert np.all(result.norms <= 0.5)
    restored = pickle.loads(pickle.dumps(clf))
    assert_allclose(restored.decision_function(X), clf.decision_function(X), rtol=1e-6)


@pytest.mark.cuda
@requires_cuda
@pytest.mark.parametrize("penalty", PENALTIES)
def test_cuda_every_penalty_trains(data, penalty):
    X, Y = data
    clf = ARMClassifier(penalty=penalty, alpha=0.05, **{**FAST, "device": "cuda"}).fit(X, Y)
    assert np.all(np.isfinite(clf.net_.history[:, "train_loss"]))


def test_convnet_is_translation_tolerant_and_trains_as_a_module():
    from skarm.deep import ConvNet

    torch.manual_seed(0)
    net = ConvNet(1024, 3).eval()
    image = torch.zeros(1, 32, 32)
    image[0, 10:13, 10:14] = torch.tensor([[1.0, 0.5, 0.0, 1.0]] * 3)
    shifted = torch.roll(image, shifts=(6, 4), dims=(1, 2))
    with torch.no_grad():
        a, b = net(image.reshape(1, -1)), net(shifted.reshape(1, -1))
    # The global max over positions: a pattern moved by a multiple of the pooling stride,
    # far from the borders (whose zero padding breaks the symmetry), gives the same logits.
    assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    # The last layer is what the last-layer penalties and alignment_score read.
    from skarm.deep import last_linear_layer

    assert last_linear_layer(net) is net.output


def test_convnet_refuses_a_non_square_width():
    from skarm.deep import ConvNet

    with pytest.raises(ValueError, match="not a square image; pass image_shape"):
        ConvNet(150, 3)
    with pytest.raises(ValueError, match=r"image_shape=\(5, 5\) does not fit 30 features"):
        ConvNet(30, 3, image_shape=(5, 5))
    assert ConvNet(30, 2, image_shape=(5, 6))(torch.zeros(4, 30)).shape == (4, 2)


def test_convnet_on_digit_canvases_beats_chance():
    from sklearn.metrics import f1_score

    from skarm.datasets import load_digit_canvases
    from skarm.deep import ConvNet

    X, Y = load_digit_canvases(n_samples=700, canvas_size=16, max_digits=2, n_clutter=1,
                               return_X_y=True, random_state=0)
    clf = ARMClassifier(penalty=None, backend="torch", module=ConvNet, max_epochs=30,
                        lr=3e-3, random_state=0).fit(X[:500], Y[:500])
    # Chance: predicting every label on gives micro-F1 2 p / (1 + p) ~ 0.24 at p ~ 0.14.
    assert f1_score(Y[500:], clf.predict(X[500:]), average="micro") > 0.5


@pytest.mark.parametrize("penalty", ["Sae", "lasso", "", 1])
def test_arm_penalty_refuses_an_unknown_penalty(penalty):
    # It used to compute the "single" penalty for any name it did not know.
    from skarm.deep import arm_penalty

    layer = torch.nn.Linear(4, 3)
    X = torch.randn(8, 4, requires_grad=True)
    with pytest.raises(ValueError, match="penalty must be one of None, 'l2'"):
        arm_penalty(penalty, logits=layer(X), y_signed=torch.ones(8, 3), alpha=0.1, X=X)


@pytest.mark.parametrize("params, match", [
    ({"penalty": "sea"}, "The 'penalty' parameter of ARMNet must be a str among"),
    ({"alpha": -1.0}, r"The 'alpha' parameter of ARMNet must be a float in the range \[0.0"),
    ({"margin_floor": 0.0}, "The 'margin_floor' parameter of ARMNet"),
    ({"margin_weighting": "hard"}, "The 'margin_weighting' parameter of ARMNet"),
    ({"adversarial_eps": -0.1}, "The 'adversarial_eps' parameter of ARMNet"),
    ({"adversarial_steps": 0}, "The 'adversarial_steps' parameter of ARMNet"),
    ({"loss_reduction": "max"}, "The 'loss_reduction' parameter of ARMNet"),
    ({"input_jacobian": "vmap"}, "The 'input_jacobian' parameter of ARMNet"),
])
def test_armnet_validates_its_parameters_when_fitted(params, match, data):
    from skarm.deep import MLP, ARMNet
    from skarm.utils._sklearn_compat import InvalidParameterError

    X, Y = data
    net = ARMNet(MLP, module__n_features=X.shape[1], module__n_labels=Y.shape[1],
                 max_epochs=1, verbose=0, **params)
    with pytest.raises(InvalidParameterError, match=match):
        net.fit(X.astype(np.float32), Y.astype(np.float32))
