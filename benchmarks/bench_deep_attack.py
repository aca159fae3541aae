"""Attacks on the reproduction's canvases CNN: labels flipped and time per instance.

The model is the deep reproduction's unregularised cell: ``skarm.deep.ConvNet`` trained by
``skarm.experiments.make_estimator`` with the deep protocol on the 50/30/20 split of the
4000 canvases (seed 0), standardised. The budgets are fractions of the median row norm of
the training rows: the reproduction's 0.05 and 0.2, and the paper's own relative budgets on
VOC2012 (0.0004 and 0.004 of an image's norm). On the first ``--n`` test canvases (800 is
all of them), against the true labels, side by side in one run:

* ``gase``: :class:`~skarm.attacks.GASEAttack` with its defaults (the linearised greedy,
  then ``refine_steps=100`` projected gradient steps on the network from its solution and,
  with ``restart``, from x);
* ``gase-greedy``: the greedy alone (``refine_steps=0``), GASE before issue 26;
* ``pgd``: :class:`~skarm.attacks.PGDAttack` with its defaults (100 steps).

Each attack's flips are re-checked on the network at the returned point. Printed: mean
flips, the share of instances where GASE flips at least as many as PGD, and times per
instance as ratios to PGD's.

Usage: ``python benchmarks/bench_deep_attack.py [--n 800] [--threads 2]``.
Writes ``benchmarks/results/bench_deep_attack.json``.
Targets (issue 26): GASE alone flips >= PGD's mean and >= PGD on >= 95% of instances at 0.05
and 0.2; GASE's time <= 3x PGD's.
"""

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch
from _common import write_json

from skarm.attacks import GASEAttack, PGDAttack
from skarm.experiments._protocol import (
    default_protocol,
    load_dataset,
    make_estimator,
    split_standardise,
)
from skarm.utils import median_row_norm

FRACTIONS = (0.0004, 0.004, 0.05, 0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=800, help="test canvases attacked")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=Path(__file__).parent / "results"
                        / "bench_deep_attack.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    protocol = default_protocol(model="torch")
    data = load_dataset("canvases")
    split = split_standardise(data.X, data.Y, fractions=protocol.split,
                              random_state=protocol.random_state,
                              preprocess=protocol.preprocess)
    start = time.perf_counter()
    model = make_estimator(None, 0.0, protocol, image_shape=data.image_shape)
    model.fit(split.X_train, split.Y_train)
    fit_s = time.perf_counter() - start
    scale = median_row_norm(split.X_train)
    X, Y = split.X_test[: args.n], split.Y_test[: args.n]

    attacks = {
        "gase": lambda eps: GASEAttack(model, eps=eps),
        "gase-greedy": lambda eps: GASEAttack(model, eps=eps, refine_steps=0),
        "pgd": lambda eps: PGDAttack(model, eps=eps),
    }
    rows = []
    print(f"canvases CNN (fit {fit_s:.0f} s), {X.shape[0]} test canvases, "
          f"median row norm {scale:.2f}")
    print("| eps (x median norm) | attack | mean flips | >= PGD | ms / instance | time / PGD |")
    print("|---|---|---|---|---|---|")
    for fraction in FRACTIONS:
        eps = fraction * scale
        results = {}
        for name, make in attacks.items():
            t0 = time.perf_counter()
            result = make(eps).attack(X, Y, return_X_adv=False)
            results[name] = (result.n_flipped, time.perf_counter() - t0)
        pgd_flips, pgd_s = results["pgd"]
        for name, (flips, seconds) in results.items():
            row = dict(fraction=fraction, eps=eps, attack=name,
                       mean_flips=float(flips.mean()),
                       at_least_pgd=float(np.mean(flips >= pgd_flips)),
                       ms_per_instance=1000 * seconds / X.shape[0],
                       time_ratio_to_pgd=seconds / pgd_s,
                       flips=flips.tolist())
            rows.append(row)
            print(f"| {fraction:g} | {name} | {row['mean_flips']:.3f} | "
                  f"{row['at_least_pgd']:.3f} | {row['ms_per_instance']:.0f} | "
                  f"{row['time_ratio_to_pgd']:.2f} |", flush=True)
    write_json(args.out, dict(
        n_instances=int(X.shape[0]), fit_seconds=fit_s, median_row_norm=scale,
        threads=args.threads, machine=platform.platform(), rows=rows,
    ))


if __name__ == "__main__":
    main()
