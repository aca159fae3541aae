"""The Displays of skarm.display: what they draw, on which axes, and their errors."""

import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC

from skarm import ARMClassifier, GASEAttack, PGDAttack
from skarm.datasets import make_correlated_multilabel
from skarm.display import AttackabilityCurveDisplay, SAEDisplay, TradeoffDisplay
from skarm.metrics import attackability_score, make_adversarial_scorer, soft_attackability
from skarm.utils._sklearn_compat import InvalidParameterError
from skarm.utils._tradeoff import hypervolume, pareto_mask

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

X, Y = make_correlated_multilabel(n_samples=80, n_features=8, n_labels=4, correlation=0.6,
                                  random_state=0)
EPS = [0.2, 0.5, 1.0]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def models():
    return {
        "no penalty": ARMClassifier(penalty=None, random_state=0).fit(X, Y),
        "OvR LinearSVC": OneVsRestClassifier(LinearSVC(random_state=0)).fit(X, Y),
    }


# --------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------


def test_importing_skarm_display_does_not_import_matplotlib():
    code = ("import sys, skarm, skarm.display, skarm.experiments._plots; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_reproduction_plots_never_import_pyplot(tmp_path):
    # The reproduction draws on Agg-canvas Figures through the Displays: no pyplot.
    (tmp_path / "result.json").write_text(json.dumps(fake_result()))
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from skarm.experiments._plots import plot_dataset\n"
        "folder = Path(sys.argv[1])\n"
        "result = json.loads((folder / 'result.json').read_text())\n"
        "paths = plot_dataset('toy', result, folder)\n"
        "print(len(paths), 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["4", "False"]
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["toy_f1_vs_lambda.png", "toy_pareto_eps0.05.png", "toy_pareto_eps0.2.png",
                    "toy_table2_sae_vs_ca.png"]
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def fake_result():
    """A small reproduction result with the keys the plots read (two budgets, Table 2)."""
    rng = np.random.RandomState(0)
    grid = {}
    for method, n in (("none", 1), ("l2", 5), ("nuclear", 5), ("sae", 5), ("at", 4)):
        points = []
        for i in range(n):
            clean = 0.7 - 0.03 * i * rng.rand() - (0.4 if i == n - 1 and n > 1 else 0)
            points.append({
                "alpha": 0.0 if i == 0 else 10.0 ** (i - 3),
                "clean_micro": clean,
                "gase": {k: {"micro": clean * f * (1 + 0.1 * i)} for k, f in
                         (("0.05", 0.7), ("0.2", 0.4))},
                "collapsed": i == n - 1 and n > 1,
                "C_a": {"0.05": 2.0 - 0.2 * i, "0.2": 3.0 - 0.3 * i, "0.5": 4.0 - 0.4 * i},
                "sae_mean": 0.0 if i == n - 1 and n > 1 else 30.0 / (i + 1),
                "sae_median": 0.0 if i == n - 1 and n > 1 else 8.0 / (i + 1),
            })
        grid[method] = points
    pareto = {k: {"baseline_clean": grid["none"][0]["clean_micro"]} for k in ("0.05", "0.2")}
    return {"grid": grid, "pareto": pareto, "table3": {}, "table2": {"eps_fraction": 0.5}}


# --------------------------------------------------------------------------------------
# AttackabilityCurveDisplay
# --------------------------------------------------------------------------------------


def test_attackability_curve_plots_attackability_score(models):
    display = AttackabilityCurveDisplay.from_estimator(models, X, Y, eps=EPS)
    assert isinstance(display.ax_, matplotlib.axes.Axes)
    assert display.figure_ is display.ax_.figure
    assert len(display.lines_) == 2 and all(line in display.ax_.lines
                                             for line in display.lines_)
    for line, model in zip(display.lines_, models.values(), strict=True):
        expected = [attackability_score(model, X, Y, eps=e) for e in EPS]
        assert_allclose(line.get_xdata(), EPS)
        assert_allclose(line.get_ydata(), expected)
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == list(models)
    assert display.ax_.get_ylabel() == "C_a: mean labels flipped within eps (GASE)"


def test_attackability_curve_f1_under_attack_and_clean_at_eps_zero(models):
    model = models["no penalty"]
    display = AttackabilityCurveDisplay.from_estimator(
        model, X, Y, eps=[0.0, 0.5], metric="f1_macro"
    )
    X_adv = GASEAttack(model, eps=0.5).attack(X, Y).X_adv
    expected = [f1_score(Y, model.predict(X), average="macro"),
                f1_score(Y, model.predict(X_adv), average="macro")]
    assert_allclose(display.values, [expected])
    assert_allclose(display.lines_[0].get_ydata(), expected)
    assert display.names == ["ARMClassifier"]
    assert display.ax_.get_ylabel() == "macro-F1 under GASE attack"


def test_attackability_curve_pgd_and_eps_scale(models):
    model = models["OvR LinearSVC"]
    scale = 2.0
    display = AttackabilityCurveDisplay.from_estimator(
        model, X, Y, eps=[0.1, 0.25], attack="pgd", eps_scale=scale,
        attack_params={"max_iter": 10},
    )
    expected = [PGDAttack(model, eps=e * scale, max_iter=10).attack(X, Y).n_flipped.mean()
                for e in (0.1, 0.25)]
    assert_allclose(display.lines_[0].get_ydata(), expected)
    assert_allclose(display.lines_[0].get_xdata(), [0.1, 0.25])  # eps as given
    assert display.ax_.get_xlabel() == "eps: L2 attack budget / 2"
    assert "(PGD)" in display.ax_.get_ylabel()


def test_attackability_curve_at_eps_zero_counts_wrong_labels(models):
    model = models["no penalty"]
    display = AttackabilityCurveDisplay.from_estimator(model, X, Y, eps=[0.0])
    assert_allclose(display.values[0, 0], np.mean(np.sum(model.predict(X) != Y, axis=1)))
    display = AttackabilityCurveDisplay.from_estimator(model, X, None, eps=[0.0, 0.5])
    assert display.values[0, 0] == 0
    assert_allclose(display.values[0, 1], attackability_score(model, X, eps=0.5))


def test_attackability_curve_sparse_X_matches_dense(models):
    model = models["OvR LinearSVC"]
    dense = AttackabilityCurveDisplay.from_estimator(model, X, Y, eps=[0.5],
                                                     metric="f1_micro")
    sparse = AttackabilityCurveDisplay.from_estimator(model, sp.csr_matrix(X), Y, eps=[0.5],
                                                      metric="f1_micro")
    assert_allclose(sparse.values, dense.values)
    ca = AttackabilityCurveDisplay.from_estimator(model, sp.csr_matrix(X), Y, eps=[0.5])
    assert_allclose(ca.values[0, 0], attackability_score(model, X, Y, eps=0.5))


def test_attackability_curve_from_results_plot_on_given_axes():
    fig, ax = plt.subplots()
    display = AttackabilityCurveDisplay.from_results(
        [0.1, 0.2, 0.3], {"a": [1.0, 2.0, 3.0], "b": [0.5, 1.0, 1.5]}, ax=ax, metric="f1_micro"
    )
    assert display.ax_ is ax and display.figure_ is fig
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    assert_allclose(ax.lines[1].get_ydata(), [0.5, 1.0, 1.5])
    assert display.ax_.get_ylabel() == "micro-F1 under GASE attack"
    # plot again on other axes: returns self, draws there
    _, other = plt.subplots()
    assert display.plot(ax=other, xlabel="eps / median norm") is display
    assert display.ax_ is other and other.get_xlabel() == "eps / median norm"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"attack": "fgsm"}, InvalidParameterError,
         r"The 'attack' parameter of AttackabilityCurveDisplay.from_estimator must be a str "
         r"among \{.*\}. Got 'fgsm' instead."),
        ({"metric": "accuracy"}, InvalidParameterError,
         r"The 'metric' parameter of AttackabilityCurveDisplay.from_estimator must be a str "
         r"among"),
        ({"eps": [0.1, -1.0]}, ValueError, "eps must be >= 0"),
        ({"eps_scale": 0}, InvalidParameterError, "The 'eps_scale' parameter"),
        ({"names": ["a", "b"]}, ValueError, "got 2 names for 1 estimators"),
        ({"attack_params": {"max_iterations": 3}}, TypeError, "max_iterations"),
    ],
)
def test_attackability_curve_from_estimator_errors(models, kwargs, error, match):
    params = {"eps": [0.5], **kwargs}
    with pytest.raises(error, match=match):
        AttackabilityCurveDisplay.from_estimator(models["no penalty"], X, Y, **params)


