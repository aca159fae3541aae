"""skarm: adversarially robust multi-label classification for scikit-learn.

Soft Attackability Estimator (SAE), attackability-regularised training (ARM-SAE,
ARM-Primal) and the GASE attack, after Yang, Han and Zhang, ECML-PKDD 2021.

The public names are imported on first use (PEP 562), so that ``import skarm`` and the
``skarm`` command start in well under a second: scikit-learn, numba and the compiled
kernels cost 3-5 s to import, and a usage error or ``--help`` needs none of them.
"""

import importlib

from ._version import __version__ as __version__  # re-exported

_SUBMODULES = ("attacks", "datasets", "deep", "display", "metrics", "utils")
# Public name -> the module that defines it.
_NAMES = {
    "ARMClassifier": "._classifier",
    "ARMPrimalClassifier": "._classifier",
    "ARMSAEClassifier": "._classifier",
    "DecisionProtocol": "._decision",
    "DifferentiableDecision": "._decision",
    "LinearDecision": "._decision",
    "as_decision": "._decision",
    "GASEAttack": ".attacks",
    "PGDAttack": ".attacks",
    "feature_space": "._feature_space",
}

__all__ = sorted([*_NAMES, *_SUBMODULES, "__version__"])


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name], __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
