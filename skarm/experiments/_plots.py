"""PNG plots of a reproduction run (matplotlib, Agg canvas; pyplot is never imported).

Three kinds, per data set: clean and adversarial micro-F1 against lambda for every penalty;
SAE against C_a across the nuclear-norm grid (Table 2); the clean-vs-adversarial micro-F1
Pareto fronts of all methods, one plot per Table 3 budget. Adversarial training ("at") gets a
panel and a front of its own, over its training budgets; collapsed models are drawn hollow.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from ._analysis import CLEAN_TOLERANCE
from ._protocol import ADVERSARIAL, PAPER_NAMES, REGULARISERS, budget_key
from ._tables import format_alpha, format_param

__all__ = ["plot_dataset"]

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


def plot_f1_vs_lambda(name, result, path):
    """Clean and adversarial (GASE) test micro-F1 against lambda, one panel per penalty
    (and one for adversarial training, against its training budget)."""
    grid = result["grid"]
    methods = [m for m in (*REGULARISERS, ADVERSARIAL) if m in grid]
    fig = _figure(3.0 * len(methods), 3.0)
    axes = fig.subplots(1, len(methods), sharey=True, squeeze=False)[0]
    for ax, method in zip(axes, methods, strict=True):
        points = grid[method]
        x = range(len(points))
        ax.plot(x, [p["clean_micro"] for p in points], "o-", color="black", label="clean")
        for key, style in zip(points[0]["gase"], ("s--", "^:", "v-."), strict=False):
            ax.plot(x, [p["gase"][key]["micro"] for p in points], style,
                    color=_COLORS[method], label=f"GASE eps={key}")
        collapsed = [i for i, p in enumerate(points) if p.get("collapsed")]
        if collapsed:
            ax.plot(collapsed, [points[i]["clean_micro"] for i in collapsed], "o",
                    mfc="white", mec="black", label="collapsed (W = 0)")
        ax.set_xticks(list(x))
        ax.set_xticklabels([format_param(method, p["alpha"]) for p in points], rotation=60,
                           fontsize=7)
        ax.set_title(PAPER_NAMES[method])
        ax.set_xlabel("train eps (x median norm)" if method == ADVERSARIAL else "lambda")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    axes[0].set_ylabel("test micro-F1")
    fig.suptitle(f"{name}: clean and adversarial micro-F1 against lambda")
    return _save(fig, path)


def plot_sae_vs_ca(name, result, path):
    """Mean and median SAE against GASE C_a across the nuclear-norm grid (Table 2)."""
    points = result["grid"]["nuclear"]
    key = budget_key(result["table2"]["eps_fraction"])
    fig = _figure(4.5, 3.5)
    ax = fig.subplots()
    ca = [p["C_a"][key] for p in points]
    for stat, marker in (("sae_mean", "o-"), ("sae_median", "s--")):
        values = [p[stat] for p in points]
        ax.plot(ca, values, marker, label=stat.replace("_", " ").replace("sae", "SAE"))
        if stat == "sae_mean":
            for c, v, p in zip(ca, values, points, strict=True):
                ax.annotate(format_alpha(p["alpha"]), (c, v), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))
    if all(p["sae_mean"] and p["sae_mean"] > 0 for p in points):
        ax.set_yscale("log")
    ax.set_xlabel(f"GASE C_a (eps={key} x median row norm)")
    ax.set_ylabel("SAE (test)")
    ax.set_title(f"{name}: nuclear-norm grid (labels: lambda)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_pareto(name, result, key, path):
    """Every model of every method in the clean/adversarial micro-F1 plane, with fronts."""
    grid = result["grid"]
    block = result["pareto"][key]
    fig = _figure(5.0, 4.0)
    ax = fig.subplots()
    for method, points in grid.items():
        color = _COLORS[method]
        clean = [p["clean_micro"] for p in points]
        adv = [p["gase"][key]["micro"] for p in points]
        if method == "none":
            ax.plot(clean, adv, "*", color=color, markersize=12, label="non (lambda=0)")
            continue
        ax.plot(clean, adv, "o", color=color, alpha=0.35, markersize=4)
        gone = [(c, a) for c, a, p in zip(clean, adv, points, strict=True) if p.get("collapsed")]
        if gone:
            ax.plot(*zip(*gone, strict=True), "o", mfc="white", mec=color, markersize=7)
        m = block["methods"][method]
        ax.plot(m["front_clean"], m["front_adv"], "o-", color=color, markersize=5,
                label=f"{PAPER_NAMES[method]} (HV {m['hypervolume']:.3f})")
    ax.axvline(block["baseline_clean"] - CLEAN_TOLERANCE, color="grey", lw=0.8, ls=":",
               label=f"non clean - {CLEAN_TOLERANCE:g}")
    ax.set_xlabel("clean micro-F1 (test)")
    ax.set_ylabel(f"adversarial micro-F1 (GASE, eps={key} x median norm)")
    ax.set_title(f"{name}: Pareto fronts over the lambda grids (hollow: collapsed)",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
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
