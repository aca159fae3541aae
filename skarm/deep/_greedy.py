"""The greedy subset-norm search of Algorithm 1 on torch tensors, batched over instances.

The same search as :func:`skarm._greedy.greedy_subset_norm` (numba, on the CPU): in
float64, the same gains, updated by the same floating-point operations in the same order,
the same first pick, the same tie rule (the lowest index: ``torch.argmax`` returns the
first maximum) and the same stop rule (a negative best gain), so its selections are
identical (tested against the numba kernel on the CPU). It computes in the weights' dtype:
with the float32 of a default torch model, near-ties can be resolved differently. Each
round is a few elementwise operations on a (B, m) tensor, all instances at once, which is
what a GPU needs: the numba kernel loops over instances, and using it for a CUDA model
would copy the (B, m, m) Gram to the host at every penalty evaluation.
:func:`greedy_selection` picks the implementation by the device.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import torch

from .._greedy import check_gram_inputs, greedy_subset_norm
from ._modules import to_numpy

__all__ = ["greedy_selection", "greedy_subset_norm_torch"]


def greedy_subset_norm_torch(K, C):
    """Greedy maximiser of ``||sum_{j in S} c_j v_j||`` on a Gram, in torch.

    Parameters
    ----------
    K : Tensor of shape (m, m) or (B, m, m)
        Gram of the base vectors, shared or one per instance.
    C : Tensor of shape (B, m)
        Per-instance weights.

    Returns
    -------
    scores : Tensor of shape (B,)
        ``||sum_{j in S_b} c_bj v_j||`` for the greedy sets.
    selected : bool Tensor of shape (B, m)
        The greedy sets.

    Examples
    --------
    >>> import torch
    >>> from skarm.deep._greedy import greedy_subset_norm_torch
    >>> V = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)
    >>> scores, selected = greedy_subset_norm_torch(V @ V.T, torch.ones(1, 3, dtype=V.dtype))
    >>> round(float(scores[0]), 6), selected[0].tolist()
    (1.414214, [True, True, False])
    """
    with torch.no_grad():
        K = K.to(C.dtype)
        if K.ndim == 2:
            K = K.unsqueeze(0)
        check_gram_inputs(
            tuple(K.shape), tuple(C.shape),
            bool(torch.isfinite(K).all()), bool(torch.isfinite(C).all()),
        )
        n, m = C.shape
        K = K.expand(n, m, m)
        rows = torch.arange(n, device=C.device)
        gain = C * C * torch.diagonal(K, dim1=1, dim2=2)
        selected = torch.zeros((n, m), dtype=torch.bool, device=C.device)
        s2 = torch.zeros(n, dtype=C.dtype, device=C.device)
        active = torch.ones(n, dtype=torch.bool, device=C.device)
        minus_inf = torch.tensor(float("-inf"), dtype=C.dtype, device=C.device)
        for _ in range(m):  # at most m rounds: one label is accepted per round
            masked = torch.where(selected, minus_inf, gain)
            best_gain, best = masked.max(dim=1)  # the first maximum: the lowest index
            active &= best_gain >= 0.0
            if not bool(active.any()):
                break
            selected[rows[active], best[active]] = True
            s2 = torch.where(active, s2 + best_gain, s2)
            cb2 = 2.0 * C[rows, best]
            update = gain + cb2[:, None] * C * K[rows, best]
            gain = torch.where(active[:, None], update, gain)
        return torch.sqrt(torch.clamp(s2, min=0.0)), selected


def greedy_selection(gram, weights):
    """Greedy label sets (bool tensor on the weights' device) and scores (numpy).

    On CUDA the torch search runs where the tensors are; elsewhere the numba kernel.
    """
    if weights.is_cuda:
        scores, selected = greedy_subset_norm_torch(gram.detach(), weights.detach())
        return selected, to_numpy(scores)
    scores, selected = greedy_subset_norm(to_numpy(gram), to_numpy(weights))
    return torch.as_tensor(selected, device=weights.device), scores
