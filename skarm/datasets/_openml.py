"""MULAN sets from OpenML: the multi-target copies, encoded as the local ARFF files are."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import re

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import fetch_openml

from ._arff import (
    _FALSE_VALUES,
    _TRUE_VALUES,
    NOMINAL,
    NUMERIC,
    ArffAttribute,
    ArffTable,
    encode_attributes,
)
from ._cache import cached, openml_key

__all__ = ["fetch_mulan_openml"]

def _as_indicator(target, target_names, source):
    """{0, 1} int64 matrix of an OpenML multi-target answer (TRUE/FALSE, 1/0, booleans)."""
    Y = np.asarray(target)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if Y.dtype.kind == "b":
        return Y.astype(np.int64)
    if Y.dtype.kind in "iuf":
        if not np.isin(Y, (0, 1)).all():
            raise ValueError(f"{source}: numeric targets must be 0 or 1.")
        return Y.astype(np.int64)
    text = np.char.lower(np.char.strip(Y.astype(str)))
    true = np.isin(text, [*_TRUE_VALUES, "1.0"])
    false = np.isin(text, [*_FALSE_VALUES, "0.0"])
    if not (true | false).all():
        i, j = np.argwhere(~(true | false))[0]
        raise ValueError(
            f"{source}: target {target_names[j]!r} has value {Y[i, j]!r}; expected "
            "TRUE/FALSE or 1/0."
        )
    return true.astype(np.int64)


def _from_openml_bunch(bunch, source):
    """Features and labels of a ``fetch_openml(as_frame=False)`` answer, encoded as ours."""
    X = bunch.data
    if hasattr(X, "to_numpy"):  # a DataFrame, should a caller pass one
        X = X.to_numpy(dtype=np.float64)
    categories = getattr(bunch, "categories", None) or {}
    feature_names = list(bunch.feature_names)
    attributes = [
        ArffAttribute(n, NOMINAL, tuple(categories[n]))
        if n in categories
        else ArffAttribute(n, NUMERIC)
        for n in feature_names
    ]
    n = X.shape[0]
    if sp.issparse(X):
        coo = sp.coo_matrix(X)
        raw = (coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(np.float64))
        table = ArffTable(source, "", attributes, raw, n, np.arange(1, n + 1), sparse=True)
    else:
        raw = np.asarray(X, dtype=np.float64)
        table = ArffTable(source, "", attributes, raw, n, np.arange(1, n + 1), sparse=False)
    X, _, feature_names, dropped = encode_attributes(table, [])
    target_names = list(bunch.target_names)
    Y = _as_indicator(bunch.target, target_names, source)
    if Y.shape != (n, len(target_names)):
        raise ValueError(f"{source}: target of shape {Y.shape} for {len(target_names)} labels.")
    details = getattr(bunch, "details", None) or {}
    return {
        "X": X,
        "Y": Y,
        "feature_names": feature_names,
        "target_names": target_names,
        "dropped": dropped,
        "relation": str(details.get("name", "")),
    }


def _normalise(name):
    return re.sub(r"[^0-9a-z]", "", name.lower())


def fetch_mulan_openml(name, data_id, cache, env_var):
    """The parsed part of OpenML data set ``data_id``, checked to be MULAN set ``name``."""
    source = f"OpenML data_id={data_id}"

    def parse():
        # as_frame=False and the liac-arff parser: no pandas needed, sparse sets work.
        bunch = fetch_openml(data_id=data_id, as_frame=False, parser="liac-arff")
        details = getattr(bunch, "details", None) or {}
        if "name" in details and _normalise(details["name"]) != _normalise(name):
            raise ValueError(
                f"OpenML data set {data_id} is named {details['name']!r}, not {name!r}: "
                "skarm's id for it is wrong. Use a local MULAN copy (data_home or "
                f"${env_var})."
            )
        return _from_openml_bunch(bunch, source)

    return cached(f"{name.lower()}-openml-{data_id}", openml_key(data_id), parse, cache), [source]
