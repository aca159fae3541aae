"""The full linear reproduction of Tables 2-4 (issue 6): a thin wrapper over ``skarm reproduce``.

Runs :func:`skarm.experiments.reproduce` on the digit attributes and the MULAN sets emotions,
yeast, medical and enron, and writes the committed results to
``benchmarks/results/reproduce/`` (``results.json``, ``tables.md``, ``claims.md``,
``plots/*.png``). The protocol, the metrics and the tables are the package's
(``skarm/experiments/``); nothing is reimplemented here. ``benchmarks/REPRODUCTION.md``
discusses the outcome claim by claim.

The cells (one fitted and measured model each) are cached outside the repository, under
scikit-learn's data home (``skarm_reproduce_cells``), so a rerun only rewrites the reports;
``--fresh`` ignores that cache (to measure the full run time).

Usage: ``python benchmarks/bench_reproduce.py [--data-home DIR] [--n-jobs N] [--fresh]
[--quick]`` (data from ``--data-home``, else ``$SKARM_DATA``). The same as
``skarm reproduce --dataset all --out benchmarks/results/reproduce --cache-dir DIR``.
"""

import argparse
import tempfile
from pathlib import Path

from sklearn.datasets import get_data_home

from skarm.experiments import reproduce

OUT = Path(__file__).resolve().parent / "results" / "reproduce"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="ignore the cached cells")
    parser.add_argument("--quick", action="store_true", help="the quick protocol, to a temp dir")
    args = parser.parse_args()
    if args.quick:
        out = Path(tempfile.mkdtemp(prefix="skarm-reproduce-quick-"))
        cache = out / "cells"
    else:
        out = OUT
        cache = Path(get_data_home()) / "skarm_reproduce_cells"
        if args.fresh:
            cache = Path(tempfile.mkdtemp(prefix="skarm-reproduce-cells-"))
    run = reproduce(
        tables="all",
        datasets="all",
        data_home=args.data_home,
        out=out,
        cache_dir=cache,
        quick=args.quick,
        n_jobs=args.n_jobs,
    )
    print(
        f"{run.n_cells} cells ({run.n_fitted} fitted, {run.n_cached} cached) in "
        f"{run.seconds:.0f} s with n_jobs={args.n_jobs}; results in {out}"
    )


if __name__ == "__main__":
    main()
