"""skarm.datasets: the MULAN loader and its ARFF parser, digit attributes, the generator."""

import gzip
import io
import os
import re
import time
import urllib.error
import warnings
from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.io import arff as scipy_arff
from sklearn import config_context
from sklearn.datasets import load_digits
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC
from sklearn.utils import Bunch

from skarm.datasets import (
    _cache,
    _openml,
    load_digit_attributes,
    load_digit_canvases,
    load_mulan,
    make_correlated_multilabel,
)
from skarm.datasets._arff import ArffAttribute, is_identifier, read_arff
from skarm.datasets._digit_attributes import DIGIT_ATTRIBUTES
from skarm.metrics import alignment_score
from skarm.utils._sklearn_compat import InvalidParameterError


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path_factory, monkeypatch):
    """Every test gets an empty scikit-learn data home, so no result comes from an old cache."""
    home = tmp_path_factory.mktemp("scikit_learn_data")
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(home))
    return home / "skarm_mulan"


def no_network(*args, **kwargs):
    raise AssertionError("fetch_openml must not be called here")


@pytest.fixture
def offline(monkeypatch):
    """fetch_openml fails as it does without network."""

    def fail(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(_openml, "fetch_openml", fail)


# ---------------------------------------------------------------------------------------
# The seven shared MULAN data sets (figures from shared/datasets/README.md)


def require(data_home, name):
    """The folder of one shared data set; skips the test when that set is absent."""
    folder = data_home / name
    if not folder.is_dir():
        pytest.skip(f"{name} is not in {data_home}")
    return folder


README_TABLE = {
    # name: (n_train, n_test, n_features, n_labels, cardinality, sparse)
    "emotions": (391, 202, 72, 6, 1.868, False),
    "yeast": (1500, 917, 103, 14, 4.237, False),
    "medical": (333, 645, 1449, 45, 1.245, True),
    "enron": (1123, 579, 1001, 53, 3.378, True),
    "bibtex": (4880, 2515, 1836, 159, 2.402, True),
    "corel5k": (4500, 500, 499, 374, 3.522, True),
    "delicious": (12920, 3185, 500, 983, 19.020, True),
}


@pytest.mark.parametrize("name", sorted(README_TABLE))
def test_shared_sets_match_readme(name, data_home):
    require(data_home, name)
    n_train, n_test, n_features, n_labels, cardinality, sparse = README_TABLE[name]
    parts = {s: load_mulan(name, subset=s, data_home=data_home) for s in ("train", "test", "all")}
    for subset, n in (("train", n_train), ("test", n_test), ("all", n_train + n_test)):
        X, Y = parts[subset].data, parts[subset].target
        assert X.shape == (n, n_features)
        assert Y.shape == (n, n_labels)
        assert sp.issparse(X) == sparse
        assert X.dtype == np.float64
        assert Y.dtype == np.int64 and set(np.unique(Y)) <= {0, 1}
        assert len(parts[subset].feature_names) == n_features
        assert len(set(parts[subset].target_names)) == n_labels
    all_ = parts["all"]
    assert all_.target.sum() / len(all_.target) == pytest.approx(cardinality, abs=5e-4)
    # The union file holds train and test: the label counts add up.
    assert_array_equal(
        all_.target.sum(axis=0),
        parts["train"].target.sum(axis=0) + parts["test"].target.sum(axis=0),
    )
    assert f"Number of Labels: {n_labels}" in all_.DESCR
    assert name in all_.DESCR.lower() and "Tsoumakas" in all_.DESCR


def test_delicious_keeps_rows_without_labels(data_home):
    require(data_home, "delicious")
    Y = load_mulan("delicious", subset="all", data_home=data_home, return_X_y=True)[1]
    assert (Y.sum(axis=1) == 0).sum() == 14


def xml_label_names(path):
    return re.findall(r'<label name="([^"]*)"', path.read_text())


def header_names(path):
    with gzip.open(path, "rt") as f:
        return [line.split()[1] for line in f if line.lower().startswith("@attribute")]


@pytest.mark.parametrize("name", ["yeast", "enron"])
def test_labels_follow_the_xml_order(name, data_home):
    """yeast and enron list their labels in another order in the XML than in the ARFF."""
    require(data_home, name)
    xml = xml_label_names(data_home / name / f"{name}.xml")
    arff_order = header_names(data_home / name / f"{name}-train.arff.gz")[-len(xml) :]
    assert sorted(xml) == sorted(arff_order) and xml != arff_order
    assert load_mulan(name, data_home=data_home).target_names == xml


def test_yeast_matches_scipy_arff(data_home):
    """Dense parsing against scipy.io.arff, columns matched by name."""
    require(data_home, "yeast")
    bunch = load_mulan("yeast", subset="test", data_home=data_home)
    with gzip.open(data_home / "yeast" / "yeast-test.arff.gz", "rt") as f:
        reference, _ = scipy_arff.loadarff(io.StringIO(f.read()))
    X = np.column_stack([reference[n] for n in bunch.feature_names])
    Y = np.column_stack([reference[n].astype(int) for n in bunch.target_names])
    assert_array_equal(bunch.data, X)
    assert_array_equal(bunch.target, Y)


def naive_sparse_arff(path):
    """A slow line-by-line reader of a sparse {0,1} ARFF file: {name: column} per row."""
    names, rows, in_data = [], [], False
    with gzip.open(path, "rt") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("%"):
                continue
            if not in_data:
                if line.lower().startswith("@attribute"):
                    names.append(line.split()[1])
                in_data = line.lower().startswith("@data")
                continue
            row = {}
            for entry in line.strip("{}").split(","):
                if entry.strip():
                    index, value = entry.split()
                    row[names[int(index)]] = float(value)
            rows.append(row)
    return rows


@pytest.mark.parametrize("name", ["medical", "enron"])
def test_sparse_parse_matches_naive_reader(name, data_home):
    require(data_home, name)
    bunch = load_mulan(name, subset="test", data_home=data_home)
    rows = naive_sparse_arff(data_home / name / f"{name}-test.arff.gz")
    X = np.array([[row.get(n, 0.0) for n in bunch.feature_names] for row in rows])
    Y = np.array([[row.get(n, 0.0) for n in bunch.target_names] for row in rows])
    assert_array_equal(bunch.data.toarray(), X)
    assert_array_equal(bunch.target, Y)


def test_medical_labels_are_the_last_45_despite_meka_option(data_home):
    require(data_home, "medical")
    path = data_home / "medical" / "medical-train.arff.gz"
    with gzip.open(path, "rt") as f:
        assert "-C 45" in f.readline()
    bunch = load_mulan("medical", data_home=data_home)
    assert sorted(bunch.target_names) == sorted(header_names(path)[-45:])
    assert bunch.feature_names == header_names(path)[:-45]


@pytest.mark.parametrize("spelling", ["corel5k", "Corel5k", "COREL5K"])
def test_corel5k_sparse_names_are_found(spelling, data_home):
    require(data_home, "corel5k")
    bunch = load_mulan(spelling, subset="test", data_home=data_home)
    assert bunch.data.shape == (500, 499)
    assert bunch.source[0].endswith("Corel5k-test-sparse.arff.gz")


def test_data_home_from_environment(data_home, monkeypatch):
    require(data_home, "emotions")
    monkeypatch.setenv("SKARM_DATA", str(data_home))
    assert load_mulan("emotions", subset="test").data.shape == (202, 72)


def test_second_load_comes_from_the_cache(data_home, fresh_cache):
    require(data_home, "bibtex")
    start = time.perf_counter()
    first = load_mulan("bibtex", subset="all", data_home=data_home)
    parse_time = time.perf_counter() - start
    start = time.perf_counter()
    second = load_mulan("bibtex", subset="all", data_home=data_home)
    cached_time = time.perf_counter() - start
    assert len(list(fresh_cache.glob("bibtex-*.npz"))) == 1
    assert cached_time < 1.0 and cached_time < parse_time
    assert (first.data != second.data).nnz == 0
    assert_array_equal(first.target, second.target)
    assert first.feature_names == second.feature_names
    assert first.target_names == second.target_names


# ---------------------------------------------------------------------------------------
# The ARFF parser on files the tests write

# A toy MULAN set: numeric, a {NO,YES} flag, a three-valued colour, a two-valued feature
# named like an identifier (kept), a nominal identifier and a string (dropped), missing
# values, quoted values, labels declared in another order than in the XML, and a row
# without labels.
ATTRIBUTES = [
    ("x", "numeric"),
    ("flag", "{YES,NO}"),
    ("colour", "{red,'dark green',blue}"),
    ("key", "{0,1}"),
    ("id", "{s1,s2,s3,s4,s5}"),
    ("comment", "string"),
    ("'label one'", "{0,1}"),
    ("l2", "{0,1}"),
    ("l3", "{FALSE,TRUE}"),
]
LABELS_XML = ["l3", "label one", "l2"]
ROWS = [
    # x, flag, colour, key, id, comment, label one, l2, l3
    ["1.5", "YES", "red", "0", "s1", "'a, b'", "1", "0", "TRUE"],
    ["0", "NO", "'dark green'", "1", "s2", "c", "0", "0", "FALSE"],
    ["-2e-1", "?", "blue", "0", "s3", "d", "1", "1", "TRUE"],
    ["?", "YES", "?", "1", "s4", "'?'", "0", "1", "FALSE"],
    ["3", "NO", "red", "0", "s5", "e", "0", "0", "FALSE"],
]
NAN = np.nan
EXPECTED_X = np.array(
    # x, flag, colour=red, colour=dark green, colour=blue, key
    [
        [1.5, 1, 1, 0, 0, 0],
        [0.0, 0, 0, 1, 0, 1],
        [-0.2, NAN, 0, 0, 1, 0],
        [NAN, 1, NAN, NAN, NAN, 1],
        [3.0, 0, 1, 0, 0, 0],
    ]
)
EXPECTED_Y = np.array([[1, 1, 0], [0, 0, 0], [1, 1, 1], [0, 0, 1], [0, 0, 0]])
EXPECTED_FEATURES = ["x", "flag", "colour=red", "colour=dark green", "colour=blue", "key"]


def arff_text(rows, sparse=False, relation="toy"):
    lines = [f"% a comment\n@relation {relation}", ""]
    lines += [f"@attribute {name} {kind}" for name, kind in ATTRIBUTES]
    lines += ["", "@data"]
    # Raw 0 (numeric 0 or the first declared value) is what a sparse row leaves out.
    firsts = [
        None if kind in ("numeric", "string") else kind[1:].split(",")[0] for _, kind in ATTRIBUTES
    ]
    for row in rows:
        if not sparse:
            lines.append(",".join(row))
            continue
        entries = [
            f"{i} {v}"
            for i, v in enumerate(row)
            if not (v == firsts[i] or (firsts[i] is None and v == "0"))
        ]
        lines.append("{" + ", ".join(entries) + "}")
    return "\n".join(lines) + "\n"


def write_set(folder, name="toy", sparse=False, compress=False, subsets=("train", "test")):
    """A MULAN folder: rows 0-2 are train, 3-4 test, all five in the union file."""
    folder = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    labels = "".join(f'<label name="{n}"></label>' for n in LABELS_XML)
    (folder / f"{name}.xml").write_text(
        f'<?xml version="1.0"?><labels xmlns="http://mulan.sourceforge.net/labels">{labels}</labels>'
    )
    chunks = {"train": ROWS[:3], "test": ROWS[3:], "all": ROWS}
    suffix = "-sparse" if sparse else ""
    for subset in subsets:
        stem = name if subset == "all" else f"{name}-{subset}"
        text = arff_text(chunks[subset], sparse=sparse)
        if compress:
            (folder / f"{stem}{suffix}.arff.gz").write_bytes(gzip.compress(text.encode()))
        else:
            (folder / f"{stem}{suffix}.arff").write_text(text)
    return folder


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("compress", [False, True])
def test_toy_set_is_parsed_to_the_expected_values(tmp_path, sparse, compress):
    write_set(tmp_path, sparse=sparse, compress=compress, subsets=("all",))
    bunch = load_mulan("toy", subset="all", data_home=tmp_path)
    assert sp.issparse(bunch.data) == sparse
    X = bunch.data.toarray() if sparse else bunch.data
    assert_array_equal(X, EXPECTED_X)  # NaN where missing; NaNs compare equal here
    assert_array_equal(bunch.target, EXPECTED_Y)
    assert bunch.feature_names == EXPECTED_FEATURES
    assert bunch.target_names == LABELS_XML
    assert "Dropped attributes: id, comment" in bunch.DESCR


def test_sparse_and_dense_files_give_the_same_values(tmp_path):
    write_set(tmp_path / "dense")
    write_set(tmp_path / "sparse", sparse=True)
    for subset in ("train", "test", "all"):
        dense = load_mulan("toy", subset=subset, data_home=tmp_path / "dense")
        sparse = load_mulan("toy", subset=subset, data_home=tmp_path / "sparse")
        assert isinstance(sparse.data, sp.csr_matrix)
        assert_array_equal(sparse.data.toarray(), dense.data)
        assert_array_equal(sparse.target, dense.target)
        assert sparse.feature_names == dense.feature_names


def test_all_without_union_file_is_train_then_test(tmp_path):
    write_set(tmp_path, subsets=("train", "test"))
    bunch = load_mulan("toy", subset="all", data_home=tmp_path)
    assert_array_equal(bunch.data, EXPECTED_X)
    assert_array_equal(bunch.target, EXPECTED_Y)
    assert [os.path.basename(s) for s in bunch.source] == ["toy-train.arff", "toy-test.arff"]


def test_missing_subset_file_is_reported(tmp_path):
    write_set(tmp_path, subsets=("all",))
    with pytest.raises(FileNotFoundError, match=r"No 'train' file .* expected toy-train\.arff"):
        load_mulan("toy", subset="train", data_home=tmp_path)


def test_sparse_rows_omit_first_nominal_values(tmp_path):
    """An omitted {YES,NO} entry means YES (1), an omitted colour means red."""
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "s.xml").write_text('<labels><label name="y"/></labels>')
    (tmp_path / "s" / "s.arff").write_text(
        "@relation s\n@attribute flag {YES,NO}\n@attribute colour {red,green,blue}\n"
        "@attribute y {0,1}\n@data\n{}\n{0 NO, 1 blue, 2 1}\n{1 ?}\n"
    )
    bunch = load_mulan("s", subset="all", data_home=tmp_path)
    assert_array_equal(
        bunch.data.toarray(),
        [[1, 1, 0, 0], [0, 0, 0, 1], [1, NAN, NAN, NAN]],
    )
    assert_array_equal(bunch.target, [[0], [1], [0]])