def test_attackability_curve_f1_needs_y(models):
    with pytest.raises(ValueError, match="metric='f1_micro' needs the labels y"):
        AttackabilityCurveDisplay.from_estimator(models["no penalty"], X, None, eps=[0.5],
                                                 metric="f1_micro")


def test_attackability_curve_from_results_errors():
    with pytest.raises(ValueError, match=r"one column per eps \(3\)"):
        AttackabilityCurveDisplay.from_results([0.1, 0.2, 0.3], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="got 1 names for 2 curves"):
        AttackabilityCurveDisplay.from_results([0.1], [[1.0], [2.0]], names=["a"])
    with pytest.raises(InvalidParameterError, match="The 'attack' parameter of "
                       "AttackabilityCurveDisplay.from_results must be"):
        AttackabilityCurveDisplay.from_results([0.1], [1.0], attack="fgsm")


# --------------------------------------------------------------------------------------
# TradeoffDisplay
# --------------------------------------------------------------------------------------


def brute_force_front(c, a):
    n = len(c)
    return np.array([
        not any(c[j] >= c[i] and a[j] >= a[i] and (c[j] > c[i] or a[j] > a[i])
                for j in range(n))
        for i in range(n)
    ])


@pytest.mark.parametrize("seed", range(5))
def test_pareto_mask_is_the_brute_force_non_dominated_set(seed):
    rng = np.random.RandomState(seed)
    c = np.round(rng.rand(40), 1)  # rounded: many ties on one score or both
    a = np.round(rng.rand(40), 1)
    assert_array_equal(pareto_mask(c, a), brute_force_front(c, a))
    display = TradeoffDisplay(clean=c, adversarial=a).plot(clip=False)
    assert_array_equal(display.pareto_mask, brute_force_front(c, a))
    line = display.front_lines_[0]
    order = np.argsort(c[display.pareto_mask], kind="stable")
    assert_allclose(line.get_xdata(), c[display.pareto_mask][order])
    assert_allclose(line.get_ydata(), a[display.pareto_mask][order])
    dominated = display.dominated_[0].get_offsets()
    assert len(dominated) == (~display.pareto_mask).sum()
    assert display.dominated_[0].get_alpha() < 1


