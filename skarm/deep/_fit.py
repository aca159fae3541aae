"""The torch backend's entry point: build the skorch net, seed, train.

The estimator stays a plain scikit-learn estimator: it validates its parameters and data,
then hands the arrays and its parameters, as plain values, to :func:`fit_net`, which builds
an :class:`~skarm.deep.ARMNet` (composition, created anew in every ``fit``), trains it and
returns the network's :class:`~skarm.deep.DeepDecision` with it.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import inspect
import math
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch.dataset import ValidSplit

from ._decision import DeepDecision
from ._modules import MLP, label_head, parameter_dtype
from ._net import ARMNet
from ._penalties import LAST_LAYER_PENALTIES

__all__ = ["fit_net", "resolve_device"]

def resolve_device(device):
    """``"auto"`` is CUDA when available, else the CPU; anything else as torch reads it."""
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"The 'device' parameter must be 'auto' or a torch device such as 'cpu', 'cuda' "
            f"or 'cuda:1'. Got {device!r} instead."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for CUDA, but torch finds no CUDA device. Use "
            "device='auto' to fall back to the CPU."
        )
    return str(resolved)


@contextmanager
def _seeded(seed, device):
    """Seed torch's RNGs for the block, restoring the caller's RNG state afterwards."""
    devices = []
    if torch.device(device).type == "cuda":
        index = torch.device(device).index
        devices = [torch.cuda.current_device() if index is None else index]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _module_and_kwargs(module, hidden_layer_sizes, n_features, n_labels):
    """(module class or copied instance, module__ arguments) for ARMNet."""
    if module is None:
        sizes = hidden_layer_sizes
        return MLP, {
            "module__n_features": n_features,
            "module__n_labels": n_labels,
            "module__hidden_layer_sizes": (sizes,) if isinstance(sizes, Integral)
            else tuple(sizes),
        }
    if isinstance(module, torch.nn.Module):
        # Never train the user's instance in place: every fit starts from the same weights
        # (a pretrained backbone stays pretrained), and fit stays idempotent.
        return copy.deepcopy(module), {}
    if isinstance(module, type) and issubclass(module, torch.nn.Module):
        try:
            names = inspect.signature(module).parameters
        except (TypeError, ValueError):
            names = {}
        kwargs = {}
        if "n_features" in names:
            kwargs["module__n_features"] = n_features
        if "n_labels" in names:
            kwargs["module__n_labels"] = n_labels
        return module, kwargs
    raise TypeError(
        "The 'module' parameter must be None, a torch.nn.Module subclass or a "
        f"torch.nn.Module instance. Got {module!r} instead."
    )


def _net_params(net_params, own):
    """net_params with skorch's defaults, refusing what the estimator's parameters set."""
    params = dict(net_params or {})
    params.setdefault("optimizer", torch.optim.Adam)
    clash = sorted(k for k in params if k in own or k == "module")
    if clash:
        raise ValueError(
            f"net_params may not set {', '.join(clash)}: use the estimator's own parameters "
            f"of the same name (module__*, optimizer__*, iterator_*__* and the like go in "
            "net_params)."
        )
    return params


def _check_module(net, X, n_labels, penalty):
    """The module maps (B, d) to (B, m) logits, and has a last layer if the penalty needs it."""
    module = net.module_
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(torch.as_tensor(X[:2], device=net.device))
    finally:
        module.train(was_training)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (min(2, len(X)), n_labels):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"The module must map X of shape (n_samples, n_features) to logits of shape "
            f"(n_samples, {n_labels}) (one per label of y); on X[:2] it returned {shape}."
        )
    if penalty in LAST_LAYER_PENALTIES:
        label_head(module, n_labels, needed_by=f'penalty="{penalty}"')


def _check_validation_fraction(fraction, n_samples):
    """Raise ValueError, in skarm's words, if the validation split leaves no training row.

    The split is skorch's ShuffleSplit: ``ceil(fraction * n_samples)`` rows are held out and
    the rest trained on. A fraction in (0, 1) always holds out one row at least (the count
    is rounded up), so only the training part can be empty: when the fraction rounds up to
    every row.
    """
    n_valid = math.ceil(fraction * n_samples)
    if n_valid < n_samples:
        return
    if n_samples < 2:
        advice = "a validation split needs 2 rows at least; use validation_fraction=None"
    else:
        advice = (
            f"use a fraction that holds out {n_samples - 1} rows at most "
            f"(ceil(fraction * {n_samples}) <= {n_samples - 1}), or validation_fraction=None "
            "to train on all the rows"
        )
    raise ValueError(
        f"validation_fraction={fraction!r} leaves {n_samples - n_valid} training rows of "
        f"{n_samples}: it holds out ceil({fraction!r} * {n_samples}) = {n_valid} for "
        f"validation; {advice}."
    )


def fit_net(
    X, Y, *, penalty, alpha, margin_floor, margin_weighting, loss_reduction,
    adversarial_eps, adversarial_steps, module, hidden_layer_sizes, max_epochs, batch_size,
    lr, validation_fraction, device, callbacks, net_params, random_state, verbose,
    name="estimator",
):
    """Build and train the skorch net of an ARM estimator.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Dense float64 training data.
    Y : ndarray of shape (n_samples, n_labels)
        {0, 1} label indicator.
    penalty, alpha, margin_floor, margin_weighting, loss_reduction : see ARMClassifier
        The objective.
    adversarial_eps, adversarial_steps : see ARMClassifier
        L2 PGD adversarial training (``adversarial_eps=0``: off).
    module, hidden_layer_sizes, max_epochs, batch_size, lr, validation_fraction, device, \
