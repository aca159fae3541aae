"""AttackabilityCurveDisplay: C_a or F1 under attack against the budget eps."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.metrics import f1_score

from ..metrics import make_adversarial_scorer
from ..utils._sklearn_compat import Interval, StrOptions
from ._base import ATTACK_NAMES, ATTACKS, METRICS, _BaseDisplay, attack_constraint

__all__ = ["AttackabilityCurveDisplay"]

_CURVE_METRICS = ("attackability", *METRICS)
# The rules of the stored parameters, checked by from_estimator, from_values and plot.
_CONSTRAINTS = {
    "metric": [StrOptions(set(_CURVE_METRICS))],
    "attack": attack_constraint(),
    "eps_scale": [Interval(Real, 0, None, closed="neither")],
}


def _ylabel(metric, attack):
    attack_name = ATTACK_NAMES[attack]
    if metric == "attackability":
        return f"C_a: mean labels flipped within eps ({attack_name})"
    return f"{METRICS[metric]} under {attack_name} attack"


def _xlabel(eps_scale):
    if eps_scale == 1:
        return "eps: L2 attack budget (units of X)"
    return f"eps: L2 attack budget / {eps_scale:.3g}"


class AttackabilityCurveDisplay(_BaseDisplay):
    """Curves of the attackability C_a, or of an F1 score under attack, against eps.

    One curve per model on one axes: the mean number of labels an attack flips within
    an L2 budget eps (:func:`~skarm.metrics.attackability_score` for GASE), or the micro-
    or macro-F1 on the attacked data (:func:`~skarm.metrics.make_adversarial_scorer`).
    Use :meth:`from_estimator` to attack fitted models, or :meth:`from_values` to draw
    values computed elsewhere. All parameters are stored as attributes, as given.

    Read more in the :ref:`User Guide <tradeoff_displays>`.

    Parameters
    ----------
    eps : array-like of shape (n_eps,)
        The budgets of the x axis, as given (see ``eps_scale``).
    values : array-like of shape (n_curves, n_eps) or (n_eps,)
        The metric at each budget, one row per model.
    names : list of str of length n_curves, default=None
        The models' names, shown in the legend. None draws no legend.
    metric : {"attackability", "f1_micro", "f1_macro"}, default="attackability"
        What ``values`` hold, for the y label.
    attack : {"gase", "pgd"}, default="gase"
        The attack that produced ``values``, for the y label.
    eps_scale : float, default=1.0
        The unit of ``eps``: the attacks used budgets ``eps * eps_scale`` (for instance
        the median row norm, so that eps reads as a fraction of it). Only the x label uses
        it.

    Attributes
    ----------
    lines_ : list of matplotlib.lines.Line2D
        One line per model.
    ax_ : matplotlib.axes.Axes
        Axes with the curves.
    figure_ : matplotlib.figure.Figure
        Figure containing the curves.

    See Also
    --------
    TradeoffDisplay : Clean against adversarial score of many models.
    SAEDisplay : Distribution of the soft attackability of the instances.
    skarm.metrics.attackability_score : C_a at one budget.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skarm import ARMClassifier
    >>> from skarm.datasets import make_correlated_multilabel
    >>> from skarm.display import AttackabilityCurveDisplay
    >>> X, Y = make_correlated_multilabel(n_samples=60, n_features=6, n_labels=3,
    ...                                   random_state=0)
    >>> model = ARMClassifier(penalty=None, random_state=0).fit(X, Y)
    >>> display = AttackabilityCurveDisplay.from_estimator(model, X, Y, eps=[0.1, 0.3])
    >>> display.values.shape
    (1, 2)
    >>> plt.show()
    """

    def __init__(self, *, eps, values, names=None, metric="attackability", attack="gase",
                 eps_scale=1.0):
        self.eps = eps
        self.values = values
        self.names = names
        self.metric = metric
        self.attack = attack
        self.eps_scale = eps_scale

    def _check_values(self, caller_name):
        """``(eps, values, names)``, checked: 1-D eps, one row of values per curve."""
        self._validate(_CONSTRAINTS, vars(self), caller_name)
        eps = self._check_numbers(self._as_1d(self.eps, "eps", caller_name), "eps",
                                  caller_name, minimum=0.0)
        values = np.asarray(self.values, dtype=float)
        if values.ndim == 1:
            values = values[None, :]
        if values.ndim != 2 or values.shape[1] != eps.shape[0]:
            raise ValueError(
                f"{caller_name}: values must have one column per eps ({eps.shape[0]}); got "
                f"shape {np.shape(self.values)}."
            )
        self._check_numbers(values, "values", caller_name)
        names = self._check_names(self.names, values.shape[0], "curves", caller_name)
        return eps, values, names

    def plot(self, ax=None, *, xlabel=None, ylabel=None, line_kwargs=None):
        """Plot the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        xlabel : str, default=None
            Label of the x axis; None describes eps (and ``eps_scale``).
        ylabel : str, default=None
            Label of the y axis; None describes the metric and the attack.
        line_kwargs : dict, default=None
            Keyword arguments passed to every ``ax.plot`` call (``color`` is best left to
            matplotlib's cycle when there are several models).

        Returns
        -------
        display : AttackabilityCurveDisplay
            Object that stores computed values.
        """
        caller = self._check_call("plot")
        eps, values, names = self._check_values(caller)
        ax = self._axes(ax)
        kwargs = {"marker": "o", **(line_kwargs or {})}
        order = np.argsort(eps, kind="stable")
        self.lines_ = []
        for i, row in enumerate(values):
            label = names[i] if names is not None else None
            (line,) = ax.plot(eps[order], row[order], label=label, **kwargs)
            self.lines_.append(line)
        ax.set_xlabel(xlabel if xlabel is not None else _xlabel(self.eps_scale))
        ax.set_ylabel(ylabel if ylabel is not None else _ylabel(self.metric, self.attack))
        if self.metric == "attackability":
            ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if names is not None:
            ax.legend()
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, eps, attack="gase", metric="attackability",
                       eps_scale=1.0, attack_params=None, names=None, ax=None, **kwargs):
        """Attack fitted models at each budget and plot the metric against eps.

        Parameters
        ----------
        estimator : estimator instance, list of estimators or dict of str to estimator
            Fitted multi-label models that the attack supports (see
            :class:`~skarm.GASEAttack`); a dict's keys name them.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Instances to attack. Sparse X is attacked by batches of rows, as the attacks
            do.
        y : array-like of shape (n_samples, n_labels) or None
            {0, 1} labels. Required for the F1 metrics; with ``metric="attackability"``,
            None counts flips of the models' own predictions.
        eps : array-like of shape (n_eps,)
            Budgets, in units of ``eps_scale``; 0 gives the clean value (the F1 on X, or
            the labels already wrong for C_a).
        attack : {"gase", "pgd"}, default="gase"
            The attack: :class:`~skarm.GASEAttack` or :class:`~skarm.PGDAttack`.
        metric : {"attackability", "f1_micro", "f1_macro"}, default="attackability"
            C_a, the mean number of labels flipped (as
            :func:`~skarm.metrics.attackability_score`), or the F1 on the attacked data
            (as :func:`~skarm.metrics.make_adversarial_scorer`).
        eps_scale : float, default=1.0
            Each budget is ``eps * eps_scale`` in the units of X: pass the median row norm
            to give eps as fractions of it.
        attack_params : dict, default=None
            Further parameters of the attack (``n_jobs``, ``reference``, ``max_iter``,
            ...).
        names : str or list of str, default=None
            Names of the models; None uses the dict's keys or the class names.
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        **kwargs : dict
            Passed to :meth:`plot` (``xlabel``, ``ylabel``, ``line_kwargs``).

        Returns
        -------
        display : AttackabilityCurveDisplay
            Object that stores computed values.
        """
        caller = cls._check_call("from_estimator",
                                 {**_CONSTRAINTS, "attack_params": [dict, None]}, locals())
        eps = cls._check_numbers(cls._as_1d(eps, "eps", caller), "eps", caller, minimum=0.0)
        if y is None and metric != "attackability":
            raise ValueError(f"{caller}: metric={metric!r} needs the labels y; got None.")
        names, models = cls._named_estimators(estimator, names, caller)
        attack_params = dict(attack_params or {})
        budgets = eps * eps_scale
        # The scorers check the attack parameters once, before any attack runs.
        scorers = [
            make_adversarial_scorer(metric if metric != "attackability" else "f1_micro",
                                    eps=float(b), attack=attack, attack_params=attack_params)
            if b > 0 else None
            for b in budgets
        ]
        values = np.array([
            [_value(model, X, y, b, scorer, attack, metric, attack_params)
             for b, scorer in zip(budgets, scorers, strict=True)]
            for model in models
        ])
        return cls.from_values(eps, values, names=names, metric=metric, attack=attack,
                               eps_scale=eps_scale, ax=ax, **kwargs)

    @classmethod
    def from_values(cls, eps, values, *, names=None, metric="attackability", attack="gase",
                    eps_scale=1.0, ax=None, **kwargs):
        """Plot metric values computed elsewhere against eps.

        Parameters
        ----------
        eps : array-like of shape (n_eps,)
            The budgets.
        values : array-like of shape (n_curves, n_eps), (n_eps,) or dict of str to array
            The metric at each budget, one row per model; a dict's keys name the models.
        names : str or list of str, default=None
            Names of the curves (not with a dict). None draws no legend.
        metric : {"attackability", "f1_micro", "f1_macro"}, default="attackability"
            What ``values`` hold, for the y label.
        attack : {"gase", "pgd"}, default="gase"
            The attack that produced them, for the y label.
        eps_scale : float, default=1.0
            The unit of ``eps``, for the x label.
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.
        **kwargs : dict
            Passed to :meth:`plot` (``xlabel``, ``ylabel``, ``line_kwargs``).

        Returns
        -------
        display : AttackabilityCurveDisplay
            Object that stores computed values.
        """
        return cls._from_values("from_values", eps, values, names=names, metric=metric,
                                attack=attack, eps_scale=eps_scale, ax=ax, **kwargs)

    @classmethod
    def from_results(cls, eps, values, **kwargs):
        """Plot metric values computed elsewhere against eps (deprecated).

        .. deprecated:: 0.1
            ``from_results`` is deprecated in 0.1 and will be removed in 0.3; use
            :meth:`from_values`, which takes the same parameters, instead.

        Parameters
        ----------
        eps : array-like of shape (n_eps,)
            The budgets.
        values : array-like of shape (n_curves, n_eps), (n_eps,) or dict of str to array
            The metric at each budget, one row per model.
        **kwargs : dict
            The other parameters of :meth:`from_values`.

        Returns
        -------
        display : AttackabilityCurveDisplay
            Object that stores computed values.
        """
        cls._deprecated("from_results", "from_values")
        return cls._from_values("from_results", eps, values, **kwargs)

    @classmethod
    def _from_values(cls, method, eps, values, *, names=None, ax=None, **kwargs):
        """from_values, whose errors name ``method`` (the deprecated alias's own name)."""
        caller = cls._check_call(method)
        names, values = cls._named_values(values, names, caller)
        # The constructor's other parameters; the rest of kwargs goes to plot.
        params = {k: kwargs.pop(k) for k in _CONSTRAINTS if k in kwargs}
        return cls._plot_values(caller, ax, kwargs, eps=eps, values=values, names=names,
                                **params)


def _value(model, X, y, budget, scorer, attack, metric, attack_params):
    """The metric of one model at one budget (in the units of X)."""
    if metric == "attackability":
        if budget == 0:  # only the labels that are wrong already count as flipped
            if y is None or attack_params.get("reference", "label") == "prediction":
                return 0.0
            y, pred = (np.asarray(a.toarray() if hasattr(a, "toarray") else a)
                       for a in (y, model.predict(X)))
            return float(np.mean(np.sum(pred.reshape(len(pred), -1)
                                        != y.reshape(len(y), -1), axis=1)))
        attacker = ATTACKS[attack](model, eps=float(budget), **attack_params)
        # The counts only: the attacked X is dropped batch by batch (large sparse X).
        return float(np.mean(attacker.attack(X, y, return_X_adv=False).n_flipped))
    if budget == 0:
        return float(f1_score(y, model.predict(X), average=metric.split("_")[1]))
    return float(scorer(model, X, y))
