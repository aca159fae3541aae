"""TradeoffDisplay: clean against adversarial score of many models, Pareto fronts marked.

Its constructors of precomputed values: ``from_values`` (two score vectors), which
``from_estimator`` ends in, and ``from_cv_results``, kept under scikit-learn's name for
that input: a search's ``cv_results_`` (keys to pick, candidates' parameters to group
and name them by) is not values to draw, so it is read there and handed to
``from_values``.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from collections.abc import Mapping
from numbers import Real

import numpy as np
from sklearn.metrics import get_scorer

from ..metrics import make_adversarial_scorer
from ..utils._sklearn_compat import StrOptions
from ..utils._tradeoff import hypervolume, pareto_mask
from ._base import (
    ATTACK_NAMES,
    METRICS,
    _BaseDisplay,
    annotate_points,
    attack_constraint,
    format_number,
    place_note,
)

__all__ = ["TradeoffDisplay"]


def _cv_label(key):
    for prefix, what in (("mean_test_", "mean CV test score"),
                         ("mean_train_", "mean CV train score")):
        if key.startswith(prefix):
            return f"{key[len(prefix):]} ({what})"
    return key


def _param_text(params, skip=()):
    return ", ".join(f"{k.rsplit('__', 1)[-1]}={format_number(v)}"
                     for k, v in params.items() if k not in skip)


# The rules of plot's parameters.
_PLOT_CONSTRAINTS = {
    "annotate": [StrOptions({"front", "all"}), None], "clip": ["boolean"],
    "colors": [dict, None], "show_hypervolume": ["boolean"],
    "reference": ["array-like", None], "reference_label": [str],
    "hollow": ["array-like", None], "hollow_label": [str],
    "clean_threshold": [Real, None], "threshold_label": [str],
    "legend_kwargs": [dict, None],
}


def _members(groups, n):
    """(group, indices) in the order groups first appear; one (None, all) without."""
    if groups is None:
        return [(None, np.arange(n))]
    labels = np.asarray(groups, dtype=object)
    return [(g, np.flatnonzero(labels == g)) for g in dict.fromkeys(groups)]


def _fronts(clean, adversarial, groups):
    """``(mask, hypervolume)``: True for the points on the front of their group, and the
    hypervolume of each group's front (one float without groups)."""
    mask, areas = np.zeros(clean.shape[0], dtype=bool), {}
    for group, idx in _members(groups, clean.shape[0]):
        mask[idx] = pareto_mask(clean[idx], adversarial[idx])
        areas[group] = hypervolume(clean[idx], adversarial[idx])
    return mask, (areas[None] if groups is None else areas)


def _check_marks(reference, hollow, n, caller_name):
    """``(reference, hollow)`` of plot, checked: an array of shape (0 or 1, 2), and a bool
    vector of ``n`` entries (all False when not given)."""
    if reference is not None and np.shape(reference) != (2,):
        raise ValueError(f"{caller_name}: reference must be a pair (clean, adversarial); "
                         f"got {reference!r}.")
    if hollow is None:
        hollow = np.zeros(n, dtype=bool)
    hollow = np.asarray(hollow, dtype=bool)
    if hollow.shape != (n,):
        raise ValueError(f"{caller_name}: hollow must have one entry per point ({n}); got "
                         f"shape {hollow.shape}.")
    reference = np.asarray([] if reference is None else reference, dtype=float)
    return reference.reshape(-1, 2), hollow


def _style_axes(ax):
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.grid(alpha=0.3)


def _clip_limits(c, a, finite, reference, clean_threshold):
    """``(shown, limits)``: the points inside the informative range (from the lowest clean
    score on the front of all points, or the reference, or the threshold, with a margin,
    up), and ``(xlim, ylim)`` around them and the marks; None when no point is left out."""
    overall = pareto_mask(c, a)
    if not overall.any():
        return finite, None
    marks = [*reference[:, 0], *([] if clean_threshold is None else [float(clean_threshold)])]
    left = min([c[overall].min(), *marks])
    span = max([c[finite].max(), *marks]) - left
    margin = 0.08 * span if span > 0 else 0.02
    shown = finite & (c >= left - margin)
    if shown.sum() == finite.sum():
        return shown, None
    xs, ys = np.r_[c[shown], reference[:, 0]], np.r_[a[shown], reference[:, 1]]
    xlim = (min([xs.min(), *marks]) - margin, max([xs.max(), *marks]) + margin)
    pad = 0.08 * (ys.max() - ys.min()) if ys.max() > ys.min() else 0.02
    return shown, (xlim, (ys.min() - pad, ys.max() + pad))


