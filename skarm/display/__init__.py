"""Displays: plots of attackability and of the clean vs robust trade-off.

scikit-learn style visualisation objects, on one base and one convention:

* the constructor stores its arguments (``TradeoffDisplay``'s also checks them, as it
  always has) and computes nothing;
* ``from_estimator`` computes the values from fitted models and hands them to
  ``from_values``, the one classmethod of each Display for values computed elsewhere,
  which checks them, builds the display and calls ``plot``;
* ``plot(ax=None, ...)`` draws and returns the display, with the drawn artists as
  attributes (``ax_``, ``figure_``, ...).

``TradeoffDisplay.from_cv_results`` stays beside them: its input is a different thing, a
search's ``cv_results_`` (scikit-learn's curve Displays have a ``from_cv_results`` too),
and it ends in ``from_values`` as well. ``AttackabilityCurveDisplay.from_results`` is the
deprecated name of its ``from_values`` (deprecated in 0.1, removed in 0.3).

matplotlib is imported only when something is drawn: ``import skarm.display`` does not
need it.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from ._attackability import AttackabilityCurveDisplay
from ._sae import SAEDisplay
from ._tradeoff import TradeoffDisplay

__all__ = ["AttackabilityCurveDisplay", "SAEDisplay", "TradeoffDisplay"]
