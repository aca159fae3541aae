"""
============================================
Text models: attacks in the TF-IDF space
============================================

Multi-label text classifiers (document topics, app or malware labels) start with a
vectoriser. An attacker who edits a document changes words, and no gradient passes through
:class:`~sklearn.feature_extraction.text.TfidfVectorizer`, so skarm, like the paper on its
Creepware data, measures and attacks such models in the feature space the vectoriser
produces. It never does so silently: :func:`skarm.feature_space` is the explicit way to
split the Pipeline there (see :ref:`feature-space`).

This example trains a TF-IDF pipeline on a small topic corpus, shows the error a text
pipeline gets, then measures the SAE, GASE's attackability and micro-F1 under attack in
TF-IDF space, for the plain model and for adversarial training.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A small topic corpus
# --------------------
# Each document mixes a few words of each of its topics (one to three of five) with common
# words and two words of a random topic. Topics co-occur ("markets" with "technology",
# "health" with "sports"), as tags do.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skarm import ARMClassifier, feature_space
from skarm.display import AttackabilityCurveDisplay
from skarm.metrics import soft_attackability

TOPICS = {
    "markets": "stock shares investor bank rate inflation bond profit trading fund",
    "technology": "software chip cloud startup device data network app code robot",
    "health": "patient doctor vaccine hospital disease therapy clinical drug virus diet",
    "sports": "match team league coach goal season player score final training",
    "travel": "flight hotel beach tourist airport museum island tour visa trip",
}
COMMON = "the a of and in to new said year people week report city local".split()
PAIRS = {"markets": "technology", "health": "sports"}

rng = np.random.default_rng(0)
names = list(TOPICS)
docs, labels = [], []
for _ in range(1200):
    first = str(rng.choice(names))
    topics = [first]
    if rng.random() < 0.5 and first in PAIRS:
        topics.append(PAIRS[first])
    if rng.random() < 0.2:
        topics.append(str(rng.choice(names)))
    topics = sorted(set(topics))
    words = list(rng.choice(COMMON, 10))
    for topic in topics:
        words += list(rng.choice(TOPICS[topic].split(), 3))
    # A few words of an unrelated topic: documents are noisy.
    words += list(rng.choice(TOPICS[rng.choice(names)].split(), 2))
    rng.shuffle(words)
    docs.append(" ".join(words))
    labels.append([int(t in topics) for t in names])
Y = np.array(labels)
docs_train, docs_test, Y_train, Y_test = train_test_split(docs, Y, test_size=0.3, random_state=0)
print(docs_train[0], "->", [t for t, y in zip(names, Y_train[0], strict=True) if y])

# %%
# A text pipeline, and what skarm says about it
# ---------------------------------------------
# The metrics and the attacks differentiate a Pipeline through its affine steps. A
# vectoriser is not one, and the error says what to do instead.
pipeline = make_pipeline(TfidfVectorizer(), ARMClassifier(random_state=0)).fit(docs_train, Y_train)
try:
    soft_attackability(pipeline, docs_test)
except TypeError as error:
    print(str(error)[:300], "...")

# %%
# The feature space
# -----------------
# :func:`~skarm.feature_space` returns the rest of the Pipeline (here the classifier) and
# the documents as TF-IDF rows, still sparse. With ``norm="l2"`` (the vectoriser's
# default) every row has norm 1, so a budget ``eps`` is a fraction of a document's length
# in that space.
model, X_test = feature_space(pipeline, docs_test)
X_train = pipeline[0].transform(docs_train)
print(type(model).__name__, X_test.shape, f"{X_test.nnz} non-zeros")
sae = soft_attackability(model, X_test)
print(f"SAE: median {np.median(sae):.2f}, mean {sae.mean():.2f}")

# %%
# Robust training in the same space
# ---------------------------------
# Per-label adversarial training (:ref:`adversarial-training`) fits the hinge of
# ``y_j h_j(x) - eps ||w_j||``, the worst case of each label over the ball of radius
# ``adversarial_eps``. It is fitted here on the TF-IDF rows directly (the model that comes
# out of ``feature_space`` is fitted the same way). The training budget is half the attack
# budget of interest (0.1): on this corpus a training budget of 0.1 itself leaves two of
# the five labels constant (clean micro-F1 0.62), because the budget is as large as their
# margins. :func:`~skarm.model_selection.robust_search` chooses it on validation folds.
models = {
    "ARM, no penalty": model,
    "ARM, adversarial training (0.05)": ARMClassifier(
        adversarial_eps=0.05, random_state=0
    ).fit(X_train, Y_train),
}
# :class:`~skarm.display.AttackabilityCurveDisplay` attacks both models at every budget
# (on the sparse TF-IDF rows) and draws the micro-F1 under attack (budget 0 is the clean
# score) and C_a.
budgets = [0.05, 0.1, 0.2, 0.3, 0.5]
fig, (ax_f1, ax_ca) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
xlabel = "eps (fraction of a unit TF-IDF row)"
f1_curves = AttackabilityCurveDisplay.from_estimator(
    models, X_test, Y_test, eps=[0.0, *budgets], metric="f1_micro", ax=ax_f1, xlabel=xlabel
)
AttackabilityCurveDisplay.from_estimator(models, X_test, Y_test, eps=budgets, ax=ax_ca,
                                         xlabel=xlabel)
ax_f1.set_title("F1 under attack")
ax_ca.set_title("Attackability C_a")
for name, (clean, *attacked) in zip(models, f1_curves.values, strict=True):
    at_01 = attacked[budgets.index(0.1)]
    print(f"{name:>32}: clean micro-F1 {clean:.3f}, under GASE at eps 0.1 {at_01:.3f}")
plt.show()

# %%
# What the attack changes
# -----------------------
# For one test document, GASE's perturbation is a change of TF-IDF weights; the largest
# entries say which words the attacker would add (positive) or weaken (negative).
from skarm import GASEAttack  # noqa: E402

result = GASEAttack(model, eps=0.2).attack(X_test[:1], Y_test[:1])
delta = result.X_adv[0] - X_test[:1].toarray()[0]
vocabulary = pipeline[0].get_feature_names_out()
order = np.argsort(-np.abs(delta))[:6]
print("document:", docs_test[0])
print("flipped labels:", [t for t, f in zip(names, result.flipped[0], strict=True) if f])
print("largest changes:", ", ".join(f"{vocabulary[k]} {delta[k]:+.3f}" for k in order))
