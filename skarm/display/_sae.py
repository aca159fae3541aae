"""SAEDisplay: the distribution of the per-instance soft attackability."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from collections.abc import Mapping
from numbers import Integral

import numpy as np

from .._sae import DEFAULT_DELTA
from ..metrics import soft_attackability
from ..utils._sklearn_compat import Interval, StrOptions
from ._base import _BaseDisplay, plain_log_ticks

__all__ = ["SAEDisplay"]

_PLOT_CONSTRAINTS = {
    "bins": [Interval(Integral, 1, None, closed="left")],
    "log_scale": ["boolean", StrOptions({"auto"})],
    "hist_kwargs": [dict, None],
}


class SAEDisplay(_BaseDisplay):
    """Histogram of the per-instance soft attackability (SAE), mean and median marked.

    The SAE (:func:`~skarm.metrics.soft_attackability`) of an instance is how far one
    unit-norm input step can push many labels towards their boundaries at once; larger is
    more attackable. Its distribution is heavy-tailed (``1 / |h_j(x)|`` explodes near a
    boundary), so the mean, pulled up by a few instances, and the median are both marked,
    by labelled vertical lines. Several models are overlaid on shared bins. Use
    :meth:`from_estimator` for fitted models or :meth:`from_values` for SAE values computed
    elsewhere.

    Read more in the :ref:`User Guide <tradeoff_displays>`.

    Parameters
    ----------
    values : array-like of shape (n_samples,) or list of such arrays
        The SAE of each instance, one array per model (or one row per model of a 2-D
        array).
    names : list of str, default=None
        Names of the models, for the legend.

    Attributes
    ----------
    hists_ : list of list of matplotlib.patches.Patch
        The histogram of each model.
    mean_lines_ : list of matplotlib.lines.Line2D
        The vertical line at each model's mean SAE.
    median_lines_ : list of matplotlib.lines.Line2D
        The vertical line at each model's median SAE.
    ax_ : matplotlib.axes.Axes
        Axes with the histograms.
    figure_ : matplotlib.figure.Figure
        Figure containing the histograms.

    See Also
    --------
    skarm.metrics.soft_attackability : The per-instance SAE.
    AttackabilityCurveDisplay : What an attack achieves, against the budget.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skarm import ARMClassifier
    >>> from skarm.datasets import make_correlated_multilabel
    >>> from skarm.display import SAEDisplay
    >>> X, Y = make_correlated_multilabel(n_samples=60, n_features=6, n_labels=3,
    ...                                   random_state=0)
    >>> model = ARMClassifier(penalty=None, random_state=0).fit(X, Y)
    >>> display = SAEDisplay.from_estimator(model, X)
    >>> len(display.values[0])
    60
    >>> plt.show()
    """

    def __init__(self, *, values, names=None):
        self.values = values
        self.names = names

    def _check_values(self, caller_name):
        """``(arrays, names)``: one checked 1-D array of SAE values per model."""
        values = self.values
        if isinstance(values, np.ndarray):
            values = [values] if values.ndim == 1 else list(values)
        elif not isinstance(values, (list, tuple)) or not len(values):
            values = [values]
        elif np.ndim(values[0]) == 0:  # a flat list of numbers: one model
            values = [values]
        arrays = []
        for v in values:
            v = np.asarray(v, dtype=float)
            if v.ndim != 1 or v.size == 0:
                raise ValueError(
                    f"{caller_name}: values must be non-empty 1-D arrays of SAE values, one "
                    f"per model; got an array of shape {v.shape}."
                )
            if not np.all(np.isfinite(v)) or (v < 0).any():
                raise ValueError(f"{caller_name}: SAE values must be finite and >= 0.")
            arrays.append(v)
        names = self._check_names(self.names, len(arrays), "arrays of values", caller_name)
        return arrays, names

    def plot(self, ax=None, *, bins=30, log_scale="auto", hist_kwargs=None):
        """Plot the histograms and the mean and median lines.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        bins : int, default=30
            Number of bins, shared by all models.
        log_scale : bool or "auto", default="auto"
            Logarithmic x axis (and bins). ``"auto"`` uses it when every value is positive
            and they span two decades or more, as the SAE usually does.
        hist_kwargs : dict, default=None
            Keyword arguments passed to ``ax.hist``.

        Returns
        -------
        display : SAEDisplay
            Object that stores computed values.
        """
        caller = self._check_call("plot", _PLOT_CONSTRAINTS, locals())
        arrays, names = self._check_values(caller)
        edges, log_scale = _bin_edges(np.concatenate(arrays), bins, log_scale, caller)
        ax = self._axes(ax)
        several = len(arrays) > 1
        self.hists_, self.mean_lines_, self.median_lines_ = [], [], []
        for k, v in enumerate(arrays):
            color = f"C{k % 10}"
            name = names[k] if names is not None else None
            kwargs = {"histtype": "stepfilled", "alpha": 0.4 if several else 0.6,
                      "color": color, "edgecolor": color, **(hist_kwargs or {})}
            _, _, patches = ax.hist(v, bins=edges, label=name, **kwargs)
            self.hists_.append(list(patches))
            prefix = f"{name}: " if name is not None else ""
            mean, median = float(np.mean(v)), float(np.median(v))
            self.mean_lines_.append(ax.axvline(
                mean, color=color, linestyle=":", linewidth=2,
                label=f"{prefix}mean SAE = {mean:.3g}"))
            self.median_lines_.append(ax.axvline(
                median, color=color, linestyle="--", linewidth=1.5,
                label=f"{prefix}median SAE = {median:.3g}"))
        if log_scale:
            ax.set_xscale("log")
            plain_log_ticks(ax.xaxis)
        ax.set_xlabel("SAE: soft attackability of an instance"
                      + (" (log scale)" if log_scale else ""))
        ax.set_ylabel("instances")
        ax.legend(loc="best", fontsize=8)
        return self

    @classmethod
    def from_estimator(cls, estimator, X, *, y=None, delta=DEFAULT_DELTA, names=None,
                       ax=None, **kwargs):
        """Compute the SAE of each instance for fitted models and plot its distribution.

        Parameters
        ----------
        estimator : estimator instance, list of estimators or dict of str to estimator
            Fitted models that :func:`~skarm.metrics.soft_attackability` supports; a
            dict's keys name them.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Instances to score.
        y : array-like of shape (n_samples, n_labels), default=None
            {0, 1} labels; None (default) measures flips of the model's own prediction.
        delta : float, default=1e-8
            Clamp of the scores near a boundary, as in
            :func:`~skarm.metrics.soft_attackability`.
        names : str or list of str, default=None
            Names of the models; None uses the dict's keys, or the class names when there
            are several models (one model gets no legend entry of its own).
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        **kwargs : dict
            Passed to :meth:`plot` (``bins``, ``log_scale``, ``hist_kwargs``).

        Returns
        -------
        display : SAEDisplay
            Object that stores computed values.
        """
        caller = cls._check_call("from_estimator")
        given = names is not None or isinstance(estimator, (Mapping, list, tuple))
        names, models = cls._named_estimators(estimator, names, caller)
        values = [soft_attackability(m, X, y=y, delta=delta) for m in models]
        return cls.from_values(values, names=names if given else None, ax=ax, **kwargs)

    @classmethod
    def from_values(cls, values, *, names=None, ax=None, **kwargs):
        """Plot the distribution of SAE values computed elsewhere.

        Parameters
        ----------
        values : array-like of shape (n_samples,), list of arrays or dict of str to array
            The SAE of each instance, one array per model; a dict's keys name the models.
        names : str or list of str, default=None
            Names of the models (not with a dict).
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        **kwargs : dict
            Passed to :meth:`plot` (``bins``, ``log_scale``, ``hist_kwargs``).

        Returns
        -------
        display : SAEDisplay
            Object that stores computed values.
        """
        caller = cls._check_call("from_values")
        names, values = cls._named_values(values, names, caller)
        return cls._plot_values(caller, ax, kwargs, values=values, names=names)


def _bin_edges(values, bins, log_scale, caller_name):
    """``(edges, log_scale)``: the bins shared by all models, on the scale ``"auto"`` picks
    (logarithmic when every value is positive and they span two decades or more)."""
    lo, hi = values.min(), values.max()
    if log_scale == "auto":
        log_scale = bool(lo > 0 and hi >= 100 * lo)
    if log_scale and lo <= 0:
        raise ValueError(f"{caller_name}: log_scale=True needs positive SAE values; the "
                         f"smallest is {lo:g}.")
    if log_scale:
        edges = np.geomspace(lo, hi, bins + 1) if hi > lo else np.array([lo / 1.1, hi * 1.1])
    else:
        edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo - 0.5, hi + 0.5])
    return edges, log_scale
