"""
=====================================================
Robust training of a neural network (torch backend)
=====================================================

``backend="torch"`` trains any :class:`torch.nn.Module` with the same penalties as the
linear models, through skorch. For the soft attackability penalty the network's input
gradients are differentiated (double backpropagation), so the penalty acts on the whole
network, not only on its last layer. The metrics and attacks of skarm work on the fitted
network as they do on linear models, through its input gradients.

This example trains a small multi-layer perceptron on the digit attributes on the CPU,
without a penalty and with the ARM-SAE penalty, and compares their soft attackability and
their micro-F1 under a GASE attack. It needs the ``deep`` extra
(``pip install "skarm[deep]"``: PyTorch and skorch).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data and budget
# ---------------
# As in the other examples: the digit-attributes data, standardised on the training rows,
# and attack budgets expressed as fractions of the median L2 norm of the standardised
# training rows.
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skarm import ARMClassifier, ARMSAEClassifier, GASEAttack
from skarm.datasets import load_digit_attributes
from skarm.display import AttackabilityCurveDisplay, SAEDisplay
from skarm.metrics import alignment_score, soft_attackability

digits = load_digit_attributes()
X_train, X_test, Y_train, Y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.digit
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
median_norm = float(np.median(np.linalg.norm(X_train, axis=1)))

# The network is tiny, so a single CPU thread is the fastest; it also keeps torch's
# threads from competing with numpy's on a machine with few cores.
n_threads = torch.get_num_threads()
torch.set_num_threads(1)

# %%
# Two networks
# ------------
# Both use the default ``module``, a ReLU MLP whose hidden layers are set by
# ``hidden_layer_sizes``, trained with Adam (``lr``) on minibatches (``batch_size``) for
# ``max_epochs`` epochs. ``random_state`` seeds the initialisation and the shuffling, so
# the fits are deterministic on the CPU. ``penalty=None`` is plain BCE training;
# :class:`~skarm.ARMSAEClassifier` adds ``alpha`` times the mean soft attackability of
# the training instances in each batch.
deep_params = dict(
    backend="torch",
    hidden_layer_sizes=(64,),
    max_epochs=20,
    batch_size=64,
    lr=3e-3,
    device="cpu",
    random_state=0,
)
models = {
    "no penalty": ARMClassifier(penalty=None, **deep_params),
    "ARM-SAE (alpha=1)": ARMSAEClassifier(alpha=1.0, **deep_params),
}
for name, model in models.items():
    model.fit(X_train, Y_train)
    f1 = f1_score(Y_test, model.predict(X_test), average="micro")
    print(f"{name:>18}: {model.n_iter_} epochs, clean micro-F1 {f1:.3f}, "
          f"alignment of the last layer {alignment_score(model):.3f}")

# %%
# The fitted estimator keeps the skorch net in ``net_``; its ``history`` holds the
# per-epoch training loss (for ARM-SAE, BCE plus the penalty).
for name, model in models.items():
    losses = model.net_.history[:, "train_loss"]
    print(f"{name:>18}: training loss {losses[0]:.3f} (epoch 1) -> {losses[-1]:.3f} "
          f"(epoch {len(losses)})")

# %%
# Soft attackability
# ------------------
# :func:`~skarm.metrics.soft_attackability` takes the input gradients of the network at
# each test instance. The penalty moves the distribution to lower values, its long tail
# most of all (compare the means).
sae = {name: soft_attackability(model, X_test) for name, model in models.items()}
for name, values in sae.items():
    print(f"{name:>18}: SAE mean {values.mean():.2f}, median {np.median(values):.2f}")

# %%
# Micro-F1 under attack
# ---------------------
# On a network GASE works by linearised iterations (a multi-label DeepFool) instead of the
# exact solution available for linear models, so it is slower: we attack 300 test
# instances at each budget. One :meth:`~skarm.GASEAttack.attack` per budget gives both the
# micro-F1 on the perturbed inputs and the number of labels flipped (C_a), the two numbers
# that :func:`~skarm.metrics.make_adversarial_scorer` and
# :func:`~skarm.metrics.attackability_score` compute, each with its own attack.
X_attack, Y_attack = X_test[:300], Y_test[:300]
fractions = [0.05, 0.1, 0.2, 0.3]
f1_adv = {name: [] for name in models}
c_a = {name: [] for name in models}
for name, model in models.items():
    for fraction in fractions:
        result = GASEAttack(model, eps=fraction * median_norm).attack(X_attack, Y_attack)
        f1_adv[name].append(f1_score(Y_attack, model.predict(result.X_adv), average="micro"))
        c_a[name].append(result.n_flipped.mean())

print("eps / median norm:  " + "  ".join(f"{f:5.2f}" for f in fractions))
for name in models:
    print(f"{name}")
    print("  F1 under GASE:    " + "  ".join(f"{v:5.3f}" for v in f1_adv[name]))
    print("  C_a:              " + "  ".join(f"{v:5.2f}" for v in c_a[name]))

# %%
# Left, the soft attackability of the test instances; right, the micro-F1 under attack
# (the leftmost point is the clean micro-F1 on the same 300 instances). With the same
# architecture, epochs and seed, the SAE penalty lowers the soft attackability and keeps
# more micro-F1 under attack, at no cost in clean micro-F1 here.
# :class:`~skarm.display.SAEDisplay` overlays the two SAE distributions on shared bins,
# with each model's mean and median marked; :class:`~skarm.display.AttackabilityCurveDisplay`
# draws the curves from the values computed above.
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
SAEDisplay.from_values(sae, bins=40, ax=axes[0])
axes[0].set_title("SAE of the MLP (test instances)")
clean = [f1_score(Y_attack, model.predict(X_attack), average="micro") for model in models.values()]
AttackabilityCurveDisplay.from_values(
    [0.0, *fractions], {name: [c, *f1_adv[name]] for name, c in zip(models, clean, strict=True)},
    metric="f1_micro", eps_scale=median_norm, ax=axes[1],
    xlabel="eps / median L2 norm of the standardised inputs",
)
axes[1].set_title("F1 under attack (eps = 0: clean F1)")

# %%
# Going further: ``module`` accepts any torch module class or instance mapping a batch of
# rows to one logit per label (a pretrained backbone, for instance; see
# :mod:`skarm.deep`), ``device="auto"`` trains on a GPU when there is one, and
# ``callbacks`` passes skorch callbacks such as early stopping.
torch.set_num_threads(n_threads)
plt.show()
