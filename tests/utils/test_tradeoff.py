"""The one Pareto front of the package (tables and plots), against brute force."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skarm.display import TradeoffDisplay
from skarm.experiments import _analysis
from skarm.utils._tradeoff import hypervolume, pareto_front, pareto_mask


def brute_front(c, a):
    """Points that no other point dominates (>= on both, > on one); NaN points never."""
    keep = []
    for i in range(len(c)):
        if np.isnan(c[i]) or np.isnan(a[i]):
            continue
        dominated = any(
            c[j] >= c[i] and a[j] >= a[i] and (c[j] > c[i] or a[j] > a[i])
            for j in range(len(c)) if not (np.isnan(c[j]) or np.isnan(a[j]))
        )
        if not dominated:
            keep.append(i)
    return keep


def brute_hypervolume(c, a, n=2001):
    """Area dominated by the points above the origin, on a fine grid of [0, 1]^2."""
    grid = (np.arange(n) + 0.5) / n
    gc, ga = np.meshgrid(grid, grid, indexing="ij")
    ok = ~(np.isnan(c) | np.isnan(a))
    covered = np.zeros(gc.shape, dtype=bool)
    for ci, ai in zip(c[ok], a[ok], strict=True):
        covered |= (gc <= ci) & (ga <= ai)
    return covered.mean()


@pytest.mark.parametrize("seed", range(6))
def test_front_and_hypervolume_match_brute_force_with_ties_and_nan(seed):
    rng = np.random.default_rng(seed)
    # Scores on a coarse grid, so that ties (equal points, equal clean scores) are common.
    c, a = rng.integers(0, 6, 25) / 5.0, rng.integers(0, 6, 25) / 5.0
    c[rng.random(25) < 0.15] = np.nan
    expected = brute_front(c, a)
    assert sorted(pareto_front(c, a)) == expected
    assert np.flatnonzero(pareto_mask(c, a)).tolist() == expected
    assert_allclose(hypervolume(c, a), brute_hypervolume(c, a), atol=2e-3)


def test_front_is_ordered_by_decreasing_clean_score():
    c, a = [0.7, 0.6, 0.5, 0.65, 0.6], [0.3, 0.5, 0.4, 0.2, 0.5]
    assert pareto_front(c, a) == [0, 1, 4]  # the tie at (0.6, 0.5) is kept, twice


def test_tables_and_plots_use_the_same_front():
    # The reproduction's tables and TradeoffDisplay used two functions that disagreed on
    # ties ([0, 2] against [0, 1, 2]) and on NaN points.
    c, a = np.array([0.9, 0.5, 0.5, np.nan]), np.array([0.1, 0.6, 0.6, 0.9])
    assert _analysis.pareto_front is pareto_front
    display = TradeoffDisplay(clean=c, adversarial=a)
    assert np.flatnonzero(display.pareto_mask).tolist() == sorted(pareto_front(c, a))
    assert pareto_front(c, a) == [0, 1, 2]


def test_median_row_norm_matches_numpy_dense_and_sparse():
    import scipy.sparse as sp

    from skarm.utils import median_row_norm

    X = np.random.RandomState(0).normal(size=(7, 3))
    expected = np.median(np.sqrt((X**2).sum(axis=1)))
    assert median_row_norm(X) == pytest.approx(expected, rel=1e-14)
    assert median_row_norm(sp.csr_matrix(X)) == pytest.approx(expected, rel=1e-14)


def test_median_row_norm_old_import_is_deprecated():
    import skarm.experiments
    from skarm.utils import median_row_norm

    with pytest.warns(FutureWarning, match="skarm.utils"):
        old = skarm.experiments.median_row_norm
    assert old is median_row_norm
