"""attack_report: every column against the attacks run directly and scikit-learn's metrics."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import f1_score, hamming_loss

from skarm import ARMClassifier, GASEAttack, PGDAttack
from skarm.metrics import attack_report


@pytest.fixture(scope="module")
def problem():
    X, Y = make_multilabel_classification(n_samples=80, n_features=6, n_classes=5,
                                          random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    return ARMClassifier(penalty=None).fit(X, Y), X, Y


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_report_matches_the_attacks_and_sklearn_metrics(problem, norm):
    model, X, Y = problem
    eps = [0.2, 1.0] if norm == "l2" else [0.05, 0.3]
    report = attack_report(model, X, Y, eps=eps, norm=norm)
    assert report["attack"] == ["gase", "gase", "pgd", "pgd"]
    correct = np.all(model.predict(X) == Y, axis=1)
    for k, (name, value) in enumerate(zip(report["attack"], report["eps"], strict=True)):
        Attack = GASEAttack if name == "gase" else PGDAttack
        result = Attack(model, eps=value, norm=norm).attack(X, Y)
        predicted = model.predict(result.X_adv)
        wrong = (predicted != Y).sum(axis=1)
        assert report["mean_flipped"][k] == pytest.approx(wrong.mean())
        assert report["max_flipped"][k] == wrong.max()
        assert report["flipped_distribution"][k] == np.bincount(wrong, minlength=6).tolist()
        assert report["hamming_loss"][k] == pytest.approx(hamming_loss(Y, predicted))
        assert report["f1_micro"][k] == pytest.approx(f1_score(Y, predicted, average="micro"))
        assert report["f1_macro"][k] == pytest.approx(
            f1_score(Y, predicted, average="macro", zero_division=0))
        assert report["subset_accuracy"][k] == pytest.approx(np.mean(wrong == 0))
        assert report["success_rate"][k] == pytest.approx(np.mean(wrong[correct] > 0))
        assert_allclose(report["mean_norm"][k], result.norms.mean())
        assert report["max_norm"][k] <= value
    # More budget, more damage.
    assert report["mean_flipped"][1] >= report["mean_flipped"][0]


def test_head_and_tail_bands_follow_the_given_frequencies(problem):
    model, X, Y = problem
    frequency = np.array([5.0, 4.0, 3.0, 2.0, 1.0])  # labels 0-2 head, 3-4 tail
    report = attack_report(model, X, Y, eps=1.0, attacks=["gase"], label_frequency=frequency)
    predicted = model.predict(GASEAttack(model, eps=1.0).attack(X, Y).X_adv)
    flipped = predicted != Y
    assert report["flip_rate_head"][0] == pytest.approx(flipped[:, :3].mean())
    assert report["flip_rate_tail"][0] == pytest.approx(flipped[:, 3:].mean())


def test_bad_report_arguments_are_refused(problem):
    model, X, Y = problem
    with pytest.raises(ValueError, match="The 'attacks' parameter of attack_report"):
        attack_report(model, X, Y, eps=1.0, attacks=["fgsm"])
    with pytest.raises(ValueError, match="one value per label"):
        attack_report(model, X, Y, eps=1.0, label_frequency=[1, 2])
    with pytest.raises(ValueError, match="0 sample"):
        attack_report(model, X[:0], Y[:0], eps=1.0)
