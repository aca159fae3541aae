"""skarm: adversarially robust multi-label classification for scikit-learn.

Soft Attackability Estimator (SAE), attackability-regularised training (ARM-SAE,
ARM-Primal) and the GASE attack, after Yang, Han and Zhang, ECML-PKDD 2021.
"""

from . import attacks, datasets, deep, display, metrics
from ._classifier import ARMClassifier, ARMPrimalClassifier, ARMSAEClassifier
from ._feature_space import feature_space
from ._version import __version__
from .attacks import GASEAttack, PGDAttack

__all__ = [
    "ARMClassifier",
    "ARMPrimalClassifier",
    "ARMSAEClassifier",
    "GASEAttack",
    "PGDAttack",
    "__version__",
    "attacks",
    "datasets",
    "deep",
    "display",
    "feature_space",
    "metrics",
]
