"""scikit-learn's common estimator checks on every public skarm estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skarm import ARMClassifier, ARMPrimalClassifier, ARMSAEClassifier, GASEAttack, PGDAttack
from skarm.attacks._base import BaseAttack

# The checks fit on tiny toy data (a single label, constant columns, a handful of rows):
# fits there stop early or collapse, and skarm says so. That is tested where it matters
# (test_classifier, test_numerical_safety); here it would only bury the real output.
pytestmark = [
    # The matrix of checks is long (CI runs it: `pytest -m slow`).
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::skarm.exceptions.CollapsedModelWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # check_classifiers_one_label: a constant label warns, as OneVsRestClassifier does.
    pytest.mark.filterwarnings("ignore:Label .*is present in all training examples"),
]

# Estimators as the checks see them: small alpha so they converge fast on the toy data. The
# attacks wrap an unfitted classifier, which their fit clones and fits on the check's data.
ESTIMATORS = [
    ARMClassifier(penalty=None),
    ARMClassifier(penalty="l2", alpha=1e-2),
    ARMClassifier(penalty="l2", alpha=1e-2, solver="dual-cd", random_state=0),
    ARMSAEClassifier(alpha=1e-2, solver="dual-cd", random_state=0),
    ARMClassifier(penalty="nuclear", alpha=1e-2),
    ARMClassifier(penalty="single", alpha=1e-2),
    ARMSAEClassifier(alpha=1e-2),
    ARMPrimalClassifier(alpha=1e-2),
    GASEAttack(ARMClassifier(), eps=0.5),
    GASEAttack(ARMSAEClassifier(alpha=1e-2), eps=0.5, reference="prediction"),
    PGDAttack(ARMClassifier(), eps=0.5, max_iter=10),
]

# Known failures, each with its reason.
ATTACK_EXPECTED_FAILED_CHECKS = {
    "check_transformer_n_iter": (
        "max_iter bounds the iterations of each instance's attack in transform, not of fit, "
        "which runs no iterative solver of its own: there is no n_iter_ to report."
    ),
}


def expected_failed_checks(estimator):
    if isinstance(estimator, BaseAttack):
        return ATTACK_EXPECTED_FAILED_CHECKS
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
