"""The batched greedy (Algorithm 1) against a plain reference and the exact oracle."""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skarm._greedy import MAX_EXACT_LABELS, exact_subset_norm, greedy_subset_norm


def plain_greedy(A):
    """Algorithm 1 on explicit vectors A (m, d), one instance, written as the paper reads."""
    m = A.shape[0]
    S, s = [], np.zeros(A.shape[1])
    LB = CB = 0.0
    while len(S) < m:
        LB = CB
        candidates = [j for j in range(m) if j not in S]
        values = [np.linalg.norm(s + A[j]) for j in candidates]
        best = int(np.argmax(values))  # first maximum: lowest index on ties
        CB = values[best]
        if CB < LB:
            break
        S.append(candidates[best])
        s = s + A[candidates[best]]
    return np.linalg.norm(s), sorted(S)


def brute_force(A):
    """max over all subsets of ||sum_S a_j||, by itertools."""
    m = A.shape[0]
    best = 0.0
    for r in range(1, m + 1):
        for S in itertools.combinations(range(m), r):
            best = max(best, np.linalg.norm(A[list(S)].sum(axis=0)))
    return best


def random_linear_problem(rng, n, m, d):
    W = rng.standard_normal((m, d))
    b = rng.standard_normal(m)
    X = rng.standard_normal((n, d))
    return W, b, X


@pytest.mark.parametrize("m", [1, 2, 7, 50, 200])
def test_batched_greedy_matches_plain_reference(m, global_random_seed):
    """Shared Gram K = W W^T with weights -1/h equals the explicit per-instance greedy."""
    rng = np.random.RandomState(global_random_seed)
    n, d = 12, 30
    W, b, X = random_linear_problem(rng, n, m, d)
    H = X @ W.T + b
    C = -1.0 / H
    scores, selected = greedy_subset_norm(W @ W.T, C)
    for i in range(n):
        A = C[i][:, None] * W  # a_j = -w_j / h_j
        ref_score, ref_set = plain_greedy(A)
        assert_allclose(scores[i], ref_score, rtol=1e-10)
        assert_array_equal(np.flatnonzero(selected[i]), ref_set)


def test_per_instance_gram_matches_shared_gram(global_random_seed):
    """A (B, m, m) Gram stack with unit weights gives what the shared form gives."""
    rng = np.random.RandomState(global_random_seed)
    W, b, X = random_linear_problem(rng, 9, 6, 11)
    C = -1.0 / (X @ W.T + b)
    A = C[:, :, None] * W[None]  # (B, m, d)
    shared = greedy_subset_norm(W @ W.T, C)
    stacked = greedy_subset_norm(A @ A.transpose(0, 2, 1), np.ones_like(C))
    assert_allclose(shared[0], stacked[0], rtol=1e-10)
    assert_array_equal(shared[1], stacked[1])


def test_greedy_breaks_ties_to_lowest_index():
    """Equal first-round candidates: the lowest index is taken first."""
    V = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    # Round 1 ties at norm 1 (all three); index 0 wins. Round 2 ties between 1 and 2 at
    # sqrt(2); index 1 wins. Round 3 gives norm 1 < sqrt(2): stop.
    scores, selected = greedy_subset_norm(V @ V.T, np.ones((1, 3)))
    assert_allclose(scores, [np.sqrt(2.0)])
    assert_array_equal(selected[0], [True, True, False])


def test_greedy_adds_a_label_that_ties_the_last_value():
    """The stop test is strict (CB < LB): an extension that ties the last value is added."""
    V = np.array([[1.0, 0.0], [0.0, 0.0]])
    scores, selected = greedy_subset_norm(V @ V.T, np.ones((1, 2)))
    assert_allclose(scores, [1.0])
    assert_array_equal(selected[0], [True, True])


def test_exact_oracle_matches_brute_force(global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    W, b, X = random_linear_problem(rng, 6, 7, 5)
    C = -1.0 / (X @ W.T + b)
    scores, selected = exact_subset_norm(W @ W.T, C)
    for i in range(len(X)):
        A = C[i][:, None] * W
        assert_allclose(scores[i], brute_force(A), rtol=1e-10)
        assert_allclose(np.linalg.norm(A[selected[i]].sum(axis=0)), scores[i], rtol=1e-10)


def test_greedy_is_a_lower_bound_close_to_exact():
    """Greedy <= exact everywhere; mean greedy/exact >= 0.95 over 200 cases with m = 8."""
    rng = np.random.RandomState(0)
    ratios = []
    for _ in range(200):
        W, b, X = random_linear_problem(rng, 1, 8, 10)
        C = -1.0 / (X @ W.T + b)
        greedy, _ = greedy_subset_norm(W @ W.T, C)
        exact, _ = exact_subset_norm(W @ W.T, C)
        assert greedy[0] <= exact[0] * (1 + 1e-10)
        ratios.append(greedy[0] / exact[0])
    assert np.mean(ratios) >= 0.95
    # The greedy is a heuristic: the objective is not submodular (doc: alg-greedy).
    assert min(ratios) < 1.0


def test_greedy_is_not_exact_on_the_non_submodular_example():
    """a1=(1,0), a2=(-1,0), a3=(1,0) breaks diminishing returns (doc: alg-greedy)."""
    V = np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0]])
    greedy, _ = greedy_subset_norm(V @ V.T, np.ones((1, 3)))
    exact, _ = exact_subset_norm(V @ V.T, np.ones((1, 3)))
    assert_allclose(exact, [2.0])
    assert greedy[0] <= exact[0]


def test_greedy_handles_empty_and_zero_inputs():
    scores, selected = greedy_subset_norm(np.eye(3), np.zeros((0, 3)))
    assert scores.shape == (0,) and selected.shape == (0, 3)
    scores, _ = greedy_subset_norm(np.eye(3), np.zeros((2, 3)))
    assert_array_equal(scores, [0.0, 0.0])


def test_greedy_rejects_bad_shapes_and_non_finite_values():
    with pytest.raises(ValueError, match="K must have shape"):
        greedy_subset_norm(np.eye(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match="non-finite inputs"):
        greedy_subset_norm(np.eye(2), np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="supports m <="):
        exact_subset_norm(np.eye(MAX_EXACT_LABELS + 1), np.ones((1, MAX_EXACT_LABELS + 1)))


def test_serial_and_parallel_kernels_have_their_own_cache_entries():
    # numba keys its disk cache by function name and line: one body compiled twice under
    # one name made the parallel kernel load the serial code (a 2x loss on 2 cores).
    from skarm._greedy import _exact_kernels, _greedy_kernels

    for serial, parallel in (_greedy_kernels, _exact_kernels):
        assert serial._cache._cache_file._index_path != parallel._cache._cache_file._index_path
        assert parallel.targetoptions.get("parallel") and not serial.targetoptions.get("parallel")
    rng = np.random.RandomState(0)
    W = rng.randn(30, 8)
    C = 1.0 / rng.randn(50, 30)
    a = np.zeros(50), np.zeros((50, 30), bool)
    b = np.zeros(50), np.zeros((50, 30), bool)
    K = np.ascontiguousarray((W @ W.T)[np.newaxis])
    _greedy_kernels[0](K, C, 0, *a)
    _greedy_kernels[1](K, C, 0, *b)
    assert_array_equal(a[1], b[1])
    assert_allclose(a[0], b[0], rtol=1e-12)
