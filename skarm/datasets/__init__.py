"""Multi-label data: MULAN benchmarks, digit attributes, digit canvases, a generator."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from ._digit_attributes import load_digit_attributes
from ._digit_canvases import load_digit_canvases
from ._generators import make_correlated_multilabel
from ._mulan import load_mulan

__all__ = [
    "load_digit_attributes",
    "load_digit_canvases",
    "load_mulan",
    "make_correlated_multilabel",
]
