"""Warnings and errors raised by skarm."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = [
    "BackendNotAvailableError",
    "CollapsedModelWarning",
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


class CollapsedModelWarning(SkarmWarning):
    """A regularised or adversarially trained fit predicts a constant for every label.

    A penalty weight ``alpha`` (or an adversarial training budget ``adversarial_eps``) that
    is too large makes the best model the constant one (``W = 0`` for the linear backend):
    every prediction is the same whatever the input, robust but useless. The fit warns
    instead of returning it silently; lower ``alpha`` or ``adversarial_eps``.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from skarm import ARMClassifier
    >>> from skarm.exceptions import CollapsedModelWarning
    >>> X, Y = make_multilabel_classification(n_samples=100, n_classes=3, random_state=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = ARMClassifier(penalty=None, adversarial_eps=100.0).fit(X, Y)
    >>> [w.category.__name__ for w in caught]
    ['CollapsedModelWarning']
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
