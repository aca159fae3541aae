"""skarm: adversarially robust multi-label classification for scikit-learn.

Soft Attackability Estimator (SAE), attackability-regularised training (ARM-SAE,
ARM-Primal) and the GASE attack, after Yang, Han and Zhang, ECML-PKDD 2021.
"""

from . import datasets, deep, metrics
from ._classifier import ARMClassifier, ARMPrimalClassifier, ARMSAEClassifier
from ._version import __version__

__all__ = [
    "ARMClassifier",
    "ARMPrimalClassifier",
    "ARMSAEClassifier",
    "__version__",
    "datasets",
    "deep",
    "metrics",
]
