"""Subset-norm search on Gram matrices: the greedy of Algorithm 1 and an exact oracle.

Both solve, for each instance b of a batch,

    max over S subset of {1..m} of || sum_{j in S} a_j ||_2

given only the Gram of the vectors a_j, written as ``G_b = diag(c_b) K_b diag(c_b)``:

* linear models share one ``K = W W^T`` (shape ``(m, m)``) and pass per-instance label
  weights ``c_b`` (for SAE ``c_bj = -1 / h_j(x_b)``), so no d-sized work is done per instance;
* models with per-instance input gradients (the deep backend) pass ``K`` of shape
  ``(B, m, m)`` (the Jacobian Gram) and ``c = 1``.

This is the implementation of the greedy in skarm: the SAE metric, the ARM-SAE and
ARM-Primal penalties and both backends call :func:`greedy_subset_norm`. The one exception
is a torch model's penalty on CUDA, where :mod:`skarm.deep._greedy` runs the same rounds
on the device (tested equal to this kernel) instead of copying the Gram to the host.

The kernels are compiled with numba and run in parallel over instances. Each instance costs
O(m |S|): a running vector ``u_j = sum_{l in S} K_jl c_l`` gives
``||s + a_j||^2 = ||s||^2 + 2 c_j u_j + c_j^2 K_jj`` for every candidate at once, one row of
K per accepted label.

Why there is no pruning by bounds: a candidate can be skipped in a round only if a bound
on its gain, such as Cauchy-Schwarz's ``2 ||s|| ||a_j|| + ||a_j||^2``, is below the round's
best gain. The accepted sets are large (half of m and more on the MULAN sets), so
``||s||`` grows while the best gains shrink, and the bound rarely decides: even with the
best gain known in advance it would skip 0.9% (bibtex), 5.6% (corel5k) and 7.6%
(delicious) of the evaluations (``benchmarks/bench_scale.py``, column "prunable"), less
than a bound's own cost. The last round, where every gain is negative, can never be
pruned. Each evaluation here is one fused multiply-add on contiguous memory.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import sys
import types

import numba
import numpy as np

__all__ = ["exact_subset_norm", "greedy_subset_norm"]

# The exact oracle enumerates 2^m subsets; beyond this it would take minutes per instance.
MAX_EXACT_LABELS = 24


def _greedy_body(K, C, k_stride, scores, selected):  # pragma: no cover - compiled
    n_samples, m = C.shape
    for b in numba.prange(n_samples):
        k = b * k_stride  # 0: one Gram shared by the batch
        # gain[j] = ||s + a_j||^2 - ||s||^2 = 2 c_j sum_{l in S} K_jl c_l + c_j^2 K_jj.
        # Each round updates every remaining gain with one row of K and finds the next
        # best in the same pass, in index order over contiguous memory (an index list of
        # the remaining labels made each access a gather: 2-2.8x slower, measured at
        # m = 371 and 983). Scanning in index order with a strict ">" sends ties to the
        # lowest index.
        gain = np.empty(m)
        taken = np.zeros(m, dtype=np.bool_)
        best = -1
        best_gain = -np.inf
        for j in range(m):
            g = C[b, j] * C[b, j] * K[k, j, j]
            gain[j] = g
            if g > best_gain:
                best_gain = g
                best = j
        s2 = 0.0  # ||s||^2 of the accepted set
        # Algorithm 1, line 7: stop when the best extension is worse than the last accepted
        # value (CB < LB, i.e. a negative gain); a tie adds the label. At most m rounds.
        while best >= 0 and best_gain >= 0.0:
            selected[b, best] = True
            taken[best] = True
            s2 += best_gain
            cb2 = 2.0 * C[b, best]
            next_best = -1
            next_gain = -np.inf
            for j in range(m):
                if not taken[j]:
                    g = gain[j] + cb2 * C[b, j] * K[k, best, j]
                    gain[j] = g
                    if g > next_gain:
                        next_gain = g
                        next_best = j
            best = next_best
            best_gain = next_gain
        scores[b] = np.sqrt(max(s2, 0.0))


def _exact_body(K, C, k_stride, scores, selected):  # pragma: no cover - compiled
    n_samples, m = C.shape
    for b in numba.prange(n_samples):
        k = b * k_stride  # 0: one Gram shared by the batch
        u = np.zeros(m)
        member = np.zeros(m, dtype=np.bool_)
        s2 = 0.0
        best_v = 0.0
        best_code = 0
        # Gray-code order: each step adds or removes one label, an O(m) update.
        for step in range(1, 1 << m):
            j = 0
            while ((step >> j) & 1) == 0:
                j += 1
            cj = C[b, j]
            if member[j]:
                for i in range(m):
                    u[i] -= K[k, j, i] * cj
                member[j] = False
                s2 -= 2.0 * cj * u[j] + cj * cj * K[k, j, j]
            else:
                s2 += 2.0 * cj * u[j] + cj * cj * K[k, j, j]
                member[j] = True
                for i in range(m):
                    u[i] += K[k, j, i] * cj
            if s2 > best_v:
                best_v = s2
                best_code = step ^ (step >> 1)
        # Recompute the winner's norm from scratch: the running sum drifts over 2^m updates.
        total = 0.0
        for i in range(m):
            if (best_code >> i) & 1:
                selected[b, i] = True
                for j in range(m):
                    if (best_code >> j) & 1:
                        total += C[b, i] * C[b, j] * K[k, i, j]
        scores[b] = np.sqrt(max(total, 0.0))


def _compiled_pair(body):
    """``(serial, parallel)`` kernels of one body.

    Threads pay off only on large batches, and waking them costs more than a small batch's
    whole search (the training penalties call this once per iteration), so each body is
    compiled twice. The parallel one is compiled from a copy of the function under another
    name: numba's on-disk cache is keyed by the function's name and line, not by its
    compile options, so two variants of one function share a cache entry, and whichever
    was compiled first was loaded for both (measured: the "parallel" greedy ran serial,
    1.25 s for 3185 instances x 983 labels with 2 threads either way).
    """
    name = f"{body.__name__}_parallel"
    renamed = {"co_name": name}
    if sys.version_info >= (3, 11):  # code objects carry a qualified name from 3.11 on
        renamed["co_qualname"] = name
    twin = types.FunctionType(body.__code__.replace(**renamed),
                              body.__globals__, name, body.__defaults__, body.__closure__)
    twin.__qualname__ = name
    return (
        numba.njit(cache=True, nogil=True)(body),
        numba.njit(parallel=True, cache=True, nogil=True)(twin),
    )


_greedy_kernels = _compiled_pair(_greedy_body)
_exact_kernels = _compiled_pair(_exact_body)
# Work (instances x m^2) above which the parallel kernel is used.
_PARALLEL_WORK = 200_000


class NonFiniteGramError(ValueError):
    """The Gram or the weights given to a greedy search are not finite (an overflow
    upstream); callers that know where the numbers came from catch it to say so."""


def check_gram_inputs(K_shape, C_shape, k_finite, c_finite):
    """Validate the inputs of a greedy search (this one or its torch twin) by their shapes
    and finiteness; ``K_shape`` has the batch axis already (1 for a shared Gram)."""
    if len(C_shape) != 2:
        raise ValueError(f"C must be 2-D (n_samples, n_labels); got shape {C_shape}.")
    n_samples, m = C_shape
    if len(K_shape) != 3 or K_shape[1:] != (m, m) or K_shape[0] not in (1, n_samples):
        raise ValueError(
            f"K must have shape ({m}, {m}) or ({n_samples}, {m}, {m}); got {K_shape}."
        )
    if not (k_finite and c_finite):
        raise NonFiniteGramError(
            "The greedy search got non-finite inputs: the Gram K of the label gradients "
            f"({'finite' if k_finite else 'not finite'}) or the weights C from the decision "
            f"scores ({'finite' if c_finite else 'not finite'}). The model's weights or "
            "scores overflowed: scale X or lower alpha."
        )


def _prepare(K, C):
    C = np.ascontiguousarray(C, dtype=np.float64)
    K = np.ascontiguousarray(K, dtype=np.float64)
    if K.ndim == 2:
        K = K[np.newaxis]
    check_gram_inputs(
        K.shape, C.shape, bool(np.isfinite(K).all()), bool(np.isfinite(C).all())
    )
    return K, C, K.shape[0] == 1


def _run(kernels, K, C, work_per_instance):
    K, C, shared = _prepare(K, C)
    n_samples, m = C.shape
    scores = np.zeros(n_samples)
    selected = np.zeros((n_samples, m), dtype=bool)
    if n_samples and m:
        kernel = kernels[n_samples * work_per_instance > _PARALLEL_WORK and n_samples > 1]
        kernel(K, C, 0 if shared else 1, scores, selected)
    return scores, selected


def greedy_subset_norm(K, C):
    """Greedy maximiser of ``||sum_{j in S} c_j v_j||`` (Algorithm 1) on a Gram.

    Parameters
    ----------
    K : ndarray of shape (m, m) or (n_samples, m, m)
        Gram matrix of the base vectors ``v_j``: shared by all instances (linear models,
        ``K = W W^T``) or one per instance (input-gradient Jacobians).
    C : ndarray of shape (n_samples, m)
        Per-instance weights: the searched vectors are ``a_bj = C[b, j] * v_j``.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        ``||sum_{j in S_b} a_bj||_2`` for the greedy set ``S_b``.
    selected : ndarray of bool, shape (n_samples, m)
        Indicator of ``S_b``.

    Notes
    -----
    The first pick is the largest ``||a_j||``; each round adds the label giving the largest
    norm, ties going to the lowest index, and the search stops when the best extension is
    strictly smaller than the current value. The objective is not submodular, so this is a
    heuristic lower bound on the exact maximum (:func:`exact_subset_norm`).

    Examples
    --------
    >>> import numpy as np
    >>> from skarm._greedy import greedy_subset_norm
    >>> V = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    >>> scores, selected = greedy_subset_norm(V @ V.T, np.ones((1, 3)))
    >>> float(scores[0]), selected[0].tolist()
    (1.414..., [True, True, False])
    """
    m = np.shape(C)[-1]
    return _run(_greedy_kernels, K, C, m * m)


def exact_subset_norm(K, C):
    """Exact ``max_S ||sum_{j in S} c_j v_j||`` by Gray-code enumeration of all subsets.

    Costs O(2^m m) per instance; meant for tests and benchmarks with ``m <= 24``.

    Parameters
    ----------
    K : ndarray of shape (m, m) or (n_samples, m, m)
        Gram matrix of the base vectors, as in :func:`greedy_subset_norm`.
    C : ndarray of shape (n_samples, m)
        Per-instance weights.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        The exact maximum norm.
    selected : ndarray of bool, shape (n_samples, m)
        A maximising subset.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm._greedy import exact_subset_norm
    >>> V = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    >>> float(exact_subset_norm(V @ V.T, np.ones((1, 3)))[0][0])
    1.414...
    """
    m = np.shape(C)[-1]
    if m > MAX_EXACT_LABELS:
        raise ValueError(
            f"exact_subset_norm enumerates 2^m subsets and supports m <= {MAX_EXACT_LABELS}; "
            f"got m = {m}."
        )
    return _run(_exact_kernels, K, C, m << m)
