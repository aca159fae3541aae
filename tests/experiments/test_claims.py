"""The claims of skarm reproduce on synthetic results: verdict rules, p = 0, collapsed models."""

import pytest

from skarm.experiments._claims import (
    _dataset_claims,
    check_claims,
    render_claims,
    render_selection_targets,
    selection_targets,
)
from skarm.experiments._tables import DAGGER, FOOTNOTE, _render_table2, _render_table4

ALPHAS = [0.0, 1e-3, 1e-2, 1e-1, 1.0]


def table2(collapsed=None, instance_p=1e-3, instance_rho=0.5):
    """A Table 2 block as results.json holds it (the fields the claims read)."""
    return {
        "eps_fraction": 0.5,
        "eps": 1.0,
        "alpha": ALPHAS,
        "C_a": [8.0, 7.0, 6.0, 5.0, 0.4],
        "C_a_pgd": [7.0, 6.0, 5.0, 4.0, 0.4],
        "sae_mean": [30.0, 25.0, 20.0, 10.0, 40.0],
        "sae_median": [8.0, 7.0, 6.0, 5.0, 9.0],
        "clean_micro": [0.6, 0.6, 0.6, 0.55, 0.49],
        "phi_align": [0.3, 0.3, 0.3, 0.3, 0.0],
        "collapsed": collapsed or [False] * 5,
        "spearman": {
            "model_mean": {"rho": 0.9, "p": 0.04, "n": 5},
            "model_median": {"rho": 1.0, "p": 0.0, "n": 5},
            "model_mean_full_grid": {"rho": 0.9, "p": 0.001, "n": 9},
            "instance_pooled": {"rho": instance_rho, "p": instance_p, "n": 2405},
            "instance_per_model": [0.1] * 5,
        },
    }


def table4(collapsed=None):
    # The last column is a W = 0 model: clean F1 of a constant predictor, nothing to attack.
    return {
        "eps_fraction": 0.05,
        "eps": 0.1,
        "alpha": ALPHAS,
        "phi_align": [0.30, 0.28, 0.25, 0.20, 0.0],
        "clean_micro": [0.646, 0.646, 0.640, 0.630, 0.486],
        "clean_macro": [0.36, 0.36, 0.35, 0.34, 0.12],
        "pert_micro": [0.526, 0.530, 0.540, 0.554, 0.486],
        "pert_macro": [0.26, 0.27, 0.28, 0.29, 0.12],
        "C_a": [1.0, 0.9, 0.8, 0.7, 0.0],
        "sae_mean": [1.0, 0.9, 0.8, 0.7, 0.0],
        "sae_median": [1.0, 0.9, 0.8, 0.7, 0.0],
        "collapsed": collapsed or [False] * 5,
    }


def test_underflowed_p_value_of_zero_is_significant():
    # spearmanr over thousands of instances underflows to p = 0.0: that is p < 0.05, not a
    # missing p-value.
    figure, verdict = _dataset_claims({"table2": table2(instance_p=0.0, instance_rho=0.78)})[
        "t2_inst"]
    assert verdict == "yes" and figure == "rho=0.78 (n=2405)"
    # A missing p-value (None) is not significant, nor is a large one.
    assert _dataset_claims({"table2": table2(instance_p=None)})["t2_inst"][1] == "no"
    assert _dataset_claims({"table2": table2(instance_p=0.2)})["t2_inst"][1] == "no"
    # A model-level p = 0.0 is printed, not dropped.
    t2 = table2()
    t2["spearman"]["model_mean"] = {"rho": 1.0, "p": 0.0, "n": 5}
    assert _dataset_claims({"table2": t2})["t2_cc"] == ("rho=1.00, p=0 (median SAE: 1.00)",
                                                        "yes")


def test_collapsed_columns_are_left_out_of_the_trend_rules():
    flags = [False, False, False, False, True]
    plain = _dataset_claims({"table2": table2(), "table4": table4()})
    marked = _dataset_claims({"table2": table2(flags), "table4": table4(flags)})
    # With the collapsed column, adversarial micro-F1 "falls" at the end (0.554 -> 0.486)
    # and the verdict suffers; without it the trend is monotone.
    assert plain["t4_pert_micro"] == ("0.526 -> 0.486", "no")
    assert marked["t4_pert_micro"] == ("0.526 -> 0.554; lambda=1† left out", "yes")
    # Mean SAE 30, 25, 20, 10, then 40 at the collapsed model: "no" with it, "yes" without.
    assert plain["t2_sae"][1] == "no"
    assert marked["t2_sae"] == (
        "30 -> 10 (median 8 -> 5); lambda=1† left out", "yes")
    # Every trend claim of Tables 2 and 4 drops it, and says so.
    for cid in ("t2_ca", "t4_align", "t4_clean_micro", "t4_clean_macro", "t4_pert_macro"):
        assert marked[cid][0].endswith(f"lambda=1{DAGGER} left out")
    # Too few models left: no verdict.
    gone = [False, True, True, True, True]
    assert _dataset_claims({"table4": table4(gone)})["t4_align"][1] == "n/a"