@pytest.mark.parametrize(
    "name, kind, values, dropped",
    [
        ("protein", "nominal", ("P1", "P2", "P3"), True),  # genbase
        ("protein", "nominal", ("0", "1"), False),  # a bibtex word
        ("key", "nominal", ("0", "1"), False),  # an enron word
        ("form_id", "nominal", ("0", "1"), False),  # a delicious word
        ("Sample_ID", "nominal", ("a", "b", "c"), True),
        ("id", "numeric", (), False),  # numbers are measurements
        ("Att1", "nominal", ("a", "b", "c"), False),
    ],
)
def test_identifier_rule(name, kind, values, dropped):
    assert is_identifier(ArffAttribute(name, kind, values)) == dropped


def test_mixed_dense_and_sparse_rows(tmp_path):
    path = tmp_path / "m.arff"
    path.write_text(
        "@relation m\n@attribute a numeric\n@attribute b numeric\n@data\n1,0\n{1 2.5}\n0,3\n"
    )
    table = read_arff(path)
    rows, cols, values = table.raw
    dense = np.zeros((3, 2))
    dense[rows, cols] = values
    assert_array_equal(dense, [[1, 0], [0, 2.5], [0, 3]])



def test_sparse_index_given_twice_is_refused(tmp_path):
    # liac-arff keeps the last of the two values silently (see the _arff module docstring).
    path = tmp_path / "d.arff"
    path.write_text("@relation d\n@attribute a numeric\n@attribute b numeric\n@data\n"
                    "{0 1}\n{1 2, 1 3}\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}, line 6: sparse index 1 appears "
                                                   "twice")):
        read_arff(path)