class TradeoffDisplay(_BaseDisplay):
    """Clean against adversarial score of many models, with the Pareto front marked.

    Each model is a point: its clean score on the x axis, its score under attack on the y
    axis. The points no other point dominates (better or equal on both scores, better on
    one) form the Pareto front, drawn as a line through them; dominated points are drawn
    faint. With ``groups``, each group (a penalty, a model family) gets its own colour and
    its own front. Use :meth:`from_cv_results` for the candidates of a
    :class:`~sklearn.model_selection.GridSearchCV` scored on both criteria,
    :meth:`from_estimator` for fitted models, or :meth:`from_values` (or the constructor
    then :meth:`plot`) for scores computed elsewhere. The constructor stores its arguments
    as given, once checked; the fronts are computed from them when asked for.

    Read more in the :ref:`User Guide <tradeoff_displays>`.

    Parameters
    ----------
    clean : array-like of shape (n_points,)
        Clean scores (greater is better). NaN marks a missing score: the point is not
        drawn.
    adversarial : array-like of shape (n_points,)
        Scores under attack (greater is better).
    names : list of str of length n_points, default=None
        Labels of the points (``"alpha=0.1"``), written next to the front's points.
    groups : list of str of length n_points, default=None
        Group of each point; each group gets a colour, a front and a legend entry.
    clean_label : str, default="clean score"
        Label of the x axis.
    adversarial_label : str, default="score under attack"
        Label of the y axis.

    Attributes
    ----------
    pareto_mask : ndarray of bool of shape (n_points,)
        True for the points on the front of their group (of all points without groups);
        computed from ``clean``, ``adversarial`` and ``groups`` when read.
    hypervolume : float or dict of str to float
        Area of the plane the front dominates above the origin (per group with groups):
        one number per front, larger is better; computed when read.
    front_lines_ : list of matplotlib.lines.Line2D
        The front of each group.
    dominated_ : list of matplotlib.collections.PathCollection
        The dominated points of each group.
    annotations_ : list of matplotlib.text.Annotation
        The points' labels.
    clip_text_ : matplotlib.text.Text or None
        The note saying how many points lie outside the axes.
    reference_ : matplotlib.lines.Line2D or None
        The reference model's star.
    threshold_line_ : matplotlib.lines.Line2D or None
        The vertical line at ``clean_threshold``.
    ax_ : matplotlib.axes.Axes
        Axes with the points.
    figure_ : matplotlib.figure.Figure
        Figure containing the points.

    See Also
    --------
    AttackabilityCurveDisplay : A metric under attack against the budget.
    skarm.model_selection.robust_refit : Choose a candidate on both scores.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skarm.display import TradeoffDisplay
    >>> display = TradeoffDisplay(clean=[0.80, 0.78, 0.70, 0.75],
    ...                           adversarial=[0.40, 0.55, 0.60, 0.50],
    ...                           names=["a=0", "a=0.1", "a=1", "a=0.3"])
    >>> display.pareto_mask
    array([ True,  True,  True, False])
    >>> display = display.plot()
    >>> same = TradeoffDisplay.from_values([0.80, 0.78, 0.70, 0.75],
    ...                                    [0.40, 0.55, 0.60, 0.50])
    >>> same.front_lines_[0].get_xdata().tolist()
    [0.7, 0.78, 0.8]
    >>> plt.show()
    """

    def __init__(self, *, clean, adversarial, names=None, groups=None,
                 clean_label="clean score", adversarial_label="score under attack"):
        self.clean = clean
        self.adversarial = adversarial
        self.names = names
        self.groups = groups
        self.clean_label = clean_label
        self.adversarial_label = adversarial_label
        # The constructor is the documented entry for scores computed elsewhere, and has
        # always refused wrong ones where they are given: it checks, and computes nothing.
        self._check_values(type(self).__name__)

    def _check_values(self, caller_name):
        """``(clean, adversarial, names, groups)``, checked: two float vectors of one length
        (NaN for a missing score), lists of str or None."""
        clean, adversarial = (
            self._check_numbers(self._as_1d(values, name, caller_name), name, caller_name,
                                allow_nan=True)
            for name, values in (("clean", self.clean), ("adversarial", self.adversarial))
        )
        n = clean.shape[0]
        if adversarial.shape[0] != n:
            raise ValueError(
                f"{caller_name}: clean and adversarial must have the same length; got {n} "
                f"and {adversarial.shape[0]}."
            )
        names = self._check_names(self.names, n, "points", caller_name)
        groups = self._check_names(self.groups, n, "points (groups)", caller_name)
        return clean, adversarial, names, groups

    @property
    def pareto_mask(self):
        """ndarray of bool: the points on the front of their group, from the stored scores."""
        return self._stored_fronts()[0]

    @property
    def hypervolume(self):
        """float or dict of str to float: each front's hypervolume, from the stored scores."""
        return self._stored_fronts()[1]

    def _stored_fronts(self):
        clean, adversarial, _, groups = self._check_values(type(self).__name__)
        return _fronts(clean, adversarial, groups)

    def plot(self, ax=None, *, annotate="front", clip=True, colors=None,
             show_hypervolume=False, reference=None, reference_label="reference model",
             hollow=None, hollow_label="hollow: flagged model", clean_threshold=None,
             threshold_label="clean-score threshold", legend_kwargs=None):
        """Plot the points and the fronts.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        annotate : {"front", "all"} or None, default="front"
            Which points get their name written next to them (with ``names``); labels are
            moved so as not to overlap.
        clip : bool, default=True
            Limit the axes to the informative range: the clean scores from the lowest one
            on the front of all points (or the reference, or the threshold, if lower), with
            a margin, up. Every point further left is dominated (the front's leftmost point
            has the best adversarial score); a note on the axes says how many were left
            out.
        colors : dict of str to color, default=None
            Colour of each group (matplotlib's colour cycle for the others).
        show_hypervolume : bool, default=False
            Write each front's hypervolume in its legend entry.
        reference : tuple of (float, float), default=None
            ``(clean, adversarial)`` of a reference model (the unregularised one), drawn as
            a black star and kept inside the axes.
        reference_label : str, default="reference model"
            Legend entry of the reference.
        hollow : array-like of bool of shape (n_points,), default=None
            Points to draw hollow, such as collapsed models.
        hollow_label : str, default="hollow: flagged model"
            Legend entry of the hollow points.
        clean_threshold : float, default=None
            A clean score to mark with a vertical line (the lowest one a selection rule
            accepts, for instance), kept inside the axes.
        threshold_label : str, default="clean-score threshold"
            Legend entry of the line.
        legend_kwargs : dict, default=None
            Keyword arguments of ``ax.legend`` (``loc="best"``, ``fontsize=8`` unless
            given).

        Returns
        -------
        display : TradeoffDisplay
            Object that stores computed values.
        """
        caller = self._check_call("plot", _PLOT_CONSTRAINTS, locals())
        c, a, names, groups = self._check_values(caller)
        reference, hollow = _check_marks(reference, hollow, c.shape[0], caller)
        ax = self._axes(ax)
        finite = np.isfinite(c) & np.isfinite(a)
        front, areas = _fronts(c, a, groups)
        self._draw_points(ax, c, a, groups, front, finite, colors,
                          areas if show_hypervolume else None, hollow, hollow_label)
        self._draw_marks(ax, reference, reference_label, clean_threshold, threshold_label)
        ax.set_xlabel(self.clean_label)
        ax.set_ylabel(self.adversarial_label)
        _style_axes(ax)
        shown, limits = (_clip_limits(c, a, finite, reference, clean_threshold) if clip
                         else (finite, None))
        if limits is not None:
            ax.set_xlim(limits[0])
            ax.set_ylim(limits[1])
        # The legend before the notes and labels: an outside legend changes the layout they
        # are placed in; "best" is found when drawing, around them.
        ax.legend(**{"loc": "best", "fontsize": 8, **(legend_kwargs or {})})
        self._write_clip_note(ax, c, a, finite, shown, reference, limits)
        self.annotations_ = []
        if annotate is not None and names is not None:
            idx = np.flatnonzero((front if annotate == "front" else finite) & shown)
            self.annotations_ = annotate_points(ax, c[idx], a[idx], [names[i] for i in idx])
        return self

    def _write_clip_note(self, ax, c, a, finite, shown, reference, limits):
        """The note saying how many points the limits leave out, in the corner that
        covers the fewest of the shown ones; sets ``clip_text_`` (None without limits)."""
        self.clip_text_ = None
        if limits is not None:
            self.clip_text_ = place_note(
                ax, f"{int(finite.sum() - shown.sum())} of {int(finite.sum())} points not "
                f"shown:\n{self.clean_label} below {limits[0][0]:.3g} (all dominated)",
                np.r_[c[shown], reference[:, 0]], np.r_[a[shown], reference[:, 1]],
            )

    def _draw_points(self, ax, c, a, groups, front, finite, colors, areas, hollow,
                     hollow_label):
        """Each group's front (a line) and dominated points (faint), with legend entries;
        the hollow points. Sets ``front_lines_`` and ``dominated_``."""
        import matplotlib as mpl

        cycle = mpl.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
        colors = dict(colors or {})
        self.front_lines_, self.dominated_ = [], []
        for k, (group, idx) in enumerate(_members(groups, c.shape[0])):
            color = colors.get(group, cycle[k % len(cycle)])
            on = idx[front[idx]]
            on = on[np.argsort(c[on], kind="stable")]
            rest = idx[~front[idx] & finite[idx]]
            self.dominated_.append(ax.scatter(c[rest], a[rest], color=color, alpha=0.3, s=18,
                                              linewidths=0, zorder=2))
            label = "Pareto front (not dominated)" if group is None else str(group)
            if areas is not None:
                label += f" (hypervolume {areas if group is None else areas[group]:.3f})"
            (line,) = ax.plot(c[on], a[on], "-o", color=color, markersize=5,
                              linewidth=1.5, label=label, zorder=3)
            self.front_lines_.append(line)
            flagged = idx[hollow[idx] & finite[idx]]
            if flagged.size:
                ax.scatter(c[flagged], a[flagged], s=45, facecolors="white",
                           edgecolors=color, linewidths=1.2, zorder=4)
        # Empty collections: legend entries that a later ax.legend() finds again.
        if (~front & finite).any():
            ax.scatter([], [], color="0.4", alpha=0.3, s=18, linewidths=0,
                       label="dominated (faint)")
        if (hollow & finite).any():
            ax.scatter([], [], s=45, facecolors="white", edgecolors="black",
                       label=hollow_label)

    def _draw_marks(self, ax, reference, reference_label, clean_threshold, threshold_label):
        """The reference model's star and the threshold's line; sets ``reference_`` and
        ``threshold_line_`` (None for those not given)."""
        self.reference_ = None
        if reference.size:
            (self.reference_,) = ax.plot(reference[:, 0], reference[:, 1], "*",
                                         color="black", markersize=13, zorder=5,
                                         label=reference_label)
        self.threshold_line_ = None
        if clean_threshold is not None:
            self.threshold_line_ = ax.axvline(clean_threshold, color="grey", linewidth=0.8,
                                              linestyle=":", label=threshold_label)

    @classmethod
    def from_cv_results(cls, cv_results, *, clean="mean_test_clean",
                        adversarial="mean_test_adversarial", group_by=None, ax=None,
                        clean_label=None, adversarial_label=None, **kwargs):
        """Plot the candidates of a search scored clean and under attack.

        Parameters
        ----------
        cv_results : dict
            The ``cv_results_`` of a :class:`~sklearn.model_selection.GridSearchCV` with
            multi-metric ``scoring``, one clean scorer and one
            :func:`~skarm.metrics.make_adversarial_scorer`.
        clean : str, default="mean_test_clean"
            Key of the clean scores: ``"mean_test_<name>"`` for the ``scoring`` entry
            ``<name>`` (``"mean_test_f1"`` for
            :func:`~skarm.model_selection.robust_search`).
        adversarial : str, default="mean_test_adversarial"
            Key of the scores under attack (``"mean_test_adversarial_f1"`` for
            :func:`~skarm.model_selection.robust_search`).
        group_by : str, default=None
            A searched parameter (``"penalty"``): one colour and one front per value.
            Its values are left out of the points' labels.
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        clean_label, adversarial_label : str, default=None
            Labels of the axes; None derives them from the keys.
        **kwargs : dict
            Passed to :meth:`plot` (``annotate``, ``clip``, ``colors``,
            ``show_hypervolume``).

        Returns
        -------
        display : TradeoffDisplay
            Object that stores computed values.
        """
        caller = cls._check_call("from_cv_results")
        if not isinstance(cv_results, Mapping):
            raise TypeError(f"{caller}: cv_results must be a dict (a search's cv_results_); "
                            f"got {type(cv_results).__name__}.")
        for key in (clean, adversarial):
            if key not in cv_results:
                scores = sorted(k for k in cv_results if k.startswith("mean_test_"))
                raise ValueError(
                    f"{caller}: cv_results has no key {key!r}; its mean test scores are "
                    f"{scores}. Pass clean= and adversarial= the keys of your scoring."
                )
        params = list(cv_results.get("params", [{}] * len(cv_results[clean])))
        groups = None
        if group_by is not None:
            if not all(group_by in p for p in params):
                searched = sorted({k for p in params for k in p})
                raise ValueError(f"{caller}: group_by={group_by!r} is not a searched "
                                 f"parameter of every candidate; they are {searched}.")
            groups = [str(p[group_by]) for p in params]
        names = None
        if params and params[0]:
            names = [_param_text(p, skip=(group_by,)) for p in params]
        return cls.from_values(
            np.asarray(cv_results[clean], dtype=float),
            np.asarray(cv_results[adversarial], dtype=float),
            names=names, groups=groups,
            clean_label=clean_label if clean_label is not None else _cv_label(clean),
            adversarial_label=(adversarial_label if adversarial_label is not None
                               else _cv_label(adversarial)),
            ax=ax, **kwargs,
        )

    @classmethod
    def from_estimator(cls, estimator, X, y, *, eps, attack="gase", metric="f1_micro",
                       attack_params=None, names=None, groups=None, ax=None, **kwargs):
        """Score fitted models clean and under attack, and plot them.

        Parameters
        ----------
        estimator : list of estimators or dict of str to estimator
            Fitted multi-label models (a single one is accepted too); a dict's keys name
            them.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test instances.
        y : array-like of shape (n_samples, n_labels)
            {0, 1} labels.
        eps : float
            The L2 budget of the attack, in the units of X.
        attack : {"gase", "pgd"}, default="gase"
            The attack (:class:`~skarm.GASEAttack` or :class:`~skarm.PGDAttack`).
        metric : {"f1_micro", "f1_macro"}, default="f1_micro"
            The score, clean and on the attacked data
            (:func:`~skarm.metrics.make_adversarial_scorer`).
        attack_params : dict, default=None
            Further parameters of the attack (``n_jobs``, ...).
        names : list of str, default=None
            Names of the models, written next to the front's points; None uses the dict's
            keys or the class names.
        groups : list of str, default=None
            Group of each model (one colour and one front per group).
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        **kwargs : dict
            Passed to :meth:`plot` (``annotate``, ``clip``, ``colors``,
            ``show_hypervolume``).

        Returns
        -------
        display : TradeoffDisplay
            Object that stores computed values.
        """
        caller = cls._check_call("from_estimator", {"metric": [StrOptions(set(METRICS))],
                                                    "attack": attack_constraint()}, locals())
        names, models = cls._named_estimators(estimator, names, caller)
        scorer = get_scorer(metric)
        attacked = make_adversarial_scorer(metric, eps=eps, attack=attack,
                                           attack_params=attack_params)
        return cls.from_values(
            [scorer(m, X, y) for m in models], [attacked(m, X, y) for m in models],
            names=names, groups=groups, clean_label=f"clean {METRICS[metric]}",
            adversarial_label=(f"{METRICS[metric]} under {ATTACK_NAMES[attack]} attack "
                               f"(eps={format_number(eps)})"),
            ax=ax, **kwargs,
        )

    @classmethod
    def from_values(cls, clean, adversarial, *, names=None, groups=None,
                    clean_label="clean score", adversarial_label="score under attack",
                    ax=None, **kwargs):
        """Plot scores computed elsewhere, clean against under attack.

        :meth:`from_estimator` and :meth:`from_cv_results` end here; the constructor
        followed by :meth:`plot` draws the same.

        Parameters
        ----------
        clean, adversarial : array-like of shape (n_points,)
            The clean scores and the scores under attack (greater is better); NaN marks
            a missing score.
        names, groups : list of str of length n_points, default=None
            The points' labels, written next to the front's points, and their groups (a
            colour, a front and a legend entry each).
        clean_label, adversarial_label : str, default="clean score", "score under attack"
            Labels of the x and y axes.
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        **kwargs : dict
            Passed to :meth:`plot` (``annotate``, ``clip``, ``colors``,
            ``show_hypervolume``, ...).

        Returns
        -------
        display : TradeoffDisplay
            Object that stores computed values.
        """
        caller = cls._check_call("from_values")
        return cls._plot_values(caller, ax, kwargs, clean=clean, adversarial=adversarial,
                                names=names, groups=groups, clean_label=clean_label,
                                adversarial_label=adversarial_label)
