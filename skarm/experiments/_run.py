"""Orchestration of a reproduction run: which cells, in parallel, cached, then the outputs."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from joblib import Parallel, delayed, effective_n_jobs, parallel_config
from sklearn.utils import Bunch

from .._version import __version__
from ..utils._io import atomic_write
from ..utils._orphan import exit_with_parent
from ._analysis import analyse_dataset
from ._cells import CellStore, cell_config, code_fingerprint, compute_cell, to_json
from ._claims import (
    check_claims,
    paper_setting,
    render_claims,
    render_selection_targets,
    selection_targets,
)
from ._protocol import (
    ALL_METHODS,
    DATASETS,
    DEEP_DATASETS,
    REGULARISERS,
    ReproduceError,
    canonical_name,
    default_protocol,
    load_dataset,
    split_standardise,
)
from ._tables import DAGGER, FOOTNOTE, render_dataset, render_header, render_selection_summary

__all__ = ["cache_folder", "reproduce"]

TABLES = ("2", "3", "4")
# Methods whose whole lambda grid each table needs ("none" is alpha = 0 of every method);
# Table 3 brings adversarial training and the selection table.
_TABLE_METHODS = {"2": ("none", "nuclear"), "3": ALL_METHODS, "4": ("none", "sae")}
_EXTRAS_HINT = 'pip install "skarm[reproduce]"'


def _require_extras():
    """matplotlib and tqdm, or a ReproduceError naming the extra that installs them."""
    missing = []
    for module in ("matplotlib", "tqdm"):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ReproduceError(
            f"skarm reproduce needs {' and '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed; install them with: "
            f"{_EXTRAS_HINT}"
        )


def _writable(folder, what, option):
    """Create ``folder`` and check that files can be written in it."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ReproduceError(
            f"the {what} {str(folder)!r} is a file, not a folder; pass {option} with a "
            "folder (it is created if missing)."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReproduceError(
            f"cannot write to the {what} {str(folder)!r} ({reason}); pass {option} with a "
            "folder you can write to."
        ) from None
    return folder


def _kernels_cached():
    """Whether numba has cached skarm's kernels on this machine (the greedy's index file
    exists). A first run compiles them, which takes seconds before the first cell ends."""
    try:
        from .._greedy import _greedy_kernels

        return os.path.exists(_greedy_kernels[0]._cache._cache_file._index_path)
    except Exception:  # numba's internals moved: say nothing rather than fail the run
        return True


def _parse_tables(tables):
    if isinstance(tables, str):
        tables = [tables]
    out = []
    for t in tables:
        t = str(t).strip().lower()
        if t == "all":
            out.extend(TABLES)
        elif t in TABLES:
            out.append(t)
        else:
            raise ReproduceError(
                f"unknown table {t!r}; choose from 2, 3, 4 or all (the paper's Tables 2-4)."
            )
    return tuple(sorted(set(out)))


def _parse_datasets(datasets, model="linear"):
    if isinstance(datasets, str):
        datasets = [datasets]
    out = []
    for name in datasets:
        name = canonical_name(name)
        if not name:
            continue
        everything = DEEP_DATASETS if model == "torch" else DATASETS
        for n in everything if name == "all" else (name,):
            if n not in out:
                out.append(n)
    if not out:
        raise ReproduceError(
            f"datasets={datasets!r} names no data set; give one or more names, or None for "
            "the default."
        )
    return out


def _run_cell(data, split, method, alpha, protocol, client_pid=None):
    """Worker: compute one cell. The client writes it (a worker may have no access to the
    client's disk: a dask or ray cluster), so a run resumes without a shared filesystem.

    A worker process that the client (``client_pid``) started itself ends when the client
    dies, instead of finishing cells no one will write (:mod:`skarm.utils._orphan`).
    """
    exit_with_parent(client_pid)
    return compute_cell(data, split, method, alpha, protocol)


def _joblib_backends():
    """The names of joblib's backends: registered ones, and those it registers on first use
    (dask); ray adds its own when set up."""
    from joblib import parallel

    return set(parallel.BACKENDS) | set(getattr(parallel, "EXTERNAL_BACKENDS", {}))


def _finished_cells(jobs, n_jobs, backend):
    """Yield the records of ``jobs`` as they finish, under joblib's ``backend``.

    Unordered streaming where the backend supports it; otherwise (ray, joblib < 1.4) the
    jobs go in rounds of ``2 n_jobs``, so that finished cells still reach the client (and
    its cache and progress bar) during the run rather than at its end.
    """
    jobs = list(jobs)
    with parallel_config(backend=backend) if backend else contextlib.nullcontext():
        # Only a refusal to stream, before any cell came back, falls back to rounds: an
        # error of a cell itself (or after some cells) is raised, not run again.
        try:
            stream = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)
        except (TypeError, ValueError, NotImplementedError) as exc:
            if "generator" not in str(exc) and "return_as" not in str(exc):
                raise
        else:
            yield from stream
            return
        step = 2 * max(n_jobs, 1)
        for start in range(0, len(jobs), step):
            yield from Parallel(n_jobs=n_jobs)(jobs[start : start + step])