CORRUPTIONS = {
    # The header ends on line 14 (@data); the five rows are lines 15-19.
    "truncated row": (lambda text: text[: text.rindex(",")], r"line 19: expected 9 .* got 8"),
    "not a number": (lambda text: text.replace("-2e-1", "-2e-1x"), r"line 17: .*'-2e-1x'.*'x'"),
    "unknown value": (
        lambda text: text.replace(",blue,0,s3", ",purple,0,s3"),
        r"line 17: value 'purple' is not among the declared values",
    ),
    "no data": (lambda text: text[: text.index("@data")], r"line \d+: no @data section"),
    "bad type": (lambda text: text.replace("string", "strang"), r"line 9: unknown type"),
    "open quote": (lambda text: text.replace("'a, b'", "'a, b"), r"line 15: unterminated quote"),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupt_file_error_names_file_and_line(tmp_path, corruption):
    folder = write_set(tmp_path, subsets=("all",))
    path = folder / "toy.arff"
    change, message = CORRUPTIONS[corruption]
    path.write_text(change(path.read_text()))
    with pytest.raises(ValueError, match=re.escape(str(path)) + ", " + message):
        load_mulan("toy", subset="all", data_home=tmp_path)


def test_corrupt_sparse_row_error_names_line(tmp_path):
    folder = write_set(tmp_path, sparse=True, subsets=("all",))
    path = folder / "toy-sparse.arff"
    lines = path.read_text().splitlines()
    lines[-2] = lines[-2][:-1]  # drop the closing brace of the last-but-one row
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ValueError, match=rf"toy-sparse\.arff, line {len(lines) - 1}: .*end with '}}'"
    ):
        load_mulan("toy", subset="all", data_home=tmp_path)


