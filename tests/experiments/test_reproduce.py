"""skarm reproduce: the protocol, the cached cells, the outputs and the command line."""

import copy
import hashlib
import json
import re
import shutil
import sys
import types
import urllib.error
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skarm import _cli
from skarm._classifier import ARMClassifier
from skarm.experiments import (
    ReproduceError,
    budgets,
    default_protocol,
    load_dataset,
    reproduce,
    split_standardise,
)
from skarm.experiments import _protocol as protocol_module
from skarm.experiments import _run as run_module
from skarm.experiments._analysis import (
    select_across_methods,
    select_alpha,
    spearman,
)
from skarm.experiments._cells import CellStore, cell_config, compute_cell, record_checksum
from skarm.experiments._claims import trend
from skarm.experiments._protocol import PROTOCOL_VERSION, _fingerprint

pytest.importorskip("matplotlib")
pytest.importorskip("tqdm")

PAPER_COLUMNS = "|  | non | L2 | nl | sg | pm | SAE | AT |"
# The quick protocol: lambda = 0, one lambda for each of the five penalties, one AT budget.
QUICK_CELLS = 7


def quiet(msg):
    """A log that drops the status lines."""


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick run on the embedded data, shared by the tests that only read its output."""
    out = tmp_path_factory.mktemp("quick")
    run = reproduce(out=out, quick=True, progress=False, log=quiet)
    return out, run


# --------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------


def test_split_is_50_30_20_seeded_and_standardised_on_train():
    data = load_dataset("digits")
    X, Y = data.X, data.Y
    s = split_standardise(X, Y, random_state=0)
    n = len(X)
    assert (len(s.train), len(s.val), len(s.test)) == (
        round(0.5 * n), round(0.3 * n), n - round(0.5 * n) - round(0.3 * n)
    )
    assert len(np.intersect1d(s.train, s.test)) == 0
    assert len(np.union1d(np.union1d(s.train, s.val), s.test)) == n
    # Scaler fitted on train only: train columns have mean 0, test columns do not exactly.
    assert_allclose(s.X_train.mean(axis=0), 0, atol=1e-10)
    again = split_standardise(X, Y, random_state=0)
    assert np.array_equal(again.test, s.test)
    assert not np.array_equal(split_standardise(X, Y, random_state=1).test, s.test)


def test_budgets_are_fractions_of_the_median_row_norm():
    X = np.array([[3.0, 4.0], [0.0, 1.0], [0.0, 10.0]])  # norms 5, 1, 10: median 5
    assert budgets(X, (0.05, 0.2, 0.5)) == {"0.05": 0.25, "0.2": 1.0, "0.5": 2.5}


def test_default_grids_and_budgets():
    p = default_protocol()
    # The table columns are in the sweep, so Tables 2 and 4 need no extra fits.
    assert set(p.table_grid) - {0.0} <= set(p.lambda_grid)
    assert p.eps_table3 == (0.05, 0.2) and p.eps_table2 == 0.5 and p.eps_table4 == 0.05
    q = default_protocol(quick=True)
    assert len(q.table_grid) == 2 and q.max_attack is not None
    # Adversarial training: budgets on the scale of the attack budgets, around 0.05 and 0.2.
    assert p.grid("at") == p.at_grid and min(p.at_grid) < 0.05 and max(p.at_grid) >= 0.2
    assert len(q.at_grid) == 1
    # The validation split is attacked at every reported budget, not only eps_select.
    assert set(p.eps_table3) | {p.eps_select} == set(p.val_eps_fractions)
    assert p.preprocess == "standardise"
    with pytest.raises(ReproduceError, match="unit-norm"):
        type(p)(preprocess="l2")


def test_unit_norm_preprocessing_scales_every_row():
    data = load_dataset("digits", max_samples=200)
    s = split_standardise(data.X, data.Y, preprocess="unit-norm")
    for X in (s.X_train, s.X_val, s.X_test):
        assert_allclose(np.linalg.norm(X, axis=1), 1.0)
    # Same rows as the standardised split: only the features change.
    assert np.array_equal(s.test, split_standardise(data.X, data.Y).test)
    assert budgets(s.X_train, (0.05,)) == {"0.05": pytest.approx(0.05)}


# --------------------------------------------------------------------------------------
# Sparse data sets: CSR end to end under unit-norm, densified to standardise
# --------------------------------------------------------------------------------------


def write_sparse_mulan(folder, name="toysparse", n_samples=120, n_features=40, n_labels=3,
                       missing=False, seed=0):
    """A small sparse MULAN set (NAME/NAME.arff and NAME.xml): non-negative TF-like rows,
    about 15% non-zero, each label the sign of a sparse linear score of the features."""
    rng = np.random.RandomState(seed)
    X = rng.exponential(1.0, (n_samples, n_features)) * (rng.rand(n_samples, n_features) < 0.15)
    X = np.round(X, 3)
    X[3] = 0.0  # an all-zero row: unit-norm leaves it zero
    W = rng.randn(n_features, n_labels) * (rng.rand(n_features, n_labels) < 0.3)
    scores = X @ W
    Y = (scores > np.median(scores, axis=0)).astype(int)
    if missing:
        X[5, 7] = np.nan
    labels = [f"label{j}" for j in range(n_labels)]
    lines = [f"@relation {name}", ""]
    lines += [f"@attribute f{i} numeric" for i in range(n_features)]
    lines += [f"@attribute {label} {{0,1}}" for label in labels]
    lines += ["", "@data"]
    for x, y in zip(X, Y, strict=True):
        entries = [f"{i} {'?' if np.isnan(v) else repr(float(v))}"
                   for i, v in enumerate(x) if v != 0]
        entries += [f"{n_features + j} 1" for j in np.flatnonzero(y)]
        lines.append("{" + ", ".join(entries) + "}")
    set_folder = folder / name
    set_folder.mkdir(parents=True, exist_ok=True)
    (set_folder / f"{name}.arff").write_text("\n".join(lines) + "\n")
    xml = "".join(f'<label name="{label}"></label>' for label in labels)
    (set_folder / f"{name}.xml").write_text(
        f'<?xml version="1.0"?><labels xmlns="http://mulan.sourceforge.net/labels">{xml}'
        "</labels>"
    )
    return X, Y


def test_fingerprint_does_not_depend_on_the_storage(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.rand(50, 7) * (rng.rand(50, 7) < 0.3)
    Y = rng.randint(0, 2, (50, 3))
    dense = _fingerprint(X, Y)
    # The dense formula of the earlier versions: committed results keep their fingerprints.
    digest = hashlib.sha1()
    for a in (X, Y):
        digest.update(str(a.shape).encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    assert dense == digest.hexdigest()[:16]
    unsorted = sp.csr_matrix(X)
    unsorted.indices = unsorted.indices.copy()
    unsorted.data = unsorted.data.copy()
    for start, stop in zip(unsorted.indptr[:-1], unsorted.indptr[1:], strict=True):
        unsorted.indices[start:stop] = unsorted.indices[start:stop][::-1]
        unsorted.data[start:stop] = unsorted.data[start:stop][::-1]
    unsorted.has_sorted_indices = False
    explicit_zero = sp.csr_matrix(X)
    explicit_zero.data = explicit_zero.data.copy()
    explicit_zero.data[0] = 0.0  # stored, but zero: the same as the dense X with that zero
    with_zero = X.copy()
    with_zero[0, explicit_zero.indices[0]] = 0.0
    assert _fingerprint(explicit_zero, Y) == _fingerprint(with_zero, Y) != _fingerprint(X, Y)
    for stored in (sp.csr_matrix(X), sp.csr_array(X), sp.csc_matrix(X), sp.coo_matrix(X),
                   unsorted, np.asfortranarray(X)):
        assert _fingerprint(stored, Y) == dense, type(stored)
    # Hashed a few rows at a time (here 2 values per block: 7 features, one row a block).
    monkeypatch.setattr(protocol_module, "_FINGERPRINT_BLOCK", 2)
    assert _fingerprint(sp.csr_matrix(X), Y) == _fingerprint(X, Y) == dense
    changed = X.copy()
    changed[49, 6] += 1.0
    assert _fingerprint(sp.csr_matrix(changed), Y) != dense
    assert _fingerprint(sp.csr_matrix(X[:, :6]), Y) != dense  # the shape is hashed too


def test_sparse_dataset_stays_sparse_until_standardised(tmp_path):
    X, Y = write_sparse_mulan(tmp_path)
    data = load_dataset("toysparse", data_home=tmp_path)
    assert sp.issparse(data.X) and data.X.format == "csr" and data.X.dtype == np.float64
    assert data.X.has_canonical_format
    assert_array_equal(data.X.toarray(), X)
    assert_array_equal(data.Y, Y)
    assert data.fingerprint == _fingerprint(X, Y)
    # The seeded subsample: the same rows (and fingerprint) as the dense array's.
    small = load_dataset("toysparse", data_home=tmp_path, max_samples=50, random_state=3)
    rows = np.sort(np.random.RandomState(3).permutation(len(X))[:50])
    assert sp.issparse(small.X) and small.X.shape == (50, X.shape[1])
    assert_array_equal(small.X.toarray(), X[rows])
    assert small.fingerprint == _fingerprint(X[rows], Y[rows])

    unit = split_standardise(data.X, data.Y, preprocess="unit-norm")
    dense_unit = split_standardise(X, Y, preprocess="unit-norm")
    assert np.array_equal(unit.test, dense_unit.test)
    for part in ("X_train", "X_val", "X_test"):
        assert sp.issparse(unit[part]) and unit[part].format == "csr"
        assert_allclose(unit[part].toarray(), dense_unit[part], rtol=1e-12)
    norms = np.sqrt(np.asarray(unit.X_train.multiply(unit.X_train).sum(axis=1)).ravel())
    zero = np.flatnonzero(unit.train == 3)
    assert_allclose(np.delete(norms, zero), 1.0)
    assert np.all(norms[zero] == 0)
    assert budgets(unit.X_train, (0.05,)) == budgets(dense_unit.X_train, (0.05,))
    # Standardising centres the columns: dense, and the same numbers as from the dense X.
    std = split_standardise(data.X, data.Y)
    dense_std = split_standardise(X, Y)
    for part in ("X_train", "X_val", "X_test"):
        assert isinstance(std[part], np.ndarray)
        assert_array_equal(std[part], dense_std[part])


def test_sparse_dataset_with_missing_values_is_refused(tmp_path):
    write_sparse_mulan(tmp_path, missing=True)
    with pytest.raises(ReproduceError, match="missing values"):
        load_dataset("toysparse", data_home=tmp_path)


@pytest.fixture
def fit_inputs(monkeypatch):
    """Records whether each ARMClassifier.fit got a sparse X (the cells run in-process)."""
    seen = []
    fit = ARMClassifier.fit

    def spy(self, X, y, *args, **kwargs):
        seen.append(sp.issparse(X))
        return fit(self, X, y, *args, **kwargs)

    monkeypatch.setattr(ARMClassifier, "fit", spy)
    return seen


def test_unit_norm_run_fits_a_sparse_set_on_csr(tmp_path, fit_inputs):
    write_sparse_mulan(tmp_path / "data")
    run = reproduce(datasets="toysparse", data_home=tmp_path / "data", out=tmp_path / "out",
                    quick=True, preprocess="unit-norm", progress=False, log=quiet)
    assert run.n_fitted == QUICK_CELLS and fit_inputs == [True] * QUICK_CELLS
    result = run.results["results"]["toysparse"]
    info = result["info"]
    assert info["preprocess"] == "unit-norm" and info["n_features"] == 40
    assert_allclose(info["median_row_norm"], 1.0)
    assert_allclose(info["eps"]["0.5"], 0.5, rtol=1e-5)
    # The ranges the dense quick run is checked against; every test row is attacked, so
    # the adversarial F1 is that of the clean F1's rows.
    assert info["n_attacked"] == info["n_test"]
    for rule in ("adversarial", "constrained"):
        assert list(result["table3"][rule]) == ["none", "l2", "nuclear", "single", "primal",
                                                "sae", "at"]
        for m in result["table3"][rule].values():
            assert 0 <= m["clean_micro"] <= 1
            for key in ("0.05", "0.2"):
                assert m["gase"][key]["C_a"] >= m["pgd"][key]["C_a"] - 1e-9
                assert 0 <= m["gase"][key]["micro"] <= m["clean_micro"] + 1e-9
    # The unregularised model learnt the labels, as it does from the same rows stored dense.
    none = result["table3"]["adversarial"]["none"]
    assert none["clean_micro"] > 0.5 and not none["collapsed"]
    data = load_dataset("toysparse", data_home=tmp_path / "data", max_samples=300)
    dense = split_standardise(data.X.toarray(), data.Y, preprocess="unit-norm")
    record = compute_cell(data, dense, "none", 0.0, default_protocol(True, "unit-norm"))
    assert fit_inputs[-1] is False
    assert abs(record["test"]["clean"]["micro"] - none["clean_micro"]) <= 0.05


def test_standardised_run_densifies_a_sparse_set(tmp_path, fit_inputs):
    write_sparse_mulan(tmp_path / "data")
    run = reproduce(tables="2", datasets="toysparse", data_home=tmp_path / "data",
                    out=tmp_path / "out", quick=True, progress=False, log=quiet)
    assert run.n_fitted == 2 and fit_inputs == [False, False]
    info = run.results["results"]["toysparse"]["info"]
    assert info["preprocess"] == "standardise" and info["n_samples"] == 120


def test_cell_key_has_the_preprocessing_and_the_at_settings():
    p = default_protocol(quick=True)
    u = default_protocol(quick=True, preprocess="unit-norm")
    data = load_dataset("digits", max_samples=50)
    config = cell_config(data, "l2", 0.1, p)
    assert config["protocol_version"] == PROTOCOL_VERSION >= 2
    assert config["preprocess"] == "standardise" and "at_method" not in config
    assert config["val_eps_fractions"] == [0.05, 0.2]
    assert cell_config(data, "l2", 0.1, u) != config
    at = cell_config(data, "at", 0.05, p)
    assert at["method"] == "at" and at["alpha"] == 0.05 and at["at_method"] == "per-label"
    assert cell_config(data, "at", 0.0, p)["method"] == "none"  # e = 0 is the plain model


def test_adversarial_training_cell_and_collapse():
    p = default_protocol(quick=True)
    data = load_dataset("digits", max_samples=300)
    split = split_standardise(data.X, data.Y)
    record = compute_cell(data, split, "at", 0.05, p)
    assert set(record["val"]["gase"]) == {"0.05", "0.2"}
    assert record["collapse"] == {"coef_zero": False, "constant_prediction": False,
                                  "collapsed": False, "fit_warning": False}
    # A training budget of twice the median row norm: no hyperplane keeps the rows that far,
    # the per-label worst case is minimised by W = 0, a constant predictor.
    record = compute_cell(data, split, "at", 2.0, p)
    assert record["collapse"]["coef_zero"] and record["collapse"]["collapsed"]
    assert record["collapse"]["constant_prediction"] and record["collapse"]["fit_warning"]


def test_unknown_dataset_suggests_the_closest_name(data_home):
    with pytest.raises(ReproduceError, match="did you mean 'emotions'"):
        load_dataset("emotion", data_home=data_home)


def test_selection_prefers_the_smaller_alpha_on_ties():
    p = default_protocol(quick=True)
    p = type(p)(**{**p.__dict__, "lambda_grid": (0.1, 1.0)})

    def cell(adv, clean):
        return {"val": {"gase": {"0.05": {"micro": adv}}, "clean": {"micro": clean}}}

    cells = {("none", 0.0): cell(0.3, 0.8), ("sae", 0.1): cell(0.5, 0.79),
             ("sae", 1.0): cell(0.5, 0.5)}
    assert select_alpha(cells, "sae", p) == 0.1
    cells[("sae", 1.0)] = cell(0.6, 0.5)
    assert select_alpha(cells, "sae", p) == 1.0
    # The constrained rule refuses the model that lost 0.3 clean micro-F1.
    assert select_alpha(cells, "sae", p, rule="constrained") == 0.1
    assert select_alpha(cells, "none", p) == 0.0


def test_selection_across_methods_is_at_the_reported_budget():
    p = default_protocol(quick=True)

    def cell(clean, adv_small, adv_large):
        return {"val": {"clean": {"micro": clean},
                        "gase": {"0.05": {"micro": adv_small}, "0.2": {"micro": adv_large}}}}

    cells = {
        ("none", 0.0): cell(0.80, 0.50, 0.10),
        ("l2", 0.1): cell(0.81, 0.60, 0.20),
        ("sae", 0.1): cell(0.79, 0.55, 0.40),   # within 0.02 of the best clean (0.81)
        ("at", 0.05): cell(0.70, 0.70, 0.60),   # most robust, but loses 0.11 clean
    }
    assert select_across_methods(cells, p, 0.05) == ("l2", 0.1)
    assert select_across_methods(cells, p, 0.2) == ("sae", 0.1)
    assert select_across_methods(cells, p, 0.2, tolerance=0.2) == ("at", 0.05)
    # Ties: the first in table order.
    cells[("sae", 0.1)] = cell(0.79, 0.60, 0.20)
    assert select_across_methods(cells, p, 0.05) == ("l2", 0.1)


def test_spearman_and_trend():
    # Table 2 (Creepware): the model-level test gives CC = 1, P ~ 0 (doc: alg-protocol).
    rho, p = spearman([13.5, 11.4, 10.8, 6.9, 4.3], [31.5, 19.16, 18.06, 14.55, 11.22])
    assert rho == 1.0 and p < 1e-20
    assert trend([0.23, 0.22, 0.20, 0.15, 0.12], -1) == "yes"
    assert trend([0.34, 0.35, 0.39, 0.44, 0.53], 1) == "yes"


@pytest.fixture(scope="module")
def cell():
    """The config and record of one small cell (lambda = 0, 300 digits)."""
    data = load_dataset("digits", max_samples=300)
    split = split_standardise(data.X, data.Y)
    record = compute_cell(data, split, "none", 0.0, default_protocol(quick=True))
    return record["config"], record


def test_cells_are_written_atomically(tmp_path, cell):
    config, record = cell
    store = CellStore(tmp_path)
    path = store.save(config, record)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.load(config) == record
    on_disk = json.loads(path.read_text())
    assert on_disk.pop("checksum") == record_checksum(record) and on_disk == record


def edited(change, reseal=True):
    """A cell file changed by ``change``, with the checksum of the new content or the old."""

    def write(doc):
        new = copy.deepcopy(doc)
        change(new)
        return json.dumps({**new, "checksum": record_checksum(new if reseal else doc)})

    return write


BROKEN_CELLS = {
    # name: (file content from the record, the reason in the warning)
    "empty array": (lambda doc: "[]", "the record is an array, not an object"),
    "null": (lambda doc: "null", "the record is null, not an object"),
    "config only": (lambda doc: json.dumps({"config": doc["config"]}), r"\['fit'\] is missing"),
    "empty file": (lambda doc: "", "it is not valid JSON"),
    "truncated": (lambda doc: json.dumps(doc)[:-10], "it is not valid JSON"),
    "no checksum": (json.dumps, "it has no checksum"),
    "tampered number": (
        edited(lambda doc: doc["test"]["gase"]["0.05"].update(micro=0.999), reseal=False),
        "its checksum does not match its content",
    ),
    "NaN literal": (
        edited(lambda doc: doc["test"]["clean"].update(micro="@")),
        "it is not valid JSON \\(NaN is not a JSON number",
    ),
    "Infinity literal": (
        edited(lambda doc: doc["fit"].update(seconds="@")),
        "it is not valid JSON \\(Infinity is not a JSON number",
    ),
    "overflow": (
        edited(lambda doc: doc["data"].update(median_row_norm="@")),
        "it is not valid JSON \\(1e999 overflows a float",
    ),
    "string for an integer": (
        edited(lambda doc: doc["fit"].update(n_iter="12")),
        r"\['fit'\]\['n_iter'\] is a string, not an integer",
    ),
    "null for a score": (
        edited(lambda doc: doc["test"]["clean"].update(micro=None)),
        r"\['test'\]\['clean'\]\['micro'\] is null, not a finite number",
    ),
    "a budget missing": (
        edited(lambda doc: doc["test"]["pgd"].pop("0.5")),
        r"\['test'\]\['pgd'\] has the budgets \['0.05', '0.2'\], not \['0.05', '0.2', '0.5'\]",
    ),
    "an instance missing": (
        edited(lambda doc: doc["instances"]["sae"].pop()),
        r"\['instances'\]\['sae'\] is 59 values, not an array of 60 values \(n_test\)",
    ),
    "another config": (
        edited(lambda doc: doc["config"].update(random_state=1)),
        "it is the record of another config",
    ),
}
# The placeholders become literals that json.dumps would never write.
LITERALS = {"NaN literal": "NaN", "Infinity literal": "Infinity", "overflow": "1e999"}


@pytest.mark.parametrize("broken", sorted(BROKEN_CELLS))
def test_broken_cell_file_is_ignored_with_a_warning(tmp_path, cell, broken):
    config, record = cell
    store = CellStore(tmp_path)
    path = store.save(config, record)
    write, reason = BROKEN_CELLS[broken]
    path.write_text(write(record).replace('"@"', LITERALS.get(broken, '"@"')))
    with pytest.warns(UserWarning, match=re.escape(f"Ignoring the cached cell {path}: ")
                      + reason + ".*computed again"):
        assert store.load(config) is None
    store.save(config, record)  # what a rerun does: the file is replaced
    assert store.load(config) == record


def test_undecodable_cell_file_is_ignored(tmp_path, cell):
    config, record = cell
    store = CellStore(tmp_path)
    path = store.save(config, record)
    path.write_bytes(b"\xff\xfe{}")
    with pytest.warns(UserWarning, match="it cannot be read"):
        assert store.load(config) is None


def test_folder_in_place_of_a_cell_file_is_moved_aside(tmp_path, cell):
    config, record = cell
    store = CellStore(tmp_path)
    path = store.path(config)
    (path / "inside").mkdir(parents=True)
    with pytest.warns(UserWarning, match=re.escape(f"{path}: it is not a regular file; moved "
                                                   f"aside to {path.name}.invalid-")):
        assert store.load(config) is None
    (aside,) = path.parent.glob(f"{path.name}.invalid-*")
    assert (aside / "inside").is_dir()
    store.save(config, record)
    assert store.load(config) == record
    # A folder that appears between the look-up and the write is moved aside too.
    other = store.path({**config, "alpha": 1.0})
    other.mkdir()
    with pytest.warns(UserWarning, match="not a regular file; moved aside"):
        store.save({**config, "alpha": 1.0}, {**record, "config": {**config, "alpha": 1.0}})
    assert other.is_file()


def test_save_refuses_nan_and_incomplete_records(tmp_path, cell):
    config, record = cell
    store = CellStore(tmp_path)
    bad = copy.deepcopy(record)
    bad["test"]["clean"]["micro"] = float("nan")
    with pytest.raises(ValueError, match=re.escape(
        f"Cannot write the cell {store.path(config)}: ['test']['clean']['micro'] is nan, not "
        "a finite number."
    )):
        store.save(config, bad)
    with pytest.raises(ValueError, match=r"\['fit'\] is missing"):
        store.save(config, {"config": config})
    assert not list(tmp_path.rglob("*.json"))


# --------------------------------------------------------------------------------------
# A quick run: the files and the structure of the tables
# --------------------------------------------------------------------------------------


def test_quick_run_writes_json_markdown_and_plots(quick_run):
    out, run = quick_run
    names = {p.relative_to(out).as_posix() for p in run.files}
    assert {"results.json", "tables.md", "claims.md"} <= names
    assert {
        "plots/digits_f1_vs_lambda.png",
        "plots/digits_pareto_eps0.05.png",
        "plots/digits_pareto_eps0.2.png",
        "plots/digits_table2_sae_vs_ca.png",
    } <= names
    for p in run.files:
        assert p.stat().st_size > 0
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run.n_fitted == run.n_cells == QUICK_CELLS and run.n_cached == 0


def test_quick_run_results_json(quick_run):
    out, _ = quick_run
    doc = json.loads((out / "results.json").read_text())
    assert doc["tables"] == ["2", "3", "4"] and doc["datasets"] == ["digits"]
    result = doc["results"]["digits"]
    t2, t3, t4 = result["table2"], result["table3"], result["table4"]
    assert t2["alpha"] == [0.0, 0.1] and len(t2["C_a"]) == len(t2["sae_mean"]) == 2
    assert set(t2["spearman"]) >= {"model_mean", "model_median", "instance_pooled"}
    for rule in ("adversarial", "constrained"):
        assert list(t3[rule]) == ["none", "l2", "nuclear", "single", "primal", "sae", "at"]
        assert t3[rule]["at"]["alpha"] == 0.05
        for m in t3[rule].values():
            # Adversarial F1 never beats clean F1 on the same instances... in expectation;
            # GASE flips at least as many labels as PGD on linear models.
            for key in ("0.05", "0.2"):
                assert m["gase"][key]["C_a"] >= m["pgd"][key]["C_a"] - 1e-9
                assert 0 <= m["gase"][key]["micro"] <= 1
    assert len(t4["phi_align"]) == len(t4["pert_micro"]) == 2
    assert set(result["pareto"]) == {"0.05", "0.2"}
    assert "at" in result["pareto"]["0.05"]["methods"]
    assert [pt["alpha"] for pt in result["grid"]["at"]] == [0.0, 0.05]
    assert all(isinstance(pt["collapsed"], bool) for pt in result["grid"]["at"])
    assert len(t2["collapsed"]) == len(t4["collapsed"]) == 2
    # The selection table: one row per reported budget.
    selection = result["selection"]
    assert set(selection) == {"0.05", "0.2"}
    for row in selection.values():
        assert row["n_candidates"] == QUICK_CELLS
        assert row["best_of_six"]["method"] != "at"
        assert_allclose(row["gap"], row["selected"]["test_adv_micro"]
                        - row["best_of_six"]["test_adv_micro"])
        best = max(m["test_adv_micro"] for m in row["methods"].values())
        assert row["best_of_six"]["test_adv_micro"] == best
    targets = doc["selection_targets"]
    assert targets["n_cells"] == 2 and 0 <= targets["n_at_least_best"] <= 2
    info = result["info"]
    assert info["n_samples"] == 300 and info["n_attacked"] == 40
    assert info["preprocess"] == "standardise" and isinstance(info["collapsed"], list)
    assert_allclose(info["eps"]["0.5"], 0.5 * info["median_row_norm"], rtol=1e-5)
    assert doc["claims"] and all("ours" in c for c in doc["claims"])


def test_quick_run_tables_are_laid_out_like_the_paper(quick_run):
    out, _ = quick_run
    text = (out / "tables.md").read_text()
    for heading in ("### Table 2", "### Table 3", "### Table 3b", "### Table 4", "Pareto"):
        assert heading in text
    assert PAPER_COLUMNS in text
    table3 = text.split("### Table 3:")[1].split("###")[0]
    rows = [line for line in table3.splitlines() if line.startswith("| ")]
    labels = [row.split("|")[1].strip() for row in rows[1:]]
    assert labels[:3] == ["lambda (validation; AT: train e)", "micro-F1 clean",
                          "macro-F1 clean"]
    assert rows[1].split("|")[-2].strip().startswith("e=0.05")  # AT's training budget
    assert any(label.startswith("eps=0.05") and label.endswith("micro") for label in labels)
    assert any(label.startswith("eps=0.2") and label.endswith("macro") for label in labels)
    assert all(len(row.split("|")) == len(rows[0].split("|")) for row in rows)
    table4 = text.split("### Table 4")[1].split("###")[0]
    for label in ("phi_align", "micro-F1 clean", "macro-F1 clean", "micro-F1 pert",
                  "macro-F1 pert"):
        assert f"| {label}" in table4
    assert "### Selection table" in text and "## Selection table: all data sets" in text
    claims = (out / "claims.md").read_text()
    assert "| Table | Claim | Paper (Creepware) | digits |" in claims
    assert "Selection targets over the 2 (data set, reported eps) cells" in claims


# --------------------------------------------------------------------------------------
# Cache: a rerun fits nothing; an interrupted run keeps its finished cells
# --------------------------------------------------------------------------------------


def test_rerun_loads_every_cell_without_fitting(quick_run, tmp_path, monkeypatch, capsys):
    out, first = quick_run

    def no_fit(*args, **kwargs):
        raise AssertionError("a cached cell was refitted")

    monkeypatch.setattr(run_module, "compute_cell", no_fit)
    status = _cli.main(["reproduce", "--quick", "--out", str(tmp_path), "--cache-dir",
                        str(out / "cells"), "--no-progress"])
    assert status == 0
    err = capsys.readouterr().err
    assert f"{QUICK_CELLS} from cache, 0 to fit" in err
    assert f"0 cells fitted, {QUICK_CELLS} loaded from cache" in err
    second = json.loads((tmp_path / "results.json").read_text())
    assert second["run"]["n_fitted"] == 0 and second["run"]["n_cached"] == QUICK_CELLS
    # Same cells, same tables.
    assert (tmp_path / "tables.md").read_text() == (out / "tables.md").read_text()


def test_rerun_recomputes_broken_cells(quick_run, tmp_path, capsys):
    out, first = quick_run
    cells = tmp_path / "cells"
    shutil.copytree(out / "cells", cells)
    files = sorted((cells / "digits").glob("*.json"))
    assert len(files) == QUICK_CELLS
    files[0].write_text("[]")
    doc = json.loads(files[1].read_text())
    doc["test"]["gase"]["0.05"]["micro"] = 1.0  # a tampered score would change the verdicts
    files[1].write_text(json.dumps(doc))
    files[2].unlink()
    files[2].mkdir()
    with pytest.warns(UserWarning, match="Ignoring the cached cell") as caught:
        status = _cli.main(["reproduce", "--quick", "--out", str(tmp_path / "out"),
                            "--cache-dir", str(cells), "--no-progress"])
    assert status == 0
    assert "3 to fit" in capsys.readouterr().err
    messages = [str(w.message) for w in caught if "Ignoring the cached cell" in str(w.message)]
    assert len(messages) == 3
    for path in files[:3]:
        assert any(str(path) in m for m in messages)
    second = json.loads((tmp_path / "out" / "results.json").read_text())
    assert second["run"]["n_fitted"] == 3 and second["run"]["n_cached"] == QUICK_CELLS - 3
    assert (tmp_path / "out" / "tables.md").read_text() == (out / "tables.md").read_text()
    assert all(p.is_file() for p in files)


def test_interrupted_run_keeps_finished_cells(tmp_path, monkeypatch, capsys):
    original = run_module._run_cell
    calls = []

    def interrupt_after_two(*args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(run_module, "_run_cell", interrupt_after_two)
    status = _cli.main(["reproduce", "--quick", "--table", "3", "--out", str(tmp_path),
                        "--no-progress"])
    assert status == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    cells = sorted((tmp_path / "cells" / "digits").glob("*"))
    assert len(cells) == 2 and all(p.suffix == ".json" for p in cells)

    monkeypatch.setattr(run_module, "_run_cell", original)
    run = reproduce(tables="3", out=tmp_path, quick=True, progress=False, log=quiet)
    assert run.n_cached == 2 and run.n_fitted == run.n_cells - 2


def test_table_2_alone_fits_only_the_nuclear_grid(tmp_path):
    run = reproduce(tables="2", out=tmp_path, quick=True, progress=False, log=quiet)
    assert run.n_cells == 2  # lambda = 0 and the one nuclear lambda of the quick grid
    text = (tmp_path / "tables.md").read_text()
    assert "### Table 2" in text and "### Table 3" not in text and "### Table 4" not in text
    assert {p.name for p in (tmp_path / "plots").iterdir()} == {"digits_table2_sae_vs_ca.png"}


def test_unit_norm_run_has_its_own_cells(tmp_path, capsys):
    status = _cli.main(["reproduce", "--quick", "--table", "2", "--preprocess", "unit-norm",
                        "--dataset", "digits,digit-attributes", "--out", str(tmp_path),
                        "--no-progress"])
    assert status == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["protocol"]["preprocess"] == "unit-norm"
    info = doc["results"]["digits"]["info"]
    assert info["preprocess"] == "unit-norm"
    assert_allclose(info["median_row_norm"], 1.0)
    assert "unit L2 norm" in (tmp_path / "tables.md").read_text()
    assert doc["datasets"] == ["digits"]
    # The standardised protocol does not reuse the unit-norm cells.
    run = reproduce(tables="2", out=tmp_path, quick=True, progress=False, log=quiet)
    assert run.n_cached == 0 and run.n_fitted == 2
    capsys.readouterr()


# --------------------------------------------------------------------------------------
# Bad input: one line on stderr, exit status 2, no traceback
# --------------------------------------------------------------------------------------


def assert_one_line_error(capsys, status, *fragments):
    assert status == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_table(capsys):
    with pytest.raises(SystemExit) as exc:
        _cli.main(["reproduce", "--table", "5"])
    assert_one_line_error(capsys, exc.value.code, "--table", "'5'", "--help")


def test_unknown_preprocess(capsys):
    with pytest.raises(SystemExit) as exc:
        _cli.main(["reproduce", "--preprocess", "l2"])
    assert_one_line_error(capsys, exc.value.code, "--preprocess", "'l2'", "unit-norm")


def test_unknown_dataset(tmp_path, capsys, data_home):
    status = _cli.main(["reproduce", "--dataset", "emotion", "--data-home", str(data_home),
                        "--out", str(tmp_path / "out")])
    assert_one_line_error(capsys, status, "unknown data set 'emotion'", "emotions")
    assert not (tmp_path / "out").exists()  # nothing written for a typo


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    status = _cli.main(["reproduce", "--quick", "--out", str(blocker / "out")])
    assert_one_line_error(capsys, status, "cannot write to the output folder", "--out")


def test_missing_data_without_network(tmp_path, capsys, monkeypatch):
    from skarm.datasets import _openml

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(_openml, "fetch_openml", offline)
    monkeypatch.delenv("SKARM_DATA", raising=False)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_data"))
    status = _cli.main(["reproduce", "--dataset", "emotions", "--data-home",
                        str(tmp_path / "empty"), "--out", str(tmp_path / "out")])
    assert_one_line_error(capsys, status, "emotions", "--data-home DIR", "SKARM_DATA")


def test_missing_extras(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes the import fail
    status = _cli.main(["reproduce", "--quick", "--out", str(tmp_path)])
    assert_one_line_error(capsys, status, "matplotlib", 'pip install "skarm[reproduce]"')


def test_interrupt_during_start_up_exits_130(tmp_path, monkeypatch, capsys):
    def interrupt(name):
        raise KeyboardInterrupt

    # Ctrl-C while `skarm reproduce` imports skarm.experiments (scikit-learn, matplotlib).
    importing = types.ModuleType("skarm.experiments")
    importing.__getattr__ = interrupt
    monkeypatch.setitem(sys.modules, "skarm.experiments", importing)
    try:
        status = _cli.main(["reproduce", "--quick", "--out", str(tmp_path)])
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped skarm's main")
    assert status == 130
    err = capsys.readouterr().err
    assert err.strip() == "skarm: interrupted." and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_bare_skarm_still_runs_the_demo(capsys):
    assert _cli.main([]) == 0
    assert "mean SAE" in capsys.readouterr().out
    assert _cli.main(["demo"]) == 0


def test_cells_are_computed_by_workers_and_written_by_the_client(tmp_path, monkeypatch):
    import threading

    saved = []
    original = CellStore.save

    def recording(self, config, record):
        saved.append(threading.get_ident())
        return original(self, config, record)

    monkeypatch.setattr(CellStore, "save", recording)
    run = reproduce(tables="2", out=tmp_path, quick=True, progress=False, log=quiet,
                    n_jobs=2, backend="threading")
    # Every fitted cell was written by this process (the threads only computed them), and
    # a rerun finds them all in the cache.
    assert len(saved) == run.n_fitted > 0
    assert set(saved) == {threading.get_ident()}  # written by this thread, not the workers
    again = reproduce(tables="2", out=tmp_path, quick=True, progress=False, log=quiet)
    assert again.n_fitted == 0 and again.n_cached == run.n_fitted


def test_backend_that_cannot_stream_runs_in_rounds(tmp_path, monkeypatch):
    calls = []
    real = run_module.Parallel

    class NoStreaming:
        def __init__(self, n_jobs=None, return_as="list", **kwargs):
            if return_as != "list":
                raise ValueError(f"return_as={return_as!r} is not supported by this backend")
            self.parallel = real(n_jobs=n_jobs, **kwargs)

        def __call__(self, jobs):
            jobs = list(jobs)
            calls.append(len(jobs))
            return self.parallel(jobs)

    monkeypatch.setattr(run_module, "Parallel", NoStreaming)
    run = reproduce(out=tmp_path, quick=True, progress=False, log=quiet, n_jobs=2,
                    backend="threading")
    assert run.n_fitted == QUICK_CELLS
    assert calls == [4, 3]  # rounds of 2 x n_jobs cells, each written as its round ends


def test_cli_backend_without_its_package_is_a_usage_error(tmp_path, capsys):
    try:
        import distributed  # noqa: F401
    except ImportError:
        status = _cli.main(["reproduce", "--quick", "--backend", "dask", "--out", str(tmp_path)])
        assert status == 2
        assert "--backend dask needs dask's distributed scheduler" in capsys.readouterr().err
    else:
        pytest.skip("dask.distributed is installed")


def test_cli_refuses_a_negative_n_jobs_that_leaves_no_cpu(capsys, monkeypatch):
    monkeypatch.setattr(_cli.os, "cpu_count", lambda: 2)
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["reproduce", "--n-jobs", "-3"])
    assert exit_info.value.code == 2
    assert "-3 leaves no CPU on this 2-CPU machine" in capsys.readouterr().err
    assert _cli._n_jobs("-2") == -2


def test_cli_out_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("")
    status = _cli.main(["reproduce", "--quick", "--out", str(afile)])
    assert status == 2
    assert "is a file, not a folder; pass --out DIR" in capsys.readouterr().err


def test_demo_says_how_to_read_its_numbers(capsys):
    assert _cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "median SAE" in out and "How to read them" in out and "robust_search" in out


def test_unknown_backend_is_a_reproduce_error(tmp_path):
    with pytest.raises(ReproduceError, match="unknown joblib backend 'nonsense'; choose from"):
        reproduce(out=tmp_path, quick=True, progress=False, log=quiet, backend="nonsense")


@pytest.mark.parametrize("cached", [False, True])
def test_first_run_says_it_compiles_the_kernels(tmp_path, monkeypatch, cached):
    monkeypatch.setattr(run_module, "_kernels_cached", lambda: cached)
    messages = []
    reproduce(tables="2", out=tmp_path, quick=True, progress=False, log=messages.append)
    said = any("compiling skarm's numba kernels" in m for m in messages)
    assert said != cached


def test_kernel_cache_check_reads_numba_index():
    from skarm._greedy import greedy_subset_norm

    greedy_subset_norm(np.eye(2), np.ones((1, 2)))  # compiled or loaded, then cached
    assert run_module._kernels_cached()


@pytest.mark.slow  # an end-to-end torch run (about a minute on 2 cores)
def test_torch_quick_run_from_the_command_line(tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    status = _cli.main(["reproduce", "--model", "torch", "--quick", "--out", str(tmp_path),
                        "--no-progress"])
    assert status == 0, capsys.readouterr().err
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["datasets"] == ["canvases"]
    assert document["protocol"]["model"] == "torch"
    assert document["protocol"]["report_attack"] == "gase+pgd"
    cells = [json.loads(p.read_text()) for p in (tmp_path / "cells" / "canvases").glob("*")]
    assert cells and all(c["config"]["model"] == "torch" for c in cells)
    for cell in cells:
        for key, reported in cell["test"]["gase"].items():
            # The reported attack is, per instance, the stronger of GASE and PGD.
            assert reported["C_a"] >= cell["test"]["gase_alone"][key]["C_a"] - 1e-12
            assert reported["C_a"] >= cell["test"]["pgd"][key]["C_a"] - 1e-12
    claims = (tmp_path / "claims.md").read_text()
    assert "Paper (VOC2012 / Planet)" in claims and "VOC 10.8 -> 4.9" in claims


def test_reported_attack_is_the_per_instance_stronger_one():
    from skarm.experiments._cells import _attack_metrics

    Y = np.array([[1, 0, 1], [0, 1, 1]])
    weak = types.SimpleNamespace(flipped=np.array([[1, 0, 0], [0, 1, 1]], bool),
                                 n_flipped=np.array([1, 2]))
    strong = types.SimpleNamespace(flipped=np.array([[1, 1, 1], [1, 0, 0]], bool),
                                   n_flipped=np.array([3, 1]))
    metrics, counts = _attack_metrics([weak, strong], Y)
    assert_array_equal(counts, [3, 2])
    # Instance 0 from the strong attack (all flipped), instance 1 from the weak one.
    predicted = np.array([[0, 1, 0], [0, 0, 0]])
    assert metrics["C_a"] == 2.5
    from sklearn.metrics import f1_score

    assert metrics["micro"] == f1_score(Y, predicted, average="micro", zero_division=0)


def test_deep_cells_depend_on_the_torch_backend_code():
    from skarm.experiments._cells import code_fingerprint

    assert code_fingerprint(deep=True) != code_fingerprint(deep=False)
    linear = default_protocol(quick=True)
    deep = default_protocol(quick=True, model="torch")
    data = types.SimpleNamespace(name="canvases", fingerprint="f")
    assert cell_config(data, "none", 0.0, deep)["code_fingerprint"] == code_fingerprint(True)
    assert cell_config(data, "none", 0.0, linear)["code_fingerprint"] == code_fingerprint()


def test_unknown_model_is_a_user_error():
    with pytest.raises(ReproduceError, match="unknown model 'cnn'; choose from linear, torch"):
        default_protocol(model="cnn")


def test_torch_model_without_the_deep_extra_is_a_user_error(tmp_path, capsys, monkeypatch):
    import skarm.deep as deep
    from skarm.exceptions import BackendNotAvailableError

    def missing():
        raise BackendNotAvailableError('needs PyTorch: pip install "skarm[deep]"')

    monkeypatch.setattr(deep, "require_deep_extra", missing)
    status = _cli.main(["reproduce", "--model", "torch", "--quick", "--out", str(tmp_path)])
    assert_one_line_error(capsys, status, "--model torch", "skarm[deep]")
    assert not (tmp_path / "cells").exists()


def test_torch_protocol_builds_a_convnet_for_images_and_the_mlp_otherwise():
    pytest.importorskip("torch")
    from skarm.deep import ConvNet

    protocol = default_protocol(model="torch")
    image = protocol_module.make_estimator("sae", 0.1, protocol, image_shape=(24, 24))
    vector = protocol_module.make_estimator("sae", 0.1, protocol)
    linear = protocol_module.make_estimator("sae", 0.1, default_protocol())
    assert image.backend == vector.backend == "torch" and linear.backend == "linear"
    assert image.module is ConvNet and vector.module is None
    with pytest.raises(ReproduceError, match="square images"):
        protocol_module.make_estimator("none", 0.0, protocol, image_shape=(24, 12))


@pytest.mark.parametrize("argv, fragment", [
    (["demo", "--random-state", "-5"], "--random-state: must be in [0, 2**32 - 1], got -5"),
    (["demo", "--random-state", "x"], "--random-state: must be an integer, got 'x'"),
    (["reproduce", "--dataset", ","], "--dataset: names no data set (',')"),
    (["reproduce", "--dataset", ""], "--dataset: names no data set ('')"),
])
def test_cli_usage_errors_are_one_line_with_status_2(argv, fragment, capsys):
    with pytest.raises(SystemExit) as exc:
        _cli.main(argv)
    assert_one_line_error(capsys, exc.value.code, fragment, "--help")


def test_reproduce_refuses_an_empty_list_of_data_sets(tmp_path):
    for datasets in ([], [""], ",".split(",")):
        with pytest.raises(ReproduceError, match="names no data set"):
            reproduce(datasets=datasets, out=tmp_path, quick=True, progress=False, log=quiet)
    assert not list(tmp_path.iterdir())


def _python(*args, **kwargs):
    import subprocess

    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=120, **kwargs)


def test_the_command_line_starts_without_the_heavy_imports():
    # Usage errors and --help must not pay the 3-5 s of importing scikit-learn and numba.
    code = ("import sys, skarm._cli, skarm; "
            "print(sorted(m for m in ('numpy', 'sklearn', 'numba', 'scipy') if m in sys.modules))")
    assert _python("-c", code).stdout.strip() == "[]"
    usage = _python("-X", "importtime", "-m", "skarm", "demo", "--random-state", "-1")
    assert usage.returncode == 2
    assert "sklearn" not in usage.stderr and "numpy" not in usage.stderr


def test_ctrl_c_while_the_command_imports_exits_130_in_one_line(tmp_path):
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "skarm", "reproduce", "--quick", "--no-progress",
         "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(1.0)  # past Python's own start-up, inside the imports of the run
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_interrupt_raised_inside_exec_still_exits_130_under_python_m(tmp_path):
    # Deterministic form of the case above: CPython flags a KeyboardInterrupt that leaves
    # ``exec`` of a string as unhandled, and ``python -m`` then dies by SIGINT (-2) after a
    # clean ``sys.exit(130)`` unless the CLI clears the flag.
    import subprocess

    (tmp_path / "interrupt_in_exec.py").write_text(
        "import sys\n"
        "import skarm._cli as cli\n"
        "class _Parser:\n"
        "    def parse_args(self, argv):\n"
        "        exec('raise KeyboardInterrupt')\n"
        "cli._parser = _Parser\n"
        "sys.exit(cli.main())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "interrupt_in_exec"], cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip() == "skarm: interrupted.", proc.stderr


# --------------------------------------------------------------------------------------
# The cell store: file names from joblib.hash of the config, the validator's other cases
# --------------------------------------------------------------------------------------


def test_cell_file_name_survives_the_round_trip_and_follows_the_code(tmp_path, cell,
                                                                     monkeypatch):
    from skarm.experiments import _cells

    config, record = cell
    store = CellStore(tmp_path)
    path = store.save(config, record)
    read_back = json.loads(path.read_text())["config"]
    assert store.path(read_back) == path  # the key of the config as JSON gives it back
    assert re.fullmatch(r"none-0-[0-9a-f]{20}\.json", path.name)
    # Edited code (another fingerprint): another file, so the old cell is not reused.
    monkeypatch.setattr(_cells, "code_fingerprint", lambda deep=False: "0" * 16)
    data = load_dataset("digits", max_samples=300)
    moved = cell_config(data, "none", 0.0, default_protocol(quick=True))
    assert moved == {**config, "code_fingerprint": "0" * 16}
    assert store.path(moved) != path and store.load(moved) is None


MORE_BROKEN_CELLS = {
    "a flag that is a number": (
        lambda doc: doc["collapse"].update(collapsed=1),
        r"\['collapse'\]\['collapsed'\] is 1, not a boolean",
    ),
    "a count that is a boolean": (
        lambda doc: doc["instances"]["gase_flipped"]["0.2"].__setitem__(0, True),
        r"\['instances'\]\['gase_flipped'\]\['0.2'\]\[0\] is a boolean, not an integer",
    ),
    "an object for an array": (
        lambda doc: doc["instances"].update(sae={}),
        r"\['instances'\]\['sae'\] is an object, not an array",
    ),
    "budgets that are not numbers": (
        lambda doc: doc["config"].update(eps_fractions=["a"]),
        r"\['config'\]\['eps_fractions'\] holds \['a'\], not numbers",
    ),
    "a number for a name": (
        lambda doc: doc["config"].update(dataset=3),
        r"\['config'\]\['dataset'\] is 3, not a string",
    ),
}


@pytest.mark.parametrize("broken", sorted(MORE_BROKEN_CELLS))
def test_validator_names_what_is_wrong_on_save_and_on_load(tmp_path, cell, broken):
    from skarm.experiments._cells import record_problem

    config, record = cell
    change, reason = MORE_BROKEN_CELLS[broken]
    bad = copy.deepcopy(record)
    change(bad)
    assert re.fullmatch(reason, record_problem(bad)) and record_problem(record) is None
    store = CellStore(tmp_path)
    with pytest.raises(ValueError, match=reason):
        store.save(config, bad)
    store.save(config, record).write_text(edited(change)(record))  # resealed
    with pytest.warns(UserWarning, match=reason):
        assert store.load(config) is None
