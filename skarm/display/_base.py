"""What the Displays share: matplotlib checks, the axes, named models, label placement.

matplotlib is imported inside the functions only, so that ``import skarm.display`` works
(and stays fast) without it, as scikit-learn's Displays do.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

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


def validate(constraints, params, caller_name):
    """scikit-learn's parameter validation, with its messages, for a Display's method."""
    validate_parameter_constraints(constraints, params, caller_name=caller_name)


def attack_constraint():
    """The rule of an ``attack`` parameter: one of :data:`ATTACKS`."""
    return [StrOptions(set(ATTACKS))]


def get_axes(ax, caller_name):
    """``(ax, figure)``: the given axes, or new ones from ``pyplot.subplots`` as sklearn does."""
    check_matplotlib_support(caller_name)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax, ax.figure


def named_estimators(estimators, names, caller_name):
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
    else:
        names = [names] if isinstance(names, str) else [str(n) for n in names]
        if len(names) != len(models):
            raise ValueError(
                f"{caller_name}: got {len(names)} names for {len(models)} estimators."
            )
    return names, models


def named_values(values, names, caller_name):
    """``(names, values)`` of a ``from_results``-style call: a dict's keys name its values
    (then ``names`` must be None); a single name becomes a list."""
    if isinstance(values, Mapping):
        if names is not None:
            raise ValueError(f"{caller_name}: names cannot be given with a dict of values.")
        names, values = [str(k) for k in values], list(values.values())
    if isinstance(names, str):
        names = [names]
    return names, values


def check_names(names, n, what, caller_name):
    """A list of ``n`` names as str, or None; a ValueError when the count differs."""
    if names is None:
        return None
    names = [names] if isinstance(names, str) else [str(n_) for n_ in names]
    if len(names) != n:
        raise ValueError(f"{caller_name}: got {len(names)} names for {n} {what}.")
    return names


def as_1d(values, name, caller_name):
    """A finite-or-NaN float vector; a ValueError naming ``name`` otherwise."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{caller_name}: {name} must be numbers; got {values!r}.") from exc
    if array.ndim != 1:
        raise ValueError(
            f"{caller_name}: {name} must be 1-D; got an array of shape {array.shape}."
        )
    return array


def check_numbers(array, name, caller_name, *, allow_nan=False, minimum=None):
    """Refuse an empty ``array``, infinite values, NaN (unless ``allow_nan``: a failed
    candidate of a search scores NaN) and values below ``minimum``; returns ``array``.

    A Display draws what it is given: an inf point would be silently left out, a
    negative budget drawn as if it meant something.
    """
    if array.size == 0:
        raise ValueError(f"{caller_name}: {name} is empty; there is nothing to draw.")
    if np.isinf(array).any() or (not allow_nan and np.isnan(array).any()):
        what = "finite or NaN (a failed candidate)" if allow_nan else "finite"
        raise ValueError(f"{caller_name}: {name} must be {what}; got {array.tolist()!r}.")
    if minimum is not None and (array < minimum).any():
        raise ValueError(
            f"{caller_name}: {name} must be >= {minimum:g}; got {array.tolist()!r}."
        )
    return array


