"""make_correlated_multilabel: parameter bounds and label frequencies on every shape.

Its other tests (shapes, alignment, label correlation) are in test_datasets.py.
"""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skarm.datasets import make_correlated_multilabel
from skarm.utils._sklearn_compat import InvalidParameterError

# The documented range of the label frequencies.
LOW, HIGH = 0.15, 0.5


def test_noise_above_its_bound_is_rejected():
    message = (
        "The 'noise' parameter of make_correlated_multilabel must be a float in the range "
        "[0.0, 1e+100]. Got 1e+200 instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        make_correlated_multilabel(noise=1e200)


def test_noise_at_its_bound_gives_finite_output_without_overflow():
    with np.errstate(all="raise"):
        X, Y, W, b = make_correlated_multilabel(
            300, 4, 3, noise=1e100, return_directions=True, random_state=0
        )
    assert np.isfinite(X).all() and np.isfinite(W).all() and np.isfinite(b).all()
    freq = Y.mean(axis=0)
    assert np.all((freq >= LOW) & (freq <= HIGH)), freq


@pytest.mark.parametrize("name", ["n_samples", "n_features", "n_labels"])
@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_counts_reject_booleans(name, value):
    message = (
        f"The {name!r} parameter of make_correlated_multilabel must be an int in the range "
        f"[1, inf). Got {value!r} instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        make_correlated_multilabel(**{name: value})


def test_counts_accept_numpy_integers():
    X, Y = make_correlated_multilabel(np.int64(20), np.int32(3), np.uint8(2), random_state=0)
    assert X.shape == (20, 3) and Y.shape == (20, 2)


SHAPES = [
    (200, 1, 5),  # the fuzzing finding: frequencies [0, .36, .025, 0, .27] before
    (200, 1, 1),
    (2, 3, 4),
    (3, 1, 2),
    (7, 5, 5),
    (40, 2, 12),
    (200, 20, 5),
    (1000, 3, 30),
]


@pytest.mark.parametrize("n_samples, n_features, n_labels", SHAPES)
@pytest.mark.parametrize("correlation", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("noise", [0.0, 0.1, 10.0])
def test_label_frequencies_lie_in_the_documented_range(
    n_samples, n_features, n_labels, correlation, noise, global_random_seed
):
    _, Y = make_correlated_multilabel(
        n_samples, n_features, n_labels, correlation=correlation, noise=noise,
        random_state=global_random_seed,
    )
    freq = Y.mean(axis=0)
    # The biases are set from the sample: no sampling tolerance is needed.
    assert np.all((freq >= LOW) & (freq <= HIGH)), freq


@pytest.mark.parametrize("n_samples, n_features, n_labels", SHAPES)
def test_one_feature_directions_are_unit_vectors_and_give_the_labels(
    n_samples, n_features, n_labels
):
    # With one feature and correlation 0.5, a label's shared and own parts used to cancel
    # to the zero direction, whose label was then constant.
    X, Y, W, b = make_correlated_multilabel(
        n_samples, n_features, n_labels, correlation=0.5, noise=0.0,
        return_directions=True, random_state=0,
    )
    assert_allclose(np.linalg.norm(W, axis=1), 1.0)
    assert_array_equal(Y, (X @ W.T + b > 0).astype(np.int64))


def test_single_sample_is_reproducible_and_binary():
    X, Y, W, b = make_correlated_multilabel(1, 3, 4, return_directions=True, random_state=0)
    X2, Y2, W2, b2 = make_correlated_multilabel(1, 3, 4, return_directions=True, random_state=0)
    assert Y.shape == (1, 4) and set(np.unique(Y)) <= {0, 1}
    assert_array_equal(Y, Y2)
    assert_array_equal(b, b2)
    # The population bias (label j on with probability p_j in [0.15, 0.5]): b_j <= 0.
    assert np.all(b <= 0)
