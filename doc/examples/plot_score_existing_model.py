"""
===================================================
Measure how attackable an existing model is (SAE)
===================================================

You do not need to retrain anything to know how exposed a multi-label model is to
adversarial perturbations. This example fits the usual scikit-learn baseline,
``OneVsRestClassifier(LinearSVC())``, on the digit-attributes data, and scores it with
skarm's budget-free metrics: the per-instance Soft Attackability Estimator
(:func:`~skarm.metrics.soft_attackability`) and the alignment of the label boundaries
(:func:`~skarm.metrics.alignment_score`). It then checks the SAE against a real attack,
:class:`~skarm.GASEAttack`, which counts how many labels of each instance it can flip within
a small L2 budget.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The data and the model
# ----------------------
# :func:`~skarm.datasets.load_digit_attributes` gives the 8x8 digit images shipped with
# scikit-learn, each labelled with 8 attributes of its digit (even, prime, has a closed
# loop, ...). The labels are correlated by construction, which is exactly when one small
# perturbation can flip several of them at once.
#
# The pixels are standardised once, outside the model, so that the attacks below act on
# the standardised inputs and their budget reads in those units. (A
# ``make_pipeline(StandardScaler(), model)`` is also accepted by every metric and attack
# of skarm, but then the attacker perturbs raw pixels, and a budget means something else.)
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skarm import GASEAttack
from skarm.datasets import load_digit_attributes
from skarm.display import SAEDisplay
from skarm.metrics import alignment_score, soft_attackability

digits = load_digit_attributes()
X_train, X_test, Y_train, Y_test, digit_train, digit_test = train_test_split(
    digits.data, digits.target, digits.digit, test_size=0.3, random_state=0,
    stratify=digits.digit,
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

model = OneVsRestClassifier(LinearSVC(random_state=0)).fit(X_train, Y_train)
print(f"labels: {digits.target_names}")
clean_f1 = f1_score(Y_test, model.predict(X_test), average="micro")
print(f"clean micro-F1 on the test set: {clean_f1:.3f}")

# %%
# Soft attackability of each test instance
# ----------------------------------------
# The SAE of an instance x is the largest norm of ``sum_j grad h_j(x) / h_j(x)`` over label
# sets: how far one unit step can push many labels towards their boundaries at once. It
# needs no attack budget and no labels (by default it measures flips of the model's own
# prediction). Larger means more attackable.
#
# Because ``1 / |h_j(x)|`` explodes for an instance close to a boundary, the distribution
# is heavy-tailed: the mean is dominated by a few near-boundary instances, so look at the
# median and the quantiles too.
sae = soft_attackability(model, X_test)
print(f"SAE: mean {sae.mean():.1f}, median {np.median(sae):.1f}, "
      f"90th percentile {np.percentile(sae, 90):.1f}, max {sae.max():.0f}")

# :class:`~skarm.display.SAEDisplay` draws the histogram (on a log scale, as the values span
# several decades) with the mean and the median marked.
fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
ax.set_title("SAE of OneVsRest(LinearSVC) on the digit attributes (test set)")
SAEDisplay.from_values(sae, bins=40, ax=ax)

# %%
# Alignment of the label boundaries
# ---------------------------------
# :func:`~skarm.metrics.alignment_score` is a property of the model alone: the mean
# absolute cosine between the label weight vectors ``w_j``. It lies in ``[1/m, 1]``
# (``1/8`` here for mutually orthogonal boundaries, 1 for parallel ones). Aligned
# boundaries are what lets one perturbation move many labels together.
n_labels = Y_train.shape[1]
print(f"alignment phi_align = {alignment_score(model):.3f} (range [{1 / n_labels:.3f}, 1])")

# %%
# Does a high SAE mean more labels flip?
# --------------------------------------
# GASE (:class:`~skarm.GASEAttack`) searches, for each instance, a perturbation of L2 norm
# at most ``eps`` that flips as many labels as possible, and reports the flips it has
# checked on the model. We choose the budget relative to the size of the inputs: 5% of the
# median L2 norm of the standardised training rows (see :ref:`choosing_eps`).
# ``attack(X)`` without labels attacks the model's own predictions, the same reference as
# the SAE.
median_norm = np.median(np.linalg.norm(X_train, axis=1))
eps = 0.05 * median_norm
result = GASEAttack(model, eps=eps).attack(X_test)
print(f"median row norm {median_norm:.2f}, eps = {eps:.3f}")
print(f"labels flipped per instance: mean {result.n_flipped.mean():.2f}, "
      f"counts {np.bincount(result.n_flipped, minlength=Y_train.shape[1] + 1).tolist()}")

rho = spearmanr(sae, result.n_flipped).statistic
print(f"Spearman correlation between SAE and the number of labels flipped: {rho:.2f}")

# %%
# The SAE ranks the instances almost as the attack does, without running it. Splitting the
# test set into five equal groups by SAE shows the number of labels GASE flips growing
# steadily from the least to the most attackable group.
quintile = np.digitize(sae, np.quantile(sae, [0.2, 0.4, 0.6, 0.8]))
mean_flips = [result.n_flipped[quintile == q].mean() for q in range(5)]

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
axes[0].bar(range(1, 6), mean_flips, color="tab:orange")
axes[0].set_xlabel("SAE quintile (1 = least attackable)")
axes[0].set_ylabel("mean labels flipped by GASE\n(eps = 5% of median norm)")
axes[0].set_title("Higher SAE, more labels flipped")
rng = np.random.RandomState(0)
jitter = rng.uniform(-0.2, 0.2, size=result.n_flipped.shape)
axes[1].scatter(sae, result.n_flipped + jitter, s=8, alpha=0.5)
axes[1].set_xscale("log")
axes[1].set_xlabel("soft attackability (SAE, log scale)")
axes[1].set_ylabel("labels flipped (jittered)")
axes[1].set_title(f"Spearman rho = {rho:.2f}")
fig.tight_layout()

# %%
# The most attacked test images
# -----------------------------
# Below, the four test images on which GASE flips the most labels (top row), the
# perturbation it found (middle row, in pixel units, mapped back through the scaler) and
# the attacked image (bottom row). A change that is hard to see flips several attributes
# at once. Their SAE ranks near the top of the test set: the SAE had flagged them without
# running any attack.
order = np.lexsort((-sae, -result.n_flipped))[:4]  # most labels flipped, then highest SAE
sae_rank = 100.0 * (sae[:, None] < sae[order]).mean(axis=0)  # % of the test set below
images = scaler.inverse_transform(X_test[order]).reshape(-1, 8, 8)
images_adv = scaler.inverse_transform(result.X_adv[order]).reshape(-1, 8, 8)
delta = images_adv - images
limit = np.abs(delta).max()
fig, axes = plt.subplots(3, 4, figsize=(9, 7.5), layout="constrained")
for col, i in enumerate(order):
    flipped = [digits.target_names[j] for j in np.flatnonzero(result.flipped[i])]
    axes[0, col].imshow(images[col], cmap="gray_r", vmin=0, vmax=16)
    axes[0, col].set_title(f"digit {digit_test[i]}, SAE {sae[i]:.0f}\n"
                           f"(top {100 - sae_rank[col]:.0f}% of the test set)", fontsize=9)
    axes[1, col].imshow(delta[col], cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[2, col].imshow(images_adv[col], cmap="gray_r", vmin=0, vmax=16)
    axes[2, col].set_xlabel(f"{result.n_flipped[i]} flipped:\n" + "\n".join(flipped),
                            fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
for row, name in enumerate(["original", "perturbation", "attacked"]):
    axes[row, 0].set_ylabel(name)
for row, label in [(0, "pixel intensity"), (1, "pixel change"), (2, "pixel intensity")]:
    fig.colorbar(axes[row, 0].images[0], ax=axes[row, :], shrink=0.9, label=label)

# %%
# Takeaways
# ---------
# * :func:`~skarm.metrics.soft_attackability` scores any fitted linear multi-label model
#   (OneVsRest, MultiOutput, RidgeClassifier, Pipelines of affine steps, skarm's own) and
#   skarm's torch models per instance, without a budget and without labels;
# * its ranking agrees closely with the number of labels a real attack flips;
# * to lower it, train with the SAE penalty: see :ref:`sphx_glr_auto_examples_plot_tradeoff.py`.
plt.show()