def test_collapsed_columns_are_marked_in_the_tables():
    flags = [False, False, False, False, True]
    for render, table in ((_render_table2, table2), (_render_table4, table4)):
        text = render(table(flags))
        assert f"lambda=1{DAGGER} |" in text and text.count(DAGGER) >= 2
        assert FOOTNOTE in text
        assert DAGGER not in render(table())  # no footnote without a collapsed model


def selection(gap, clean_ok, collapsed=False):
    return {
        "best_of_six": {"method": "l2", "alpha": 0.1, "test_adv_micro": 0.5,
                        "test_clean_micro": 0.6, "collapsed": False},
        "selected": {"method": "at", "alpha": 0.05, "test_adv_micro": 0.5 + gap,
                     "test_clean_micro": 0.6, "collapsed": collapsed},
        "gap": gap,
        "unregularised_clean_micro": 0.6,
        "clean_within_tolerance": clean_ok,
        "n_candidates": 42,
    }


def test_selection_claims_and_targets():
    results = {
        "a": {"selection": {"0.05": selection(0.02, True), "0.2": selection(0.0, True)}},
        "b": {"selection": {"0.05": selection(-0.01, False),
                            "0.2": selection(0.005, True, collapsed=True)}},
    }
    claims = {c["id"]: c for c in check_claims(results)}
    assert claims["x_select"]["ours"]["a"][1] == "yes"
    # b: one gap below 0, and the other selected model collapsed (no verdict for it).
    assert claims["x_select"]["ours"]["b"][1] == "no"
    assert claims["x_select_clean"]["ours"]["b"][1] == "no"
    everything_collapsed = {"c": {"selection": {"0.05": selection(0.0, True, collapsed=True)}}}
    assert check_claims(everything_collapsed)[0]["ours"]["c"][1] == "n/a"
    assert f"AT e=0.005{DAGGER}" not in claims["x_select"]["ours"]["b"][0]
    assert f"AT e=0.05{DAGGER}" in claims["x_select"]["ours"]["b"][0]
    targets = selection_targets(results)
    assert targets == {"n_cells": 4, "n_at_least_best": 3, "n_above_001": 1, "n_clean_ok": 3,
                       "n_collapsed": 1, "mean_gap": pytest.approx(0.00375),
                       "n_at_least_best_not_collapsed": 3}
    text = render_selection_targets(targets)
    assert "**3/4**" in text and "**1/4**" in text
    assert "| beyond |" in render_claims(check_claims(results), ["a", "b"])


def table3(collapsed=()):
    """Table 3's validation-selected models (micro/macro-F1 at both budgets)."""
    def model(adv, clean, is_collapsed):
        return {"alpha": 0.1, "clean_micro": clean, "clean_macro": clean,
                "gase": {k: {"micro": adv, "macro": adv} for k in ("0.05", "0.2")},
                "collapsed": is_collapsed}

    adv = {"none": 0.3, "l2": 0.5, "nuclear": 0.45, "single": 0.4, "primal": 0.4, "sae": 0.55,
           "at": 0.6}
    return {"eps_fractions": [0.05, 0.2], "adversarial": {
        m: model(a, 0.6, m in collapsed) for m, a in adv.items()}}


def test_claims_about_a_collapsed_model_have_no_verdict():
    plain = _dataset_claims({"table3": table3()})
    assert plain["t3_micro_0"][1] == "yes" and plain["x_at_0"][1] == "yes"
    assert plain["t3_beat_0"] == ("5/5 (non 0.300)", "yes")
    marked = _dataset_claims({"table3": table3(collapsed=("sae", "at"))})
    assert marked["t3_micro_0"] == ("SAE 0.550†, rank 1/6 (best SAE 0.550†)", "n/a")
    assert marked["x_at_1"][1] == "n/a" and marked["t3_cost"][1] == "n/a"
    assert marked["t3_beat_0"] == ("5/5 (non 0.300; 1 collapsed†)", "yes")
    assert _dataset_claims({"table3": table3(collapsed=("none",))})["t3_beat_1"][1] == "n/a"


def test_spearman_claims_over_collapsed_models_have_no_verdict():
    everything = table2([True] * 5, instance_p=0.0, instance_rho=0.9)
    claims = _dataset_claims({"table2": everything})
    assert claims["t2_inst"][1] == claims["t2_cc"][1] == "n/a"
    # One collapsed column of five: the correlations keep their verdicts.
    claims = _dataset_claims({"table2": table2([False] * 4 + [True], instance_p=0.0)})
    assert claims["t2_inst"][1] == "yes" and claims["t2_cc"][1] == "mostly"