def test_truncated_gzip_error_names_file_and_line(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "big.xml").write_text('<labels><label name="y"/></labels>')
    rng = np.random.RandomState(0)
    rows = "\n".join(",".join(f"{v:.6f}" for v in row) + ",1" for row in rng.rand(3000, 20))
    header = "@relation big\n" + "".join(f"@attribute a{i} numeric\n" for i in range(20))
    data = gzip.compress((header + "@attribute y {0,1}\n@data\n" + rows + "\n").encode())
    path = folder / "big.arff.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError, match=re.escape(str(path)) + r", line \d+: .*truncated or corrupt"
    ):
        load_mulan("big", subset="all", data_home=tmp_path)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("token", ["1e400", "-1e999", "inf", "-Infinity", "nan", "NaN"])
def test_non_finite_number_is_refused(tmp_path, token, sparse):
    folder = write_set(tmp_path, sparse=sparse, subsets=("all",))
    path = folder / ("toy-sparse.arff" if sparse else "toy.arff")
    path.write_text(path.read_text().replace("-2e-1", token))
    with pytest.raises(
        ValueError,
        match=re.escape(f"{path}, line 17: value {token!r} of numeric attribute 'x' is not a "
                        "finite number") + r".*write '\?' for a missing value",
    ):
        load_mulan("toy", subset="all", data_home=tmp_path)


def test_question_mark_is_still_a_missing_value(tmp_path):
    folder = write_set(tmp_path, subsets=("all",))
    path = folder / "toy.arff"
    path.write_text(path.read_text().replace("-2e-1", "?"))
    X = load_mulan("toy", subset="all", data_home=tmp_path).data
    assert np.isnan(X[2, 0]) and np.isnan(X[3, 0])
    assert_array_equal(np.delete(X[:, 0], [2, 3]), [1.5, 0.0, 3.0])


def test_attribute_declared_twice_is_refused(tmp_path):
    folder = write_set(tmp_path, subsets=("all",))
    path = folder / "toy.arff"
    # "key" (line 7) renamed "x", the name of the first attribute (line 4).
    path.write_text(path.read_text().replace("@attribute key ", "@attribute x "))
    with pytest.raises(
        ValueError,
        match=re.escape(f"{path}, line 7: attribute 'x' is declared twice (first on line 4)"),
    ):
        load_mulan("toy", subset="all", data_home=tmp_path)


def test_quoted_attribute_declared_twice_is_refused(tmp_path):
    folder = write_set(tmp_path, subsets=("all",))
    path = folder / "toy.arff"
    path.write_text(path.read_text().replace("@attribute l2 ", "@attribute 'label one' "))
    with pytest.raises(ValueError, match=r"line 11: attribute 'label one' is declared twice"):
        load_mulan("toy", subset="all", data_home=tmp_path)


