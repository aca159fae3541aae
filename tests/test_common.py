"""scikit-learn's common estimator checks on every public skarm estimator.

The estimators are discovered (:func:`skarm.utils.discovery.all_estimators`), not listed: a
new public estimator is checked with its defaults from the day it is added.
``CHECKED_SETTINGS`` only adds settings worth checking too (each penalty, each solver, each
backend) and the required parameters a default instance cannot do without.
"""

import importlib.util
import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skarm import ARMClassifier
from skarm.attacks._base import BaseAttack
from skarm.utils.discovery import all_estimators

HAS_TORCH = all(importlib.util.find_spec(name) for name in ("torch", "skorch"))

# The checks fit on tiny toy data (a single label, constant columns, a handful of rows):
# fits there stop early or collapse, and skarm says so. That is tested where it matters
# (test_classifier, test_numerical_safety); here it would only bury the real output.
pytestmark = [
    pytest.mark.filterwarnings("ignore::skarm.exceptions.CollapsedModelWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # check_classifiers_one_label: a constant label warns, as OneVsRestClassifier does.
    pytest.mark.filterwarnings("ignore:Label .*is present in all training examples"),
]

# Small and fast torch settings: enough on the checks' toy data in a few epochs.
FAST_TORCH = dict(
    backend="torch", hidden_layer_sizes=(8,), max_epochs=5, lr=0.05, random_state=0
)

# Settings checked besides the defaults (small alpha: fast convergence on the toy data). The
# attacks need a model and a budget: they clone and fit the model on the check's data.
CHECKED_SETTINGS = {
    "ARMClassifier": [
        dict(penalty=None),
        dict(penalty="l2", alpha=1e-2),
        dict(penalty="l2", alpha=1e-2, solver="dual-cd", random_state=0),
        dict(penalty="nuclear", alpha=1e-2),
        dict(penalty="single", alpha=1e-2),
        *([dict(penalty=None, **FAST_TORCH)] if HAS_TORCH else []),
    ],
    "ARMSAEClassifier": [
        dict(alpha=1e-2),
        dict(alpha=1e-2, solver="dual-cd", random_state=0),
        *([dict(alpha=1e-2, **FAST_TORCH)] if HAS_TORCH else []),
    ],
    "ARMPrimalClassifier": [dict(alpha=1e-2)],
    "GASEAttack": [
        dict(estimator=ARMClassifier(), eps=0.5),
        dict(estimator=ARMClassifier(penalty="sae", alpha=1e-2), eps=0.5, reference="prediction"),
    ],
    "PGDAttack": [dict(estimator=ARMClassifier(), eps=0.5, max_iter=10)],
}

# Discovered estimators the checks do not apply to, each with its reason.
NOT_CHECKED = {
    "ARMNet": (
        "a skorch NeuralNet: it follows skorch's contract (module, criterion and callbacks as "
        "parameters, tensors in and out), which the checks do not model; the checks run on "
        "ARMClassifier(backend='torch'), which builds and trains it"
    ),
}

# Known failures, each with its reason.
ATTACK_EXPECTED_FAILED_CHECKS = {
    "check_transformer_n_iter": (
        "max_iter bounds the iterations of each instance's attack in transform, not of fit, "
        "which runs no iterative solver of its own: there is no n_iter_ to report."
    ),
}
TORCH_EXPECTED_FAILED_CHECKS = {
    "check_methods_subset_invariance": (
        "float32 matrix products depend on the batch they are computed in (BLAS blocking): "
        "decision_function on a subset can differ from the full batch by ~1e-7, above the "
        "check's 1e-7 tolerance, depending on the weights"
    ),
}


def _checked_estimators():
    """One instance per discovered estimator and setting: defaults first, then the settings."""
    for name, cls in all_estimators():
        if name in NOT_CHECKED:
            continue
        settings = CHECKED_SETTINGS.get(name, [])
        # Estimators with required parameters are checked with the given settings only.
        if not settings or not issubclass(cls, BaseAttack):
            yield cls()
        yield from (cls(**params) for params in settings)


def expected_failed_checks(estimator):
    if isinstance(estimator, BaseAttack):
        return ATTACK_EXPECTED_FAILED_CHECKS
    if getattr(estimator, "backend", None) == "torch":
        return TORCH_EXPECTED_FAILED_CHECKS
    return {}


@pytest.fixture
def _one_torch_thread(request):
    """The torch networks here are tiny: torch's thread pool costs more than it saves."""
    if not HAS_TORCH:
        yield
        return
    import torch

    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


@pytest.mark.slow  # the matrix of checks is long (CI runs it: `pytest -m slow`)
@parametrize_with_checks(
    list(_checked_estimators()), expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check, _one_torch_thread):
    with warnings.catch_warnings():
        if getattr(estimator, "backend", None) == "torch":
            # skorch's own notices (device, float32 casts) on the checks' toy data.
            warnings.simplefilter("ignore", UserWarning)
        check(estimator)


def test_every_discovered_estimator_is_checked_or_excused():
    """A setting or an excuse for a class that is not discovered is a stale entry."""
    discovered = {name for name, _ in all_estimators()}
    assert set(CHECKED_SETTINGS) <= discovered
    if HAS_TORCH:  # ARMNet is discovered only with the deep extra installed
        assert set(NOT_CHECKED) <= discovered
    checked = {type(estimator).__name__ for estimator in _checked_estimators()}
    assert checked == discovered - set(NOT_CHECKED)
