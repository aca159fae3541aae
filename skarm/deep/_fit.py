"""Fitting an ARM estimator with ``backend="torch"``: build the skorch net, seed, train.

The estimator stays a plain scikit-learn estimator: it validates its parameters and data,
then hands the arrays to :func:`fit_net`, which builds an :class:`~skarm.deep.ARMNet`
(composition, created anew in every ``fit``) and trains it.
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

__all__ = ["decision_of", "fit_net", "resolve_device"]

# Estimator parameters that set ARMNet arguments: net_params may not set them again.
_OWN_NET_ARGS = (
    "module", "lr", "max_epochs", "batch_size", "train_split", "callbacks", "device",
    "verbose", "penalty", "alpha", "margin_floor", "margin_weighting", "loss_reduction",
    "adversarial_eps", "adversarial_steps",
)


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


def _module_and_kwargs(estimator, n_features, n_labels):
    """(module class or copied instance, module__ arguments) for ARMNet."""
    module = estimator.module
    if module is None:
        sizes = estimator.hidden_layer_sizes
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


def _net_params(estimator):
    params = dict(estimator.net_params or {})
    params.setdefault("optimizer", torch.optim.Adam)
    clash = sorted(k for k in params if k in _OWN_NET_ARGS)
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


def fit_net(estimator, X, Y, penalty):
    """Build and train the skorch net of an ARM estimator.

    Parameters
    ----------
    estimator : ARMClassifier or preset
        Its parameters (validated) configure the net.
    X : ndarray of shape (n_samples, n_features)
        Dense float64 training data.
    Y : ndarray of shape (n_samples, n_labels)
        {0, 1} label indicator.
    penalty : {None, "l2", "nuclear", "single", "primal", "sae"}
        The penalty.

    Returns
    -------
    net : ARMNet
        The trained net, its module in evaluation mode.
    """
    n_features, n_labels = X.shape[1], Y.shape[1]
    # First: a linear-only adversarial_method raises before anything is built. For this
    # backend the method is "pgd" whenever the budget is positive.
    adversarial_eps = estimator._adversarial()[1]
    device = resolve_device(estimator.device)
    seed = int(check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max))
    module, module_kwargs = _module_and_kwargs(estimator, n_features, n_labels)
    train_split = None
    if estimator.validation_fraction is not None:
        _check_validation_fraction(estimator.validation_fraction, len(X))
        # Not stratified: stratification is not defined on a 2-D label indicator.
        train_split = ValidSplit(
            estimator.validation_fraction, stratified=False, random_state=seed
        )
    # Copied: the estimator's parameters are not trained in place (the trained callbacks are
    # in net_.callbacks_). A deep copy, since skorch callbacks keep state in attributes that
    # sklearn's clone would take for constructor parameters.
    callbacks = copy.deepcopy(list(estimator.callbacks)) if estimator.callbacks else None
    net = ARMNet(
        module,
        lr=estimator.lr,
        max_epochs=estimator.max_epochs,
        batch_size=estimator.batch_size,
        train_split=train_split,
        callbacks=callbacks,
        device=device,
        verbose=int(estimator.verbose),
        penalty=penalty,
        alpha=float(estimator.alpha),
        margin_floor=float(estimator.margin_floor),
        margin_weighting=estimator.margin_weighting,
        adversarial_eps=adversarial_eps,
        adversarial_steps=int(estimator.adversarial_steps),
        loss_reduction=estimator.loss_reduction,
        **module_kwargs,
        **_net_params(estimator),
    )
    with _seeded(seed, device):
        net.initialize()
        dtype = parameter_dtype(net.module_)
        X = np.ascontiguousarray(X, dtype=torch.empty((), dtype=dtype).numpy().dtype)
        Y = np.ascontiguousarray(Y, dtype=X.dtype)
        _check_module(net, X, n_labels, penalty)
        # partial_fit: fit() would initialise the (already initialised, seeded) net again.
        net.partial_fit(X, Y)
    net.module_.eval()
    return net


def decision_of(estimator):
    """The :class:`DeepDecision` of a torch-backend estimator fitted by :func:`fit_net`."""
    net = estimator.net_
    return DeepDecision(
        net.module_,
        n_features=estimator.n_features_in_,
        n_labels=len(estimator.label_binarizer_.classes_)
        if estimator.label_binarizer_.y_type_ != "binary"
        else 1,
        device=net.device,
        batch_size=max(int(net.batch_size), 1024),
        name=type(estimator).__name__,
    )