def test_tradeoff_groups_have_their_own_fronts_and_colours():
    c = [0.8, 0.7, 0.6, 0.8, 0.75, 0.5]
    a = [0.3, 0.4, 0.35, 0.2, 0.25, 0.1]
    groups = ["A", "A", "A", "B", "B", "B"]
    display = TradeoffDisplay(clean=c, adversarial=a, groups=groups).plot(
        colors={"B": "red"}, show_hypervolume=True
    )
    assert_array_equal(display.pareto_mask, [True, True, False, True, True, False])
    assert set(display.hypervolume) == {"A", "B"}
    assert_allclose(display.hypervolume["B"], hypervolume(c[3:], a[3:]))
    assert display.front_lines_[1].get_color() == "red"
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == [f"A (hypervolume {display.hypervolume['A']:.3f})",
                      f"B (hypervolume {display.hypervolume['B']:.3f})", "dominated (faint)"]


def test_tradeoff_clips_dominated_outliers_with_a_note():
    c = [0.80, 0.78, 0.75, 0.30, 0.10, 0.79]
    a = [0.40, 0.50, 0.55, 0.20, 0.05, 0.45]
    display = TradeoffDisplay(clean=c, adversarial=a, names=list("abcdef")).plot()
    lo, hi = display.ax_.get_xlim()
    assert 0.30 < lo < 0.75 and hi > 0.80
    assert display.clip_text_.get_text().startswith("2 of 6 points not shown")
    assert display.clip_text_ in display.ax_.texts
    # the front's points are named, none of the labels overlap
    assert sorted(t.get_text() for t in display.annotations_) == ["a", "b", "c", "f"]
    renderer = display.figure_.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in display.annotations_]
    assert not any(b1.overlaps(b2) for i, b1 in enumerate(boxes) for b2 in boxes[i + 1:])
    unclipped = TradeoffDisplay(clean=c, adversarial=a).plot(clip=False)
    assert unclipped.clip_text_ is None and unclipped.ax_.get_xlim()[0] < 0.10


