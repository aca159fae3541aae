"""What the Displays share: the base class, matplotlib checks, named models, label placement.

:class:`_BaseDisplay` holds the convention of the three Displays, scikit-learn's: the
constructor stores its arguments; ``from_estimator`` computes the values and hands them to
``from_values``, the one constructor of precomputed values, which checks them, builds the
display and calls ``plot``; ``plot`` draws and returns the display. The base does the parts
every Display repeats: the matplotlib check and the parameter validation of each public
method (:meth:`~_BaseDisplay._check_call`), the models' names, the checks of precomputed
numbers, the axes (``ax_``, ``figure_``).

matplotlib is imported inside the functions only, so that ``import skarm.display`` works
(and stays fast) without it, as scikit-learn's Displays do. Only its public API is used: the
text boxes that place the labels are measured with ``figure.canvas.get_renderer()`` where
the canvas has it (Agg and the backends built on it), else by ``get_window_extent()``
itself.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from collections.abc import Mapping
from numbers import Real

import numpy as np

from ..attacks import ATTACKS
from ..utils._sklearn_compat import (
    StrOptions,
    check_matplotlib_support,
    validate_parameter_constraints,
)

__all__ = ["check_matplotlib_support"]

# ATTACKS is make_adversarial_scorer's registry, so that both accept the same attacks.
ATTACK_NAMES = {"gase": "GASE", "pgd": "PGD"}
# The metrics the Displays compute under attack, and how axis labels name them.
METRICS = {"f1_micro": "micro-F1", "f1_macro": "macro-F1"}


def attack_constraint():
    """The rule of an ``attack`` parameter: one of :data:`ATTACKS`."""
    return [StrOptions(set(ATTACKS))]


class _BaseDisplay:
    """The convention and the shared checks of the Displays (see the module docstring).

    A subclass stores its arguments in ``__init__``, implements :meth:`_check_values` (the
    stored values, checked, as ``plot`` draws them), ``plot``, ``from_estimator`` (which
    returns ``cls.from_values(...)``) and ``from_values`` (which returns
    :meth:`_plot_values`).
    """

    # ---- what every public method starts with ------------------------------------------

    @classmethod
    def _check_call(cls, method, constraints=None, params=None):
        """The caller name ``"<Display>.<method>"``, once matplotlib and the parameters are
        checked, in scikit-learn's words.

        ``params`` may be the method's ``locals()``: only the constrained names are read.
        """
        caller = f"{cls.__name__}.{method}"
        check_matplotlib_support(caller)
        if constraints:
            cls._validate(constraints, params, caller)
        return caller

    @staticmethod
    def _validate(constraints, params, caller_name):
        """scikit-learn's parameter validation, with its messages, of the constrained names
        of ``params`` (a dict: a method's ``locals()``, a display's ``vars``)."""
        validate_parameter_constraints(
            constraints, {name: params[name] for name in constraints}, caller_name=caller_name
        )

    def _axes(self, ax):
        """The axes to draw on, stored with their figure as ``ax_`` and ``figure_``: the
        given ones, or new ones from ``pyplot.subplots`` as scikit-learn does."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots()
        self.ax_, self.figure_ = ax, ax.figure
        return ax

    # ---- the values ----------------------------------------------------------------------

    def _check_values(self, caller_name):
        """The stored values, checked (ValueError naming ``caller_name``), as plot uses them."""
        raise NotImplementedError

    @classmethod
    def _plot_values(cls, caller_name, ax, plot_kwargs, **params):
        """The body of ``from_values``: the display of ``params``, checked, then plotted."""
        display = cls(**params)
        display._check_values(caller_name)
        return display.plot(ax=ax, **plot_kwargs)

    @classmethod
    def _deprecated(cls, old, new):
        """Warn that ``<Display>.old`` is an alias of ``new``, to be removed."""
        warnings.warn(
            f"{cls.__name__}.{old} is deprecated in 0.1 and will be removed in 0.3; use "
            f"{cls.__name__}.{new} instead.",
            FutureWarning,
            stacklevel=3,
        )

    @staticmethod
    def _as_1d(values, name, caller_name):
        """A finite-or-NaN float vector; a ValueError naming ``name`` otherwise."""
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{caller_name}: {name} must be numbers; got {values!r}."
            ) from exc
        if array.ndim != 1:
            raise ValueError(
                f"{caller_name}: {name} must be 1-D; got an array of shape {array.shape}."
            )
        return array

    @staticmethod
    def _check_numbers(array, name, caller_name, *, allow_nan=False, minimum=None):
        """Refuse an empty ``array``, infinite values, NaN (unless ``allow_nan``: a failed
        candidate of a search scores NaN) and values below ``minimum``; returns ``array``.

        A Display draws what it is given: an inf point would be silently left out, a
        negative budget drawn as if it meant something.
        """
        if array.size == 0:
            raise ValueError(f"{caller_name}: {name} is empty; there is nothing to draw.")
        if np.isinf(array).any() or (not allow_nan and np.isnan(array).any()):
            what = "finite or NaN (a failed candidate)" if allow_nan else "finite"
            raise ValueError(
                f"{caller_name}: {name} must be {what}; got {array.tolist()!r}."
            )
        if minimum is not None and (array < minimum).any():
            raise ValueError(
                f"{caller_name}: {name} must be >= {minimum:g}; got {array.tolist()!r}."
            )
        return array

    # ---- names ---------------------------------------------------------------------------

    @staticmethod
    def _named_estimators(estimators, names, caller_name):
        """``(names, estimators)`` of one model, a list of models or a dict name -> model.

        Default names are the class names, numbered when several models share one.
        """
        if isinstance(estimators, Mapping):
            if names is not None:
                raise ValueError(
                    f"{caller_name}: names cannot be given with a dict of estimators, whose "
                    "keys are the names."
                )
            if not estimators:
                raise ValueError(f"{caller_name}: the dict of estimators is empty.")
            return [str(k) for k in estimators], list(estimators.values())
        if isinstance(estimators, (list, tuple)):
            models = list(estimators)
            if not models:
                raise ValueError(f"{caller_name}: the list of estimators is empty.")
        else:
            models = [estimators]
        if names is None:
            names = [type(m).__name__ for m in models]
            for name in set(names):
                if names.count(name) > 1:
                    numbers = iter(range(1, len(names) + 1))
                    names = [f"{n} ({next(numbers)})" if n == name else n for n in names]
            return names, models
        return _BaseDisplay._check_names(names, len(models), "estimators", caller_name), models

    @staticmethod
    def _named_values(values, names, caller_name):
        """``(names, values)`` of a ``from_values`` call: a dict's keys name its values
        (then ``names`` must be None); a single name becomes a list."""
        if isinstance(values, Mapping):
            if names is not None:
                raise ValueError(
                    f"{caller_name}: names cannot be given with a dict of values."
                )
            names, values = [str(k) for k in values], list(values.values())
        if isinstance(names, str):
            names = [names]
        return names, values

    @staticmethod
    def _check_names(names, n, what, caller_name):
        """A list of ``n`` names as str, or None; a ValueError when the count differs."""
        if names is None:
            return None
        names = [names] if isinstance(names, str) else [str(n_) for n_ in names]
        if len(names) != n:
            raise ValueError(f"{caller_name}: got {len(names)} names for {n} {what}.")
        return names


