"""The names both backends accept: the penalties R and the losses of skarm's models.

Kept apart from either backend so that the linear objective, the torch penalties and the
estimators check against one list.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

__all__ = ["LOSSES", "PENALTIES"]

PENALTIES = (None, "l2", "nuclear", "single", "primal", "sae")
LOSSES = ("hinge", "squared_hinge")