def test_tradeoff_reference_is_kept_inside_the_axes():
    c = [0.80, 0.78, 0.75, 0.30, 0.10]
    a = [0.40, 0.50, 0.55, 0.20, 0.05]
    display = TradeoffDisplay(clean=c, adversarial=a).plot(
        reference=(0.5, 0.3), hollow=[False, True, False, False, False],
        clean_threshold=0.77, threshold_label="tolerance",
    )
    lo, _ = display.ax_.get_xlim()
    assert lo < 0.5
    assert display.clip_text_.get_text().startswith("2 of 5 points")
    assert_allclose(display.reference_.get_xydata(), [[0.5, 0.3]])
    assert_allclose(display.threshold_line_.get_xdata(), [0.77, 0.77])
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert "tolerance" in labels and "reference model" in labels


def test_tradeoff_from_cv_results():
    scoring = {"clean": "f1_micro", "adversarial": make_adversarial_scorer(eps=0.5)}
    search = GridSearchCV(
        ARMClassifier(random_state=0),
        {"penalty": ["l2", "nuclear"], "alpha": [0.01, 0.1]},
        scoring=scoring, refit=False, cv=KFold(2),
    ).fit(X, Y)
    res = search.cv_results_
    display = TradeoffDisplay.from_cv_results(res, group_by="penalty", annotate="all",
                                              clip=False)
    assert_allclose(display.clean, res["mean_test_clean"])
    assert_allclose(display.adversarial, res["mean_test_adversarial"])
    assert display.groups == [str(p["penalty"]) for p in res["params"]]
    assert display.names == [f"alpha={p['alpha']:.3g}" for p in res["params"]]
    assert display.ax_.get_xlabel() == "clean (mean CV test score)"
    assert len(display.annotations_) == 4
    with pytest.raises(ValueError, match=r"no key 'mean_test_f1'; its mean test scores are "
                       r"\['mean_test_adversarial', 'mean_test_clean'\]"):
        TradeoffDisplay.from_cv_results(res, clean="mean_test_f1")
    with pytest.raises(ValueError, match="group_by='C' is not a searched parameter"):
        TradeoffDisplay.from_cv_results(res, group_by="C")


def test_tradeoff_from_estimator_scores_clean_and_attacked(models):
    display = TradeoffDisplay.from_estimator(models, sp.csr_matrix(X), Y, eps=0.5)
    for i, model in enumerate(models.values()):
        assert_allclose(display.clean[i], f1_score(Y, model.predict(X), average="micro"))
        X_adv = GASEAttack(model, eps=0.5).attack(X, Y).X_adv
        assert_allclose(display.adversarial[i],
                        f1_score(Y, model.predict(X_adv), average="micro"))
    assert display.names == list(models)
    assert display.ax_.get_ylabel() == "micro-F1 under GASE attack (eps=0.5)"


def test_tradeoff_errors(models):
    with pytest.raises(ValueError, match="same length; got 3 and 2"):
        TradeoffDisplay(clean=[0.1, 0.2, 0.3], adversarial=[0.1, 0.2])
    with pytest.raises(ValueError, match="got 1 names for 2 points"):
        TradeoffDisplay(clean=[0.1, 0.2], adversarial=[0.1, 0.2], names=["a"])
    display = TradeoffDisplay(clean=[0.1, 0.2], adversarial=[0.1, 0.2])
    with pytest.raises(InvalidParameterError, match="The 'annotate' parameter of "
                       "TradeoffDisplay.plot must be"):
        display.plot(annotate="some")
    with pytest.raises(InvalidParameterError, match="The 'metric' parameter of "
                       "TradeoffDisplay.from_estimator must be"):
        TradeoffDisplay.from_estimator(models, X, Y, eps=0.5, metric="roc_auc")
    with pytest.raises(InvalidParameterError, match="The 'attack' parameter"):
        TradeoffDisplay.from_estimator(models, X, Y, eps=0.5, attack="cw")


# --------------------------------------------------------------------------------------
# SAEDisplay
# --------------------------------------------------------------------------------------


