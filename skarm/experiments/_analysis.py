"""From cell records to the numbers of the tables: selection, correlations, Pareto fronts.

Every function takes the cells of one data set as a dict ``{(method, alpha): record}``
(records from :func:`skarm.experiments._cells.compute_cell`; ``alpha = 0`` is stored once,
as ``("none", 0.0)``; adversarial training is ``("at", budget fraction)``) and returns
JSON-ready dicts; :mod:`skarm.experiments._tables`
renders them and :mod:`skarm.experiments._plots` draws them.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from scipy.stats import spearmanr

from ..model_selection._refit import robust_refit
from ..utils._tradeoff import hypervolume, pareto_front
from ._protocol import ALL_METHODS, METHODS
from ._protocol import budget_key as _key

__all__ = [
    "analyse_dataset",
    "select_across_methods",
    "select_alpha",
    "spearman",
]

# Clean micro-F1 (absolute) a robust model may give up against the unregularised one in the
# "constrained" selection and in the matched-clean-F1 comparison of the Pareto fronts.
CLEAN_TOLERANCE = 0.02


def _cell(cells, method, alpha):
    return cells[("none", 0.0)] if alpha == 0 else cells[(method, float(alpha))]


def _collapsed(cell):
    """Whether the cell's model collapsed (W = 0 or a constant prediction on test)."""
    return bool(cell.get("collapse", {}).get("collapsed", False))


