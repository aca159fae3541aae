"""
===========================================================
The most robust model within a clean-F1 budget, in one call
===========================================================

Which robust-training method should you use: a weight penalty (``"l2"``, ``"nuclear"``),
the paper's ARM-SAE penalty, adversarial training, or a mix? The answer depends on the
data, so search them all. :func:`~skarm.model_selection.robust_search` builds a
:class:`~sklearn.model_selection.GridSearchCV` over penalties, their weights ``alpha`` and
the adversarial-training budget ``adversarial_eps`` of :class:`~skarm.ARMClassifier`,
scores every candidate on the validation folds by its clean micro-F1 and its micro-F1
under a GASE attack, and refits the candidate with the best F1 under attack among those
that cost at most ``tolerance`` clean F1 (:func:`~skarm.model_selection.robust_refit`).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data and budget
# ---------------
# The digit-attributes data, split into a training set (searched with 3-fold
# cross-validation) and a held-out test set, standardised with a scaler fitted on the
# training rows. The attack budget is 10% of the median norm of the standardised training
# rows (see :ref:`choosing_eps`).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skarm.datasets import load_digit_attributes
from skarm.display import TradeoffDisplay
from skarm.utils import median_row_norm
from skarm.metrics import make_adversarial_scorer
from skarm.model_selection import robust_search

digits = load_digit_attributes()
X_train, X_test, Y_train, Y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.digit
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
eps = 0.1 * median_row_norm(X_train)
print(f"attack budget eps = {eps:.3f}")

# %%
# The search
# ----------
# One call builds the search; it is an ordinary, unfitted ``GridSearchCV``. Its grid is a
# list of dicts: the unregularised model, each penalty at each ``alpha``, adversarial
# training at ``(0.25, 0.5, 1) * eps`` and each penalty at its middle ``alpha`` combined with
# adversarial training.
search = robust_search(eps, tolerance=0.02, random_state=0)
for grid in search.param_grid:
    print(grid)

# %%
# Fitting it fits and attacks every candidate on every fold, then refits the chosen one
# on the whole training set.
search.fit(X_train, Y_train)

# %%
# The candidates
# --------------
# Mean validation micro-F1, clean and under attack, of every candidate. The refit choice
# is the best F1 under attack among the candidates whose clean F1 is within the tolerance
# of the best one; ``best_score_`` is not defined with a callable ``refit``, so the scores
# are read from ``cv_results_``.
res = search.cv_results_
clean, attacked = res["mean_test_f1"], res["mean_test_adversarial_f1"]
best_clean = int(np.argmax(clean))
eligible = clean >= clean[best_clean] - 0.02


def describe(params):
    """A short name of a candidate: its penalty, alpha and training budget."""
    parts = [str(params["penalty"] or "none")]
    if params["penalty"] is not None:
        parts.append(f"alpha={params['alpha']:g}")
    if params["adversarial_eps"] > 0:
        parts.append(f"AT eps={params['adversarial_eps']:.2f}")
    return ", ".join(parts)


print(f"{'candidate':<32} | {'F1':>5} | {'F1 adv':>6} | note")
for i, params in enumerate(res["params"]):
    note = []
    if i == best_clean:
        note.append("best clean F1")
    if i == search.best_index_:
        note.append("robust refit")
    elif eligible[i]:
        note.append("within tolerance")
    print(f"{describe(params):<32} | {clean[i]:.3f} | {attacked[i]:6.3f} | {', '.join(note)}")

print(f"\nchosen: {describe(search.best_params_)}  (clean F1 {clean[search.best_index_]:.3f}, "
      f"F1 under attack {attacked[search.best_index_]:.3f}; the best clean F1 is "
      f"{clean[best_clean]:.3f})")

# %%
# The search only ranks the candidates it is given: when the choice lies at the edge of the
# grid (the largest ``alpha`` of a penalty, or the largest training budget), search again
# further out, for instance ``robust_search(eps, alphas=(0.1, 0.3, 1.0))``.
#
# Clean against adversarial F1
# ----------------------------
# Each point is a candidate, coloured by family (:class:`~skarm.display.TradeoffDisplay`);
# each family's Pareto front is joined by a line, its dominated candidates are faint. The
# candidates right of the dotted line are within the tolerance of the best clean F1; the
# refit one is the highest of them (circled).
full_names = {None: "no penalty", "l2": "L2", "nuclear": "nuclear norm", "sae": "ARM-SAE"}
families = [full_names[p["penalty"]] + (" + adv. training" if p["adversarial_eps"] > 0 else "")
            for p in res["params"]]
fig, ax = plt.subplots(figsize=(9.5, 4.8), layout="constrained")
ax.set_title("robust_search: every candidate, clean vs under attack")
TradeoffDisplay(
    clean=clean, adversarial=attacked, groups=families,
    clean_label="micro-F1 (mean over validation folds)",
    adversarial_label=f"micro-F1 under GASE, eps={eps:.2f}",
).plot(ax=ax, clean_threshold=clean[best_clean] - 0.02,
       threshold_label="best clean F1 - tolerance 0.02",
       legend_kwargs={"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)})
ax.scatter(clean[search.best_index_], attacked[search.best_index_], s=250,
           facecolors="none", edgecolors="k", linewidths=2, label="robust refit", zorder=6)
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)

# %%
# On held-out data
# ----------------
# The refitted model against the best-clean-F1 candidate, both refitted on the whole
# training set, on the test set. The search's robustness scorer works on any fitted model.
f1_under_attack = make_adversarial_scorer("f1_micro", eps=eps)
best_clean_model = clone(search.estimator).set_params(**res["params"][best_clean])
best_clean_model.fit(X_train, Y_train)
for name, model in [("best clean F1", best_clean_model), ("robust refit", search.best_estimator_)]:
    print(f"{name:>13}: clean F1 {f1_score(Y_test, model.predict(X_test), average='micro'):.3f}, "
          f"F1 under attack {f1_under_attack(model, X_test, Y_test):.3f}")

# %%
# ``robust_search`` takes a Pipeline ending in an :class:`~skarm.ARMClassifier` too (the
# parameter names then get the step prefix, ``"armclassifier__alpha"``); give
# ``adversarial_eps`` explicitly then, in the units the classifier sees. A different
# ``tolerance`` re-ranks the same ``cv_results_`` with
# :func:`~skarm.model_selection.robust_refit`, without refitting anything.
plt.show()