def test_sae_display_marks_mean_and_median(models):
    model = models["no penalty"]
    display = SAEDisplay.from_estimator(model, X)
    sae = soft_attackability(model, X)
    assert_allclose(display.values[0], sae)
    assert_allclose(display.mean_lines_[0].get_xdata(), [np.mean(sae)] * 2)
    assert_allclose(display.median_lines_[0].get_xdata(), [np.median(sae)] * 2)
    assert display.mean_lines_[0].get_label() == f"mean SAE = {np.mean(sae):.3g}"
    heights = sum(p.get_path().vertices[:, 1].max() > 0 for p in display.hists_[0])
    assert heights == 1  # one stepfilled patch per model
    assert display.ax_.get_xscale() == ("log" if sae.max() >= 100 * sae.min() else "linear")
    assert display.ax_.get_ylabel() == "instances"


def test_sae_display_several_models_sparse_and_given_axes(models):
    fig, ax = plt.subplots()
    display = SAEDisplay.from_estimator(models, sp.csr_matrix(X), ax=ax, log_scale=False)
    assert display.ax_ is ax and display.figure_ is fig
    assert display.names == list(models)
    for values, model in zip(display.values, models.values(), strict=True):
        assert_allclose(values, soft_attackability(model, X))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "no penalty" and labels[1].startswith("no penalty: mean SAE = ")
    assert ax.get_xscale() == "linear"


def test_sae_display_from_values_and_errors():
    display = SAEDisplay.from_values({"a": [1.0, 2.0, 400.0], "b": [3.0, 4.0]}, bins=5)
    assert display.names == ["a", "b"] and display.ax_.get_xscale() == "log"
    assert_allclose(display.median_lines_[1].get_xdata(), [3.5, 3.5])
    with pytest.raises(ValueError, match="finite and >= 0"):
        SAEDisplay.from_values([1.0, -2.0])
    with pytest.raises(ValueError, match="got 1 names for 2 arrays of values"):
        SAEDisplay.from_values([[1.0, 2.0], [3.0]], names=["a"])
    with pytest.raises(InvalidParameterError, match="The 'bins' parameter of "
                       "SAEDisplay.plot must be"):
        SAEDisplay.from_values([1.0, 2.0], bins=0)
    with pytest.raises(ValueError, match="log_scale=True needs positive SAE values"):
        SAEDisplay.from_values([0.0, 2.0], log_scale=True)


# --------------------------------------------------------------------------------------
# Docstrings and the API reference (skarm.display is not in test_docstrings' modules)
# --------------------------------------------------------------------------------------


def _display_targets():
    module = importlib.import_module("skarm.display")
    for name in module.__all__:
        cls = getattr(module, name)
        yield f"skarm.display.{name}", True
        for attr, value in vars(cls).items():
            if not attr.startswith("_") and (inspect.isfunction(value)
                                             or isinstance(value, classmethod)):
                yield f"skarm.display.{name}.{attr}", False


@pytest.mark.parametrize("qualname, is_class", list(_display_targets()))
def test_display_docstrings_are_valid_numpydoc(qualname, is_class):
    validate = pytest.importorskip("numpydoc.validate").validate
    ignored = {"GL01", "GL02", "RT02", "SA01", "ES01"} | (set() if is_class else {"EX01"})
    errors = [f"{code}: {msg}" for code, msg in validate(qualname)["errors"]
              if code not in ignored]
    assert not errors, f"{qualname}:\n" + "\n".join(errors)


def test_api_reference_lists_the_displays():
    api = Path(__file__).parents[2] / "doc" / "api.rst"
    if not api.exists():
        pytest.skip("doc/api.rst is not in this checkout")
    listed = set(re.findall(r"^\s{3}([\w.]+)\s*$", api.read_text(), flags=re.M))
    for name in importlib.import_module("skarm.display").__all__:
        assert f"display.{name}" in listed


@pytest.mark.parametrize("eps, values, match", [
    ([], [], "eps is empty"),
    ([0.1, -0.2], [1.0, 2.0], "eps must be >= 0"),
    ([0.1, np.nan], [1.0, 2.0], "eps must be finite"),
    ([0.1, 0.2], [1.0, np.inf], "values must be finite"),
    ([0.1, 0.2], [1.0, np.nan], "values must be finite"),
])
def test_attackability_curve_from_results_refuses_what_it_cannot_draw(eps, values, match):
    with pytest.raises(ValueError, match=f"from_results: {match}"):
        AttackabilityCurveDisplay.from_results(eps, values)