@pytest.mark.parametrize("compress", [False, True])
def test_nul_byte_is_refused(tmp_path, compress):
    folder = write_set(tmp_path, subsets=("all",))
    # In a quoted value of a dropped string attribute, where nothing else would notice it.
    text = (folder / "toy.arff").read_text().replace("'a, b'", "'a\0, b'")
    (folder / "toy.arff").unlink()
    path = folder / ("toy.arff.gz" if compress else "toy.arff")
    data = text.encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(
        ValueError,
        match=re.escape(f"{path}, line 15: NUL byte at byte {data.index(0)}")
        + ".*not a text ARFF file",
    ):
        load_mulan("toy", subset="all", data_home=tmp_path)


def test_utf16_file_is_not_read_as_text(tmp_path):
    folder = write_set(tmp_path, subsets=("all",))
    path = folder / "toy.arff"
    path.write_bytes(path.read_text().encode("utf-16"))
    with pytest.raises(ValueError, match=r"line 1: NUL byte .*not a text ARFF file"):
        load_mulan("toy", subset="all", data_home=tmp_path)


def test_label_named_twice_in_the_xml_is_refused(tmp_path):
    folder = write_set(tmp_path, subsets=("all",))
    xml = folder / "toy.xml"
    xml.write_text('<labels><label name="l3"/><label name="l2"/><label name="l3"/></labels>')
    with pytest.raises(
        ValueError, match=re.escape(f"{xml}: label 'l3' is named twice in the label XML file")
    ):
        load_mulan("toy", subset="all", data_home=tmp_path)


# ---------------------------------------------------------------------------------------
# Names, missing copies, OpenML


def test_unknown_name_lists_known_ones(tmp_path, monkeypatch):
    write_set(tmp_path)
    monkeypatch.setattr(_openml, "fetch_openml", no_network)
    with pytest.raises(ValueError, match="Unknown MULAN data set 'nosuchset'") as info:
        load_mulan("nosuchset", data_home=tmp_path)
    for known in ("bibtex", "emotions", "scene", "yeast", "toy"):
        assert known in str(info.value)


@pytest.mark.parametrize("data_home_kind", ["empty folder", "missing folder", "unset"])
def test_offline_without_local_copy_says_where_it_looked(
    tmp_path, offline, monkeypatch, data_home_kind
):
    monkeypatch.delenv("SKARM_DATA", raising=False)
    data_home = {"empty folder": tmp_path, "missing folder": tmp_path / "nope", "unset": None}[
        data_home_kind
    ]
    with pytest.raises(FileNotFoundError) as info:
        load_mulan("emotions", subset="all", data_home=data_home)
    message = str(info.value)
    assert "emotions" in message and "SKARM_DATA" in message and "data_home=" in message
    assert "OpenML (data_id=40589) failed" in message and "name resolution" in message
    if data_home is not None:
        assert str(data_home) in message
    else:
        assert "SKARM_DATA is not set" in message
    assert isinstance(info.value.__cause__, urllib.error.URLError)


def test_no_download_when_download_if_missing_is_false(tmp_path, monkeypatch):
    monkeypatch.setattr(_openml, "fetch_openml", no_network)
    with pytest.raises(
        FileNotFoundError, match=r"looked in: data_home=.*download_if_missing=False"
    ):
        load_mulan("yeast", subset="all", data_home=tmp_path, download_if_missing=False)


def test_openml_has_no_split(tmp_path, monkeypatch):
    monkeypatch.setattr(_openml, "fetch_openml", no_network)
    with pytest.raises(FileNotFoundError, match="pass subset='all'"):
        load_mulan("emotions", subset="train", data_home=tmp_path)


def test_set_without_openml_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(_openml, "fetch_openml", no_network)
    with pytest.raises(FileNotFoundError, match="no OpenML copy.*SKARM_DATA"):
        load_mulan("bibtex", subset="all", data_home=tmp_path)


def fake_openml(data_id, sparse=False, name="emotions"):
    """The shape of fetch_openml(as_frame=False, parser='liac-arff') for a multi-target set:
    nominal features ordinal-coded (categories in ``categories``), targets as strings."""
    data = np.array([[0.5, 0, 2], [-1.0, 1, 0], [2.0, 0, 1], [0.0, 1, 1]])
    target = np.array(
        [["TRUE", "FALSE"], ["FALSE", "FALSE"], ["TRUE", "TRUE"], ["FALSE", "TRUE"]], dtype=object
    )
    return Bunch(
        data=sp.csr_matrix(data) if sparse else data,
        target=target,
        frame=None,
        feature_names=["Mean_Acc1298", "flag", "protein"],
        target_names=["amazed.suprised", "happy.pleased"],
        categories={"flag": ["YES", "NO"], "protein": ["P1", "P2", "P3"]},
        details={"id": str(data_id), "name": name},
        DESCR="",
    )


