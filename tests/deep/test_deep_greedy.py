"""The torch greedy (for CUDA models) against the numba greedy: the same selections."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skarm._greedy import greedy_subset_norm

torch = pytest.importorskip("torch")
from skarm.deep._greedy import greedy_selection, greedy_subset_norm_torch  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _problem(rng, n, m, d, shared):
    if shared:
        V = rng.standard_normal((m, d))
        K = V @ V.T
    else:
        V = rng.standard_normal((n, m, d))
        K = np.einsum("bjd,bkd->bjk", V, V)
    # Heavy-tailed weights of both signs, as SAE's -1/h_j are.
    C = rng.standard_normal((n, m)) / rng.uniform(0.01, 1.0, (n, m))
    return K, C


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("m", [1, 2, 7, 40])
def test_torch_greedy_equals_numba_greedy(device, shared, m, global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    K, C = _problem(rng, 30, m, 5, shared)
    ref_scores, ref_selected = greedy_subset_norm(K, C)
    scores, selected = greedy_subset_norm_torch(
        torch.as_tensor(K, device=device), torch.as_tensor(C, device=device)
    )
    assert_array_equal(selected.cpu().numpy(), ref_selected)
    assert_allclose(scores.cpu().numpy(), ref_scores, rtol=1e-12)


def test_torch_greedy_ties_go_to_the_lowest_index():
    # Three identical vectors: every first pick ties; the numba rule takes label 0, then 1, 2.
    K = torch.ones(3, 3, dtype=torch.float64)
    C = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    scores, selected = greedy_subset_norm_torch(K, C)
    ref_scores, ref_selected = greedy_subset_norm(K.numpy(), C.numpy())
    assert_array_equal(selected.numpy(), ref_selected)
    assert_allclose(scores.numpy(), ref_scores)
    assert selected[0].tolist() == [True, True, True] and float(scores[0]) == pytest.approx(3.0)


def test_torch_greedy_rejects_bad_input_like_the_numba_one():
    with pytest.raises(ValueError, match=r"weights C from the decision scores \(not finite\)"):
        greedy_subset_norm_torch(torch.eye(2), torch.tensor([[1.0, float("nan")]]))
    with pytest.raises(ValueError, match="K must have shape"):
        greedy_subset_norm_torch(torch.eye(3), torch.ones(1, 2))


def test_greedy_selection_on_the_cpu_uses_the_numba_kernel():
    rng = np.random.RandomState(0)
    K, C = _problem(rng, 10, 6, 4, False)
    selected, scores = greedy_selection(torch.as_tensor(K), torch.as_tensor(C))
    ref_scores, ref_selected = greedy_subset_norm(K, C)
    assert selected.dtype == torch.bool and selected.device.type == "cpu"
    assert_array_equal(selected.numpy(), ref_selected)
    assert_array_equal(scores, ref_scores)