@pytest.mark.parametrize("clean, adversarial, match", [
    ([], [], "clean is empty"),
    ([0.5, np.inf], [0.1, 0.2], "clean must be finite or NaN"),
    ([0.5, 0.6], [-np.inf, 0.2], "adversarial must be finite or NaN"),
])
def test_tradeoff_refuses_empty_and_infinite_scores(clean, adversarial, match):
    with pytest.raises(ValueError, match=f"TradeoffDisplay: {match}"):
        TradeoffDisplay(clean=clean, adversarial=adversarial)


# --------------------------------------------------------------------------------------
# One base, one convention: __init__ stores, from_estimator -> from_values -> plot
# --------------------------------------------------------------------------------------


DISPLAYS = [AttackabilityCurveDisplay, SAEDisplay, TradeoffDisplay]


@pytest.mark.parametrize("cls", DISPLAYS)
def test_every_display_is_a_base_display_with_the_same_constructors(cls):
    from skarm.display._base import _BaseDisplay

    assert issubclass(cls, _BaseDisplay)
    for name in ("from_estimator", "from_values"):
        assert isinstance(inspect.getattr_static(cls, name), classmethod), name
    assert inspect.isfunction(inspect.getattr_static(cls, "plot"))


def test_constructors_store_their_arguments_as_given():
    eps, values = [0.1, 0.2], [[1.0, 2.0]]
    curve = AttackabilityCurveDisplay(eps=eps, values=values, names=["a"])
    assert curve.eps is eps and curve.values is values
    sae_values = [np.array([1.0, 2.0])]
    sae = SAEDisplay(values=sae_values)
    assert sae.values is sae_values
    clean, adversarial, names = [0.8, 0.7], [0.4, 0.5], ["a", "b"]
    tradeoff = TradeoffDisplay(clean=clean, adversarial=adversarial, names=names)
    assert tradeoff.clean is clean and tradeoff.adversarial is adversarial
    assert tradeoff.names is names
    for display in (curve, sae, tradeoff):
        assert not hasattr(display, "ax_")  # nothing drawn before plot


def test_constructors_of_curves_and_sae_check_nothing_plot_does():
    # Checking happens where the values are used: from_values and plot.
    display = AttackabilityCurveDisplay(eps=[], values=[])
    with pytest.raises(ValueError, match="AttackabilityCurveDisplay.plot: eps is empty"):
        display.plot()
    display = SAEDisplay(values=[1.0, -2.0])
    with pytest.raises(ValueError, match="finite and >= 0"):
        display.plot()


def test_tradeoff_init_computes_no_front(monkeypatch):
    import skarm.display._tradeoff as module

    calls = []
    monkeypatch.setattr(module, "pareto_mask",
                        lambda c, a: calls.append("pareto_mask") or pareto_mask(c, a))
    monkeypatch.setattr(module, "hypervolume",
                        lambda c, a: calls.append("hypervolume") or hypervolume(c, a))
    display = TradeoffDisplay(clean=[0.8, 0.7, 0.6], adversarial=[0.4, 0.5, 0.3],
                              groups=["A", "A", "B"])
    assert calls == []
    assert_array_equal(display.pareto_mask, [True, True, True])
    assert "pareto_mask" in calls
    calls.clear()
    assert set(display.hypervolume) == {"A", "B"}
    assert "hypervolume" in calls


def test_tradeoff_fronts_follow_the_stored_scores():
    display = TradeoffDisplay(clean=[0.8, 0.7], adversarial=[0.4, 0.5])
    assert_array_equal(display.pareto_mask, [True, True])
    display.adversarial = [0.6, 0.5]  # now the first point dominates the second
    assert_array_equal(display.pareto_mask, [True, False])
    assert_allclose(display.hypervolume, hypervolume([0.8, 0.7], [0.6, 0.5]))
    display.plot(clip=False)
    assert_allclose(display.front_lines_[0].get_xydata(), [[0.8, 0.6]])


