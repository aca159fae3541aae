"""
==========================================
The clean vs robust trade-off of ``alpha``
==========================================

The penalty weight ``alpha`` (the paper's lambda) decides how much clean accuracy a
robust model gives up. This example sweeps ``alpha`` for three penalties of
:class:`~skarm.ARMClassifier`: ARM-SAE (:class:`~skarm.ARMSAEClassifier`, the soft
attackability of the training instances), ARM-Primal (:class:`~skarm.ARMPrimalClassifier`,
the alignment of the label weight vectors) and the plain ``"l2"`` weight penalty as a
baseline. For each model it measures the clean micro-F1, the micro-F1 under a GASE attack,
the attackability C_a and the soft attackability (SAE), and draws the clean-vs-adversarial
front.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data and budget
# ---------------
# The digit-attributes data, standardised with a scaler fitted on the training rows. The
# attack budget is a fraction of the median L2 norm of the standardised training rows:
# ``eps = 0.1 * median_norm`` perturbs a typical instance by a tenth of its length (see
# :ref:`choosing_eps`).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skarm import ARMClassifier, ARMPrimalClassifier, ARMSAEClassifier
from skarm.datasets import load_digit_attributes
from skarm.metrics import (
    alignment_score,
    attackability_score,
    make_adversarial_scorer,
    soft_attackability,
)

digits = load_digit_attributes()
X_train, X_test, Y_train, Y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.digit
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

median_norm = float(np.median(np.linalg.norm(X_train, axis=1)))
eps = 0.1 * median_norm
f1_under_attack = make_adversarial_scorer("f1_micro", eps=eps)
print(f"median row norm {median_norm:.2f}, eps = {eps:.3f}")

# %%
# The sweep
# ---------
# ``alpha=0`` is the same model for every penalty, the unregularised linear SVM, so it is
# fitted once. Beyond ``alpha=1`` the penalties dominate the hinge loss on this data and
# the clean micro-F1 collapses (towards a model that predicts no label at all), so the
# grid stops there.
alphas = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
families = {
    "ARM-SAE": lambda alpha: ARMSAEClassifier(alpha=alpha, random_state=0),
    "ARM-Primal": lambda alpha: ARMPrimalClassifier(alpha=alpha, random_state=0),
    "L2": lambda alpha: ARMClassifier(penalty="l2", alpha=alpha, random_state=0),
}


def evaluate(model):
    """Clean and attacked micro-F1, C_a, mean and median SAE, alignment of a fitted model."""
    sae = soft_attackability(model, X_test)
    return {
        "clean": f1_score(Y_test, model.predict(X_test), average="micro"),
        "attacked": f1_under_attack(model, X_test, Y_test),
        "C_a": attackability_score(model, X_test, Y_test, eps=eps),
        "mean_sae": sae.mean(),
        "median_sae": np.median(sae),
        "alignment": alignment_score(model),
    }


baseline = evaluate(ARMClassifier(penalty=None, random_state=0).fit(X_train, Y_train))
results = {
    name: [evaluate(make(alpha).fit(X_train, Y_train)) for alpha in alphas]
    for name, make in families.items()
}

columns = ["clean", "attacked", "C_a", "mean_sae", "median_sae", "alignment"]
header = f"{'model':>10} {'alpha':>6} " + " ".join(f"{c:>10}" for c in columns)
print(header)
print(f"{'none':>10} {0:>6g} " + " ".join(f"{baseline[c]:10.3f}" for c in columns))
for name, rows in results.items():
    for alpha, row in zip(alphas, rows, strict=True):
        print(f"{name:>10} {alpha:>6g} " + " ".join(f"{row[c]:10.3f}" for c in columns))

# %%
# The front: clean vs adversarial micro-F1
# ----------------------------------------
# Each curve is one penalty, from ``alpha=0.001`` (right, near the unregularised model,
# the black star) to ``alpha=1`` (the end of the curve). Up and to the right is better.
# Raising ``alpha`` first buys a large gain under attack for almost no clean F1; the
# largest values then give up clean F1 quickly.
colors = {"ARM-SAE": "tab:red", "ARM-Primal": "tab:green", "L2": "tab:blue"}
fig, ax = plt.subplots(figsize=(6.5, 4.5))
ax.plot(baseline["clean"], baseline["attacked"], "k*", markersize=14, label="no penalty")
for name, rows in results.items():
    clean = [r["clean"] for r in rows]
    attacked = [r["attacked"] for r in rows]
    ax.plot(clean, attacked, marker="o", color=colors[name], label=name)
    for alpha, x, y in zip(alphas, clean, attacked, strict=True):
        if alpha in (0.01, 0.1, 1.0):
            ax.annotate(f"{alpha:g}", (x, y), textcoords="offset points", xytext=(4, 4),
                        fontsize=8, color=colors[name])
ax.set_xlabel("clean micro-F1")
ax.set_ylabel(f"micro-F1 under GASE (eps = {eps / median_norm:g} x median norm)")
ax.set_title("Clean vs adversarial micro-F1 as alpha grows")
ax.legend()
fig.tight_layout()

# %%
# Attackability and soft attackability against ``alpha``
# -------------------------------------------------------
# C_a (the mean number of labels GASE flips at ``eps``) and the SAE fall as ``alpha``
# grows, until the models degrade. The median SAE falls steadily; the mean SAE is noisy,
# because a few test instances lying almost on a boundary (``h_j(x)`` close to 0) have
# huge SAE values and dominate the mean. The alignment ``phi_align`` of the label
# boundaries shows how each penalty gets there: ARM-SAE and ARM-Primal make the label
# weight vectors less aligned, so one perturbation moves fewer labels at once, whereas the
# L2 penalty shrinks all weights, which widens the margins but makes the boundaries *more*
# aligned.
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharex=True)
panels = [("C_a", f"C_a (labels flipped, eps = {eps / median_norm:g} x median norm)"),
          ("median_sae", "SAE: median (solid), mean (dotted)"),
          ("alignment", "alignment phi_align")]
for ax, (key, label) in zip(axes, panels, strict=True):
    ax.axhline(baseline[key], color="k", linestyle="--", linewidth=1, label="no penalty")
    for name, rows in results.items():
        ax.plot(alphas, [r[key] for r in rows], marker="o", color=colors[name], label=name)
        if key == "median_sae":
            ax.plot(alphas, [r["mean_sae"] for r in rows], linestyle=":", color=colors[name])
    ax.set_xscale("log")
    ax.set_xlabel("alpha")
    ax.set_title(label, fontsize=10)
axes[1].set_yscale("log")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %%
# Reading the results
# -------------------
# * Every penalty moves the model up the front: at a matched clean micro-F1 (within about
#   0.01 of the unregularised model) each of them raises the micro-F1 under attack by
#   several points, and lowers C_a and the median SAE.
# * On this small, dense, low-dimensional data set the three fronts are close, and the L2
#   baseline is as good as ARM-SAE and ARM-Primal: which penalty is best depends on the
#   data, so compare them on yours. The paper's claims are checked data set by data set
#   in skarm's reproduction (``skarm reproduce``).
# * Choosing ``alpha`` on validation data with a tolerance on the clean score is what
#   :func:`~skarm.model_selection.robust_refit` automates, see
#   :ref:`sphx_glr_auto_examples_plot_grid_search_robust_refit.py`.
plt.show()
