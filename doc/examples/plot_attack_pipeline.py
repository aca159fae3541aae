"""
==========================================
Attacks in a Pipeline and F1 under attack
==========================================

skarm's attacks are scikit-learn transformers: :class:`~skarm.GASEAttack` (and
:class:`~skarm.PGDAttack`) wrap a fitted model and return perturbed inputs, so an attack can
sit in a :class:`~sklearn.pipeline.Pipeline` in front of the model it attacks. This example
builds such a pipeline, then measures robustness over a range of budgets with
:func:`~skarm.metrics.make_adversarial_scorer` (micro-F1 under attack) and
:func:`~skarm.metrics.attackability_score` (the mean number of labels flipped, C_a), for a
plain ``OneVsRestClassifier(LinearSVC())`` and an :class:`~skarm.ARMSAEClassifier`.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Two models
# ----------
# Both are linear multi-label models trained on the standardised digit-attributes data:
# the usual one-vs-rest linear SVM, and ARM-SAE, the same hinge loss plus the soft
# attackability penalty with weight ``alpha=1``.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skarm import ARMSAEClassifier, GASEAttack, PGDAttack
from skarm.datasets import load_digit_attributes
from skarm.display import AttackabilityCurveDisplay
from skarm.metrics import attackability_score, make_adversarial_scorer

digits = load_digit_attributes()
X_train, X_test, Y_train, Y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.digit
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

models = {
    "OvR LinearSVC": OneVsRestClassifier(LinearSVC(random_state=0)).fit(X_train, Y_train),
    "ARM-SAE (alpha=1)": ARMSAEClassifier(alpha=1.0, random_state=0).fit(X_train, Y_train),
}
for name, model in models.items():
    clean_f1 = f1_score(Y_test, model.predict(X_test), average="micro")
    print(f"{name:>18}: clean micro-F1 {clean_f1:.3f}")

# %%
# The budget
# ----------
# Attacks perturb each instance within an L2 ball of radius ``eps``. A budget only means
# something relative to the size of the inputs, so we express it as a fraction of the
# median L2 norm of the standardised training rows: ``eps = 0.1 * median_norm`` changes a
# typical image by a tenth of its length (see :ref:`choosing_eps`).
median_norm = float(np.median(np.linalg.norm(X_train, axis=1)))
eps = 0.1 * median_norm
print(f"median row norm {median_norm:.2f}, eps = {eps:.3f}")

# %%
# An attack as a Pipeline step
# ----------------------------
# The attack wraps the fitted model and is placed before it; the model is wrapped in
# :class:`~sklearn.frozen.FrozenEstimator` so that fitting the pipeline does not retrain it.
# ``fit`` runs the attack's ``fit_transform(X, y)``, which attacks the *true labels* of the
# training rows (useful to build adversarial training data; the frozen model ignores it).
# ``predict`` runs ``transform(X)``, where no labels are available, so it attacks the
# *model's own predictions*: the pipeline predicts what the model would say on inputs an
# attacker has perturbed (see :ref:`attacks_transformer`).
plain = models["OvR LinearSVC"]
attacked = Pipeline([("attack", GASEAttack(plain, eps=eps)), ("model", FrozenEstimator(plain))])
attacked.fit(X_train, Y_train)
f1_clean = f1_score(Y_test, plain.predict(X_test), average="micro")
f1_attacked = f1_score(Y_test, attacked.predict(X_test), average="micro")
print(f"micro-F1 on clean inputs:         {f1_clean:.3f}")
print(f"micro-F1 through the attack step: {f1_attacked:.3f}")

# %%
# The two references differ only on labels the model already gets wrong. Attacking the
# true labels (``fit_transform(X, y)``, which is also what
# :func:`~skarm.metrics.make_adversarial_scorer` does) counts those errors as flipped
# already and spends the budget on the others; attacking the predictions tries to flip
# every label, including wrong ones, which can even correct them.
attack = GASEAttack(plain, eps=eps)
X_adv_labels = attack.fit_transform(X_test, Y_test)
X_adv_preds = attack.transform(X_test)
for reference, X_adv in [("the true labels", X_adv_labels), ("the predictions", X_adv_preds)]:
    f1 = f1_score(Y_test, plain.predict(X_adv), average="micro")
    print(f"micro-F1, attacking {reference}: {f1:.3f}")
print(f"largest perturbation norm: {np.linalg.norm(X_adv_labels - X_test, axis=1).max():.3f}"
      f" <= eps = {eps:.3f}")

# %%
# F1 under attack and attackability over a range of budgets
# ---------------------------------------------------------
# :func:`~skarm.metrics.make_adversarial_scorer` builds a scorer ``(estimator, X, y)`` that
# attacks whichever estimator it is given before scoring it, so it also works in
# ``cross_validate`` and ``GridSearchCV``. :func:`~skarm.metrics.attackability_score` is
# C_a, the mean number of labels GASE flips (labels already wrong count from the start).
# For comparison, :class:`~skarm.PGDAttack` (L2 projected gradient descent, 100 steps)
# counts the flips of a generic gradient attack at the same budgets.
fractions = np.array([0.025, 0.05, 0.1, 0.15, 0.2, 0.3])
curves = {}
for name, model in models.items():
    clean = f1_score(Y_test, model.predict(X_test), average="micro")
    f1_adv, gase_flips, pgd_flips = [clean], [], []
    for fraction in fractions:
        budget = fraction * median_norm
        f1_adv.append(make_adversarial_scorer("f1_micro", eps=budget)(model, X_test, Y_test))
        gase_flips.append(attackability_score(model, X_test, Y_test, eps=budget))
        pgd = PGDAttack(model, eps=budget).attack(X_test, Y_test)
        pgd_flips.append(pgd.n_flipped.mean())
    curves[name] = (f1_adv, gase_flips, pgd_flips)

print("eps / median norm:  " + "  ".join(f"{f:5.3f}" for f in fractions))
for name, (f1_adv, gase_flips, pgd_flips) in curves.items():
    print(f"{name}")
    print("  F1 under GASE:    " + "  ".join(f"{v:5.3f}" for v in f1_adv[1:]))
    print("  C_a (GASE flips): " + "  ".join(f"{v:5.2f}" for v in gase_flips))
    print("  PGD flips:        " + "  ".join(f"{v:5.2f}" for v in pgd_flips))

# %%
# On the left, micro-F1 against the budget (the leftmost point is the clean score): the
# ARM-SAE model starts slightly lower but keeps more of its F1 as the budget grows. On the
# right, the number of labels flipped per instance: GASE, which searches label sets
# greedily and solves for the smallest perturbation that flips each set, flips more labels
# than PGD at every budget, so it is the stricter test of robustness.
# :class:`~skarm.display.AttackabilityCurveDisplay` draws such curves; ``from_values``
# takes the values computed above (``from_estimator`` would run the attacks itself), and
# ``eps_scale`` says the budgets are fractions of the median norm.
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
AttackabilityCurveDisplay.from_values(
    np.r_[0.0, fractions], {name: f1_adv for name, (f1_adv, _, _) in curves.items()},
    metric="f1_micro", eps_scale=median_norm, ax=axes[0],
    xlabel="eps / median L2 norm of the standardised inputs",
)
axes[0].set_title("F1 under attack (eps = 0: clean F1)")
for k, (name, (_, gase_flips, pgd_flips)) in enumerate(curves.items()):
    for attack, flips, style in [("gase", gase_flips, "-"), ("pgd", pgd_flips, "--")]:
        AttackabilityCurveDisplay.from_values(
            fractions, flips, names=f"{name}, {attack.upper()}", attack=attack,
            ax=axes[1], xlabel="eps / median L2 norm of the standardised inputs",
            ylabel="mean labels flipped per instance (C_a for GASE)",
            line_kwargs={"color": f"C{k}", "linestyle": style},
        )
axes[1].set_title(f"GASE vs PGD ({Y_train.shape[1]} labels)")
plt.show()
