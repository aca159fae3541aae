"""TradeoffDisplay: clean against adversarial score of many models, Pareto fronts marked."""

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
    annotate_points,
    as_1d,
    attack_constraint,
    check_matplotlib_support,
    check_names,
    check_numbers,
    format_number,
    get_axes,
    named_estimators,
    place_note,
    validate,
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


class TradeoffDisplay:
    """Clean against adversarial score of many models, with the Pareto front marked.

    Each model is a point: its clean score on the x axis, its score under attack on the y
    axis. The points no other point dominates (better or equal on both scores, better on
    one) form the Pareto front, drawn as a line through them; dominated points are drawn
    faint. With ``groups``, each group (a penalty, a model family) gets its own colour and
    its own front. Use :meth:`from_cv_results` for the candidates of a
    :class:`~sklearn.model_selection.GridSearchCV` scored on both criteria,
    :meth:`from_estimator` for fitted models, or the constructor for scores computed
    elsewhere.

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
        True for the points on the front of their group (of all points without groups).
    hypervolume : float or dict of str to float
        Area of the plane the front dominates above the origin (per group with groups):
        one number per front, larger is better.
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
    >>> plt.show()
    """

    def __init__(self, *, clean, adversarial, names=None, groups=None,
                 clean_label="clean score", adversarial_label="score under attack"):
        caller = type(self).__name__
        self.clean = check_numbers(as_1d(clean, "clean", caller), "clean", caller,
                                   allow_nan=True)
        self.adversarial = check_numbers(as_1d(adversarial, "adversarial", caller),
                                         "adversarial", caller, allow_nan=True)
        n = self.clean.shape[0]
        if self.adversarial.shape[0] != n:
            raise ValueError(
                f"{caller}: clean and adversarial must have the same length; got {n} and "
                f"{self.adversarial.shape[0]}."
            )
        self.names = check_names(names, n, "points", caller)
        self.groups = check_names(groups, n, "points (groups)", caller)
        self.clean_label = clean_label
        self.adversarial_label = adversarial_label
        self.pareto_mask = np.zeros(n, dtype=bool)
        self.hypervolume = {}
        for group, idx in self._members():
            self.pareto_mask[idx] = pareto_mask(self.clean[idx], self.adversarial[idx])
            self.hypervolume[group] = hypervolume(self.clean[idx], self.adversarial[idx])
        if self.groups is None:
            self.hypervolume = self.hypervolume[None]

    def _members(self):
        """(group, indices) in the order groups first appear; one (None, all) without."""
        if self.groups is None:
            return [(None, np.arange(self.clean.shape[0]))]
        groups = list(dict.fromkeys(self.groups))
        labels = np.asarray(self.groups, dtype=object)
        return [(g, np.flatnonzero(labels == g)) for g in groups]

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
        caller = f"{type(self).__name__}.plot"
        check_matplotlib_support(caller)
        validate({"annotate": [StrOptions({"front", "all"}), None], "clip": ["boolean"],
                  "colors": [dict, None], "show_hypervolume": ["boolean"],
                  "reference": ["array-like", None], "reference_label": [str],
                  "hollow": ["array-like", None], "hollow_label": [str],
                  "clean_threshold": [Real, None], "threshold_label": [str],
                  "legend_kwargs": [dict, None]},
                 {"annotate": annotate, "clip": clip, "colors": colors,
                  "show_hypervolume": show_hypervolume, "reference": reference,
                  "reference_label": reference_label, "hollow": hollow,
                  "hollow_label": hollow_label, "clean_threshold": clean_threshold,
                  "threshold_label": threshold_label, "legend_kwargs": legend_kwargs},
                 caller)
        c, a = self.clean, self.adversarial
        if reference is not None and np.shape(reference) != (2,):
            raise ValueError(f"{caller}: reference must be a pair (clean, adversarial); got "
                             f"{reference!r}.")
        if hollow is not None:
            hollow = np.asarray(hollow, dtype=bool)
            if hollow.shape != c.shape:
                raise ValueError(f"{caller}: hollow must have one entry per point "
                                 f"({c.shape[0]}); got shape {hollow.shape}.")
        import matplotlib as mpl
        from matplotlib.ticker import MaxNLocator

        ax, figure = get_axes(ax, caller)
        cycle = mpl.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
        colors = dict(colors or {})
        finite = np.isfinite(c) & np.isfinite(a)
        self.front_lines_, self.dominated_ = [], []
        any_dominated = False
        for k, (group, idx) in enumerate(self._members()):
            color = colors.get(group, cycle[k % len(cycle)])
            front = idx[self.pareto_mask[idx]]
            front = front[np.argsort(c[front], kind="stable")]
            rest = idx[~self.pareto_mask[idx] & finite[idx]]
            any_dominated |= rest.size > 0
            self.dominated_.append(ax.scatter(c[rest], a[rest], color=color, alpha=0.3, s=18,
                                              linewidths=0, zorder=2))
            label = "Pareto front (not dominated)" if group is None else str(group)
            if show_hypervolume:
                area = self.hypervolume if group is None else self.hypervolume[group]
                label += f" (hypervolume {area:.3f})"
            (line,) = ax.plot(c[front], a[front], "-o", color=color, markersize=5,
                              linewidth=1.5, label=label, zorder=3)
            self.front_lines_.append(line)
            if hollow is not None and (hollow[idx] & finite[idx]).any():
                flagged = idx[hollow[idx] & finite[idx]]
                ax.scatter(c[flagged], a[flagged], s=45, facecolors="white",
                           edgecolors=color, linewidths=1.2, zorder=4)
        # Empty collections: legend entries that a later ax.legend() finds again.
        if any_dominated:
            ax.scatter([], [], color="0.4", alpha=0.3, s=18, linewidths=0,
                       label="dominated (faint)")
        if hollow is not None and (hollow & finite).any():
            ax.scatter([], [], s=45, facecolors="white", edgecolors="black",
                       label=hollow_label)
        self.reference_ = None
        ref_c, ref_a = [], []
        if reference is not None:
            ref_c, ref_a = [float(reference[0])], [float(reference[1])]
            (self.reference_,) = ax.plot(ref_c, ref_a, "*", color="black", markersize=13,
                                         zorder=5, label=reference_label)
        ax.set_xlabel(self.clean_label)
        ax.set_ylabel(self.adversarial_label)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.grid(alpha=0.3)

        shown, n_out, xlim = finite.copy(), 0, None
        overall = pareto_mask(c, a)
        if clip and overall.any():
            marks = [*ref_c, *([] if clean_threshold is None else [float(clean_threshold)])]
            left = min([c[overall].min(), *marks])
            span = max([c[finite].max(), *marks]) - left
            margin = 0.08 * span if span > 0 else 0.02
            shown = finite & (c >= left - margin)
            n_out = int(finite.sum() - shown.sum())
            if n_out:
                xs, ys = np.r_[c[shown], ref_c], np.r_[a[shown], ref_a]
                xlim = (min([xs.min(), *marks]) - margin, max([xs.max(), *marks]) + margin)
                pad = 0.08 * (ys.max() - ys.min()) if ys.max() > ys.min() else 0.02
                ax.set_ylim(ys.min() - pad, ys.max() + pad)
        self.threshold_line_ = None
        if clean_threshold is not None:
            self.threshold_line_ = ax.axvline(clean_threshold, color="grey", linewidth=0.8,
                                              linestyle=":", label=threshold_label)
        if xlim is not None:
            ax.set_xlim(xlim)
        # The legend before the notes and labels: an outside legend changes the layout they
        # are placed in; "best" is found when drawing, around them.
        ax.legend(**{"loc": "best", "fontsize": 8, **(legend_kwargs or {})})
        self.clip_text_ = None
        if n_out:
            self.clip_text_ = place_note(
                ax, f"{n_out} of {int(finite.sum())} points not shown:\n"
                f"{self.clean_label} below {xlim[0]:.3g} (all dominated)",
                np.r_[c[shown], ref_c], np.r_[a[shown], ref_a],
            )
        self.annotations_ = []
        if annotate is not None and self.names is not None:
            which = self.pareto_mask if annotate == "front" else finite
            idx = np.flatnonzero(which & shown)
            self.annotations_ = annotate_points(ax, c[idx], a[idx],
                                                [self.names[i] for i in idx])
        self.ax_, self.figure_ = ax, figure
        return self

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
        caller = f"{cls.__name__}.from_cv_results"
        check_matplotlib_support(caller)
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
        display = cls(
            clean=np.asarray(cv_results[clean], dtype=float),
            adversarial=np.asarray(cv_results[adversarial], dtype=float),
            names=names, groups=groups,
            clean_label=clean_label if clean_label is not None else _cv_label(clean),
            adversarial_label=(adversarial_label if adversarial_label is not None
                               else _cv_label(adversarial)),
        )
        return display.plot(ax=ax, **kwargs)

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
        caller = f"{cls.__name__}.from_estimator"
        check_matplotlib_support(caller)
        validate({"metric": [StrOptions(set(METRICS))], "attack": attack_constraint()},
                 {"metric": metric, "attack": attack}, caller)
        names, models = named_estimators(estimator, names, caller)
        scorer = get_scorer(metric)
        attacked = make_adversarial_scorer(metric, eps=eps, attack=attack,
                                           attack_params=attack_params)
        display = cls(
            clean=[scorer(m, X, y) for m in models],
            adversarial=[attacked(m, X, y) for m in models],
            names=names, groups=groups,
            clean_label=f"clean {METRICS[metric]}",
            adversarial_label=(f"{METRICS[metric]} under {ATTACK_NAMES[attack]} attack "
                               f"(eps={format_number(eps)})"),
        )
        return display.plot(ax=ax, **kwargs)