def format_number(value):
    """A short label for an eps, a score or a parameter value."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        return str(value)
    return f"{float(value):.3g}"


# Offsets (points) tried in turn for a label next to its point: up-right first.
_OFFSETS = [(4, 4), (4, -4), (-4, 4), (-4, -4), (7, 0), (-7, 0), (0, 7), (0, -7),
            (10, 12), (10, -12), (-10, 12), (-10, -12), (16, 0), (-16, 0)]


def _measure(ax, x, y):
    """Lay the figure out as it will be saved, then ``(renderer, points, paths)``: what
    text boxes are measured with, the points ``(x, y)`` and the visible lines of ``ax``
    (what labels and notes avoid) in display coordinates.

    The renderer is the canvas's where it has one (Agg and the backends built on it), else
    None, with which ``get_window_extent`` finds one itself: public API either way.
    """
    figure = ax.figure
    if hasattr(figure, "draw_without_rendering"):  # matplotlib >= 3.6
        figure.draw_without_rendering()
    else:  # pragma: no cover - matplotlib 3.5
        figure.canvas.draw()
    get_renderer = getattr(figure.canvas, "get_renderer", None)
    renderer = get_renderer() if get_renderer is not None else None
    points = ax.transData.transform(np.column_stack([x, y])) if len(x) else np.empty((0, 2))
    paths = [line.get_transform().transform_path(line.get_path()) for line in ax.lines
             if line.get_visible() and len(line.get_xdata())]
    return renderer, points, paths


def _crossings(box, paths):
    return sum(bool(path.intersects_bbox(box, filled=False)) for path in paths)


def _covered(box, points, radius):
    """How many of ``points`` lie in ``box`` grown by ``radius`` (a marker and some room)."""
    return int(np.sum((points[:, 0] > box.x0 - radius) & (points[:, 0] < box.x1 + radius)
                      & (points[:, 1] > box.y0 - radius) & (points[:, 1] < box.y1 + radius)))


def _best_of(candidates, cost):
    """The first candidate artist of zero ``cost``, else the cheapest; the others are
    removed from the axes. ``candidates`` yields artists, made one by one (lazily)."""
    best = None
    for artist in candidates:
        box, price = cost(artist)
        if best is None or price < best[0]:
            if best is not None:
                best[1].remove()
            best = (price, artist, box)
        else:
            artist.remove()
        if price == 0:
            break
    return best


def annotate_points(ax, x, y, texts, *, fontsize=8, color="0.2"):
    """Label points next to them, each label moved until it overlaps no other nor a point.

    Labels are placed greedily: for each point, the first of a few offsets whose text box
    overlaps neither an earlier label, nor a marker, nor a line, nor the axes' edge, else
    the offset with the fewest overlaps. The figure's layout is computed first (without
    drawing), so the positions hold in the saved figure; labels do not take part in the
    layout.

    Returns
    -------
    annotations : list of matplotlib.text.Annotation
    """
    renderer, points, paths = _measure(ax, x, y)
    radius = 3.0 * ax.figure.dpi / 72.0
    axes_box = ax.get_window_extent()
    placed, annotations = [], []

    def cost(ann):
        box = ann.get_window_extent(renderer)
        price = sum(box.overlaps(b) for b in placed) + _crossings(box, paths)
        price += _covered(box, points, radius)
        if not (axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1
                and axes_box.y0 <= box.y0 and box.y1 <= axes_box.y1):
            price += 2
        return box, price

    def candidates(xi, yi, text):
        for dx, dy in _OFFSETS:
            ann = ax.annotate(
                text, (xi, yi), xytext=(dx, dy), textcoords="offset points",
                ha="left" if dx > 0 else ("right" if dx < 0 else "center"),
                va="bottom" if dy > 0 else ("top" if dy < 0 else "center"),
                fontsize=fontsize, color=color,
            )
            ann.set_in_layout(False)
            yield ann

    for (px, py), xi, yi, text in zip(points, x, y, texts, strict=True):
        if np.isfinite(px) and np.isfinite(py):
            _, ann, box = _best_of(candidates(xi, yi, text), cost)
            placed.append(box)
            annotations.append(ann)
    return annotations


_CORNERS = [(0.98, 0.98, "right", "top"), (0.02, 0.02, "left", "bottom"),
            (0.02, 0.98, "left", "top"), (0.98, 0.02, "right", "bottom")]


def place_note(ax, text, x, y, *, fontsize=8):
    """Write a boxed note in the corner of the axes that covers the fewest of the points.

    Returns
    -------
    note : matplotlib.text.Text
    """
    renderer, points, paths = _measure(ax, x, y)
    radius = 5.0 * ax.figure.dpi / 72.0  # a marker's radius, and some room

    def write(cx, cy, ha, va):
        return ax.text(cx, cy, text, transform=ax.transAxes, ha=ha, va=va,
                       fontsize=fontsize, color="0.3", zorder=6,
                       bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.8"})

    def cost(note):
        box = note.get_window_extent(renderer)
        return box, _covered(box, points, radius) + _crossings(box, paths)

    price, note, box = _best_of((write(*corner) for corner in _CORNERS), cost)
    if price == 0:
        return note
    # Every corner covers a point: raise the top of the axes by the note's height and write
    # it in the empty band that leaves, top right.
    note.remove()
    fraction = min(0.5, (box.height + 2 * radius) / ax.get_window_extent().height)
    lo, hi = ax.get_ylim()
    if ax.get_yscale() == "log":
        ax.set_ylim(lo, lo * (hi / lo) ** (1 / (1 - fraction)))
    else:
        ax.set_ylim(lo, lo + (hi - lo) / (1 - fraction))
    return write(*_CORNERS[0])


def plain_log_ticks(axis):
    """Tick labels of a log axis as plain numbers (``2``, ``30``), not ``3 x 10^1``."""
    from matplotlib.ticker import LogFormatter

    axis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.4)))
