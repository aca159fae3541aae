"""How many of the labels one perturbation can flip are each within the budget alone.

For the unregularised linear model on each MULAN train/test split (standardised on the
training rows), counts the labels GASE flips at ``eps`` (fractions of the median training
row norm) against the labels that are individually reachable: already wrong, or with a
geometric margin ``|h_j(x)| / ||w_j||`` of at most ``eps``. A ratio near 1 says that the
joint attack gains little over attacking each label alone, so per-label margins decide
robustness (the user guide's adversarial-training section quotes this table).

Usage: ``python benchmarks/reachable_labels.py [--data-home DIR] [--datasets ...]``
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from _common import load_split, run_config, write_json

from skarm import ARMClassifier
from skarm.attacks import GASEAttack


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None, help="MULAN data (default: $SKARM_DATA)")
    parser.add_argument("--datasets", nargs="+", default=["emotions", "yeast", "medical"])
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.05, 0.2])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"
                                             / "reachable_labels.json"))
    args = parser.parse_args()
    rows = []
    print(f"{'dataset':<9} {'eps':>5} {'GASE flips':>11} {'reachable':>10} {'ratio':>6}")
    for name in args.datasets:
        Xtr, Ytr, Xte, Yte = load_split(name, args.data_home, standardise=True, densify=True)
        median = float(np.median(np.linalg.norm(Xtr, axis=1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ARMClassifier(penalty=None).fit(Xtr, Ytr)
        H = model.decision_function(Xte)
        with np.errstate(divide="ignore"):  # a label constant in training has w_j = 0
            margins = np.abs(H) / np.linalg.norm(model.coef_, axis=1)
        wrong = (2 * Yte - 1) * H <= 0
        for fraction in args.fractions:
            eps = fraction * median
            reachable = int(((margins <= eps) | wrong).sum())
            flips = int(GASEAttack(model, eps=eps).attack(Xte, Yte).n_flipped.sum())
            rows.append({"dataset": name, "eps_fraction": fraction, "gase_flips": flips,
                         "individually_reachable": reachable, "ratio": flips / reachable})
            print(f"{name:<9} {fraction:>5g} {flips:>11} {reachable:>10} "
                  f"{flips / reachable:>6.3f}")
    print(f"wrote {write_json(args.out, {'config': run_config(args), 'rows': rows})}")


if __name__ == "__main__":
    main()
