"""Multi-label data: MULAN benchmarks, digits labelled with attributes, a generator."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from ._digit_attributes import load_digit_attributes
from ._generators import make_correlated_multilabel
from ._mulan import load_mulan

__all__ = ["load_digit_attributes", "load_mulan", "make_correlated_multilabel"]