def _spy_from_values(monkeypatch, cls):
    """Record the calls of cls.from_values, which still runs."""
    calls = []
    original = cls.from_values.__func__

    def spy(klass, *args, **kwargs):
        calls.append((args, kwargs))
        return original(klass, *args, **kwargs)

    monkeypatch.setattr(cls, "from_values", classmethod(spy))
    return calls


def test_attackability_from_estimator_funnels_into_from_values(models, monkeypatch):
    calls = _spy_from_values(monkeypatch, AttackabilityCurveDisplay)
    display = AttackabilityCurveDisplay.from_estimator(models, X, Y, eps=[0.0, 0.5],
                                                       metric="f1_micro", eps_scale=2.0)
    assert len(calls) == 1
    (eps, values), kwargs = calls[0]
    assert_allclose(eps, [0.0, 0.5])
    assert_allclose(values, display.values)
    assert kwargs["names"] == list(models) and kwargs["metric"] == "f1_micro"
    # from_values on the same numbers draws the same
    same = AttackabilityCurveDisplay.from_values(
        [0.0, 0.5], dict(zip(models, display.values, strict=True)), metric="f1_micro",
        eps_scale=2.0,
    )
    for line, other in zip(display.lines_, same.lines_, strict=True):
        assert_allclose(line.get_xydata(), other.get_xydata())
        assert line.get_label() == other.get_label()
    assert same.ax_.get_xlabel() == display.ax_.get_xlabel()
    assert same.ax_.get_ylabel() == display.ax_.get_ylabel()


def test_sae_from_estimator_funnels_into_from_values(models, monkeypatch):
    calls = _spy_from_values(monkeypatch, SAEDisplay)
    display = SAEDisplay.from_estimator(models, X, bins=7)
    assert len(calls) == 1
    (values,), kwargs = calls[0]
    assert kwargs["names"] == list(models) and kwargs["bins"] == 7
    same = SAEDisplay.from_values(dict(zip(models, values, strict=True)), bins=7)
    for mine, theirs in zip(display.median_lines_, same.median_lines_, strict=True):
        assert_allclose(mine.get_xdata(), theirs.get_xdata())
    assert [len(h) for h in display.hists_] == [len(h) for h in same.hists_]


def test_tradeoff_from_estimator_and_from_cv_results_funnel_into_from_values(
        models, monkeypatch):
    calls = _spy_from_values(monkeypatch, TradeoffDisplay)
    display = TradeoffDisplay.from_estimator(models, X, Y, eps=0.5, clip=False)
    (clean, adversarial), kwargs = calls[-1]
    same = TradeoffDisplay.from_values(clean, adversarial, names=kwargs["names"],
                                       clean_label=kwargs["clean_label"],
                                       adversarial_label=kwargs["adversarial_label"],
                                       clip=False)
    assert_allclose(same.front_lines_[0].get_xydata(), display.front_lines_[0].get_xydata())
    assert same.ax_.get_ylabel() == display.ax_.get_ylabel()
    assert sorted(t.get_text() for t in same.annotations_) == sorted(
        t.get_text() for t in display.annotations_)
    calls.clear()
    cv_results = {"mean_test_clean": [0.8, 0.7, 0.6], "mean_test_adversarial": [0.4, 0.5, 0.3],
                  "params": [{"alpha": 0.1}, {"alpha": 1.0}, {"alpha": 10.0}]}
    TradeoffDisplay.from_cv_results(cv_results)
    (clean, adversarial), kwargs = calls[0]
    assert_allclose(clean, [0.8, 0.7, 0.6]) and kwargs["names"][0] == "alpha=0.1"


def test_tradeoff_from_values_is_the_constructor_then_plot():
    c, a = [0.80, 0.78, 0.75, 0.30, 0.10], [0.40, 0.50, 0.55, 0.20, 0.05]
    names = list("abcde")
    built = TradeoffDisplay(clean=c, adversarial=a, names=names).plot(annotate="all")
    made = TradeoffDisplay.from_values(c, a, names=names, annotate="all")
    assert isinstance(made, TradeoffDisplay)
    assert made.clean == c and made.names == names
    assert_allclose(made.front_lines_[0].get_xydata(), built.front_lines_[0].get_xydata())
    assert made.clip_text_.get_text() == built.clip_text_.get_text()
    assert [t.get_text() for t in made.annotations_] == [t.get_text()
                                                         for t in built.annotations_]
    assert made.ax_.get_xlim() == built.ax_.get_xlim()