def _progress(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="skarm reproduce", unit="cell", file=sys.stderr,
                disable=not enabled or total == 0, dynamic_ncols=True)


def reproduce(
    tables="all",
    datasets=None,
    *,
    data_home=None,
    out="skarm-reproduce",
    cache_dir=None,
    quick=False,
    preprocess="standardise",
    model="linear",
    n_jobs=None,
    backend=None,
    progress=True,
    protocol=None,
    log=None,
):
    """Run the paper's protocol (Tables 2-4) and write JSON, Markdown and PNG results.

    For each data set: a seeded 50/30/20 split standardised on train; the six linear models
    (none, L2, nuclear, single, primal, SAE) over a lambda grid and adversarial training
    over a grid of training budgets; every model measured on the validation and test
    splits (clean and GASE/PGD adversarial F1, C_a, SAE, phi_align).
    Each fitted model is a cached *cell*: a rerun, or a run after an interruption, reuses
    the finished cells without fitting.

    Parameters
    ----------
    tables : {"2", "3", "4", "all"} or list of them, default="all"
        Which of the paper's tables to reproduce; Table 3 brings the Pareto fronts.
    datasets : str or list of str, default=None
        ``"digits"`` (embedded, no download; the default of the linear models),
        ``"canvases"`` (embedded images, no download; the default of ``model="torch"``),
        MULAN names (``"emotions"``, ``"yeast"``, ``"medical"``, ``"enron"``, ...) or
        ``"all"`` (linear: digits and those four; torch: canvases and emotions).
    data_home : str or path-like, default=None
        MULAN data folder (default: ``$SKARM_DATA``).
    out : str or path-like, default="skarm-reproduce"
        Output folder: ``results.json``, ``tables.md``, ``claims.md``, ``plots/*.png``.
    cache_dir : str or path-like, default=None
        Where the cells are cached; default ``out/cells``.
    quick : bool, default=False
        The quick protocol (:func:`default_protocol` with ``quick=True``): seconds, for
        smoke tests.
    preprocess : {"standardise", "unit-norm"}, default="standardise"
        The features' preprocessing after the split: a ``StandardScaler`` fitted on the
        training rows, or every row scaled to unit L2 norm (the geometry of the paper's
        TF-IDF data). Ignored when ``protocol`` is given (it has its own). A sparse data
        set (medical, enron) stays sparse (CSR) under "unit-norm", and its models are fitted
        by the solver for CSR (``solver="auto"``); "standardise" densifies it.
    model : {"linear", "torch"}, default="linear"
        The models: the linear SVM of the paper's Creepware setting, or the torch backend
        (:class:`~skarm.deep.ConvNet` on the image data set ``"canvases"``, the default MLP
        on feature vectors; CUDA when torch finds a device), the paper's VOC2012 / Planet
        setting. ``"all"`` data sets are then ``"canvases"`` and ``"emotions"``. Ignored
        when ``protocol`` is given (it has its own).
    n_jobs : int, default=None
        Cells fitted in parallel (processes); None means 1, -1 all processors.
    backend : str, default=None
        The joblib backend of the cells: None (joblib's default, "loky" processes),
        "threading", "multiprocessing", or a registered one such as "dask" (with a
        ``distributed.Client`` created first) or "ray" (after ``ray.util.joblib.
        register_ray()``). Workers return their cells and this process writes them, so
        resuming needs no filesystem shared with the workers.
    progress : bool, default=True
        Show a progress bar (tqdm, on stderr).
    protocol : Protocol, default=None
        Override the protocol (default: ``default_protocol(quick)``).
    log : callable, default=None
        Called with one-line status messages; default prints them to stderr.

    Returns
    -------
    run : :class:`~sklearn.utils.Bunch`
        ``results`` (the content of ``results.json``), ``files`` (written paths),
        ``n_cells``, ``n_fitted``, ``n_cached`` and ``seconds``.

    Raises
    ------
    ReproduceError
        Unknown table or data set, unwritable folder, missing data or missing extras.

    Examples
    --------
    >>> import tempfile
    >>> from skarm.experiments import reproduce
    >>> with tempfile.TemporaryDirectory() as out:  # doctest: +SKIP
    ...     run = reproduce(out=out, quick=True, progress=False, log=lambda msg: None)
    ...     sorted(p.name for p in run.files)[:2]
    ['claims.md', 'digits_f1_vs_lambda.png']
    """
    start = time.perf_counter()
    log = log or (lambda msg: print(msg, file=sys.stderr))
    tables = _parse_tables(tables)
    # Built first: an unknown preprocess fails (in Protocol) before anything else is done.
    protocol = protocol or default_protocol(quick, preprocess=preprocess, model=model)
    if datasets is None:
        datasets = "canvases" if protocol.model == "torch" else "digits"
    names = _parse_datasets(datasets, protocol.model)
    if backend is not None and backend not in _joblib_backends():
        raise ReproduceError(
            f"unknown joblib backend {backend!r}; choose from "
            f"{', '.join(sorted(_joblib_backends()))} (dask and ray register theirs when "
            "set up: a distributed.Client, ray.util.joblib.register_ray())."
        )
    _require_extras()
    if protocol.model == "torch":
        from ..deep import require_deep_extra
        from ..exceptions import BackendNotAvailableError

        try:
            require_deep_extra()
        except BackendNotAvailableError as exc:
            raise ReproduceError(f"--model torch: {exc}") from None
    # Read every data set before anything is written: a typo fails without side effects.
    loaded = [
        load_dataset(name, data_home=data_home, max_samples=protocol.max_samples,
                     random_state=protocol.random_state)
        for name in names
    ]
    out = _writable(out, "output folder", "--out DIR")
    store = CellStore(_writable(cache_folder(out, cache_dir), "cache folder", "--cache-dir DIR"))

    order = list(ALL_METHODS).index
    methods = sorted({m for t in tables for m in _TABLE_METHODS[t]}, key=order)
    prepared, pending, cells = {}, [], {}
    n_cached = 0
    for name, data in zip(names, loaded, strict=True):
        split = split_standardise(data.X, data.Y, fractions=protocol.split,
                                  random_state=protocol.random_state,
                                  preprocess=protocol.preprocess)
        light = Bunch(name=data.name, fingerprint=data.fingerprint,
                      image_shape=data.get("image_shape"))
        prepared[name] = (data, split)
        cells[name] = {}
        wanted = {("none", 0.0)}
        wanted |= {(m, float(a)) for m in methods for a in protocol.grid(m) if a > 0}
        for method, alpha in sorted(wanted, key=lambda c: (order(c[0]), c[1])):
            record = store.load(cell_config(light, method, alpha, protocol))
            if record is None:
                pending.append((name, light, split, method, alpha))
            else:
                cells[name][(method, alpha)] = record
                n_cached += 1

    n_jobs = effective_n_jobs(n_jobs)
    log(f"skarm reproduce: {len(names)} data set(s), tables {', '.join(tables)}: "
        f"{n_cached + len(pending)} cells, {n_cached} from cache, {len(pending)} to fit "
        f"(n_jobs={n_jobs}).")
    if pending and not _kernels_cached():
        log("skarm reproduce: first run on this machine: compiling skarm's numba kernels "
            "(about 10 s on 2 cores; cached for later runs), so the first cells take longer.")
    # Big data sets first: their cells are the slowest, so they should not end the run alone.
    # Sized as rows x features whatever the storage (.size of a sparse matrix counts its
    # non-zeros only): the weights, the penalties and the attacks grow with the features.
    pending.sort(key=lambda t: -(t[2].X_train.shape[0] * t[2].X_train.shape[1]))
    n_fitted = 0
    if pending:
        client_pid = os.getpid()
        jobs = (
            delayed(_run_cell)(light, split, method, alpha, protocol, client_pid)
            for name, light, split, method, alpha in pending
        )
        with _progress(len(pending), progress) as bar:
            for record in _finished_cells(jobs, n_jobs, backend):
                config = record["config"]
                store.save(config, record)  # at once: an interruption keeps it
                cells[config["dataset"]][(config["method"], config["alpha"])] = record
                n_fitted += 1
                bar.set_postfix_str(f"{config['dataset']} {config['method']} "
                                    f"{config['alpha']:g}", refresh=False)
                bar.update()

    results = {}
    for name in names:
        data, split = prepared[name]
        # Every cell of a data set has the same split, hence the same scale and budgets.
        data_facts = cells[name][("none", 0.0)]
        info = {
            "n_samples": int(data.X.shape[0]),
            "n_features": int(data.X.shape[1]),
            "n_labels": int(data.Y.shape[1]),
            "cardinality": float(data.Y.sum(axis=1).mean()),
            "n_train": len(split.train),
            "n_val": len(split.val),
            "n_test": len(split.test),
            "n_attacked": len(split.test[: protocol.max_attack]),
            "preprocess": protocol.preprocess,
            "median_row_norm": data_facts["data"]["median_row_norm"],
            "eps": data_facts["eps"],
            "fingerprint": data.fingerprint,
            "not_converged": sorted(
                f"{m} {a:g}" for (m, a), r in cells[name].items() if not r["fit"]["converged"]
            ),
            # W = 0 or a constant prediction on the test split (marked in the tables).
            "collapsed": sorted(
                f"{m} {a:g}" for (m, a), r in cells[name].items()
                if r.get("collapse", {}).get("collapsed")
            ),
            "cell_seconds": float(sum(r["seconds"] for r in cells[name].values())),
            "fit_seconds": float(sum(r["fit"]["seconds"] for r in cells[name].values())),
        }
        results[name] = analyse_dataset(cells[name], protocol, tables, info)

    document, files = _write_outputs(out, results, protocol, tables, names, Bunch(
        skarm_version=__version__,
        code_fingerprint=code_fingerprint(deep=protocol.model == "torch"),
        seconds=time.perf_counter() - start,
        n_cells=n_cached + n_fitted,
        n_fitted=n_fitted,
        n_cached=n_cached,
        n_jobs=n_jobs,
        cpu_count=os.cpu_count(),
    ))
    seconds = time.perf_counter() - start
    log(f"skarm reproduce: done in {seconds:.1f} s: {n_fitted} cells fitted, {n_cached} "
        f"loaded from cache; results in {out}")
    return Bunch(results=document, files=files, n_cells=n_cached + n_fitted,
                 n_fitted=n_fitted, n_cached=n_cached, seconds=seconds)


