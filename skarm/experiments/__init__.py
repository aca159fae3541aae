"""Reproduction of the paper's experiments (Tables 2-4): protocol, cached cells, reports.

:func:`reproduce` runs the whole protocol and writes JSON, Markdown and PNG results; the
``skarm reproduce`` command is a thin wrapper around it. The protocol's building blocks
(data loading, the split, the budgets, the grids) are public so that notebooks and
benchmarks use the very same definitions.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from ._protocol import (
    DATASETS,
    METHODS,
    Protocol,
    ReproduceError,
    budgets,
    default_protocol,
    load_dataset,
    median_row_norm,
    split_standardise,
)
from ._run import reproduce

__all__ = [
    "DATASETS",
    "METHODS",
    "Protocol",
    "ReproduceError",
    "budgets",
    "default_protocol",
    "load_dataset",
    "median_row_norm",
    "reproduce",
    "split_standardise",
]
