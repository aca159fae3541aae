"""One table of what attacks do to a model: per attack and budget, every usual metric."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.metrics import f1_score

from .._decision import as_decision
from ..attacks import ATTACKS
from ..utils._validation import check_label_indicator

__all__ = ["attack_report"]


def attack_report(
    estimator, X, y, *, eps, attacks=("gase", "pgd"), norm="l2", clip=None,
    attack_params=None, label_frequency=None, n_jobs=None,
):
    """Attack a fitted model with several attacks and budgets, and tabulate the damage.

    One row per (attack, budget), flips counted against the true labels ``y``. The result
    is a dict of equal-length lists, like ``cv_results_``: ``pandas.DataFrame(report)``
    shows it as a table.

    Parameters
    ----------
    estimator : estimator instance
        A fitted multi-label model that skarm's attacks accept.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Instances to attack.
    y : array-like of shape (n_samples, n_labels)
        Their true {0, 1} labels.
    eps : float or sequence of float
        Budgets, in the units of X and the norm ``norm``.
    attacks : sequence of str, default=("gase", "pgd")
        Names in :data:`skarm.attacks.ATTACKS`.
    norm : {"l2", "linf"}, default="l2"
        The budget's norm.
    clip : tuple (low, high) or None, default=None
        The valid input range.
    attack_params : dict or None, default=None
        Attack name -> further parameters of that attack.
    label_frequency : array-like of shape (n_labels,), default=None
        Frequency of each label (say in the training labels) that splits them into bands:
        "head" labels are those at or above the median frequency, "tail" the others.
        None: the frequencies in ``y``.
    n_jobs : int, default=None
        Threads over instances, for every attack.

    Returns
    -------
    report : dict of lists
        Per row:

        - ``attack``, ``eps``, ``norm``;
        - ``mean_flipped``, ``median_flipped`` and ``max_flipped``: labels whose prediction
          at the attacked point differs from ``y``, checked on the model (the labels it
          already gets wrong count, as in the attackability ``C_a``);
        - ``flipped_distribution``: how many instances have 0, 1, ..., n_labels such
          labels;
        - ``hamming_loss``, ``f1_micro``, ``f1_macro`` and ``subset_accuracy`` of the
          predictions at the attacked points;
        - ``success_rate``: among the instances the model gets exactly right, the share
          the attack makes wrong on at least one label (NaN when there is none);
        - ``flip_rate_head`` and ``flip_rate_tail``: the share of head and of tail labels
          flipped (see ``label_frequency``);
        - ``mean_norm`` and ``max_norm``: perturbation norms, in ``norm``.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from skarm import ARMClassifier
    >>> from skarm.metrics import attack_report
    >>> X, Y = make_multilabel_classification(n_samples=60, n_classes=4, random_state=0)
    >>> model = ARMClassifier(penalty=None).fit(X, Y)
    >>> report = attack_report(model, X, Y, eps=[0.5, 2.0])
    >>> report["attack"], len(report["f1_micro"])
    (['gase', 'gase', 'pgd', 'pgd'], 4)
    """
    eps_values = [eps] if isinstance(eps, Real) else list(eps)
    unknown = [name for name in attacks if name not in ATTACKS]
    if unknown or not len(attacks):
        raise ValueError(
            f"The 'attacks' parameter of attack_report must be a non-empty sequence of "
            f"names among {sorted(ATTACKS)}. Got {attacks!r} instead."
        )
    decision = as_decision(estimator, owner="attack_report")
    Xc = decision.check_X(X)
    n_labels = decision.decision_function(Xc[:1]).shape[1]
    Y = check_label_indicator(y, Xc.shape[0], n_labels).astype(bool)
    frequency = Y.mean(axis=0) if label_frequency is None else np.asarray(
        label_frequency, dtype=float)
    if frequency.shape != (n_labels,):
        raise ValueError(
            f"label_frequency must have one value per label ({n_labels}); got shape "
            f"{frequency.shape}."
        )
    head = frequency >= np.median(frequency)
    correct = np.all((decision.decision_function(Xc) > 0) == Y, axis=1)
    params = attack_params or {}
    report = {key: [] for key in (
        "attack", "eps", "norm", "mean_flipped", "median_flipped", "max_flipped",
        "flipped_distribution", "hamming_loss", "f1_micro", "f1_macro", "subset_accuracy",
        "success_rate", "flip_rate_head", "flip_rate_tail", "mean_norm", "max_norm",
    )}
    for name in attacks:
        for value in eps_values:
            attack = ATTACKS[name](estimator, eps=value, norm=norm, clip=clip,
                                   n_jobs=n_jobs, **params.get(name, {}))
            result = attack.attack(X, Y.astype(int), return_X_adv=False)
            flipped = result.flipped
            # Against the labels, a flipped label is one the model predicts wrongly there.
            predicted = Y ^ flipped
            n_flipped = result.n_flipped
            row = {
                "attack": name, "eps": float(value), "norm": norm,
                "mean_flipped": float(n_flipped.mean()),
                "median_flipped": float(np.median(n_flipped)),
                "max_flipped": int(n_flipped.max()),
                "flipped_distribution": np.bincount(n_flipped, minlength=n_labels + 1).tolist(),
                "hamming_loss": float(flipped.mean()),
                "f1_micro": float(f1_score(Y, predicted, average="micro", zero_division=0)),
                "f1_macro": float(f1_score(Y, predicted, average="macro", zero_division=0)),
                "subset_accuracy": float(np.mean(n_flipped == 0)),
                "success_rate": float(np.mean(n_flipped[correct] > 0)) if correct.any()
                else float("nan"),
                "flip_rate_head": float(flipped[:, head].mean()) if head.any()
                else float("nan"),
                "flip_rate_tail": float(flipped[:, ~head].mean()) if (~head).any()
                else float("nan"),
                "mean_norm": float(result.norms.mean()),
                "max_norm": float(result.norms.max()),
            }
            for key, cell in row.items():
                report[key].append(cell)
    return report
