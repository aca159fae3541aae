"""MULAN multi-label benchmarks: local ARFF copies, OpenML as a fallback, a parse cache.

This module finds the files and describes the result; the ARFF reader is
:mod:`skarm.datasets._arff`, the parse cache :mod:`skarm.datasets._cache` and the OpenML
fallback :mod:`skarm.datasets._openml`.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils import Bunch

from ..utils._sklearn_compat import StrOptions, validate_params
from ._arff import encode_attributes, read_arff
from ._cache import cached, file_key
from ._openml import fetch_mulan_openml

__all__ = ["load_mulan"]



class _UnknownDatasetError(ValueError):
    """A data set name that is neither under data_home nor a MULAN name skarm knows.

    A ValueError, as before; its own class so that callers (``skarm reproduce``) can tell
    it from a malformed file without reading the message.
    """

# OpenML multi-target copies (labels as TRUE/FALSE nominal targets). 40589 (emotions),
# 40594 (reuters) and 40597 (yeast) are confirmed; the others are inferred from the
# alphabetical upload series 40588-40597, hence the name check in fetch_mulan_openml.
_OPENML_IDS = {
    "birds": 40588,
    "emotions": 40589,
    "enron": 40590,
    "genbase": 40591,
    "langlog": 40592,
    "medical": 40593,
    "reuters": 40594,
    "scene": 40595,
    "slashdot": 40596,
    "yeast": 40597,
}

_MULAN_CITATION = (
    'G. Tsoumakas, E. Spyromitros-Xioufis, J. Vilcek, I. Vlahavas, "MULAN: A Java '
    'Library for Multi-Label Learning", Journal of Machine Learning Research 12, '
    "2411-2414 (2011). Data: https://github.com/tsoumakas/mulan (data/multi-label), "
    "http://mulan.sourceforge.net/datasets-mlc.html."
)

_CITATIONS = {
    "emotions": (
        'K. Trohidis, G. Tsoumakas, G. Kalliris, I. Vlahavas, "Multi-label classification '
        'of music into emotions", ISMIR 2008.'
    ),
    "yeast": (
        'A. Elisseeff, J. Weston, "A kernel method for multi-labelled classification", '
        "NIPS 14 (2001)."
    ),
    "medical": (
        'J. P. Pestian et al., "A shared task involving multi-label classification of '
        'clinical free text", BioNLP 2007 (CMC 2007 challenge).'
    ),
    "enron": (
        'J. Read, B. Pfahringer, G. Holmes, "Multi-label classification using ensembles '
        'of pruned sets", ICDM 2008 (labels: UC Berkeley Enron Email Analysis Project).'
    ),
    "bibtex": (
        'I. Katakis, G. Tsoumakas, I. Vlahavas, "Multilabel text classification for '
        'automated tag suggestion", ECML/PKDD 2008 Discovery Challenge.'
    ),
    "corel5k": (
        'P. Duygulu, K. Barnard, J. F. G. de Freitas, D. A. Forsyth, "Object recognition '
        'as machine translation: learning a lexicon for a fixed image vocabulary", '
        "ECCV 2002."
    ),
    "delicious": (
        'G. Tsoumakas, I. Katakis, I. Vlahavas, "Effective and efficient multilabel '
        'classification in domains with large number of labels", ECML/PKDD 2008 MMD '
        "workshop."
    ),
    "scene": (
        'M. R. Boutell, J. Luo, X. Shen, C. M. Brown, "Learning multi-label scene '
        'classification", Pattern Recognition 37(9), 1757-1771 (2004).'
    ),
    "genbase": (
        'S. Diplaris, G. Tsoumakas, P. Mitkas, I. Vlahavas, "Protein classification with '
        'multiple algorithms", PCI 2005.'
    ),
    "birds": (
        'F. Briggs et al., "The 9th annual MLSP competition: new methods for acoustic '
        'classification of multiple simultaneous bird species in a noisy environment", '
        "IEEE MLSP 2013."
    ),
}

# The seven data sets of the offline copy (shared/datasets), and the other MULAN names
# that can come from OpenML. Only used to tell an unknown name from a missing copy.
_SHARED_NAMES = ("bibtex", "corel5k", "delicious", "emotions", "enron", "medical", "yeast")

# NAME[-train|-test][-sparse].arff[.gz]; corel5k only has the "-sparse" names.
_FILE_RE = re.compile(
    r"(?P<stem>.+?)(?:-(?P<subset>train|test))?(?P<sparse>-sparse)?\.arff(?:\.gz)?",
    re.IGNORECASE,
)

_ENV_VAR = "SKARM_DATA"


def _mulan_root(data_home):
    """The folder to search and a description of where it came from."""
    if data_home is not None:
        return Path(data_home).expanduser(), f"data_home={str(data_home)!r}"
    env = os.environ.get(_ENV_VAR)
    if env:
        return Path(env).expanduser(), f"${_ENV_VAR}={env!r}"
    return None, f"data_home=None and ${_ENV_VAR} is not set"


def _scan_folder(folder):
    """ARFF files of a folder by stem: {stem_lower: {(subset, sparse): path}}."""
    found = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return found
    for path in entries:
        match = _FILE_RE.fullmatch(path.name)
        if match is None or not path.is_file():
            continue
        key = ((match.group("subset") or "all").lower(), match.group("sparse") is not None)
        files = found.setdefault(match.group("stem").lower(), {"stem": match.group("stem")})
        # A plain file wins over its .gz twin: same bytes, quicker to read.
        if key not in files or files[key].name.endswith(".gz"):
            files[key] = path
    return found


def _locate(name, root):
    """Folder, stem, {subset: path} and label XML of ``name`` under ``root``, or None."""
    if root is None or not root.is_dir():
        return None
    lowered = name.lower()
    subfolders = sorted(p for p in root.iterdir() if p.is_dir())
    named = [p for p in subfolders if p.name.lower() == lowered]
    others = [p for p in subfolders if p.name.lower() != lowered]
    for folder in [*named, root, *others]:
        stems = _scan_folder(folder)
        files = stems.get(lowered)
        if files is None and folder in named and len(stems) == 1:
            files = next(iter(stems.values()))  # e.g. a folder "x" holding only "y-*.arff"
        if files is None:
            continue
        # Dense or "-sparse" names: the variant that covers most subsets, dense on ties, so
        # that train, test and all come from the same variant.
        variants = {
            sparse: {
                s: files[(s, sparse)] for s in ("train", "test", "all") if (s, sparse) in files
            }
            for sparse in (False, True)
        }
        chosen = max((False, True), key=lambda sparse: len(variants[sparse]))
        return {
            "folder": folder,
            "stem": files["stem"],
            "files": variants[chosen],
            "xml": _find_xml(folder, files["stem"]),
        }
    return None


def _find_xml(folder, stem):
    xml_files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml" and p.is_file())
    for path in xml_files:
        if path.stem.lower() == stem.lower():
            return path
    return xml_files[0] if len(xml_files) == 1 else None


def _read_label_names(xml_path):
    """Label names in the order of the MULAN XML file (``<label name="...">``, nested too)."""
    try:
        root = ET.parse(xml_path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ValueError(f"{xml_path}: cannot read the MULAN label XML file ({exc}).") from exc
    names = [
        element.get("name")
        for element in root.iter()
        if element.tag.rsplit("}", 1)[-1] == "label" and element.get("name") is not None
    ]
    if not names:
        raise ValueError(f"{xml_path}: no <label name=...> entries in the label XML file.")
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(
                f"{xml_path}: label {name!r} is named twice in the label XML file; each "
                "label must be named once."
            )
        seen.add(name)
    return names


def _parse_local(arff_path, label_names):
    table = read_arff(arff_path)
    X, Y, feature_names, dropped = encode_attributes(table, label_names)
    return {
        "X": X,
        "Y": Y,
        "feature_names": feature_names,
        "target_names": list(label_names),
        "dropped": dropped,
        "relation": table.relation,
    }


def _load_local_file(name, arff_path, xml_path, cache):
    def parse():
        return _parse_local(arff_path, _read_label_names(xml_path))

    key = file_key(arff_path, xml_path)
    return cached(f"{name.lower()}-{arff_path.name}", key, parse, cache)


def _concatenate(parts, sources):
    first = parts[0]
    for part, source in zip(parts[1:], sources[1:], strict=True):
        if part["feature_names"] != first["feature_names"]:
            raise ValueError(f"{source} and {sources[0]} have different features.")
        if part["target_names"] != first["target_names"]:
            raise ValueError(f"{source} and {sources[0]} have different labels.")
    if any(sp.issparse(p["X"]) for p in parts):
        X = sp.vstack([sp.csr_matrix(p["X"]) for p in parts], format="csr")
    else:
        X = np.vstack([p["X"] for p in parts])
    return {**first, "X": X, "Y": np.vstack([p["Y"] for p in parts])}


def _load_local(name, subset, located, cache):
    files = located["files"]
    folder = located["folder"]
    if located["xml"] is None:
        raise FileNotFoundError(
            f"No label XML file for MULAN data set {name!r} in {folder}: expected "
            f"{located['stem']}.xml, which names the label attributes."
        )
    if subset in files:
        sources = [files[subset]]
    elif subset == "all" and "train" in files and "test" in files:
        sources = [files["train"], files["test"]]  # no union file: train then test
    else:
        expected = located["stem"] + ("" if subset == "all" else f"-{subset}") + ".arff[.gz]"
        raise FileNotFoundError(
            f"No {subset!r} file of MULAN data set {name!r} in {folder}: expected "
            f"{expected}, found {sorted(p.name for p in files.values())}."
        )
    parts = [_load_local_file(name, path, located["xml"], cache) for path in sources]
    part = _concatenate(parts, sources) if len(parts) > 1 else parts[0]
    return part, [str(p) for p in sources]


def _known_names(root):
    names = set(_SHARED_NAMES) | set(_OPENML_IDS)
    if root is not None and root.is_dir():
        for folder in [root, *(p for p in root.iterdir() if p.is_dir())]:
            names |= {stem for stem in _scan_folder(folder)}
    return sorted(names)


def _not_found(name, where, reason):
    layout = f"{name}/{name}-train.arff[.gz], {name}-test.arff[.gz] and {name}.xml"
    return FileNotFoundError(
        f"No local copy of MULAN data set {name!r} (looked in: {where}). {reason} "
        f"Pass data_home='/path/to/datasets' or set the {_ENV_VAR} environment variable to "
        f"a folder that holds {layout} (the MULAN layout)."
    )


def _describe(name, subset, part, sources):
    X, Y = part["X"], part["Y"]
    n, q = Y.shape
    cardinality = Y.sum() / n if n else 0.0
    kind = "sparse" if sp.issparse(X) else "dense"
    dropped = ", ".join(part["dropped"]) or "none"
    citation = _CITATIONS.get(name.lower(), "See the MULAN data set page for the original paper.")
    title = f"{name} multi-label data set (MULAN)"
    return "\n".join(
        [
            f".. _mulan_{name.lower()}_dataset:",
            "",
            title,
            "-" * len(title),
            "",
            "**Data Set Characteristics:**",
            "",
            f":Subset: {subset}",
            f":Number of Instances: {n}",
            f":Number of Features: {X.shape[1]} ({kind})",
            f":Number of Labels: {q}",
            f":Label cardinality: {cardinality:.3f} (mean number of labels per instance)",
            f":Label density: {cardinality / q if q else 0.0:.3f}",
            f":Instances without labels: {int((Y.sum(axis=1) == 0).sum())}",
            f":Dropped attributes: {dropped}",
            f":Source: {'; '.join(sources)}",
            "",
            f"Original paper: {citation}",
            "",
            f"MULAN: {_MULAN_CITATION}",
            "",
            "Licence: the data files carry no licence statement; they are widely "
            "redistributed for research. Cite the original paper.",
        ]
    )


def _sparse_interface(X):
    """CSR in the sparse interface scikit-learn is configured for (spmatrix by default)."""
    if not sp.issparse(X):
        return X
    if get_config().get("sparse_interface", "spmatrix") == "sparray":
        return sp.csr_array(X)
    return sp.csr_matrix(X)


@validate_params(
    {
        "name": [str],
        "subset": [StrOptions({"train", "test", "all"})],
        "data_home": [str, os.PathLike, None],
        "download_if_missing": ["boolean"],
        "return_X_y": ["boolean"],
        "cache": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_mulan(
    name,
    *,
    subset="train",
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
    cache=True,
):
    """Load a MULAN multi-label benchmark (emotions, yeast, medical, enron, bibtex, ...).

    The data are read from a local copy in the MULAN layout, ``NAME/NAME-train.arff``,
    ``NAME/NAME-test.arff``, ``NAME/NAME.arff`` (train and test together) and
    ``NAME/NAME.xml`` (the label names), each ARFF file plain or gzip-compressed
    (``.arff.gz``) and possibly named ``...-sparse.arff`` (corel5k). Names are matched
    case-insensitively (``Corel5k-train-sparse.arff.gz`` is found for ``"corel5k"``). Any
    MULAN data set in that layout can be loaded, not only the ones listed below.

    The labels are the attributes named in the XML file, selected by name and returned in
    the XML's order (which differs from the ARFF order in yeast and enron); MEKA's
    ``-C`` option in a relation name is ignored. Rows without any label are kept.
    Features are encoded as described in ``skarm.datasets._arff.encode_attributes``:
    numeric values as they are, two-valued nominal attributes as one 0/1 column (true-like
    values such as ``1``/``YES``/``TRUE`` as 1, else by declaration order), other nominal
    attributes one-hot (``"name=value"`` columns), missing values as NaN. String and date
    attributes are dropped, and so are identifiers: nominal attributes with more than two
    values named ``id``, ``key``, ``name``, ``protein``, ``..._id`` and the like (genbase's
    ``protein``). Dropped attributes are listed in ``DESCR``.

    When there is no local copy and ``download_if_missing`` is True, the data set is
    fetched from OpenML with :func:`sklearn.datasets.fetch_openml`, if it is one of birds,
    emotions, enron, genbase, langlog, medical, reuters, scene, slashdot or yeast. OpenML
    keeps no train/test split, so only ``subset="all"`` can be downloaded, and the label
    names are OpenML's (``amazed.suprised`` for MULAN's ``amazed-suprised``).

    Parsed arrays are cached in ``skarm_mulan`` under scikit-learn's data home
    (:func:`sklearn.datasets.get_data_home`, ``$SCIKIT_LEARN_DATA``), keyed by the
    SHA-256 of the source files' content: a changed file is parsed again. An entry that
    cannot be read (empty, truncated) is parsed again and rewritten, with a warning.

    Parameters
    ----------
    name : str
        Data set name, such as ``"emotions"``, ``"yeast"``, ``"medical"``, ``"enron"``,
        ``"bibtex"``, ``"corel5k"``, ``"delicious"``, or any other MULAN data set present
        under ``data_home``. Case-insensitive.
    subset : {"train", "test", "all"}, default="train"
        Which part of the original MULAN split. ``"all"`` reads ``NAME.arff``, or train
        then test when that file is absent.
    data_home : str or path-like, default=None
        Folder holding the MULAN data sets. By default the ``SKARM_DATA`` environment
        variable.
    download_if_missing : bool, default=True
        If there is no local copy, fetch the data from OpenML where possible; otherwise
        raise a FileNotFoundError.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    cache : bool, default=True
        Whether to read and write parsed arrays in the cache folder.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The features, float64; CSR when the ARFF file is sparse.
        target : ndarray of shape (n_samples, n_labels)
            The {0, 1} label indicator matrix, int64.
        feature_names : list of str
            Names of the feature columns.
        target_names : list of str
            Names of the labels, in the order of the MULAN XML file.
        DESCR : str
            Description: size, label statistics, source files and citations.
        source : list of str
            The files read, or the OpenML data id.

    (data, target) : tuple if ``return_X_y`` is True
        The features and the label indicator matrix, as described above.

    Raises
    ------
    ValueError
        If ``name`` is neither present under ``data_home`` nor a known MULAN data set
        (the message lists the known names), or if a file is malformed (the message
        names the file and the line).
    FileNotFoundError
        If a known data set has no local copy and cannot be downloaded (the message says
        where it looked and how to set ``data_home`` or ``SKARM_DATA``), or if the local
        copy lacks the file of ``subset`` or the label XML file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skarm.datasets import load_mulan
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)
    >>> _ = (folder / "toy").mkdir()
    >>> _ = (folder / "toy" / "toy.xml").write_text(
    ...     '<labels xmlns="http://mulan.sourceforge.net/labels">'
    ...     '<label name="b"/><label name="a"/></labels>')
    >>> _ = (folder / "toy" / "toy-train.arff").write_text(
    ...     "@relation toy\\n@attribute x numeric\\n@attribute a {0,1}\\n"
    ...     "@attribute b {0,1}\\n@data\\n0.5,1,0\\n-1.5,0,1\\n")
    >>> toy = load_mulan("toy", data_home=folder, cache=False)
    >>> toy.data
    array([[ 0.5],
           [-1.5]])
    >>> toy.target_names, toy.target.tolist()
    (['b', 'a'], [[0, 1], [1, 0]])
    >>> tmp.cleanup()
    """
    root, where = _mulan_root(data_home)
    located = _locate(name, root)
    if root is not None and not root.is_dir():
        where += " (not a folder)"
    if located is not None:
        part, sources = _load_local(name, subset, located, cache)
    else:
        data_id = _OPENML_IDS.get(name.lower())
        if data_id is None:
            known = _known_names(root)
            if name.lower() not in known:
                raise _UnknownDatasetError(
                    f"Unknown MULAN data set {name!r}. Known names: {', '.join(known)}. "
                    f"Another MULAN data set can be loaded from data_home or ${_ENV_VAR} "
                    f"in the layout NAME/NAME-train.arff, NAME-test.arff, NAME.xml "
                    f"(looked in: {where})."
                )
            raise _not_found(name, where, "There is no OpenML copy of it to download.")
        if not download_if_missing:
            raise _not_found(
                name,
                where,
                f"download_if_missing=False, so OpenML (data_id={data_id}) was not tried.",
            )
        if subset != "all":
            raise _not_found(
                name,
                where,
                f"OpenML (data_id={data_id}) has it only as one table, without the MULAN "
                f"train/test split: pass subset='all' to download it, not {subset!r}.",
            )
        try:
            part, sources = fetch_mulan_openml(name, data_id, cache, _ENV_VAR)
        except OSError as exc:  # URLError, HTTPError, timeouts: offline
            raise _not_found(
                name, where, f"Downloading it from OpenML (data_id={data_id}) failed: {exc}."
            ) from exc

    X = _sparse_interface(part["X"])
    Y = part["Y"]
    if return_X_y:
        return X, Y
    return Bunch(
        data=X,
        target=Y,
        feature_names=part["feature_names"],
        target_names=part["target_names"],
        DESCR=_describe(name, subset, part, sources),
        source=sources,
    )