def spearman(a, b):
    """Spearman's rho and its p-value; None for both when either input is constant.

    Examples
    --------
    >>> from skarm.experiments._analysis import spearman
    >>> rho, p = spearman([13.5, 11.4, 10.8, 6.9, 4.3], [31.5, 19.16, 18.06, 14.55, 11.22])
    >>> rho, p < 1e-20
    (1.0, True)
    >>> spearman([1, 1, 1], [1, 2, 3])
    (None, None)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n = 2 has no p-value: NaN, reported as None
        rho, p = spearmanr(a, b)
    rho, p = float(rho), float(p)
    return round(rho, 12), (p if np.isfinite(p) else None)


def select_alpha(cells, method, protocol, rule="adversarial", eps=None):
    """The alpha of a method chosen on the validation split (Table 3).

    Parameters
    ----------
    cells : dict
        The cells of one data set.
    method : str
        A method name; "none" always gets 0. For "at" the "alpha" is the training budget.
    protocol : Protocol
        Gives the grid and the selection budget ``eps_select``.
    rule : {"adversarial", "constrained"}, default="adversarial"
        "adversarial" (the paper's tuning): the best validation adversarial micro-F1 at
        ``eps_select``. "constrained": the same, among the alphas whose validation clean
        micro-F1 is within ``CLEAN_TOLERANCE`` of the unregularised model's (if none is,
        the alpha with the best clean micro-F1). Ties go to the smaller alpha.
    eps : float, default=None
        Select at this budget (a fraction of the median row norm) instead of
        ``eps_select``; the validation split is attacked at every Table 3 budget.

    Returns
    -------
    alpha : float
    """
    if method == "none":
        return 0.0
    key = _key(protocol.eps_select if eps is None else eps)
    grid = list(protocol.grid(method))
    adv = np.array([_cell(cells, method, a)["val"]["gase"][key]["micro"] for a in grid])
    if rule == "adversarial":
        return float(grid[int(np.argmax(adv))])  # argmax: the first (smallest) on ties
    clean = np.array([_cell(cells, method, a)["val"]["clean"]["micro"] for a in grid])
    floor = cells[("none", 0.0)]["val"]["clean"]["micro"] - CLEAN_TOLERANCE
    eligible = clean >= floor
    if not eligible.any():
        return float(grid[int(np.argmax(clean))])
    return float(grid[int(np.argmax(np.where(eligible, adv, -np.inf)))])


def _candidates(cells, protocol, methods=ALL_METHODS):
    """Every (method, alpha) of the grids, the unregularised model once, in table order."""
    out = [("none", 0.0)]
    out += [(m, float(a)) for m in methods if m != "none" for a in protocol.grid(m) if a > 0]
    return [c for c in out if c[0] == "none" or c in cells]


def select_across_methods(cells, protocol, eps, tolerance=CLEAN_TOLERANCE):
    """The model chosen on validation among every method and its grid, at the budget ``eps``.

    The candidates are all the cells of the data set (the unregularised model, every
    penalty at every lambda, adversarial training at every training budget), and the choice
    is :func:`~skarm.model_selection.robust_refit`'s, on the validation scores: the best
    validation adversarial micro-F1 at ``eps`` among the candidates whose validation clean
    micro-F1 is within ``tolerance`` of the best; ties go to the better clean micro-F1,
    then to the first in table order (methods as in Table 3, then smaller alpha).

    Parameters
    ----------
    cells : dict
        The cells of one data set.
    protocol : Protocol
        Gives the grids.
    eps : float
        The budget, as a fraction of the median row norm: the reported one.
    tolerance : float, default=CLEAN_TOLERANCE
        Clean micro-F1 a candidate may lose against the best validation clean micro-F1.

    Returns
    -------
    method, alpha : str, float

    Examples
    --------
    >>> from skarm.experiments import default_protocol
    >>> from skarm.experiments._analysis import select_across_methods
    >>> def cell(clean, adv):
    ...     return {"val": {"clean": {"micro": clean}, "gase": {"0.2": {"micro": adv}}}}
    >>> cells = {("none", 0.0): cell(0.80, 0.1), ("l2", 0.1): cell(0.79, 0.3),
    ...          ("at", 0.05): cell(0.70, 0.6)}
    >>> select_across_methods(cells, default_protocol(quick=True), 0.2)
    ('l2', 0.1)
    """
    key = _key(eps)
    candidates = _candidates(cells, protocol)
    scores = {
        "mean_test_clean": [_cell(cells, m, a)["val"]["clean"]["micro"] for m, a in candidates],
        "mean_test_adversarial": [
            _cell(cells, m, a)["val"]["gase"][key]["micro"] for m, a in candidates
        ],
    }
    refit = robust_refit(tolerance, score="clean", robustness="adversarial")
    return candidates[refit(scores)]


def _selection(cells, protocol):
    """The selection table: per reported budget, the best of the six paper methods on test
    (each with its alpha chosen on validation at that budget) against the model selected
    across all methods on validation at that budget."""
    base = cells[("none", 0.0)]
    out = {}
    for fraction in protocol.eps_table3:
        key = _key(fraction)
        per_method = {}
        for method in METHODS:
            alpha = select_alpha(cells, method, protocol, "adversarial", eps=fraction)
            cell = _cell(cells, method, alpha)
            per_method[method] = {
                "alpha": alpha,
                "test_adv_micro": cell["test"]["gase"][key]["micro"],
                "test_clean_micro": cell["test"]["clean"]["micro"],
                "collapsed": _collapsed(cell),
            }
        best = max(per_method, key=lambda m: per_method[m]["test_adv_micro"])
        # The same among the models that did not collapse (a constant predictor cannot be
        # attacked, so at a large eps it can be the "most robust" of the six).
        alive = [m for m in per_method if not per_method[m]["collapsed"]]
        best_alive = max(alive, key=lambda m: per_method[m]["test_adv_micro"]) if alive else None
        method, alpha = select_across_methods(cells, protocol, fraction)
        cell = _cell(cells, method, alpha)
        selected = {
            "method": method,
            "alpha": alpha,
            "val_clean_micro": cell["val"]["clean"]["micro"],
            "val_adv_micro": cell["val"]["gase"][key]["micro"],
            "test_adv_micro": cell["test"]["gase"][key]["micro"],
            "test_adv_macro": cell["test"]["gase"][key]["macro"],
            "test_clean_micro": cell["test"]["clean"]["micro"],
            "test_clean_macro": cell["test"]["clean"]["macro"],
            "collapsed": _collapsed(cell),
        }
        base_clean = base["test"]["clean"]["micro"]
        out[key] = {
            "eps_fraction": fraction,
            "eps": base["eps"][key],
            "methods": per_method,
            "best_of_six": {"method": best, **per_method[best]},
            "selected": selected,
            "gap": selected["test_adv_micro"] - per_method[best]["test_adv_micro"],
            "best_of_six_not_collapsed": (
                None if best_alive is None else {"method": best_alive, **per_method[best_alive]}
            ),
            "gap_not_collapsed": (
                None if best_alive is None
                else selected["test_adv_micro"] - per_method[best_alive]["test_adv_micro"]
            ),
            "unregularised_clean_micro": base_clean,
            "clean_within_tolerance": bool(
                selected["test_clean_micro"] >= base_clean - CLEAN_TOLERANCE - 1e-12
            ),
            "n_candidates": len(_candidates(cells, protocol)),
        }
    return out


def _table2(cells, protocol):
    eps = _key(protocol.eps_table2)
    grid = list(protocol.table_grid)
    rows = [_cell(cells, "nuclear", a) for a in grid]
    out = {
        "eps_fraction": protocol.eps_table2,
        "eps": rows[0]["eps"][eps],
        "alpha": grid,
        "C_a": [r["test"]["gase"][eps]["C_a"] for r in rows],
        "C_a_pgd": [r["test"]["pgd"][eps]["C_a"] for r in rows],
        "sae_mean": [r["test"]["sae"]["mean"] for r in rows],
        "sae_median": [r["test"]["sae"]["median"] for r in rows],
        "clean_micro": [r["test"]["clean"]["micro"] for r in rows],
        "clean_macro": [r["test"]["clean"]["macro"] for r in rows],
        "phi_align": [r["test"]["phi_align"] for r in rows],
        "collapsed": [_collapsed(r) for r in rows],
    }
    rho, p = spearman(out["sae_mean"], out["C_a"])
    rho_med, p_med = spearman(out["sae_median"], out["C_a"])
    full = [_cell(cells, "nuclear", a) for a in (0.0, *protocol.lambda_grid)]
    rho_full, p_full = spearman(
        [r["test"]["sae"]["mean"] for r in full], [r["test"]["gase"][eps]["C_a"] for r in full]
    )
    # Instance level: the SAE and the GASE count of each attacked test instance.
    per_model, sae_all, count_all = [], [], []
    for r in rows:
        counts = r["instances"]["gase_flipped"][eps]
        sae = [np.inf if v is None else v for v in r["instances"]["sae"][: len(counts)]]
        per_model.append(spearman(sae, counts)[0])
        sae_all.extend(sae)
        count_all.extend(counts)
    rho_inst, p_inst = spearman(sae_all, count_all)
    out["spearman"] = {
        "model_mean": {"rho": rho, "p": p, "n": len(rows)},
        "model_median": {"rho": rho_med, "p": p_med, "n": len(rows)},
        "model_mean_full_grid": {"rho": rho_full, "p": p_full, "n": len(full)},
        "instance_pooled": {"rho": rho_inst, "p": p_inst, "n": len(sae_all)},
        "instance_per_model": per_model,
    }
    return out


def _method_summary(cell, protocol):
    test = cell["test"]
    return {
        "clean_micro": test["clean"]["micro"],
        "clean_macro": test["clean"]["macro"],
        "gase": {
            _key(f): {k: test["gase"][_key(f)][k] for k in ("micro", "macro", "C_a")}
            for f in protocol.eps_table3
        },
        "pgd": {
            _key(f): {k: test["pgd"][_key(f)][k] for k in ("micro", "macro", "C_a")}
            for f in protocol.eps_table3
        },
        "sae_mean": test["sae"]["mean"],
        "sae_median": test["sae"]["median"],
        "phi_align": test["phi_align"],
        "collapsed": _collapsed(cell),
    }


def _table3(cells, protocol):
    out = {"eps_fractions": list(protocol.eps_table3), "select_eps": protocol.eps_select}
    any_cell = cells[("none", 0.0)]
    out["eps"] = [any_cell["eps"][_key(f)] for f in protocol.eps_table3]
    for rule in ("adversarial", "constrained"):
        methods = {}
        for method in ALL_METHODS:
            alpha = select_alpha(cells, method, protocol, rule)
            cell = _cell(cells, method, alpha)
            methods[method] = {
                "alpha": alpha,
                "val_adv_micro": cell["val"]["gase"][_key(protocol.eps_select)]["micro"],
                **_method_summary(cell, protocol),
            }
        out[rule] = methods
    return out


def _table4(cells, protocol):
    eps = _key(protocol.eps_table4)
    grid = list(protocol.table_grid)
    rows = [_cell(cells, "sae", a) for a in grid]
    return {
        "eps_fraction": protocol.eps_table4,
        "eps": rows[0]["eps"][eps],
        "alpha": grid,
        "phi_align": [r["test"]["phi_align"] for r in rows],
        "clean_micro": [r["test"]["clean"]["micro"] for r in rows],
        "clean_macro": [r["test"]["clean"]["macro"] for r in rows],
        "pert_micro": [r["test"]["gase"][eps]["micro"] for r in rows],
        "pert_macro": [r["test"]["gase"][eps]["macro"] for r in rows],
        "C_a": [r["test"]["gase"][eps]["C_a"] for r in rows],
        "sae_mean": [r["test"]["sae"]["mean"] for r in rows],
        "sae_median": [r["test"]["sae"]["median"] for r in rows],
        "collapsed": [_collapsed(r) for r in rows],
    }


def _grid(cells, protocol, methods):
    """Every evaluated alpha of every method (the lambda plots and the fronts)."""
    out = {}
    for method in methods:
        alphas = [0.0, *protocol.grid(method)] if method != "none" else [0.0]
        points = []
        for a in alphas:
            cell = _cell(cells, method, a)
            points.append({
                "alpha": a,
                "val_clean_micro": cell["val"]["clean"]["micro"],
                # The validation split's adversarial micro-F1 at the selection budget, and
                # at every budget it is attacked at.
                "val_adv_micro": cell["val"]["gase"][_key(protocol.eps_select)]["micro"],
                "val_adv": {k: v["micro"] for k, v in cell["val"]["gase"].items()},
                "fit_seconds": cell["fit"]["seconds"],
                "converged": cell["fit"]["converged"],
                **_method_summary(cell, protocol),
                "C_a": {k: v["C_a"] for k, v in cell["test"]["gase"].items()},
            })
        out[method] = points
    return out


def _pareto(grid, protocol):
    out = {}
    base = grid["none"][0]["clean_micro"]
    for fraction in protocol.eps_table3:
        key = _key(fraction)
        per_method = {}
        union = []
        for method, points in grid.items():
            clean = [p["clean_micro"] for p in points]
            adv = [p["gase"][key]["micro"] for p in points]
            front = pareto_front(clean, adv)
            matched = [a for c, a in zip(clean, adv, strict=True) if c >= base - CLEAN_TOLERANCE]
            per_method[method] = {
                "front_alpha": [points[i]["alpha"] for i in front],
                "front_clean": [clean[i] for i in front],
                "front_adv": [adv[i] for i in front],
                "front_collapsed": [points[i]["collapsed"] for i in front],
                "hypervolume": hypervolume(clean, adv),
                "best_adv_matched_clean": max(matched) if matched else None,
                "best_adv": max(adv),
                "clean_at_best_adv": clean[int(np.argmax(adv))],
                "alpha_at_best_adv": points[int(np.argmax(adv))]["alpha"],
            }
            union.extend(
                (method, p["alpha"], c, a, p["collapsed"])
                for p, c, a in zip(points, clean, adv, strict=True)
                if method == "none" or p["alpha"] > 0
            )
        front = pareto_front([u[2] for u in union], [u[3] for u in union])
        out[key] = {
            "baseline_clean": base,
            "methods": per_method,
            "union_front": [
                {"method": union[i][0], "alpha": union[i][1], "clean": union[i][2],
                 "adv": union[i][3], "collapsed": union[i][4]}
                for i in front
            ],
        }
    return out


def analyse_dataset(cells, protocol, tables, info):
    """All the numbers of one data set, JSON-ready.

    Parameters
    ----------
    cells : dict
        ``{(method, alpha): record}``.
    protocol : Protocol
        The settings.
    tables : tuple of str
        Which of "2", "3", "4" to compute.
    info : dict
        Data set facts (sizes, budgets) copied into the result.

    Returns
    -------
    result : dict
        ``info``, and ``table2``, ``table3``, ``selection``, ``table4``, ``grid``,
        ``pareto`` as asked (``selection`` and ``pareto`` come with Table 3).
    """
    result = {"info": info}
    methods = ["none"]
    if "2" in tables:
        result["table2"] = _table2(cells, protocol)
        methods.append("nuclear")
    if "3" in tables:
        result["table3"] = _table3(cells, protocol)
        result["selection"] = _selection(cells, protocol)
        methods = list(ALL_METHODS)
    if "4" in tables:
        result["table4"] = _table4(cells, protocol)
        if "sae" not in methods:
            methods.append("sae")
    result["grid"] = _grid(cells, protocol, methods)
    if "3" in tables:
        result["pareto"] = _pareto(result["grid"], protocol)
    return result
