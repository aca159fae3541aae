"""What both backends share: the vocabulary of skarm's models and their common parameters.

The estimators (:mod:`skarm._classifier`) take the parameters of both backends, so that one
class fits a linear SVM or a torch network. Which parameter each backend honours is
declared in one place per backend:

- :data:`SHARED_PARAMETERS` (here): the penalty, its weight and shape, adversarial
  training, the seed and verbosity, read by both;
- :data:`skarm.linear._fit.LINEAR_PARAMETERS`: ``C``, ``loss``, the solver and its budget,
  ``warm_start``, ``n_jobs``;
- :data:`skarm.deep._params.TORCH_PARAMETERS`: the module, the training loop and the device.

:func:`check_backend_parameters` warns about a parameter of the other backend set away from
its default, which the chosen backend would otherwise ignore without a word (a
FutureWarning: from skarm 0.3 it is an error), and refuses ``warm_start`` with torch.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
import warnings
from numbers import Real

import numpy as np

from .utils._sklearn_compat import Interval, StrOptions

__all__ = [
    "ADVERSARIAL_METHODS",
    "LOSSES",
    "LOSS_REDUCTIONS",
    "MARGIN_WEIGHTINGS",
    "PENALTIES",
    "SHARED_PARAMETERS",
    "check_backend_parameters",
]

PENALTIES = (None, "l2", "nuclear", "single", "primal", "sae")
LOSSES = ("hinge", "squared_hinge")
LOSS_REDUCTIONS = ("sum", "mean")
# How the ARM-SAE label vectors are weighted by the margin (skarm._sae.arm_sae_label_weights).
MARGIN_WEIGHTINGS = ("floor", "soft")
# adversarial_method values: "auto" is "per-label" for the linear backend, "pgd" for torch.
ADVERSARIAL_METHODS = ("auto", "per-label", "pgd")

# The parameters both backends read, with scikit-learn's constraints. ``penalty`` is
# ARMClassifier's only (the presets fix it).
SHARED_PARAMETERS = {
    "alpha": [Interval(Real, 0, None, closed="left")],
    "margin_floor": [Interval(Real, 0, None, closed="neither")],
    "margin_weighting": [StrOptions(set(MARGIN_WEIGHTINGS))],
    "adversarial_eps": [Interval(Real, 0, None, closed="left")],
    "adversarial_method": [StrOptions(set(ADVERSARIAL_METHODS))],
    "loss_reduction": [StrOptions(set(LOSS_REDUCTIONS))],
    "backend": [StrOptions({"linear", "torch"})],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def _is_default(value, default):
    """Whether a parameter still has its default, without truth-testing arrays."""
    if value is default:
        return True
    if isinstance(default, tuple):  # hidden_layer_sizes=(100,): [100] is the same sizes
        try:
            return np.array_equal(np.asarray(value, dtype=object), np.asarray(default))
        except (TypeError, ValueError):
            return False
    if isinstance(value, bool | np.bool_) or isinstance(default, bool):
        return bool(value) is default if isinstance(value, bool | np.bool_) else False
    if isinstance(value, Real) and isinstance(default, Real):
        return value == default  # lr=np.float64(1e-3) is the default lr=1e-3
    return type(value) is type(default) and value == default


def check_backend_parameters(estimator, backend_parameters, *, stacklevel=4):
    """Warn about parameters that the estimator's backend does not read but the user set.

    Parameters
    ----------
    estimator : ARMClassifier or preset
        Its ``backend`` names the backend used; defaults are read from its ``__init__``.
    backend_parameters : dict
        Backend name -> the names of the parameters only that backend reads.
    stacklevel : int, default=4
        Of the warning: the user's call to ``fit`` (through scikit-learn's _fit_context).

    Warns
    -----
    FutureWarning
        "max_epochs=5 is available with backend='torch' only; backend='linear' ignores
        it. From skarm 0.3 this is an error: ..." Ignored before, silently; an error
        after the deprecation, as ``warm_start`` with torch is now.

    Raises
    ------
    ValueError
        ``warm_start=True`` with ``backend="torch"``, which trains a new network in every
        fit.
    """
    signature = inspect.signature(type(estimator).__init__).parameters
    for owner, names in backend_parameters.items():
        if owner == estimator.backend:
            continue
        for name in names:
            value, default = getattr(estimator, name), signature[name].default
            if _is_default(value, default):
                continue
            only = f"{name}={value!r} is available with backend={owner!r} only"
            if name == "warm_start":
                raise ValueError(
                    f"{only}; the torch backend trains a new network in every fit."
                )
            warnings.warn(
                f"{only}; backend={estimator.backend!r} ignores it. From skarm 0.3 this is "
                f"an error: leave {name} at its default "
                f"({default!r}) or set backend={owner!r} (in a search over backends, give "
                "each backend its own parameter grid).",
                FutureWarning,
                stacklevel=stacklevel,
            )
