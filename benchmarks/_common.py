"""Helpers shared by the benchmark scripts: timing, MULAN splits, writing the JSON results.

Not a benchmark itself. The scripts import it as ``from _common import ...``, which works
because ``python benchmarks/bench_x.py`` puts ``benchmarks/`` on ``sys.path``.

Data home rule (all benchmarks): ``--data-home DIR`` when given, else ``None``, which
:func:`skarm.datasets.load_mulan` resolves through ``$SKARM_DATA``.
"""

import json
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import StandardScaler

from skarm.datasets import load_mulan
from skarm.utils._validation import to_dense


def best_time(func, repeats):
    """Run ``func()`` ``repeats`` times; return (the fastest time in seconds, the last result)."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def standardise_pair(X_train, X_test):
    """Scale both splits by a :class:`~sklearn.preprocessing.StandardScaler` fitted on train."""
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def load_split(name, data_home, *, standardise, densify=False):
    """MULAN train/test split of ``name`` as ``(X_train, Y_train, X_test, Y_test)``.

    Parameters
    ----------
    name : str
        MULAN data set name, for :func:`skarm.datasets.load_mulan`.
    data_home : str or None
        Folder of the MULAN data; None lets ``load_mulan`` use ``$SKARM_DATA``.
    standardise : bool
        Whether to scale dense features by a ``StandardScaler`` fitted on the training
        split. Sparse features are left as they are (densify them to scale them).
    densify : bool, default=False
        Whether to turn X into a dense float array and Y into a dense int array first.
    """
    X_train, Y_train = load_mulan(name, subset="train", data_home=data_home, return_X_y=True)
    X_test, Y_test = load_mulan(name, subset="test", data_home=data_home, return_X_y=True)
    if densify:
        X_train, X_test = to_dense(X_train).astype(float), to_dense(X_test).astype(float)
        Y_train, Y_test = to_dense(Y_train).astype(int), to_dense(Y_test).astype(int)
    if standardise and not sp.issparse(X_train):
        X_train, X_test = standardise_pair(X_train, X_test)
    return X_train, Y_train, X_test, Y_test


def run_config(args):
    """The command line's settings for the JSON, without this machine's paths (the data
    folder and the output file)."""
    return {k: v for k, v in vars(args).items() if k not in ("data_home", "out")}


def write_json(path, payload):
    """Write ``payload`` as indented JSON (ending in a newline) to ``path``, creating its
    folder; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
