"""Many labels: SAE, GASE and fits on bibtex (159 labels), corel5k (374) and delicious (983).

On each MULAN train/test split (as ``load_mulan`` gives it: sparse bibtex, dense corel5k and
delicious), in one run:

- the scoring model is a ``RidgeClassifier(alpha=1)`` fitted on the training split (a
  closed-form linear model, so that the scoring columns do not wait for a slow fit and
  are comparable between versions of skarm); labels constant in training are dropped;
- "SAE / dec": ``soft_attackability`` over the test split against ``decision_function``
  on the same rows (best of ``--repeats``), the ratio of the two;
- "greedy (s)": the greedy search alone on those rows (the part of SAE that grows as m^2);
- "prunable": the fraction of candidate evaluations, over the greedy's rounds on the first
  ``--bound-rows`` test rows, that the Cauchy-Schwarz bound
  ``||s + a_j||^2 - ||s||^2 <= 2 ||s|| ||a_j|| + ||a_j||^2`` could skip even if the round's
  best gain were known in advance (an upper limit on what such pruning can save);
- "GASE ms": GASE at eps = 1 per instance on the first ``--gase-rows`` test rows, with its
  mean number of flips;
- with ``--fits``: the fit of ``OneVsRestClassifier(LinearSVC(loss="hinge"))``,
  ``ARMClassifier(penalty=None)`` and ``ARMClassifier(penalty="sae", alpha=0.1,
  max_iter=200)`` (``--fit-datasets``), as ratios to the OvR fit;
- GASE with ``n_jobs=2`` under joblib's threading and loky backends
  (``parallel_config``), against one job, on the first ``--backend-rows`` test rows of
  the last data set: the best of two calls on running workers, and the first call (which
  starts loky's workers) apart.

Targets (issue #16): SAE <= 10x decision_function at m = 374 and <= 20x at m = 983; ARM-SAE
fit <= 3x OvR on bibtex and <= 5x on corel5k; GASE <= 5 ms per instance at m = 983; GASE
with n_jobs=2 under loky no slower than 1.5x threads. Writes
``benchmarks/results/bench_scale.json``.

Usage: ``python benchmarks/bench_scale.py [--data-home DIR] [--fits] [--repeats R]``
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from _common import best_time, load_split, run_config, write_json
from joblib import parallel_config
from sklearn.linear_model import RidgeClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC

from skarm import ARMClassifier, GASEAttack
from skarm._greedy import greedy_subset_norm
from skarm._sae import sae_label_weights
from skarm.metrics import soft_attackability
from skarm.utils._validation import to_dense


def _fit_seconds(make, X, Y):
    model = make()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, Y)
    return time.perf_counter() - start


def prunable_fraction(K, C):
    """Share of the greedy's candidate evaluations a Cauchy-Schwarz bound could skip.

    Replays Algorithm 1 in numpy and, in every round, counts the remaining candidates whose
    bound ``2 ||s|| ||a_j|| + ||a_j||^2`` is below the round's best gain: an oracle's view
    (the best gain is not known before the candidates are evaluated), so an upper limit.
    The replay needs each round's gains, which the compiled greedy does not expose; its
    selections are checked against :func:`greedy_subset_norm`'s, so it cannot drift.
    """
    skippable = evaluated = 0
    expected = greedy_subset_norm(K, C)[1]
    for c, selected in zip(C, expected, strict=True):
        G = c[:, None] * K * c[None, :]
        norms = np.sqrt(np.diag(G))
        gain = np.diag(G).copy()
        taken = np.zeros(len(c), dtype=bool)
        s2 = 0.0
        best = int(np.argmax(gain))
        while not taken.all() and gain[best] >= 0:
            s2 += gain[best]
            taken[best] = True
            gain = np.where(taken, -np.inf, gain + 2 * G[best])
            bound = 2 * np.sqrt(s2) * norms + norms**2
            best = int(np.argmax(gain))
            skippable += int((bound[~taken] < gain[best]).sum())
            evaluated += int((~taken).sum())
        if not np.array_equal(taken, selected):
            raise AssertionError("the numpy replay left the greedy's selections")
    return skippable / max(evaluated, 1)


def run_dataset(name, data_home, args):
    Xtr, Ytr, Xte, Yte = load_split(name, data_home, standardise=False)
    Ytr, Yte = to_dense(Ytr).astype(int), to_dense(Yte).astype(int)
    keep = Ytr.min(axis=0) != Ytr.max(axis=0)
    Ytr, Yte = Ytr[:, keep], Yte[:, keep]
    model = RidgeClassifier(alpha=1.0).fit(Xtr, Ytr)
    row = {"dataset": name, "n_train": Xtr.shape[0], "n_test": Xte.shape[0],
           "n_features": Xtr.shape[1], "n_labels": int(keep.sum())}

    soft_attackability(model, Xte[:5])  # compile the kernels outside the timings
    t_dec, H = best_time(lambda: model.decision_function(Xte), args.repeats)
    t_sae, _ = best_time(lambda: soft_attackability(model, Xte), args.repeats)
    K = model.coef_ @ model.coef_.T
    C = sae_label_weights(H)[0]
    t_greedy, (_, selected) = best_time(lambda: greedy_subset_norm(K, C), args.repeats)
    row.update(decision_s=t_dec, sae_s=t_sae, sae_over_decision=t_sae / t_dec,
               greedy_s=t_greedy, mean_set_size=float(selected.sum(axis=1).mean()),
               prunable=prunable_fraction(K, C[: args.bound_rows]))

    rows = Xte[: args.gase_rows]
    GASEAttack(model, eps=1.0).attack(rows[:2], Yte[:2])
    t_gase, result = best_time(
        lambda: GASEAttack(model, eps=1.0).attack(rows, Yte[: args.gase_rows]), 1
    )
    row.update(gase_ms_per_instance=1e3 * t_gase / rows.shape[0],
               gase_mean_flips=float(result.n_flipped.mean()))

    if args.fits:
        row["fit_ovr_s"] = _fit_seconds(
            lambda: OneVsRestClassifier(LinearSVC(loss="hinge")), Xtr, Ytr
        )
        row["fit_arm_none_s"] = _fit_seconds(
            lambda: ARMClassifier(penalty=None, random_state=0), Xtr, Ytr
        )
        if name in args.fit_datasets:
            row["fit_arm_sae_s"] = _fit_seconds(
                lambda: ARMClassifier(penalty="sae", alpha=0.1, max_iter=200, random_state=0),
                Xtr, Ytr,
            )
            row["arm_sae_over_ovr"] = row["fit_arm_sae_s"] / row["fit_ovr_s"]
        row["arm_none_over_ovr"] = row["fit_arm_none_s"] / row["fit_ovr_s"]
    return row, model, Xte, Yte


def run_backends(model, X, Y, n_rows):
    X, Y = X[:n_rows], Y[:n_rows]
    out = {"n_rows": X.shape[0], "n_labels": int(Y.shape[1])}
    out["one_job_s"] = best_time(lambda: GASEAttack(model, eps=1.0).attack(X, Y), 1)[0]
    for backend in ("threading", "loky"):
        with parallel_config(backend=backend):
            # The first call starts loky's workers (and imports skarm in them): timed
            # apart, then the best of two calls on the running workers.
            start = time.perf_counter()
            GASEAttack(model, eps=1.0, n_jobs=2).attack(X, Y)
            out[f"{backend}_first_call_s"] = time.perf_counter() - start
            seconds, _ = best_time(
                lambda: GASEAttack(model, eps=1.0, n_jobs=2).attack(X, Y), 2  # noqa: B023
            )
        out[f"{backend}_s"] = seconds
    out["loky_over_threading"] = out["loky_s"] / out["threading_s"]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None, help="MULAN data (default: $SKARM_DATA)")
    parser.add_argument("--datasets", nargs="+", default=["bibtex", "corel5k", "delicious"])
    parser.add_argument("--fits", action="store_true", help="also time the fits (minutes)")
    parser.add_argument("--fit-datasets", nargs="+", default=["bibtex", "corel5k"],
                        help="data sets whose ARM-SAE fit is timed (with --fits)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gase-rows", type=int, default=200)
    parser.add_argument("--backend-rows", type=int, default=2000)
    parser.add_argument("--bound-rows", type=int, default=60)
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "bench_scale.json")
    )
    args = parser.parse_args()
    rows, last = [], None
    for name in args.datasets:
        row, model, Xte, Yte = run_dataset(name, args.data_home, args)
        rows.append(row)
        last = (model, Xte, Yte)
        print(f"  {name}: done", flush=True)
    backends = run_backends(*last, args.backend_rows) if last else None

    print(f"\nbest of {args.repeats} (scoring), one run (fits, GASE)")
    print(f"{'data':<10} {'m':>4} {'|S|':>6} {'SAE / dec':>10} {'greedy (s)':>11} "
          f"{'prunable':>9} {'GASE ms':>8} {'flips':>6} {'OvR fit':>8} {'none/OvR':>9} "
          f"{'SAE/OvR':>8}")
    for r in rows:
        fits = [f"{r['fit_ovr_s']:.1f}" if "fit_ovr_s" in r else "-",
                f"{r['arm_none_over_ovr']:.2f}" if "arm_none_over_ovr" in r else "-",
                f"{r['arm_sae_over_ovr']:.2f}" if "arm_sae_over_ovr" in r else "-"]
        print(f"{r['dataset']:<10} {r['n_labels']:>4} {r['mean_set_size']:>6.1f} "
              f"{r['sae_over_decision']:>10.1f} {r['greedy_s']:>11.4f} "
              f"{r['prunable']:>9.3f} {r['gase_ms_per_instance']:>8.2f} "
              f"{r['gase_mean_flips']:>6.2f} "
              f"{fits[0]:>8} {fits[1]:>9} {fits[2]:>8}")
    if backends:
        print(f"\nGASE, {backends['n_rows']} rows x {backends['n_labels']} labels: one job "
              f"{backends['one_job_s']:.2f} s, n_jobs=2 threading {backends['threading_s']:.2f} s,"
              f" loky {backends['loky_s']:.2f} s (loky / threading "
              f"{backends['loky_over_threading']:.2f}); the first loky call, which starts "
              f"the workers, {backends['loky_first_call_s']:.2f} s")
    out = write_json(args.out, {"config": run_config(args), "rows": rows, "backends": backends})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
