"""One cell of the reproduction: fit one model, measure everything, cache it on disk.

A cell is a (data set, method, alpha) triple. It fits the model on the training split and
computes every metric any table or plot needs, on the validation split (for choosing alpha:
clean F1, and GASE F1 at the selection budget ``eps_select`` and at every Table 3 budget)
and on the test split (for reporting): clean and adversarial micro/macro-F1 (GASE at every
budget, PGD as a cross-check), C_a, the per-instance SAE, phi_align, and whether the model
collapsed (W = 0 or a constant prediction). The record is a small JSON file named
by a hash of everything the result depends on (the data, the split, the model, the
budgets, the attack settings, the skarm version and the code that computes it), written
atomically (a temporary file, then a rename), so an interrupted run keeps every finished
cell and a rerun reuses them without fitting.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import functools
import hashlib
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score

from .._version import __version__
from ..exceptions import CollapsedModelWarning
from ..utils._io import atomic_write
from ._protocol import (
    ADVERSARIAL,
    PROTOCOL_VERSION,
    budget_key,
    budgets,
    make_estimator,
    median_row_norm,
)

__all__ = ["CellStore", "cell_config", "cell_key", "compute_cell", "to_json"]

# Protocol fields a cell depends on; the grids only say *which* cells are needed.
_CELL_FIELDS = (
    "eps_fractions",
    "val_eps_fractions",
    "preprocess",
    "split",
    "random_state",
    "max_samples",
    "max_attack",
    "pgd_max_iter",
    "estimator_params",
)


# The code a cell's numbers come from: the estimators, solvers, attacks and metrics. Not
# the reports (tables, plots, claims), the command line, the data loaders (the data enter
# the key through their fingerprint) or the torch backend (unused by the linear cells).
_REPORT_MODULES = {"_analysis.py", "_claims.py", "_plots.py", "_run.py", "_tables.py",
                   "__init__.py"}


@functools.lru_cache(maxsize=1)
def code_fingerprint():
    """Hash of the skarm source files that a cell's numbers depend on.

    Part of the cache key, so that cells computed by an older attack or solver (same
    version number, edited code) are recomputed rather than mixed with new ones.
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha1()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in ("deep", "datasets") or rel.name == "_cli.py":
            continue
        if rel.parts[0] == "experiments" and rel.name in _REPORT_MODULES:
            continue
        digest.update(rel.as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cell_config(data, method, alpha, protocol):
    """Everything a cell's result depends on, as a JSON-ready dict."""
    settings = protocol.as_dict()
    config = {
        "protocol_version": PROTOCOL_VERSION,
        "skarm_version": __version__,
        "code_fingerprint": code_fingerprint(),
        "dataset": data.name,
        "data_fingerprint": data.fingerprint,
        # alpha = 0 is the unregularised model whichever penalty is named: one shared cell.
        "method": method if alpha > 0 else "none",
        "alpha": float(alpha),
        **{name: settings[name] for name in _CELL_FIELDS},
    }
    if config["method"] == ADVERSARIAL:
        # alpha is the training budget (a fraction of the median row norm) of this model.
        config["at_method"] = settings["at_method"]
    # As it reads back from the cache file (tuples become lists), so that it compares equal.
    return json.loads(json.dumps(config))


def cell_key(config):
    """Hash of a cell config: the name of its cache file.

    Examples
    --------
    >>> from skarm.experiments._cells import cell_key
    >>> cell_key({"a": 1}) == cell_key({"a": 1}) != cell_key({"a": 2})
    True
    """
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def to_json(value):
    """A JSON-ready copy: numpy scalars and arrays as Python values, NaN and inf as None.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm.experiments._cells import to_json
    >>> to_json({"a": np.float64(0.5), "b": [np.nan, np.int64(2)], "c": np.arange(2)})
    {'a': 0.5, 'b': [None, 2], 'c': [0, 1]}
    """
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_json(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


class CellStore:
    """A folder of cached cells, one JSON file per cell, written atomically.

    Parameters
    ----------
    folder : str or path-like
        Where the cells live (created on first write); one sub-folder per data set.
    """

    def __init__(self, folder):
        self.folder = Path(folder)

    def path(self, config):
        """The file of a cell: ``folder/dataset/method-alpha-key.json``."""
        name = f"{config['method']}-{config['alpha']:g}-{cell_key(config)}.json"
        return self.folder / config["dataset"] / name

    def load(self, config):
        """The cached record of a cell, or None (absent, unreadable or for another config)."""
        path = self.path(config)
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return record if record.get("config") == config else None

    def save(self, config, record):
        """Write a cell record atomically: a temporary file in the same folder, then rename.

        A run killed mid-write leaves at most a stray ``.tmp`` file, never a truncated cell.
        """
        path = self.path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path, lambda f: json.dump(record, f, separators=(",", ":")))


def _f1(Y, P):
    return {
        "micro": f1_score(Y, P, average="micro", zero_division=0),
        "macro": f1_score(Y, P, average="macro", zero_division=0),
    }


def collapse_facts(model, P_test, clean_micro):
    """Whether a fitted linear model collapsed: W = 0, or a constant prediction on test.

    A collapsed model (every ``coef_`` zero, or every label predicted the same on every
    test instance, or a clean micro-F1 of 0) cannot be attacked and is no point of a trend:
    the tables mark it and the claims leave it out.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from skarm.experiments._cells import collapse_facts
    >>> model = SimpleNamespace(coef_=np.zeros((2, 3)))
    >>> collapse_facts(model, np.array([[1, 0], [1, 0]]), 0.5)["collapsed"]
    True
    """
    coef = getattr(model, "coef_", None)
    coef_zero = coef is not None and not np.any(coef)
    P = np.asarray(P_test)
    constant = bool(P.shape[0] > 0 and np.all(P == P[:1]))
    return {
        "coef_zero": bool(coef_zero),
        "constant_prediction": constant,
        "collapsed": bool(coef_zero or constant or clean_micro == 0),
    }


def _attack_metrics(attack, X, Y):
    """F1 of the model on the attacked X and the number of labels the attack flipped.

    ``attack`` counts flips against Y (``reference="label"``), on the model's scores at
    ``X_adv`` with the rule of ``predict`` (``h_j > 0``): the prediction on ``X_adv`` is Y
    with the flipped labels negated, so the model is not evaluated again.
    """
    result = attack.attack(X, Y)
    predicted = np.where(result.flipped, 1 - Y, Y)
    return {**_f1(Y, predicted), "C_a": float(np.mean(result.n_flipped))}, result.n_flipped


def compute_cell(data, split, method, alpha, protocol):
    """Fit one model and measure it: the record of one cell (JSON-ready dict).

    Parameters
    ----------
    data : Bunch
        From :func:`~skarm.experiments.load_dataset` (``name``, ``fingerprint``).
    split : Bunch
        From :func:`~skarm.experiments.split_standardise`.
    method : str
        A key of :data:`~skarm.experiments.METHODS`.
    alpha : float
        Penalty weight (the paper's lambda); 0 is the unregularised model. For "at", the
        training budget as a fraction of the median row norm.
    protocol : Protocol
        The settings.

    Returns
    -------
    record : dict
        ``config``, ``fit`` (seconds, iterations, convergence), ``collapse`` (W = 0,
        constant prediction), ``eps`` (the budgets),
        ``val`` and ``test`` metrics, and per-instance test values under ``instances``
        (SAE of every test instance; GASE counts of the attacked prefix).
    """
    from ..attacks import GASEAttack, PGDAttack
    from ..metrics import alignment_score, soft_attackability

    cell_start = time.perf_counter()
    config = cell_config(data, method, alpha, protocol)
    scale = median_row_norm(split.X_train)
    model = make_estimator(method, alpha, protocol, scale=scale)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(split.X_train, split.Y_train)
    fit_seconds = time.perf_counter() - start
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    # The estimator's own check (on the training rows), next to the test-split one below.
    warned_collapsed = any(issubclass(w.category, CollapsedModelWarning) for w in caught)

    eps = budgets(split.X_train, protocol.eps_fractions)
    n_att = protocol.max_attack
    X_val, Y_val = split.X_val[:n_att], split.Y_val[:n_att]
    X_att, Y_att = split.X_test[:n_att], split.Y_test[:n_att]

    # The validation split only serves the choice of alpha: attacked at eps_select and at
    # every reported budget of Table 3 (the selection table picks at the reported budget).
    val = {"clean": _f1(split.Y_val, model.predict(split.X_val)), "gase": {}}
    for fraction in protocol.val_eps_fractions:
        key = budget_key(fraction)
        gase = GASEAttack(model, eps=eps[key], reference="label")
        val["gase"][key], _ = _attack_metrics(gase, X_val, Y_val)
    P_test = model.predict(split.X_test)  # X_att is its first n_att rows
    test = {
        "clean": _f1(split.Y_test, P_test),
        "clean_attacked": _f1(Y_att, P_test[:n_att]),
        "gase": {},
        "pgd": {},
    }
    counts = {}
    for key, budget in eps.items():
        gase = GASEAttack(model, eps=budget, reference="label")
        test["gase"][key], counts[key] = _attack_metrics(gase, X_att, Y_att)
        pgd = PGDAttack(model, eps=budget, max_iter=protocol.pgd_max_iter, reference="label")
        test["pgd"][key], _ = _attack_metrics(pgd, X_att, Y_att)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sae = soft_attackability(model, split.X_test)
    test["sae"] = {
        "mean": float(np.mean(sae)),
        "median": float(np.median(sae)),
        # Instances with a score clamped at |h_j| = delta: their SAE is huge (heavy tail).
        "near_boundary_warnings": len(caught),
    }
    test["phi_align"] = alignment_score(model)
    test["phi_align_offdiag"] = (
        alignment_score(model, include_diagonal=False) if split.Y_train.shape[1] > 1 else None
    )
    record = {
        "config": config,
        "fit": {"seconds": fit_seconds, "n_iter": int(model.n_iter_), "converged": converged},
        "collapse": {**collapse_facts(model, P_test, test["clean"]["micro"]),
                     "fit_warning": warned_collapsed},
        # Fit and every measurement: what a rerun without the cache would spend on the cell.
        "seconds": time.perf_counter() - cell_start,
        "data": {
            "n_train": len(split.train),
            "n_val": len(split.val),
            "n_test": len(split.test),
            "n_attacked": len(Y_att),
            "median_row_norm": scale,
        },
        "eps": eps,
        "val": val,
        "test": test,
        "instances": {"sae": sae, "gase_flipped": counts},
    }
    return to_json(record)
