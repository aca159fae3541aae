"""Handwritten digits labelled with attributes of the digit: a small, offline multi-label set."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch

from ..utils._sklearn_compat import validate_params

__all__ = ["load_digit_attributes"]

# Each attribute is the set of digits that have it. Two kinds on purpose: arithmetic
# attributes (even, prime, ...) and visual ones (loops, straight strokes, symmetry), so
# that labels are correlated both through the digit and through the ink.
DIGIT_ATTRIBUTES = {
    "even": (0, 2, 4, 6, 8),
    "prime": (2, 3, 5, 7),
    "at_least_5": (5, 6, 7, 8, 9),
    "closed_loop": (0, 6, 8, 9),
    "straight_strokes": (1, 4, 7),
    "multiple_of_3": (0, 3, 6, 9),
    "perfect_square": (0, 1, 4, 9),
    "horizontal_symmetry": (0, 1, 3, 8),
}


def _attribute_table():
    """(10, n_attributes) {0, 1} table: row d holds the attributes of digit d."""
    table = np.zeros((10, len(DIGIT_ATTRIBUTES)), dtype=np.int64)
    for j, digits in enumerate(DIGIT_ATTRIBUTES.values()):
        table[list(digits), j] = 1
    return table


def _attribute_table_rst(indent=""):
    """The attribute table as an RST simple table (digits as columns), for the docs."""
    width = max(map(len, DIGIT_ATTRIBUTES))
    rule = "=" * width + "  " + "  ".join("=" * 10)
    rows = [rule, "attribute".ljust(width) + "  " + "  ".join(map(str, range(10))), rule]
    rows += [
        name.ljust(width) + "  " + "  ".join(map(str, row))
        for name, row in zip(DIGIT_ATTRIBUTES, _attribute_table().T, strict=True)
    ]
    rows.append(rule)
    return "\n".join(indent + row for row in rows)


_DESCR = f"""\
.. _digit_attributes_dataset:

Digit attributes data set
-------------------------

**Data Set Characteristics:**

:Number of Instances: 1797
:Number of Features: 64 (8x8 pixels, integers 0..16, as float64)
:Number of Labels: 8 ({{0, 1}}, 2 to 5 labels per image, 3.3 on average)
:Creator of the images: E. Alpaydin, C. Kaynak (UCI optical recognition of handwritten
    digits, test part), as shipped with scikit-learn (``load_digits``)

The images of :func:`sklearn.datasets.load_digits`, each labelled with the attributes
of its digit (1 = the digit has it):

{_attribute_table_rst()}

``closed_loop``: an enclosed area in the usual handwritten form (4 is most often written
open at the top). ``straight_strokes``: written with straight strokes only.
``horizontal_symmetry``: unchanged when flipped top to bottom, in printed form.

The labels are real properties of real images and correlated by construction (every
label is a function of the digit). No two digits share a label set, so the digit can be
recovered from its labels.

.. topic:: References

  - E. Alpaydin, C. Kaynak (1998), Optical Recognition of Handwritten Digits,
    UCI Machine Learning Repository, https://doi.org/10.24432/C50P49.
"""


@validate_params({"return_X_y": ["boolean"]}, prefer_skip_nested_validation=True)
def load_digit_attributes(*, return_X_y=False):
    """Load the 8x8 digit images labelled with attributes of their digit (multi-label).

    The 1797 images of :func:`sklearn.datasets.load_digits` (shipped with
    scikit-learn, nothing is downloaded), each with 8 binary labels: attributes of the
    digit it shows. Every image has 2 to 5 labels (3.3 on average).

{attribute_table}

    ``closed_loop`` counts an enclosed area in the usual handwritten form (an open-topped
    4 has none); ``straight_strokes`` means written with straight strokes only;
    ``horizontal_symmetry`` means unchanged when flipped top to bottom.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (1797, 64)
            The flattened images, float64 in [0, 16].
        target : ndarray of shape (1797, 8)
            The {0, 1} label indicator matrix, int64: ``attribute_table[digit]``.
        feature_names : list of str
            Pixel names ``"pixel_<row>_<column>"``.
        target_names : list of str
            The attribute names, in the order of the table above.
        digit : ndarray of shape (1797,)
            The digit (0-9) each image shows.
        images : ndarray of shape (1797, 8, 8)
            The images.
        attribute_table : ndarray of shape (10, 8)
            The table above: row ``d`` holds the labels of digit ``d``.
        DESCR : str
            Description of the data set.

    (data, target) : tuple if ``return_X_y`` is True
        The images, shape (1797, 64), and the label indicator matrix, shape (1797, 8).

    Examples
    --------
    >>> from skarm.datasets import load_digit_attributes
    >>> digits = load_digit_attributes()
    >>> digits.data.shape, digits.target.shape
    ((1797, 64), (1797, 8))
    >>> digits.target_names[:3]
    ['even', 'prime', 'at_least_5']
    >>> int(digits.digit[0]), digits.target[0].tolist()
    (0, [1, 0, 0, 1, 0, 1, 1, 1])
    """
    digits = load_digits()
    table = _attribute_table()
    digit = digits.target.astype(np.int64)
    data = digits.data.astype(np.float64)
    target = table[digit]
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=list(digits.feature_names),
        target_names=list(DIGIT_ATTRIBUTES),
        digit=digit,
        images=digits.images,
        attribute_table=table,
        DESCR=_DESCR,
    )


# The table is generated from DIGIT_ATTRIBUTES, so the docs cannot drift from the data.
load_digit_attributes.__doc__ = load_digit_attributes.__doc__.replace(
    "{attribute_table}", _attribute_table_rst(indent="    ")
)