callbacks, net_params, random_state, verbose : see ARMClassifier
        The network and its training.
    name : str, default="estimator"
        The estimator's name, for messages.

    Returns
    -------
    decision : DeepDecision
        Scores and input gradients of the trained module (in evaluation mode).
    net : ARMNet
        The trained net.
    """
    n_features, n_labels = X.shape[1], Y.shape[1]
    device = resolve_device(device)
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    module, module_kwargs = _module_and_kwargs(module, hidden_layer_sizes, n_features, n_labels)
    train_split = None
    if validation_fraction is not None:
        _check_validation_fraction(validation_fraction, len(X))
        # Not stratified: stratification is not defined on a 2-D label indicator.
        train_split = ValidSplit(validation_fraction, stratified=False, random_state=seed)
    # Copied: the estimator's parameters are not trained in place (the trained callbacks are
    # in net_.callbacks_). A deep copy, since skorch callbacks keep state in attributes that
    # sklearn's clone would take for constructor parameters.
    callbacks = copy.deepcopy(list(callbacks)) if callbacks else None
    own = dict(
        lr=lr, max_epochs=max_epochs, batch_size=batch_size, train_split=train_split,
        callbacks=callbacks, device=device, verbose=int(verbose), penalty=penalty,
        alpha=float(alpha), margin_floor=float(margin_floor),
        margin_weighting=margin_weighting, adversarial_eps=float(adversarial_eps),
        adversarial_steps=int(adversarial_steps), loss_reduction=loss_reduction,
    )
    net = ARMNet(module, **own, **module_kwargs, **_net_params(net_params, own))
    with _seeded(seed, device):
        net.initialize()
        dtype = parameter_dtype(net.module_)
        X = np.ascontiguousarray(X, dtype=torch.empty((), dtype=dtype).numpy().dtype)
        Y = np.ascontiguousarray(Y, dtype=X.dtype)
        _check_module(net, X, n_labels, penalty)
        # partial_fit: fit() would initialise the (already initialised, seeded) net again.
        net.partial_fit(X, Y)
    net.module_.eval()
    decision = DeepDecision(
        net.module_, n_features=n_features, n_labels=n_labels, device=net.device,
        batch_size=max(int(net.batch_size), 1024), name=name,
    )
    return decision, net
