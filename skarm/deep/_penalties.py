"""The ARM penalties on a torch network, for one batch (doc: alg-deep).

For logits ``h(x) = W Rep(x) + b`` of a batch of B instances with labels ``y`` in
{-1, +1}^(B x m), ``alpha * R`` is (the paper's lambda is ``alpha``, its alpha is
``margin_floor``):

* ``"l2"``      ``||W||_F^2`` of the last linear layer
* ``"nuclear"`` ``||W||_*`` of the last linear layer (subgradient through torch's SVD)
* ``"primal"``  ``(1/B) sum_i max_S ||sum_{j in S} y_ij w_j||`` on the last linear layer
* ``"single"``  ``(1/B) sum_i sum_k c_ik ||grad_x h_k(x_i)||``                     (Eq. 16)
* ``"sae"``     ``(1/B) sum_i max_S ||sum_{j in S} -y_ij c_ij grad_x h_j(x_i)||``    (Eq. 14-15)

with ``c_ij = min(exp(-y_ij h_j(x_i)), 1/margin_floor)`` (``margin_weighting="floor"``, or
the authors' code's smooth "soft" cap, :func:`arm_sae_label_weights`): the same scaling as
the linear backend's :class:`skarm.linear._objective.Objective`, so that with a single
linear layer the two backends give the same values and gradients.

"single" and "sae" use the input gradients of the network's own forward pass, taken with
``create_graph=True`` (double backprop), so the penalty reaches every layer. The label set
of "sae" and "primal" is chosen without gradient by the one greedy search,
:func:`skarm._greedy.greedy_subset_norm`, on the (B, m, m) Gram moved to the CPU (on CUDA its
torch twin :func:`skarm.deep._greedy.greedy_subset_norm_torch`, on the device), then used as
a constant mask (the Danskin-style subgradient, doc: alg-arm-sae).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import warnings

import numpy as np
import torch

from .._sae import SOFT_LARGE_MARGIN
from .._spec import PENALTIES
from ._greedy import greedy_selection

__all__ = [
    "INPUT_GRADIENT_PENALTIES",
    "LAST_LAYER_PENALTIES",
    "arm_penalty",
    "arm_sae_label_weights",
    "input_jacobian",
]

INPUT_GRADIENT_PENALTIES = ("single", "sae")
LAST_LAYER_PENALTIES = ("l2", "nuclear", "primal")


def arm_sae_label_weights(scores, y_signed, margin_floor, weighting="floor"):
    """Compute the signed ARM-SAE weights ``-y_j c_j`` (Eq. 13-14) in torch.

    The same values as :func:`skarm._sae.arm_sae_label_weights`, differentiable through
    ``scores``: autograd's derivative of the weights is that function's slope (0 where the
    "floor" cap is active). ``c_j`` is a decreasing function of the margin
    ``t = y_j h_j``:

    * "floor" (the paper, Eq. 13): ``c = 1 / max(exp(t), margin_floor)``, capped at
      ``1 / margin_floor``;
    * "soft" (the authors' released code): ``c = 1 / log(exp(margin_floor) + exp(exp(t)))``,
      smooth, capped near ``1 / log(1 + exp(margin_floor))``.

    Parameters
    ----------
    scores : torch.Tensor of shape (n_samples, n_labels)
        Logits ``h(x)``.
    y_signed : torch.Tensor of shape (n_samples, n_labels)
        Labels in {-1, +1}.
    margin_floor : float
        The paper's alpha.
    weighting : {"floor", "soft"}, default="floor"
        The margin weighting (``margin_weighting`` of the estimator).

    Returns
    -------
    weights : torch.Tensor of shape (n_samples, n_labels)
        ``-y_j c_j``.

    Examples
    --------
    >>> import torch
    >>> from skarm.deep import arm_sae_label_weights
    >>> scores = torch.tensor([[2.0, -0.5]])
    >>> arm_sae_label_weights(scores, torch.tensor([[1.0, 1.0]]), 0.5)
    tensor([[-0.1353, -1.6487]])
    >>> arm_sae_label_weights(scores, torch.tensor([[1.0, 1.0]]), 0.5, "soft")
    tensor([[-0.1353, -0.8014]])
    """
    margins = y_signed * scores
    if weighting == "floor":
        return -y_signed * torch.exp(-torch.clamp(margins, min=math.log(margin_floor)))
    if weighting != "soft":
        raise ValueError(
            f"The margin weighting must be 'floor' or 'soft'; got {weighting!r} instead."
        )
    # c = 1 / logaddexp(margin_floor, e^t); past SOFT_LARGE_MARGIN, c = e^-t, as in the
    # numpy version. Both branches are clamped so that torch.where's unused branch has
    # finite gradients.
    large = margins > SOFT_LARGE_MARGIN
    e = torch.exp(torch.clamp(margins, max=SOFT_LARGE_MARGIN))
    c = torch.where(
        large,
        torch.exp(-torch.clamp(margins, min=SOFT_LARGE_MARGIN)),
        1.0 / torch.logaddexp(e, e.new_tensor(margin_floor)),
    )
    return -y_signed * c


def _safe_norm(U):
    """Row norms of a 2-D tensor, with the subgradient 0 at 0 (also in double backprop)."""
    sq = (U * U).sum(dim=1)
    positive = sq > 0
    root = torch.sqrt(torch.where(positive, sq, torch.ones_like(sq)))
    return torch.where(positive, root, torch.zeros_like(sq))


def input_jacobian(logits, X, *, create_graph=False, batched=True):
    """Compute the input gradients ``grad_x h_j(x_i)`` of a forward pass already done.

    One batched backward pass (``is_grads_batched``, a vmap over the backward), or m
    backward passes (``batched=False``, and where an operation of the module has no
    batching rule). Instances are assumed independent in the forward pass (no batch
    statistics, as BatchNorm computes in training mode: there the gradients include the
    coupling between instances).

    Parameters
    ----------
    logits : torch.Tensor of shape (B, m)
        ``h(X)``, computed with gradient from X.
    X : torch.Tensor of shape (B, ...)
        The batch, with ``requires_grad=True``.
    create_graph : bool, default=False
        Keep the graph of the gradients, to differentiate them (double backprop).
    batched : bool, default=True
        One vmapped backward pass rather than a loop of m. Faster for fully connected
        networks and on GPUs; on CPUs, PyTorch's vmap of the convolution backward is slower
        than the loop (2.5x on the benchmark's CNN).

    Returns
    -------
    J : torch.Tensor of shape (B, m, n_inputs)
        One row per label, X flattened per instance.

    Examples
    --------
    >>> import torch
    >>> from skarm.deep import input_jacobian
    >>> layer = torch.nn.Linear(4, 3)
    >>> X = torch.randn(5, 4, requires_grad=True)
    >>> J = input_jacobian(layer(X), X)
    >>> J.shape, torch.allclose(J[0], layer.weight)
    (torch.Size([5, 3, 4]), True)
    """
    n_samples, n_labels = logits.shape
    eye = torch.eye(n_labels, dtype=logits.dtype, device=logits.device)
    J = None
    if batched:
        try:
            with warnings.catch_warnings():
                # vmap's note that an operation falls back to a slow loop.
                warnings.filterwarnings("ignore", message=".*performance drop.*")
                (J,) = torch.autograd.grad(
                    logits,
                    X,
                    grad_outputs=eye[:, None, :].expand(n_labels, n_samples, n_labels),
                    retain_graph=True,
                    create_graph=create_graph,
                    is_grads_batched=True,
                )
            J = J.movedim(0, 1)
        except RuntimeError:  # an operation without a batching rule: loop instead
            J = None
    if J is None:
        rows = [
            torch.autograd.grad(
                logits,
                X,
                grad_outputs=eye[j].expand(n_samples, n_labels),
                retain_graph=True,
                create_graph=create_graph,
            )[0]
            for j in range(n_labels)
        ]
        J = torch.stack(rows, dim=1)
    return J.reshape(n_samples, n_labels, -1)


def _primal(weight, y_signed):
    """Mean over the batch of ``max_S ||sum_{j in S} y_ij w_j||``, grouped by label set."""
    patterns, counts = torch.unique(y_signed, dim=0, return_counts=True)
    selected, _ = greedy_selection(weight @ weight.T, patterns)
    V = torch.where(selected, patterns, torch.zeros_like(patterns)).to(weight.dtype)
    shares = counts.to(weight.dtype) / y_signed.shape[0]
    return (shares * _safe_norm(V @ weight)).sum()


def _sae(logits, X, y_signed, margin_floor, weighting, create_graph, batched):
    """Mean over the batch of phi_hat (Eq. 14) from the input gradients."""
    weights = arm_sae_label_weights(logits, y_signed, margin_floor, weighting)
    J = input_jacobian(logits, X, batched=batched).detach()
    selected, scores = greedy_selection(J @ J.transpose(1, 2), weights)
    if not create_graph:
        return torch.as_tensor(float(np.mean(scores)), dtype=logits.dtype, device=logits.device)
    # u_i = sum_{j in S_i} weights_ij grad h_j(x_i) = J_i^T v_i: one vector-Jacobian product,
    # differentiable in the parameters and (through the weights) in the logits.
    V = torch.where(selected, weights, torch.zeros_like(weights))
    (U,) = torch.autograd.grad(logits, X, grad_outputs=V, retain_graph=True, create_graph=True)
    return _safe_norm(U.reshape(U.shape[0], -1)).mean()


def _single(logits, X, y_signed, margin_floor, weighting, create_graph, batched):
    """Mean over the batch of ``sum_k c_ik ||grad h_k(x_i)||`` (Eq. 16)."""
    weights = arm_sae_label_weights(logits, y_signed, margin_floor, weighting)
    J = input_jacobian(logits, X, create_graph=create_graph, batched=batched)
    norms = _safe_norm(J.reshape(-1, J.shape[2])).reshape(J.shape[:2])
    return (weights.abs() * norms).sum(dim=1).mean()


def arm_penalty(
    penalty, *, logits, y_signed, alpha, margin_floor=0.01, X=None, weight=None,
    create_graph=True, batched_jacobian=True, margin_weighting="floor",
):
    """Compute ``alpha * R`` of one batch, differentiable in the network's parameters.

    Parameters
    ----------
    penalty : {None, "l2", "nuclear", "single", "primal", "sae"}
        The penalty R (module docstring).
    logits : torch.Tensor of shape (B, m)
        ``h(X)``; for "single" and "sae" computed from ``X`` with gradient.
    y_signed : torch.Tensor of shape (B, m)
        Labels in {-1, +1}.
    alpha : float
        Penalty weight (the paper's lambda).
    margin_floor : float, default=0.01
        The paper's alpha in Eq. 13-16.
    X : torch.Tensor of shape (B, ...), default=None
        The batch, ``requires_grad=True``; needed by "single" and "sae".
    weight : torch.Tensor of shape (m, d'), default=None
        Weight of the last linear layer; needed by "l2", "nuclear" and "primal".
    create_graph : bool, default=True
        Build the graph for the parameters' gradients; False only evaluates the penalty
        (validation), which for "sae" skips the double-backprop pass.
    batched_jacobian : bool, default=True
        How "sae" and "single" compute the input gradients (:func:`input_jacobian`).
    margin_weighting : {"floor", "soft"}, default="floor"
        The label weights ``c_ij`` of "sae" and "single" (:func:`arm_sae_label_weights`).

    Returns
    -------
    value : torch.Tensor
        A scalar.

    Examples
    --------
    >>> import torch
    >>> from skarm.deep import arm_penalty
    >>> layer = torch.nn.Linear(4, 3)
    >>> X = torch.randn(8, 4, requires_grad=True)
    >>> y_signed = torch.sign(torch.randn(8, 3))
    >>> value = arm_penalty("sae", logits=layer(X), y_signed=y_signed, alpha=0.1, X=X)
    >>> value.ndim, bool(value > 0)
    (0, True)
    >>> value.backward()  # differentiable in the layer's parameters
    >>> layer.weight.grad.shape
    torch.Size([3, 4])
    """
    if penalty not in PENALTIES:
        names = ", ".join(repr(p) for p in PENALTIES)
        raise ValueError(f"penalty must be one of {names}; got {penalty!r}.")
    if penalty is None or alpha == 0:
        return logits.new_zeros(())
    if penalty in LAST_LAYER_PENALTIES:
        if weight is None:
            raise ValueError(f'penalty="{penalty}" needs the last linear layer\'s weight.')
        if penalty == "l2":
            value = (weight * weight).sum()
        elif penalty == "nuclear":
            value = torch.linalg.matrix_norm(weight, ord="nuc")
        else:
            value = _primal(weight, y_signed.to(weight.dtype))
        return alpha * value
    if X is None or not X.requires_grad:
        raise ValueError(
            f'penalty="{penalty}" needs the input batch X with requires_grad=True, from '
            "which the logits were computed."
        )
    term = _sae if penalty == "sae" else _single
    return alpha * term(
        logits, X, y_signed.to(logits.dtype), margin_floor, margin_weighting, create_graph,
        batched_jacobian,
    )
