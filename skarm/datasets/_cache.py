"""The parse cache of the MULAN loader: one ``.npz`` per source file, keyed by content.

Entries live under scikit-learn's data home (``get_data_home()/skarm_mulan``). A damaged
entry is re-parsed with a warning; a cache that cannot be created or written is skipped
with a warning, never an error: the cache is only a copy. Plain arrays in an ``.npz``,
read with ``allow_pickle=False``, rather than :class:`joblib.Memory`'s pickles: loading a
pickle from a shared data home runs whatever code it holds.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import hashlib
import re
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import get_data_home

from ..utils._fingerprint import file_digest
from ..utils._io import atomic_write

__all__ = ["cached", "file_key", "openml_key"]

# Bump when the parser or the encoding changes, so that older cache entries are ignored.
# 2: entries keyed by the content of the source files (1: by their size and mtime).
_CACHE_VERSION = 2
_CACHE_FOLDER = "skarm_mulan"


def _cache_folder():
    try:
        folder = Path(get_data_home()) / _CACHE_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        warnings.warn(
            f"Cannot create the skarm MULAN cache folder ({exc}); not caching.", stacklevel=2
        )
        return None
    return folder


def file_key(*paths):
    """Cache key of source files: the SHA-256 of the bytes of each.

    By content, not by size and modification time: an edit that keeps both (a copy with
    ``cp -p``, a restored mtime, a coarse file system clock) must not return stale arrays.
    Hashing costs about a millisecond per MB, far less than parsing.
    """
    key = hashlib.sha256(f"{_CACHE_VERSION}".encode())
    for path in paths:
        key.update(file_digest(path))
    return key.hexdigest()[:20]


def _save(path, part):
    X = part["X"]
    arrays = {
        "Y": part["Y"].astype(np.uint8),
        "feature_names": np.array(part["feature_names"], dtype=str),
        "target_names": np.array(part["target_names"], dtype=str),
        "dropped": np.array(part["dropped"], dtype=str),
        "relation": np.array(part["relation"], dtype=str),
    }
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        arrays.update(
            X_data=X.data, X_indices=X.indices, X_indptr=X.indptr, X_shape=np.array(X.shape)
        )
    else:
        arrays["X"] = X
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so that a reader never sees half a file.
    atomic_write(path, lambda f: np.savez(f, **arrays), binary=True)


def _load(path):
    # The file is opened here, not by np.load, which leaves it open when the zip is damaged.
    with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as f:
        if "X" in f:
            X = f["X"]
        else:
            X = sp.csr_matrix(
                (f["X_data"], f["X_indices"], f["X_indptr"]), shape=tuple(f["X_shape"])
            )
        part = {
            "X": X,
            "Y": f["Y"].astype(np.int64),
            "feature_names": f["feature_names"].tolist(),
            "target_names": f["target_names"].tolist(),
            "dropped": f["dropped"].tolist(),
            "relation": str(f["relation"]),
        }
    n, q = part["Y"].shape
    if X.ndim != 2 or X.shape != (n, len(part["feature_names"])) or q != len(
        part["target_names"]
    ):
        raise ValueError("the arrays of the entry do not fit together")
    return part


def cached(cache_name, key, parse, cache):
    """``parse()``, or its result stored under the cache folder for ``key``."""
    folder = _cache_folder() if cache else None
    if folder is None:
        return parse()
    # The name comes from the caller: keep it to one plain file name inside the folder.
    cache_name = re.sub(r"[^\w.+-]", "_", cache_name)
    path = folder / f"{cache_name}-{key}.npz"
    if path.exists():
        try:
            return _load(path)
        except Exception as exc:
            # Empty, truncated or corrupt (np.load raises EOFError, BadZipFile, ValueError,
            # KeyError, zlib.error, ... depending on where the damage is): the cache is
            # only a copy, so the source is parsed again and the entry overwritten.
            warnings.warn(
                f"Cannot read the skarm MULAN cache file {path} ({type(exc).__name__}: "
                f"{exc}); parsing the source file again and rewriting the entry.",
                stacklevel=2,
            )
    part = parse()
    try:
        _save(path, part)
        # Entries of an older version of the same file are dead weight.
        for stale in folder.glob("*.npz"):
            suffix = stale.name[len(cache_name) + 1 :]
            if (
                stale != path
                and stale.name.startswith(f"{cache_name}-")
                and re.fullmatch(r"[0-9a-f]{20}\.npz", suffix)
            ):
                stale.unlink(missing_ok=True)
    except OSError as exc:
        warnings.warn(f"Cannot write the skarm MULAN cache file {path} ({exc}).", stacklevel=2)
    return part


def openml_key(data_id):
    """Cache key of an OpenML download: its id (and the cache version)."""
    return hashlib.sha256(f"{_CACHE_VERSION}|openml|{data_id}".encode()).hexdigest()[:20]
