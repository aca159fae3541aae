"""The parameters only the torch backend reads (imports no torch).

:mod:`skarm._classifier` validates them with the rest and refuses them with
``backend="linear"`` (:func:`skarm._spec.check_backend_parameters`); :func:`~._fit.fit_net`
takes them as values.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

from ..utils._sklearn_compat import HasMethods, Interval

__all__ = ["TORCH_PARAMETERS"]

TORCH_PARAMETERS = {
    "adversarial_steps": [Interval(Integral, 1, None, closed="left")],
    "module": [None, HasMethods(["forward"])],
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "validation_fraction": [None, Interval(Real, 0, 1, closed="neither")],
    "device": "no_validation",  # "auto" or anything torch.device reads; checked in fit
    "callbacks": [None, list],
    "net_params": [None, dict],
}