def cache_folder(out, cache_dir=None):
    """The folder of the cached cells: ``cache_dir``, by default ``out/cells``."""
    return Path(cache_dir) if cache_dir else Path(out) / "cells"


def _write_text(path, text):
    return atomic_write(path, lambda f: f.write(text))


def _rounded(value):
    """Six significant digits: the report stays small and diffs between runs stay readable."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value


def _write_outputs(out, results, protocol, tables, names, run):
    from ._plots import plot_dataset

    deep = protocol.model == "torch"
    setting = paper_setting(deep)
    claims = check_claims(results, deep=deep)
    targets = selection_targets(results)
    document = {
        "skarm_version": __version__,
        "tables": list(tables),
        "datasets": names,
        "protocol": protocol.as_dict(),
        "run": dict(run),
        "results": results,
        "claims": claims,
        "selection_targets": targets,
    }
    # As written to results.json (rounded, JSON types), so that a caller sees the same.
    document = _rounded(to_json(document))
    files = [_write_text(out / "results.json", json.dumps(document, indent=1) + "\n")]
    markdown = [render_header(protocol, run)]
    summary = render_selection_summary(results)
    if summary:
        markdown.append("## Selection table: all data sets\n\n" + summary + "\n\n"
                        + render_selection_targets(targets))
    markdown += [render_dataset(name, results[name]) for name in names]
    files.append(_write_text(out / "tables.md", "\n\n".join(markdown) + "\n"))
    n_regs = len(REGULARISERS)
    table = render_claims(claims, names, deep=deep)
    files.append(_write_text(
        out / "claims.md",
        f"# Claims of Tables 2-4: the paper ({setting}) against this run\n\n"
        "Verdicts: **yes** holds; **mostly** holds with exceptions; **no** does not hold. "
        "Trends over the lambda columns: yes = monotone (0.001 ties allowed), mostly = net "
        "change the claimed way and Spearman with lambda >= 0.7; ranks: yes = rank 1, mostly "
        f"= rank 2; 'every regulariser': mostly = {n_regs - 1}/{n_regs}; clean-F1 cost: yes "
        "= micro and macro fall, mostly = one falls by > 0.01; matched clean F1: yes = spread "
        f"<= 0.03; over-regularisation: yes >= 3/{n_regs}, mostly >= 1/{n_regs}; AT: yes = "
        "rank 1 among AT and the penalties, mostly = rank 2; selection: yes = at both "
        "reported eps, mostly = at one. Ranks of ARM-SAE are among the paper's six methods "
        "(AT is not one of them). Figures are test-split values; the paper's are "
        f"{setting}'s (Tables 2-4 of the paper). "
        + ("Features standardised on train." if protocol.preprocess == "standardise"
           else "Features: every row scaled to unit L2 norm (--preprocess unit-norm).")
        + "\n\n" + table + "\n" + ("\n" + FOOTNOTE + "\n" if DAGGER in table else "")
        + ("\n" + render_selection_targets(targets) + "\n" if targets["n_cells"] else ""),
    ))
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    for name in names:
        files.extend(plot_dataset(name, results[name], plots))
    return document, files
