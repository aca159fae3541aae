"""PNG plots of a reproduction run (matplotlib, Agg canvas; pyplot is never imported).

Three kinds, per data set: clean and adversarial micro-F1 against lambda for every penalty;
SAE against C_a across the nuclear-norm grid (Table 2); the clean-vs-adversarial micro-F1
Pareto fronts of all methods, one plot per Table 3 budget, drawn by
:class:`skarm.display.TradeoffDisplay`. Adversarial training ("at") gets a panel and a front
of its own, over its training budgets; collapsed models are drawn hollow.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from ..display import TradeoffDisplay
from ..display._base import annotate_points, place_note, plain_log_ticks
from ._analysis import CLEAN_TOLERANCE
from ._protocol import ADVERSARIAL, REGULARISERS, budget_key
from ._tables import format_alpha

__all__ = ["PLOT_NAMES", "plot_dataset"]

_DPI = 90
_COLORS = {
    "none": "black",
    "l2": "tab:blue",
    "nuclear": "tab:orange",
    "single": "tab:green",
    "primal": "tab:purple",
    "sae": "tab:red",
    ADVERSARIAL: "tab:brown",
}
# The methods' names in plot text: written out, not the paper's column headers.
PLOT_NAMES = {
    "none": "no penalty",
    "l2": "L2",
    "nuclear": "nuclear norm",
    "single": "ARM-Single",
    "primal": "ARM-Primal",
    "sae": "ARM-SAE",
    ADVERSARIAL: "adversarial training",
}
_COLLAPSED = "collapsed model (W = 0 or constant labels)"


def _figure(width, height):
    # A bare Figure with an Agg canvas: no global backend switch, no pyplot state, so
    # plotting works headless and never interferes with the caller's matplotlib.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    fig.savefig(path, dpi=_DPI, bbox_inches="tight")
    return path


def _budget(key):
    return f"eps = {key} x median row norm"


def plot_f1_vs_lambda(name, result, path):
    """Clean and adversarial (GASE) test micro-F1 against lambda, one panel per penalty
    (and one for adversarial training, against its training budget); the legend has a
    panel of its own."""
    from matplotlib.lines import Line2D

    grid = result["grid"]
    methods = [m for m in (*REGULARISERS, ADVERSARIAL) if m in grid]
    n_cols = min(4, len(methods) + 1)
    n_rows = -(-(len(methods) + 1) // n_cols)  # one free slot at least, for the legend
    fig = _figure(3.6 * n_cols, 3.0 * n_rows)
    axes = fig.subplots(n_rows, n_cols, sharey=True, squeeze=False).ravel()
    keys = list(grid[methods[0]][0]["gase"])
    styles = dict(zip(keys, ("s--", "^:", "v-."), strict=False))
    for ax, method in zip(axes, methods, strict=False):
        points = grid[method]
        x = np.arange(len(points))
        ax.plot(x, [p["clean_micro"] for p in points], "o-", color="black")
        for key in keys:
            ax.plot(x, [p["gase"][key]["micro"] for p in points], styles.get(key, "x-"),
                    color=_COLORS[method])
        collapsed = [i for i, p in enumerate(points) if p.get("collapsed")]
        if collapsed:
            ax.plot(collapsed, [points[i]["clean_micro"] for i in collapsed], "o",
                    mfc="white", mec="black", markersize=8)
        ax.set_xticks(x, [format_alpha(p["alpha"]) for p in points], fontsize=9)
        ax.set_title(PLOT_NAMES[method])
        ax.set_xlabel("training eps / median row norm" if method == ADVERSARIAL
                      else "lambda (penalty weight)")
        ax.grid(alpha=0.3)
    for ax in axes[::n_cols]:
        ax.set_ylabel("test micro-F1")
    for ax in axes[len(methods):]:
        ax.axis("off")
    handles = [Line2D([], [], color="black", marker="o", label="clean micro-F1")]
    handles += [Line2D([], [], color="0.45", marker=styles.get(k, "x-")[0],
                       linestyle=styles.get(k, "x-")[1:],
                       label=f"micro-F1 under GASE attack,\n{_budget(k)}") for k in keys]
    if any(p.get("collapsed") for m in methods for p in grid[m]):
        handles.append(Line2D([], [], linestyle="", marker="o", mfc="white", mec="black",
                              markersize=8, label=_COLLAPSED.replace(" (", "\n(")))
    axes[len(methods)].legend(handles=handles, loc="center", fontsize=9,
                              title="colour: the panel's method", title_fontsize=9)
    fig.suptitle(f"{name}: clean and adversarial test micro-F1 along each method's grid")
    return _save(fig, path)


def plot_sae_vs_ca(name, result, path):
    """Mean and median SAE against GASE C_a across the nuclear-norm grid (Table 2): one
    pair of points per lambda, labelled with it; collapsed models are left out (as in the
    trend claims) and named in a note."""
    points = result["grid"]["nuclear"]
    key = budget_key(result["table2"]["eps_fraction"])
    kept = [p for p in points if not p.get("collapsed")]
    gone = [p for p in points if p.get("collapsed")]
    fig = _figure(6.0, 4.2)
    ax = fig.subplots()
    ca = np.array([p["C_a"][key] for p in kept])
    mean = np.array([p["sae_mean"] for p in kept], dtype=float)
    median = np.array([p["sae_median"] for p in kept], dtype=float)
    for c, lo, hi in zip(ca, np.minimum(mean, median), np.maximum(mean, median), strict=True):
        ax.plot([c, c], [lo, hi], color="0.75", linewidth=1, zorder=1)
    ax.scatter(ca, mean, marker="o", color="tab:orange", zorder=3, label="mean SAE")
    ax.scatter(ca, median, marker="s", color="tab:blue", zorder=3, label="median SAE")
    log = bool(kept) and (np.concatenate([mean, median]) > 0).all()
    if log:
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
    ax.set_xlabel(f"C_a: mean labels flipped by GASE within {_budget(key)} (test)")
    ax.set_ylabel("SAE on the test split" + (" (log scale)" if log else ""))
    ax.set_title(f"{name}: SAE against C_a over the nuclear-norm grid\n"
                 "(one pair of points per lambda, labelled with it)", fontsize=10)
    ax.grid(alpha=0.3)
    if gone:
        alphas = ", ".join(format_alpha(p["alpha"]) for p in gone)
        place_note(ax, f"not shown: {_COLLAPSED},\nlambda = {alphas}",
                   np.r_[ca, ca], np.r_[mean, median])
    annotate_points(ax, ca, mean, [format_alpha(p["alpha"]) for p in kept])
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def plot_pareto(name, result, key, path):
    """Every model of every method in the clean/adversarial micro-F1 plane, with fronts."""
    grid = result["grid"]
    block = result["pareto"][key]
    methods = [m for m in grid if m != "none"]
    points = [(m, p) for m in methods for p in grid[m]]
    base = grid["none"][0] if "none" in grid else None
    fig = _figure(8.0, 4.6)
    ax = fig.subplots()
    # The title first: the display places its note in the final layout.
    ax.set_title(f"{name}: clean against adversarial micro-F1, every model of every grid\n"
                 "(lines: Pareto front of each method; up and right is better)", fontsize=10)
    TradeoffDisplay(
        clean=[p["clean_micro"] for _, p in points],
        adversarial=[p["gase"][key]["micro"] for _, p in points],
        groups=[PLOT_NAMES[m] for m, _ in points],
        clean_label="clean micro-F1 (test)",
        adversarial_label=f"micro-F1 under GASE attack (test)\n{_budget(key)}",
    ).plot(
        ax=ax, annotate=None, colors={PLOT_NAMES[m]: _COLORS[m] for m in methods},
        show_hypervolume=True,
        reference=None if base is None else (base["clean_micro"], base["gase"][key]["micro"]),
        reference_label="no penalty (lambda = 0, in every grid)",
        hollow=[bool(p.get("collapsed")) for _, p in points], hollow_label=_COLLAPSED,
        clean_threshold=block["baseline_clean"] - CLEAN_TOLERANCE,
        threshold_label=f"clean F1 of no penalty - {CLEAN_TOLERANCE:g}\n(matched clean F1)",
        legend_kwargs={"loc": "upper left", "bbox_to_anchor": (1.02, 1.0),
                       "borderaxespad": 0},
    )
    return _save(fig, path)


def plot_dataset(name, result, folder):
    """Draw every plot the computed tables allow; returns the written paths."""
    paths = []
    if "table3" in result:
        paths.append(plot_f1_vs_lambda(name, result, folder / f"{name}_f1_vs_lambda.png"))
        for key in result["pareto"]:
            paths.append(plot_pareto(name, result, key, folder / f"{name}_pareto_eps{key}.png"))
    if "table2" in result:
        paths.append(plot_sae_vs_ca(name, result, folder / f"{name}_table2_sae_vs_ca.png"))
    return paths
