"""Fit time and clean micro-F1 of the ARM classifiers against one-vs-rest linear models.

On yeast (dense, standardised) and bibtex (sparse, as is), fits ``ARMClassifier(penalty=None)``,
``ARMSAEClassifier``, ``ARMPrimalClassifier``, ``OneVsRestClassifier(LinearSVC())`` and
``OneVsRestClassifier(LogisticRegression())`` on the MULAN train split, scores micro-F1 on the
test split, and prints fit times as ratios to OvR LinearSVC, all in one run. Writes JSON to
``benchmarks/results/bench_fit.json``.

Targets (issue 4): penalty=None <= 2x OvR LinearSVC at micro-F1 within 0.01; ARM-SAE <= 3x
penalty=None. The comparison of like with like is ``loss="squared_hinge"`` (LinearSVC's
default loss), reported next to skarm's default hinge.

Usage: ``python benchmarks/bench_fit.py [--data-home DIR] [--repeats R] [--alpha A]``
(data from ``--data-home``, else ``$SKARM_DATA``).
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skarm import ARMClassifier, ARMPrimalClassifier, ARMSAEClassifier
from skarm.datasets import load_mulan


def models(alpha):
    return {
        "OvR LinearSVC": lambda: OneVsRestClassifier(LinearSVC()),
        "OvR LogisticRegression": lambda: OneVsRestClassifier(LogisticRegression(max_iter=1000)),
        "ARM none (squared hinge)": lambda: ARMClassifier(penalty=None, loss="squared_hinge"),
        "ARM none (hinge)": lambda: ARMClassifier(penalty=None),
        f"ARM-SAE alpha={alpha}": lambda: ARMSAEClassifier(alpha=alpha),
        f"ARM-Primal alpha={alpha}": lambda: ARMPrimalClassifier(alpha=alpha),
    }


def load(name, data_home):
    Xtr, Ytr = load_mulan(name, subset="train", data_home=data_home, return_X_y=True)
    Xte, Yte = load_mulan(name, subset="test", data_home=data_home, return_X_y=True)
    if name == "yeast":
        scaler = StandardScaler().fit(Xtr)
        Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    return Xtr, Ytr, Xte, Yte


def run(datasets, data_home, repeats, alpha):
    rows = []
    for name in datasets:
        Xtr, Ytr, Xte, Yte = load(name, data_home)
        for label, make in models(alpha).items():
            times = []
            for _ in range(repeats):
                model = make()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ConvergenceWarning)
                    start = time.perf_counter()
                    model.fit(Xtr, Ytr)
                    times.append(time.perf_counter() - start)
            f1 = f1_score(Yte, model.predict(Xte), average="micro", zero_division=0)
            rows.append({
                "dataset": name, "model": label, "fit_s": min(times), "micro_f1": f1,
                "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
                "n_iter": int(getattr(model, "n_iter_", -1)) if np.ndim(
                    getattr(model, "n_iter_", -1)) == 0 else -1,
            })
        base = next(r for r in rows if r["dataset"] == name and r["model"] == "OvR LinearSVC")
        none = next(r for r in rows if r["dataset"] == name and r["model"] == "ARM none (hinge)")
        for r in rows:
            if r["dataset"] == name:
                r["time_vs_ovr_linearsvc"] = r["fit_s"] / base["fit_s"]
                r["time_vs_arm_none"] = r["fit_s"] / none["fit_s"]
                r["f1_minus_ovr_linearsvc"] = r["micro_f1"] - base["micro_f1"]
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=os.environ.get("SKARM_DATA"))
    parser.add_argument("--datasets", nargs="+", default=["yeast", "bibtex"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_fit.json"))
    args = parser.parse_args()
    rows = run(args.datasets, args.data_home, args.repeats, args.alpha)
    print(f"best of {args.repeats} fits; ratios within this run")
    print(f"{'dataset':<8} {'model':<26} {'fit (s)':>8} {'/OvR SVC':>9} {'/ARM none':>10} "
          f"{'micro-F1':>9} {'dF1':>7} {'conv':>5}")
    for r in rows:
        print(f"{r['dataset']:<8} {r['model']:<26} {r['fit_s']:>8.3f} "
              f"{r['time_vs_ovr_linearsvc']:>9.2f} {r['time_vs_arm_none']:>10.2f} "
              f"{r['micro_f1']:>9.4f} {r['f1_minus_ovr_linearsvc']:>+7.4f} "
              f"{'yes' if r['converged'] else 'no':>5}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"config": vars(args), "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