@pytest.mark.parametrize("sparse", [False, True])
def test_openml_answer_is_converted(tmp_path, monkeypatch, sparse):
    calls = []

    def fetch(**kwargs):
        calls.append(kwargs)
        return fake_openml(kwargs["data_id"], sparse=sparse)

    monkeypatch.setattr(_openml, "fetch_openml", fetch)
    bunch = load_mulan("emotions", subset="all", data_home=tmp_path)
    assert calls[0]["data_id"] == 40589 and calls[0]["as_frame"] is False
    assert_array_equal(bunch.target, [[1, 0], [0, 0], [1, 1], [0, 1]])
    assert bunch.target.dtype == np.int64
    assert bunch.target_names == ["amazed.suprised", "happy.pleased"]
    # flag {YES,NO} is coded YES=1; protein, a many-valued identifier, is dropped.
    assert bunch.feature_names == ["Mean_Acc1298", "flag"]
    X = bunch.data.toarray() if sparse else bunch.data
    assert_array_equal(X, [[0.5, 1], [-1.0, 0], [2.0, 1], [0.0, 0]])
    assert bunch.source == ["OpenML data_id=40589"]
    # The converted answer is cached: no second download.
    again = load_mulan("emotions", subset="all", data_home=tmp_path)
    assert len(calls) == 1
    assert_array_equal(again.target, bunch.target)


def test_openml_answer_with_another_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(_openml, "fetch_openml", lambda **kw: fake_openml(kw["data_id"], name="x"))
    with pytest.raises(ValueError, match="OpenML data set 40590 is named 'x', not 'enron'"):
        load_mulan("enron", subset="all", data_home=tmp_path)


@pytest.mark.parametrize(
    "target, expected",
    [
        (np.array([["TRUE", "FALSE"], ["false", "true"]], dtype=object), [[1, 0], [0, 1]]),
        (np.array([[True, False], [False, True]]), [[1, 0], [0, 1]]),
        (np.array([["1", "0"], ["0", "1"]]), [[1, 0], [0, 1]]),
        (np.array([[1.0, 0.0], [0.0, 1.0]]), [[1, 0], [0, 1]]),
    ],
)
def test_openml_targets_to_indicator(target, expected):
    Y = _openml._as_indicator(target, ["a", "b"], "test")
    assert Y.dtype == np.int64
    assert_array_equal(Y, expected)


def test_openml_target_with_other_values_is_refused():
    with pytest.raises(ValueError, match="target 'b' has value 'maybe'"):
        _openml._as_indicator(np.array([["TRUE", "maybe"]], dtype=object), ["a", "b"], "test")


# ---------------------------------------------------------------------------------------
# The cache


