"""Utilities shared by skarm's metrics, reports and users' own code.

The budget unit (:func:`median_row_norm`) and the comparison of models on two scores, clean
and under attack (:func:`pareto_mask`, :func:`pareto_front`, :func:`hypervolume`). The list
of skarm's estimators is :func:`skarm.utils.discovery.all_estimators`, in a module of its own
(as scikit-learn's), imported only by whoever asks for it.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from ._tradeoff import hypervolume, median_row_norm, pareto_front, pareto_mask

__all__ = ["hypervolume", "median_row_norm", "pareto_front", "pareto_mask"]
