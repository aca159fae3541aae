"""The torch backend: ARM training of any torch module through skorch.

``ARMClassifier(backend="torch")`` (and the presets) fit a :class:`torch.nn.Module` that maps
X to one logit per label, by BCE-with-logits plus the chosen penalty, with an
:class:`ARMNet` (a :class:`skorch.NeuralNet`) built inside ``fit``. The fitted estimator's
decision function is a :class:`DeepDecision`, which gives the metrics and the attacks the
scores and input gradients they need.

With ``adversarial_eps > 0`` the net trains on L2 PGD examples instead of the clean
minibatches (``adversarial_steps`` steps against the current network, the penalty taken at
the perturbed batch too; Madry et al.'s adversarial training): an epoch costs about
``adversarial_steps + 1`` plain ones.

This subpackage needs the ``deep`` extra (``pip install "skarm[deep]"``: PyTorch and
skorch). ``import skarm`` never imports it; importing it without torch or skorch raises
:class:`~skarm.exceptions.BackendNotAvailableError`.

Recipe: a pretrained torchvision backbone as ``module`` (VOC-style image tagging)
---------------------------------------------------------------------------------
scikit-learn estimators take 2-D X, so images are passed flattened and the module
unflattens them. Replace the classifier head by a :class:`torch.nn.Linear` with one output
per label: it is the last linear layer ``W`` of ``h(x) = W Rep(x) + b``, on which the
"primal", "l2" and "nuclear" penalties act and which ``alignment_score`` reads; "sae" and
"single" differentiate the input gradients through the whole backbone. The instance passed
as ``module`` is copied in ``fit``, so every fit starts from the pretrained weights.

>>> import torch, torchvision  # doctest: +SKIP
>>> from skarm import ARMSAEClassifier  # doctest: +SKIP
>>> backbone = torchvision.models.resnet18(weights="IMAGENET1K_V1")  # doctest: +SKIP
>>> backbone.fc = torch.nn.Linear(backbone.fc.in_features, 20)  # doctest: +SKIP
>>> module = torch.nn.Sequential(torch.nn.Unflatten(1, (3, 224, 224)), backbone)  # doctest: +SKIP
>>> clf = ARMSAEClassifier(alpha=1e-3, backend="torch", module=module, lr=1e-4,
...                        batch_size=16, max_epochs=10)  # doctest: +SKIP
>>> clf.fit(X_train.reshape(len(X_train), -1), Y_train)  # doctest: +SKIP

``X_train`` holds the images normalised as the backbone expects (for torchvision's
ImageNet weights, ``(x - mean) / std`` per channel), shape ``(n, 3, 224, 224)``;
``Y_train`` is the (n, 20) {0, 1} indicator of the 20 VOC classes. To fine-tune only
the head, freeze the backbone first (``for p in backbone.parameters():
p.requires_grad_(False)``, then ``backbone.fc.requires_grad_(True)``); input gradients
still flow through it. ARM-SAE costs about m + 3 backward passes per batch (the m input
gradients, one double-backprop pass and the backward of the loss), and the input gradients
of a batch take ``batch_size * m * 150528`` floats, so keep batches small. BatchNorm layers
in training mode couple the instances of a batch, and so do the input gradients the penalty
sees; the metrics and attacks use evaluation mode, where they do not.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import importlib

from ..exceptions import BackendNotAvailableError

# Public names and the private module defining each: imported on first access, so that
# ``import skarm.deep`` (and the doctest collection of this folder) works without torch.
_LAZY = {
    "ARMNet": "_net",
    "DeepDecision": "_decision",
    "ConvNet": "_modules",
    "MLP": "_modules",
    "arm_penalty": "_penalties",
    "arm_sae_label_weights": "_penalties",
    "input_jacobian": "_penalties",
    "last_linear_layer": "_modules",
}

__all__ = sorted(_LAZY)


def require_deep_extra():
    """Import torch and skorch, or raise BackendNotAvailableError naming the extra.

    Raises
    ------
    BackendNotAvailableError
        An ImportError saying ``pip install "skarm[deep]"``.
    """
    try:
        import skorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "torch"
        raise BackendNotAvailableError(
            f'backend="torch" needs PyTorch and skorch, but {missing} cannot be imported '
            f'({exc}). Install the deep extra: pip install "skarm[deep]"'
        ) from exc


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    require_deep_extra()
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_LAZY])
