"""Displays: plots of attackability and of the clean vs robust trade-off.

scikit-learn style visualisation objects. Each has a ``from_estimator`` classmethod that
computes what it draws from fitted models, a classmethod (or the constructor) that takes
values computed elsewhere, and a ``plot(ax=None, ...)`` method returning the display, with
the drawn artists as attributes (``ax_``, ``figure_``, ...). matplotlib is imported only
when something is drawn: ``import skarm.display`` does not need it.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from ._attackability import AttackabilityCurveDisplay
from ._sae import SAEDisplay
from ._tradeoff import TradeoffDisplay

__all__ = ["AttackabilityCurveDisplay", "SAEDisplay", "TradeoffDisplay"]