def format_number(value):
    """A short label for an eps, a score or a parameter value."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        return str(value)
    return f"{float(value):.3g}"


# Offsets (points) tried in turn for a label next to its point: up-right first.
_OFFSETS = [(4, 4), (4, -4), (-4, 4), (-4, -4), (7, 0), (-7, 0), (0, 7), (0, -7),
            (10, 12), (10, -12), (-10, 12), (-10, -12), (16, 0), (-16, 0)]


def _line_paths(ax):
    """The lines of the axes, in display coordinates (what labels and notes avoid)."""
    return [line.get_transform().transform_path(line.get_path()) for line in ax.lines
            if line.get_visible() and len(line.get_xdata())]


def _crossings(box, paths):
    return sum(bool(path.intersects_bbox(box, filled=False)) for path in paths)


def _renderer(figure):
    get = getattr(figure.canvas, "get_renderer", None) or getattr(figure, "_get_renderer", None)
    try:
        return get() if get is not None else None
    except Exception:  # pragma: no cover - a backend without an off-screen renderer
        return None


def annotate_points(ax, x, y, texts, *, fontsize=8, color="0.2"):
    """Label points next to them, each label moved until it overlaps no other nor a point.

    Labels are placed greedily: for each point, the first of a few offsets whose text box
    overlaps neither an earlier label, nor a marker, nor the axes' edge, else the offset
    with the fewest overlaps. The figure's layout is computed first (without drawing), so
    the positions hold in the saved figure; labels do not take part in the layout.

    Returns
    -------
    annotations : list of matplotlib.text.Annotation
    """
    figure = ax.figure
    if hasattr(figure, "draw_without_rendering"):
        figure.draw_without_rendering()
    renderer = _renderer(figure)
    points = ax.transData.transform(np.column_stack([x, y])) if len(x) else np.empty((0, 2))
    radius = 3.0 * figure.dpi / 72.0
    axes_box = ax.get_window_extent(renderer)
    paths = _line_paths(ax)
    placed, annotations = [], []
    for (px, py), xi, yi, text in zip(points, x, y, texts, strict=True):
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        best = None
        for dx, dy in _OFFSETS if renderer is not None else _OFFSETS[:1]:
            ann = ax.annotate(
                text, (xi, yi), xytext=(dx, dy), textcoords="offset points",
                ha="left" if dx > 0 else ("right" if dx < 0 else "center"),
                va="bottom" if dy > 0 else ("top" if dy < 0 else "center"),
                fontsize=fontsize, color=color,
            )
            ann.set_in_layout(False)
            if renderer is None:
                best = (0, ann)
                break
            box = ann.get_window_extent(renderer)
            cost = sum(box.overlaps(b) for b in placed) + _crossings(box, paths)
            cost += sum(
                box.x0 - radius < qx < box.x1 + radius and box.y0 - radius < qy < box.y1 + radius
                for qx, qy in points
            )
            if not (axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1
                    and axes_box.y0 <= box.y0 and box.y1 <= axes_box.y1):
                cost += 2
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, ann, box)
            else:
                ann.remove()
            if cost == 0:
                break
        if renderer is not None:
            placed.append(best[2])
        annotations.append(best[1])
    return annotations


_CORNERS = [(0.98, 0.98, "right", "top"), (0.02, 0.02, "left", "bottom"),
            (0.02, 0.98, "left", "top"), (0.98, 0.02, "right", "bottom")]


def place_note(ax, text, x, y, *, fontsize=8):
    """Write a boxed note in the corner of the axes that covers the fewest of the points.

    Returns
    -------
    note : matplotlib.text.Text
    """
    figure = ax.figure
    if hasattr(figure, "draw_without_rendering"):
        figure.draw_without_rendering()
    renderer = _renderer(figure)
    points = ax.transData.transform(np.column_stack([x, y])) if len(x) else np.empty((0, 2))
    paths = _line_paths(ax)
    best = None
    for cx, cy, ha, va in _CORNERS if renderer is not None else _CORNERS[:1]:
        note = ax.text(cx, cy, text, transform=ax.transAxes, ha=ha, va=va, fontsize=fontsize,
                       color="0.3", zorder=6,
                       bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.8"})
        if renderer is None:
            return note
        box = note.get_window_extent(renderer)
        r = 5.0 * figure.dpi / 72.0  # a marker's radius, and some room
        cost = int(np.sum((points[:, 0] >= box.x0 - r) & (points[:, 0] <= box.x1 + r)
                          & (points[:, 1] >= box.y0 - r) & (points[:, 1] <= box.y1 + r)))
        cost += _crossings(box, paths)
        if best is None or cost < best[0]:
            if best is not None:
                best[1].remove()
            best = (cost, note, box)
        else:
            note.remove()
        if cost == 0:
            return note
    # Every corner covers a point: raise the top of the axes by the note's height and write
    # it in the empty band that leaves, top right.
    best[1].remove()
    box = best[2]
    fraction = min(0.5, (box.height + 2 * r) / ax.get_window_extent(renderer).height)
    lo, hi = ax.get_ylim()
    if ax.get_yscale() == "log":
        ax.set_ylim(lo, lo * (hi / lo) ** (1 / (1 - fraction)))
    else:
        ax.set_ylim(lo, lo + (hi - lo) / (1 - fraction))
    cx, cy, ha, va = _CORNERS[0]
    return ax.text(cx, cy, text, transform=ax.transAxes, ha=ha, va=va, fontsize=fontsize,
                   color="0.3", zorder=6,
                   bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.8"})


def plain_log_ticks(axis):
    """Tick labels of a log axis as plain numbers (``2``, ``30``), not ``3 x 10^1``."""
    from matplotlib.ticker import LogFormatter

    axis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.4)))
