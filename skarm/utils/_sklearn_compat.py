"""The one module that imports private or version-dependent scikit-learn API.

Everything else in skarm imports these names from here, so a change in scikit-learn's
private modules is fixed in one place.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.multiclass import _ConstantPredictor as ConstantPredictor
from sklearn.utils import _safe_indexing
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    make_constraint,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.validation import _num_samples, validate_data

__all__ = [
    "N_JOBS_CONSTRAINT",
    "ConstantPredictor",
    "Count",
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_fit_context",
    "_num_samples",
    "_safe_indexing",
    "check_matplotlib_support",
    "fitted_target_type",
    "validate_data",
    "validate_entries",
    "validate_parameter_constraints",
    "validate_params",
]


class Count(Interval):
    """An integer interval that, unlike scikit-learn's, does not take True and False
    (``bool`` is an ``Integral``, so ``n_samples=True`` would pass as 1)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


def validate_entries(constraints, params, *, owner, container):
    """Validate parameters handed over in a dict argument, naming the dict's entry.

    ``make_adversarial_scorer(attack_params={"overshoot": -1})`` must say that the
    *entry* of ``attack_params`` is wrong, in scikit-learn's words, and not name the
    outer function's parameter (which ``validate_params`` would do with scikit-learn's own
    message, "The ... parameter of <function> must be ...").

    Raises
    ------
    InvalidParameterError
        "The 'overshoot' entry of attack_params (a parameter of GASEAttack) must be a float
        in the range [0, inf). Got -1 instead."
    """
    for key, value in params.items():
        rules = constraints.get(key, "no_validation")
        if rules == "no_validation":
            continue
        rules = [make_constraint(rule) for rule in rules]
        if any(rule.is_satisfied_by(value) for rule in rules):
            continue
        shown = [str(rule) for rule in rules if not rule.hidden]
        text = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
        raise InvalidParameterError(
            f"The {key!r} entry of {container} (a parameter of {owner}) must be {text}. "
            f"Got {value!r} instead."
        )


def fitted_target_type(estimator):
    """The target type a fitted classifier saw ("multilabel-indicator", "multiclass", ...).

    Read from its label binarizer: public ``label_binarizer_`` (OneVsRestClassifier) or the
    private ``_label_binarizer`` (RidgeClassifier). None when the estimator keeps neither.
    """
    for attr in ("label_binarizer_", "_label_binarizer"):
        binarizer = getattr(estimator, attr, None)
        if binarizer is not None:
            return getattr(binarizer, "y_type_", None)
    return None


# The parameter rule of every ``n_jobs``: joblib's convention, where 0 is not a number of
# jobs (it failed deep inside joblib, or passed silently below one batch of rows).
N_JOBS_CONSTRAINT = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]
