"""Warnings and errors raised by skarm."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = [
    "BackendNotAvailableError",
    "ConvergenceWarning",
    "NearBoundaryWarning",
    "NotFittedError",
    "SkarmWarning",
]


class SkarmWarning(UserWarning):
    """Base class for the warnings skarm raises."""


class NearBoundaryWarning(SkarmWarning):
    """A decision score was so close to 0 that it had to be clamped.

    The Soft Attackability Estimator divides by the decision scores ``h_j(x)``; a score
    within ``delta`` of the boundary is replaced by ``+/-delta`` (its sign kept), which makes
    the instance's score very large but finite.
    """


class BackendNotAvailableError(ImportError):
    """An optional backend was requested but its dependencies are not installed."""
