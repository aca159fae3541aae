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
    "reproduce",
    "split_standardise",
]


def __getattr__(name):
    # Deprecated in 0.1: the unit of the budgets is not specific to the reproduction.
    if name == "median_row_norm":
        import warnings

        from ..utils import median_row_norm

        warnings.warn(
            "skarm.experiments.median_row_norm is deprecated and will be removed in skarm "
            "0.3; import it from skarm.utils instead.",
            FutureWarning,
            stacklevel=2,
        )
        return median_row_norm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
