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
    """Base class for the warnings skarm raises.

    Examples
    --------
    >>> import warnings
    >>> from skarm.exceptions import NearBoundaryWarning, SkarmWarning
    >>> issubclass(NearBoundaryWarning, SkarmWarning)
    True
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", SkarmWarning)  # silences all of skarm's warnings
    """


class NearBoundaryWarning(SkarmWarning):
    """A decision score was so close to 0 that it had to be clamped.

    The Soft Attackability Estimator divides by the decision scores ``h_j(x)``; a score
    within ``delta`` of the boundary is replaced by ``+/-delta`` (its sign kept), which makes
    the instance's score very large but finite.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.linear_model import RidgeClassifier
    >>> from skarm.exceptions import NearBoundaryWarning
    >>> from skarm.metrics import soft_attackability
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [1.0, 2.0]])
    >>> Y = np.array([[0, 1], [1, 0], [1, 1], [0, 1]])
    >>> model = RidgeClassifier().fit(X, Y)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     sae = soft_attackability(model, X, delta=1e3)  # every score is within delta
    >>> [w.category.__name__ for w in caught]
    ['NearBoundaryWarning']
    """


class BackendNotAvailableError(ImportError):
    """An optional backend was requested but its dependencies are not installed.

    It subclasses ImportError, so ``except ImportError`` catches it too.

    Examples
    --------
    >>> from skarm.exceptions import BackendNotAvailableError
    >>> issubclass(BackendNotAvailableError, ImportError)
    True
    """
