"""The ``skarm`` console script.

Subcommands:

- ``skarm reproduce``: the paper's Tables 2-4 (see :func:`skarm.experiments.reproduce`);
  with no options it runs on the embedded digit-attributes data and needs no download;
- ``skarm demo``: score the attackability of a small linear model (also what a bare
  ``skarm`` runs: it writes no files, while ``reproduce`` writes results, so that one has to
  be asked for by name).

User errors (unknown table or data set, unwritable folder, missing data or extras) print
one line on stderr saying how to fix them and exit with status 2; Ctrl-C exits with status
130 and keeps every finished cell of ``reproduce``.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import signal
import sys

_USAGE_ERROR = 2
_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and the way to get help) instead of usage."""

    def error(self, message):
        self.exit(_USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _demo(args):
    """Fit a linear multi-label model and print how attackable it is."""
    import numpy as np
    from sklearn.datasets import make_multilabel_classification
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    from .metrics import alignment_score, soft_attackability

    X, Y = make_multilabel_classification(
        n_samples=1000, n_features=40, n_classes=8, random_state=args.random_state
    )
    model = make_pipeline(StandardScaler(), OneVsRestClassifier(LinearSVC()))
    model.fit(X[:800], Y[:800])
    sae = soft_attackability(model, X[800:])
    print("model: StandardScaler + OneVsRestClassifier(LinearSVC), 8 labels, 40 features")
    print(f"mean SAE   : {sae.mean():.3f}")
    print(f"median SAE : {np.median(sae):.3f}")
    print(f"phi_align  : {alignment_score(model):.3f}")
    print(
        "\nHow to read them: the SAE of an instance is how far one unit-norm input step\n"
        "pushes many labels towards their boundaries at once (larger: more attackable);\n"
        "it is per unit of input change, so compare models on the same data, and prefer\n"
        "the median (the mean is heavy-tailed: a score near a boundary explodes it).\n"
        "phi_align runs from 1/m (orthogonal label boundaries) to 1 (parallel ones).\n"
        "To lower attackability: skarm.model_selection.robust_search (see the README)."
    )
    return 0


def _start_backend(name):
    """Set up a cluster backend for ``--backend``: a local dask cluster, or ray's joblib
    backend; returns what must stay alive during the run (the dask client), or None."""
    from .experiments import ReproduceError

    if name == "dask":
        try:
            from distributed import Client
        except ImportError:
            raise ReproduceError(
                "--backend dask needs dask's distributed scheduler: "
                "pip install 'dask[distributed]'"
            ) from None
        return Client()  # a LocalCluster of this machine's cores
    if name == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError:
            raise ReproduceError("--backend ray needs ray: pip install 'ray[default]'") from None
        register_ray()
    return None


def _reproduce(args):
    """Run the paper's protocol; user errors become one line on stderr and status 2."""
    from .experiments import ReproduceError, reproduce
    from .experiments._run import cache_folder

    cluster = None
    try:
        cluster = _start_backend(args.backend)
        reproduce(
            tables=args.table,
            datasets=args.dataset,
            data_home=args.data_home,
            out=args.out,
            cache_dir=args.cache_dir,
            quick=args.quick,
            preprocess=args.preprocess,
            model=args.model,
            n_jobs=args.n_jobs,
            backend=args.backend,
            progress=not args.no_progress,
        )
    except ReproduceError as exc:
        print(f"skarm reproduce: error: {exc}", file=sys.stderr)
        return _USAGE_ERROR
    except KeyboardInterrupt:
        cache = cache_folder(args.out, args.cache_dir)
        print(
            f"\nskarm reproduce: interrupted; the finished cells are kept in {cache}: run the "
            "same command again to resume.",
            file=sys.stderr,
        )
        return _INTERRUPTED
    finally:
        if cluster is not None:
            cluster.close()
    return 0


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (use 1, 2, ... or -1 for all CPUs)")
    cpus = os.cpu_count() or 1
    if value < -cpus:
        # joblib's -k means all CPUs but k - 1: below -cpus nothing is left (joblib would
        # quietly run one job).
        raise argparse.ArgumentTypeError(
            f"{value} leaves no CPU on this {cpus}-CPU machine (-1 is all CPUs, -2 all but "
            f"one, down to -{cpus}); use a positive number or -1"
        )
    return value


def _random_state(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**32 - 1], got {value}")
    return value


def _dataset_names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(
            f"names no data set ({text!r}); give one or more names separated by commas, "
            "or leave the option out for the default"
        )
    return names


def _parser():
    parser = _Parser(
        prog="skarm",
        description="skarm: adversarially robust multi-label classification.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    rep = sub.add_parser(
        "reproduce",
        help="reproduce the paper's Tables 2-4 (JSON, Markdown, PNG)",
        description=(
            "Reproduce Tables 2-4 of Yang, Han and Zhang (ECML-PKDD 2021) with linear models: "
            "fits every model of the protocol (cached per cell, so an interrupted run "
            "resumes), then writes results.json, tables.md, claims.md and plots/*.png. With "
            "no options it runs on the embedded digit-attributes data (no download)."
        ),
    )
    rep.add_argument("--table", default="all", choices=["2", "3", "4", "all"],
                     help="which table to reproduce (default: all)")
    rep.add_argument("--dataset", default=None, type=_dataset_names,
                     metavar="NAME[,NAME...]",
                     help="digits (embedded, the default of linear models), canvases "
                          "(embedded images, the default of --model torch), emotions, "
                          "yeast, medical, enron, another MULAN name, or all (linear: "
                          "digits and those four; torch: canvases and emotions); several "
                          "separated by commas")
    rep.add_argument("--model", default="linear", choices=["linear", "torch"],
                     help="linear SVMs (the paper's Creepware setting, default) or the "
                          "torch backend: a small CNN on canvases, an MLP on feature "
                          "vectors (the paper's VOC/Planet setting; CUDA when present, "
                          "else the CPU; needs skarm[deep])")
    rep.add_argument("--data-home", default=None, metavar="DIR",
                     help="folder of the MULAN data sets (default: $SKARM_DATA)")
    rep.add_argument("--out", default="skarm-reproduce", metavar="DIR",
                     help="output folder (default: ./skarm-reproduce)")
    rep.add_argument("--cache-dir", default=None, metavar="DIR",
                     help="where finished cells are cached (default: OUT/cells)")
    rep.add_argument("--quick", action="store_true",
                     help="smoke test: 300 rows, 2-value grids, 40 attacked instances "
                          "(on 2 cores about 3 s on digits and 30 s on enron, plus about "
                          "8 s of kernel compilation on the first run)")
    rep.add_argument("--preprocess", default="standardise",
                     choices=["standardise", "unit-norm"],
                     help="features after the split: standardise (StandardScaler fitted on "
                          "train, default) or unit-norm (every row scaled to unit L2 norm, "
                          "the geometry of the paper's TF-IDF data)")
    rep.add_argument("--n-jobs", type=_n_jobs, default=1, metavar="N",
                     help="cells fitted in parallel (default: 1; -1: all CPUs)")
    rep.add_argument("--backend", default=None,
                     choices=["loky", "threading", "multiprocessing", "dask", "ray"],
                     help="joblib backend of the cells (default: loky processes); dask "
                          "starts a local cluster (dask[distributed]), ray its joblib "
                          "backend (ray); the cells are written by this process")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.set_defaults(func=_reproduce)

    demo = sub.add_parser(
        "demo",
        help="score the attackability of a small linear model",
        description=(
            "Fit StandardScaler + OneVsRestClassifier(LinearSVC) on a synthetic 8-label "
            "problem and print its mean and median SAE and its label alignment phi_align, "
            "with how to read them. Writes no files; a bare 'skarm' runs it."
        ),
    )
    demo.add_argument("--random-state", type=_random_state, default=0, metavar="SEED",
                      help="seed of the synthetic data (default: 0)")
    demo.set_defaults(func=_demo)
    return parser


def _forget_interrupt_inside_exec():
    """Clear CPython's "KeyboardInterrupt left ``exec``" flag before a clean exit.

    When Ctrl-C lands inside ``exec`` of a source string (``dataclasses`` and
    ``collections.namedtuple`` build methods that way while scikit-learn imports), CPython
    marks the interrupt as unhandled even though we catch it further up. Under
    ``python -m skarm`` the interpreter then kills itself with SIGINT after our
    ``sys.exit(130)`` (status -2 instead of 130). Every ``exec`` of a string resets the
    flag first, so an empty one clears it.
    """
    exec("")  # noqa: S102 - a constant, empty source: nothing runs


def main(argv=None):
    """Entry point of the ``skarm`` command; returns the exit status.

    Ctrl-C at any point, start-up included (importing scikit-learn and matplotlib takes
    seconds), prints one line on stderr and returns 130, without a traceback.
    """
    argv_given = argv
    try:
        parser = _parser()
        argv = sys.argv[1:] if argv is None else list(argv)
        args = parser.parse_args(argv)
        if args.command is None:
            args = parser.parse_args(["demo", *argv])
        return args.func(args)
    except KeyboardInterrupt:
        # A second Ctrl-C (or one delivered again while the interpreter shuts down) must
        # not turn the documented status 130 into death by the signal. Only as the
        # process's own entry point (argv None): a caller's handlers stay its own.
        if argv_given is None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            _forget_interrupt_inside_exec()
        print("\nskarm: interrupted.", file=sys.stderr)
        return _INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