def test_changed_file_is_parsed_again(tmp_path, fresh_cache):
    folder = write_set(tmp_path, subsets=("all",))
    assert load_mulan("toy", subset="all", data_home=tmp_path).data[0, 0] == 1.5
    path = folder / "toy.arff"
    path.write_text(path.read_text().replace("1.5", "7.25"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later mtime, surely
    assert load_mulan("toy", subset="all", data_home=tmp_path).data[0, 0] == 7.25
    assert len(list(fresh_cache.glob("toy-*.npz"))) == 1  # the stale entry is gone


def test_cache_false_writes_nothing(tmp_path, fresh_cache):
    write_set(tmp_path)
    load_mulan("toy", data_home=tmp_path, cache=False)
    assert not list(fresh_cache.glob("*.npz"))


def truncate_half(data):
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "damage",
    [lambda data: b"not a zip file", lambda data: b"", truncate_half,
     lambda data: data[:-30], lambda data: data.replace(b"\x93NUMPY", b"\x93NUMPX")],
    ids=["garbage", "empty", "half", "no-end", "bad-member"],
)
def test_damaged_cache_entry_is_replaced(tmp_path, fresh_cache, damage):
    write_set(tmp_path)
    load_mulan("toy", data_home=tmp_path)
    (entry,) = fresh_cache.glob("toy-*.npz")
    good = entry.read_bytes()
    entry.write_bytes(damage(good))
    with pytest.warns(UserWarning, match=re.escape(f"Cannot read the skarm MULAN cache file "
                                                   f"{entry}") + ".*parsing the source"):
        bunch = load_mulan("toy", data_home=tmp_path)
    assert_array_equal(bunch.target, EXPECTED_Y[:3])
    assert_array_equal(bunch.data, EXPECTED_X[:3])
    assert_array_equal(_cache._load(entry)["Y"], EXPECTED_Y[:3])  # rewritten, readable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_array_equal(load_mulan("toy", data_home=tmp_path).target, EXPECTED_Y[:3])


def test_cache_entry_whose_arrays_disagree_is_replaced(tmp_path, fresh_cache):
    write_set(tmp_path)
    load_mulan("toy", data_home=tmp_path)
    (entry,) = fresh_cache.glob("toy-*.npz")
    with np.load(entry) as f:
        arrays = dict(f)
    arrays["Y"] = arrays["Y"][:2]  # one row short
    with open(entry, "wb") as f:
        np.savez(f, **arrays)
    with pytest.warns(UserWarning, match="do not fit together"):
        assert_array_equal(load_mulan("toy", data_home=tmp_path).target, EXPECTED_Y[:3])


def test_edit_keeping_size_and_mtime_is_parsed_again(tmp_path, fresh_cache):
    folder = write_set(tmp_path, subsets=("all",))
    assert load_mulan("toy", subset="all", data_home=tmp_path).data[0, 0] == 1.5
    path = folder / "toy.arff"
    before = path.stat()
    path.write_text(path.read_text().replace("1.5", "2.5"))  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert load_mulan("toy", subset="all", data_home=tmp_path).data[0, 0] == 2.5
    # An edit of the label XML alone is seen too.
    xml = folder / "toy.xml"
    before = xml.stat()
    swapped = xml.read_text().replace('"l3"', '"@"').replace('"l2"', '"l3"')
    xml.write_text(swapped.replace('"@"', '"l2"'))  # l2 and l3 swapped: same size
    os.utime(xml, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert xml.stat().st_size == before.st_size
    bunch = load_mulan("toy", subset="all", data_home=tmp_path)
    assert bunch.target_names == ["l2", "label one", "l3"]
    assert_array_equal(bunch.target, EXPECTED_Y[:, ::-1])


def test_cache_key_is_the_content_not_the_path(tmp_path, fresh_cache):
    write_set(tmp_path / "a", subsets=("all",))
    write_set(tmp_path / "b", subsets=("all",))
    keys = {_cache.file_key(tmp_path / d / "toy" / "toy.arff") for d in "ab"}
    assert len(keys) == 1
    path = tmp_path / "b" / "toy" / "toy.arff"
    path.write_text(path.read_text().replace("1.5", "2.5"))
    assert _cache.file_key(path) not in keys


def test_return_x_y_and_sparse_interface(tmp_path):
    write_set(tmp_path, sparse=True)
    X, Y = load_mulan("toy", data_home=tmp_path, return_X_y=True)
    assert isinstance(X, sp.csr_matrix) and Y.shape == (3, 3)
    with config_context(sparse_interface="sparray"):
        X, _ = load_mulan("toy", data_home=tmp_path, return_X_y=True)
    assert isinstance(X, sp.csr_array)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"subset": "validation"}, "The 'subset' parameter of load_mulan must be a str among"),
        ({"download_if_missing": "yes"}, "The 'download_if_missing' parameter of load_mulan"),
        ({"data_home": 3}, "The 'data_home' parameter of load_mulan"),
    ],
)
def test_load_mulan_validates_parameters(params, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        load_mulan("emotions", **params)


# ---------------------------------------------------------------------------------------
# Digit attributes


def test_digit_attributes():
    bunch = load_digit_attributes()
    digits = load_digits()
    assert bunch.data.shape == (1797, 64) and bunch.data.dtype == np.float64
    assert_array_equal(bunch.data, digits.data)
    assert_array_equal(bunch.images, digits.images)
    assert_array_equal(bunch.digit, digits.target)
    assert bunch.target.shape == (1797, len(DIGIT_ATTRIBUTES)) and bunch.target.dtype == np.int64
    assert 6 <= len(bunch.target_names) <= 10
    # Independent reference: the attributes computed from the digit itself.
    d = digits.target
    reference = {
        "even": d % 2 == 0,
        "prime": np.isin(d, [2, 3, 5, 7]),
        "at_least_5": d >= 5,
        "multiple_of_3": d % 3 == 0,
        "perfect_square": np.isin(d, [k * k for k in range(4)]),
    }
    for name, expected in reference.items():
        assert_array_equal(bunch.target[:, bunch.target_names.index(name)], expected)
    assert_array_equal(bunch.target, bunch.attribute_table[d])
    assert len({tuple(row) for row in bunch.attribute_table}) == 10  # digit is recoverable
    assert bunch.target.sum(axis=1).min() >= 1
    X, Y = load_digit_attributes(return_X_y=True)
    assert_array_equal(Y, bunch.target)


@pytest.mark.parametrize("text", ["docstring", "DESCR"])
def test_digit_attribute_table_is_documented(text):
    bunch = load_digit_attributes()
    doc = load_digit_attributes.__doc__ if text == "docstring" else bunch.DESCR
    for j, name in enumerate(bunch.target_names):
        (line,) = [l for l in doc.splitlines() if l.split()[:1] == [name]]
        assert [int(v) for v in line.split()[1:]] == bunch.attribute_table[:, j].tolist()


# ---------------------------------------------------------------------------------------
# make_correlated_multilabel


def test_make_correlated_multilabel_shapes_and_reproducibility():
    X, Y = make_correlated_multilabel(50, 7, 3, random_state=0)
    assert X.shape == (50, 7) and Y.shape == (50, 3) and Y.dtype == np.int64
    assert set(np.unique(Y)) <= {0, 1}
    X2, Y2 = make_correlated_multilabel(50, 7, 3, random_state=0)
    assert_array_equal(X, X2)
    assert_array_equal(Y, Y2)


@pytest.mark.parametrize("correlation", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("n_features, n_labels", [(20, 5), (6, 5), (3, 6)])
def test_directions_have_the_requested_alignment(correlation, n_features, n_labels):
    _, _, W, _ = make_correlated_multilabel(
        10, n_features, n_labels, correlation=correlation, return_directions=True, random_state=1
    )
    assert_allclose(np.linalg.norm(W, axis=1), 1.0)
    cosines = np.abs(W @ W.T)[~np.eye(n_labels, dtype=bool)]
    if n_features > n_labels or correlation == 1.0:
        assert_allclose(cosines, correlation, atol=1e-12)


def test_labels_are_the_thresholded_directions_without_noise(global_random_seed):
    X, Y, W, b = make_correlated_multilabel(
        300, 8, 4, noise=0.0, return_directions=True, random_state=global_random_seed
    )
    assert_array_equal(Y, (X @ W.T + b > 0).astype(int))


def test_label_frequencies_are_reasonable():
    _, Y = make_correlated_multilabel(20000, 10, 8, random_state=0)
    assert np.all((Y.mean(axis=0) > 0.12) & (Y.mean(axis=0) < 0.53))


def mean_abs_label_correlation(Y):
    C = np.corrcoef(Y.T)
    return np.mean([abs(C[j, k]) for j, k in combinations(range(Y.shape[1]), 2)])


def svc_alignment(X, Y):
    """mean |cos(w_j, w_k)| over all pairs (diagonal included) of a fitted OvR LinearSVC."""
    W = np.vstack(
        [e.coef_.ravel() for e in OneVsRestClassifier(LinearSVC()).fit(X, Y).estimators_]
    )
    W = W / np.linalg.norm(W, axis=1, keepdims=True)
    return np.abs(W @ W.T).mean()


def test_label_correlation_and_alignment_rise_with_correlation():
    correlations = [0.0, 0.3, 0.6, 0.9]
    label_corr, alignment = [], []
    for c in correlations:
        X, Y = make_correlated_multilabel(1500, 20, 5, correlation=c, random_state=0)
        label_corr.append(mean_abs_label_correlation(Y))
        alignment.append(svc_alignment(X, Y))
    assert np.all(np.diff(label_corr) > 0), label_corr
    assert np.all(np.diff(alignment) > 0.1), alignment
    assert alignment[0] < 0.3 and alignment[-1] > 0.85  # 1/5 + noise, and near 1
    X, Y = make_correlated_multilabel(1500, 20, 5, correlation=0.9, random_state=0)
    model = OneVsRestClassifier(LinearSVC()).fit(X, Y)
    assert alignment_score(model) == pytest.approx(alignment[-1])


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"correlation": 2},
            "The 'correlation' parameter of make_correlated_multilabel must be a float in the "
            "range [0.0, 1.0]. Got 2 instead.",
        ),
        (
            {"n_samples": 0},
            "The 'n_samples' parameter of make_correlated_multilabel must be an int in the "
            "range [1, inf). Got 0 instead.",
        ),
        ({"noise": -1.0}, "The 'noise' parameter of make_correlated_multilabel must be a float"),
        ({"random_state": "x"}, "The 'random_state' parameter of make_correlated_multilabel"),
    ],
)
def test_make_correlated_multilabel_validates_parameters(params, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        make_correlated_multilabel(**params)


def _source_halves():
    from sklearn.datasets import load_digits

    digits = load_digits()
    halves = np.array_split(np.random.RandomState(1797).permutation(len(digits.images)), 2)
    return digits.images / 16.0, digits.target, halves


@pytest.mark.parametrize("source, half", [("train", 0), ("test", 1)])
def test_digit_canvas_shows_the_labelled_digit_from_its_half(source, half):
    # One digit, no clutter, no noise: the canvas is one source image on zeros, somewhere.
    images, classes, halves = _source_halves()
    bunch = load_digit_canvases(n_samples=15, max_digits=1, n_clutter=0, noise=0.0,
                                canvas_size=12, source=source, random_state=3)
    pool = halves[half]
    for canvas, labels in zip(bunch.images, bunch.target, strict=True):
        (digit,) = np.flatnonzero(labels)
        candidates = images[pool[classes[pool] == digit]]
        found = any(
            np.array_equal(canvas[r:r + 8, c:c + 8], image)
            and canvas.sum() == pytest.approx(image.sum())
            for r in range(5) for c in range(5) for image in candidates
        )
        assert found


def test_digit_canvases_labels_co_occur_within_scenes():
    bunch = load_digit_canvases(n_samples=3000, random_state=0)
    Y = bunch.target
    assert bunch.data.shape == (3000, 576) and Y.shape == (3000, 10)
    assert Y.sum(axis=1).min() >= 1 and Y.sum(axis=1).max() <= 4
    assert bunch.data.min() >= 0 and bunch.data.max() <= 1
    corr = np.corrcoef(Y.T)
    same = [corr[i, j] for i, j in ((0, 6), (0, 8), (1, 4), (2, 3), (3, 5))]
    across = [corr[i, j] for i, j in ((0, 1), (1, 2), (6, 7), (4, 5))]
    assert min(same) > 0.1 > 0 > max(across)


def test_digit_canvases_are_deterministic_and_validate_their_parameters():
    a = load_digit_canvases(n_samples=20, random_state=5, return_X_y=True)
    b = load_digit_canvases(n_samples=20, random_state=5, return_X_y=True)
    c = load_digit_canvases(n_samples=20, random_state=6, return_X_y=True)
    assert_array_equal(a[0], b[0]) and assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    with pytest.raises(InvalidParameterError, match="'canvas_size' parameter"):
        load_digit_canvases(canvas_size=4)
    with pytest.raises(InvalidParameterError, match="'source' parameter"):
        load_digit_canvases(source="valid")
