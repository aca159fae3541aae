"""scikit-learn's common estimator checks on every public skarm estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skarm import ARMClassifier, ARMPrimalClassifier, ARMSAEClassifier

# Estimators as the checks see them: small alpha so they converge fast on the toy data.
ESTIMATORS = [
    ARMClassifier(penalty=None),
    ARMClassifier(penalty="l2", alpha=1e-2),
    ARMClassifier(penalty="nuclear", alpha=1e-2),
    ARMClassifier(penalty="single", alpha=1e-2),
    ARMSAEClassifier(alpha=1e-2),
    ARMPrimalClassifier(alpha=1e-2),
]

# Known failures, each with its reason.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
