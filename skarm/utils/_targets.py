"""The targets the ARM estimators accept, binarised one-vs-rest."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target

__all__ = ["binarize_targets"]

_SUPPORTED_TARGETS = ("binary", "multiclass", "multilabel-indicator")


def _unique(y):
    """Distinct values of a dense or sparse label matrix."""
    return np.unique(y.data if sp.issparse(y) else np.asarray(y))


def binarize_targets(y, estimator_name):
    """A fitted :class:`~sklearn.preprocessing.LabelBinarizer` and the {0, 1} matrix of y.

    A 2-D y must be a {0, 1} label indicator (multi-label); a 1-D binary or multiclass y
    is binarised one-vs-rest, as :class:`~sklearn.multiclass.OneVsRestClassifier` does.
    Anything else (continuous, multiclass-multioutput) raises ValueError.
    """
    check_classification_targets(y)
    target_type = type_of_target(y, input_name="y")
    if target_type not in _SUPPORTED_TARGETS:
        raise ValueError(
            f"{estimator_name} supports binary, multiclass and multilabel-indicator "
            f"targets (a 2-D y must be a {{0, 1}} indicator); got a {target_type} y."
        )
    # type_of_target calls any 2-valued integer matrix an indicator, {0, 2} included.
    if target_type == "multilabel-indicator" and not np.isin(_unique(y), (0, 1)).all():
        raise ValueError(
            f"A 2-D y must be a {{0, 1}} label indicator; got the values {_unique(y)}."
        )
    binarizer = LabelBinarizer()
    return binarizer, binarizer.fit_transform(y)