def test_from_values_errors_name_from_values():
    with pytest.raises(ValueError, match="AttackabilityCurveDisplay.from_values: eps is empty"):
        AttackabilityCurveDisplay.from_values([], [])
    with pytest.raises(InvalidParameterError, match="The 'attack' parameter of "
                       "AttackabilityCurveDisplay.from_values must be"):
        AttackabilityCurveDisplay.from_values([0.1], [1.0], attack="fgsm")
    with pytest.raises(ValueError, match="SAEDisplay.from_values: SAE values must be"):
        SAEDisplay.from_values([1.0, np.inf])
    # TradeoffDisplay's constructor checks the scores where they are given
    with pytest.raises(ValueError, match="TradeoffDisplay: clean and adversarial must have "
                       "the same length"):
        TradeoffDisplay.from_values([0.1, 0.2], [0.1])


def test_from_results_is_a_deprecated_alias_of_from_values():
    eps, values = [0.1, 0.2, 0.3], {"a": [1.0, 2.0, 3.0], "b": [0.5, 1.0, 1.5]}
    with pytest.warns(FutureWarning, match=re.escape(
            "AttackabilityCurveDisplay.from_results is deprecated in 0.1 and will be removed "
            "in 0.3; use AttackabilityCurveDisplay.from_values instead.")) as record:
        old = AttackabilityCurveDisplay.from_results(eps, values, metric="f1_micro",
                                                     xlabel="budget")
    assert record[0].filename == __file__  # the warning points at the caller
    new = AttackabilityCurveDisplay.from_values(eps, values, metric="f1_micro",
                                                xlabel="budget")
    assert old.names == new.names == ["a", "b"]
    assert old.metric == new.metric == "f1_micro"
    for line, other in zip(old.lines_, new.lines_, strict=True):
        assert_allclose(line.get_xydata(), other.get_xydata())
    assert old.ax_.get_xlabel() == "budget" == new.ax_.get_xlabel()


def test_tradeoff_plot_checks_reference_and_hollow():
    display = TradeoffDisplay(clean=[0.8, 0.7], adversarial=[0.4, 0.5])
    with pytest.raises(ValueError, match=r"TradeoffDisplay.plot: reference must be a pair"):
        display.plot(reference=(0.5, 0.3, 0.1))
    with pytest.raises(ValueError, match=r"hollow must have one entry per point \(2\)"):
        display.plot(hollow=[True])
    display.plot(hollow=[True, False], hollow_label="collapsed")
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert "collapsed" in labels


# --------------------------------------------------------------------------------------
# Only public matplotlib API
# --------------------------------------------------------------------------------------


def test_displays_reach_no_private_matplotlib_api():
    import ast

    import skarm.display as package

    own = {"self", "cls", "display", "_BaseDisplay"}
    for path in Path(package.__file__).parent.glob("*.py"):
        source = path.read_text()
        assert "_get_renderer" not in source, path.name
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                receiver = node.value.id if isinstance(node.value, ast.Name) else None
                assert receiver in own, f"{path.name}:{node.lineno}: .{node.attr}"


def test_labels_are_placed_on_a_canvas_without_get_renderer():
    from matplotlib.figure import Figure

    figure = Figure()  # a bare FigureCanvasBase: no get_renderer of its own
    assert not hasattr(figure.canvas, "get_renderer")
    c = [0.80, 0.78, 0.75, 0.30, 0.10, 0.79]
    a = [0.40, 0.50, 0.55, 0.20, 0.05, 0.45]
    display = TradeoffDisplay(clean=c, adversarial=a, names=list("abcdef")).plot(
        ax=figure.subplots())
    assert display.figure_ is figure
    assert sorted(t.get_text() for t in display.annotations_) == ["a", "b", "c", "f"]
    boxes = [t.get_window_extent() for t in display.annotations_]
    assert not any(b1.overlaps(b2) for i, b1 in enumerate(boxes) for b2 in boxes[i + 1:])
    assert display.clip_text_.get_text().startswith("2 of 6 points not shown")
