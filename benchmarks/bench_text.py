"""Text end to end: a synthetic multi-label corpus through TfidfVectorizer, time and memory.

A corpus of ``--n-docs`` documents over a vocabulary of ``--vocabulary`` words with 30
topic labels (each document draws its words from its topics and from a shared background)
is vectorised by ``TfidfVectorizer`` (CSR, unit-norm rows) and split 80/20. On the training
rows, ``OneVsRestClassifier(LinearSVC())`` and ``ARMClassifier`` with ``penalty=None``, L2,
ARM-SAE and per-label adversarial training are fitted; on the whole matrix, the ARM model's
``decision_function``, the SAE (``soft_attackability``), GASE's attackability
(``attackability_score``) and F1 under GASE (``make_adversarial_scorer``) are measured, all in
the TF-IDF feature space (``skarm.feature_space`` is the documented way to get there from a
Pipeline). Budgets are fractions of the median row norm (1 for TF-IDF rows).

Every step runs in a fresh Python process that first loads what it needs, so its peak
resident memory (``ru_maxrss``) is its own: the table shows that peak and the growth during
the step. Target (issue #15): the peak of the SAE and GASE steps <= 2x the peak of
``decision_function`` on the same matrix + 200 MB. Times are one run; ratios are to the OvR
LinearSVC fit. Writes ``benchmarks/results/bench_text.json``.

Usage: ``python benchmarks/bench_text.py [--n-docs N] [--vocabulary V] [--quick]``
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _common import run_config, write_json

N_LABELS = 30
EPS_FRACTION = 0.05  # the smaller of the paper's Table 3 budgets (of the median row norm)


def make_corpus(n_docs, vocabulary, random_state=0):
    """Documents (strings) and their (n_docs, 30) topic labels.

    Each topic owns a random tenth of the vocabulary, with Zipf weights; a document has 1-4
    topics (pairs of neighbouring topics co-occur, as tags do) and about 60 words, a fifth
    of them from a background shared by all documents.
    """
    rng = np.random.default_rng(random_state)
    words = np.array([f"w{i}" for i in range(vocabulary)])
    share = max(1, vocabulary // 10)
    topic_words = [rng.choice(vocabulary, share, replace=False) for _ in range(N_LABELS)]
    zipf = 1.0 / np.arange(1, share + 1)
    zipf /= zipf.sum()
    Y = np.zeros((n_docs, N_LABELS), dtype=np.int64)
    first = rng.integers(0, N_LABELS, n_docs)
    Y[np.arange(n_docs), first] = 1
    extra = rng.random(n_docs) < 0.5  # a neighbouring topic: correlated labels
    Y[np.flatnonzero(extra), (first[extra] + 1) % N_LABELS] = 1
    for _ in range(2):
        more = rng.random(n_docs) < 0.2
        Y[np.flatnonzero(more), rng.integers(0, N_LABELS, more.sum())] = 1
    docs = []
    for i in range(n_docs):
        topics = np.flatnonzero(Y[i])
        length = rng.integers(40, 80)
        n_background = length // 5
        ids = [rng.integers(0, vocabulary, n_background)]
        per_topic = (length - n_background) // topics.size
        for t in topics:
            ids.append(topic_words[t][rng.choice(share, per_topic, p=zipf)])
        docs.append(" ".join(words[np.concatenate(ids)]))
    return docs, Y


def _peak_mb():
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


# -------------------------------------------------------------------------------- steps
# Each runs in its own process: ``python bench_text.py --step NAME --work DIR``.


def _load(work, *names):
    import joblib
    import scipy.sparse as sp

    out = []
    for name in names:
        path = Path(work) / name
        if name.endswith(".npz"):
            out.append(sp.load_npz(path))
        elif name.endswith(".npy"):
            out.append(np.load(path))
        else:
            out.append(joblib.load(path))
    return out


def _fit_models(eps):
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import LinearSVC

    from skarm import ARMClassifier

    return {
        "fit OvR LinearSVC": lambda: OneVsRestClassifier(LinearSVC()),
        "fit ARM none": lambda: ARMClassifier(penalty=None, random_state=0),
        # alpha=0.01 already gives the constant model on unit-norm TF-IDF rows (measured).
        "fit ARM L2 alpha=0.001": lambda: ARMClassifier(penalty="l2", alpha=1e-3, random_state=0),
        "fit ARM-SAE alpha=0.1": lambda: ARMClassifier(penalty="sae", alpha=0.1, random_state=0),
        "fit ARM AT per-label": lambda: ARMClassifier(adversarial_eps=eps, random_state=0),
    }


def run_step(step, work, args):
    """Run one step in this process; return its JSON record."""
    import joblib
    import scipy.sparse as sp

    record = {"step": step}
    if step == "vectorise":
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs, Y = make_corpus(args.n_docs, args.vocabulary)
        before = _current_mb()
        start = time.perf_counter()
        X = TfidfVectorizer(max_features=args.vocabulary).fit_transform(docs).astype(np.float64)
        record["seconds"] = time.perf_counter() - start
        sp.save_npz(Path(work) / "X.npz", X.tocsr(), compressed=False)
        np.save(Path(work) / "Y.npy", Y)
        record.update(
            shape=list(X.shape), nnz=int(X.nnz), label_cardinality=float(Y.sum(1).mean())
        )
    else:
        from sklearn.metrics import f1_score

        from skarm.utils import median_row_norm
        from skarm.metrics import attackability_score, make_adversarial_scorer, soft_attackability

        X, Y = _load(work, "X.npz", "Y.npy")
        n_train = int(0.8 * X.shape[0])
        eps = EPS_FRACTION * median_row_norm(X[:n_train])
        fits = _fit_models(eps)
        if step in fits:
            Xtr, Ytr = X[:n_train], Y[:n_train]
            model = fits[step]()
            before = _current_mb()
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model.fit(Xtr, Ytr)
            record["seconds"] = time.perf_counter() - start
            record["warnings"] = sorted({w.category.__name__ for w in caught})
            record["test_micro_f1"] = float(
                f1_score(Y[n_train:], model.predict(X[n_train:]), average="micro")
            )
            if step == "fit ARM none":
                joblib.dump(model, Path(work) / "model.joblib")
        else:
            (model,) = _load(work, "model.joblib")
            calls = {
                "decision_function": lambda: model.decision_function(X),
                "SAE (soft_attackability)": lambda: soft_attackability(model, X),
                "GASE (attackability_score)": lambda: attackability_score(model, X, Y, eps=eps),
                "F1 under GASE (scorer)": lambda: make_adversarial_scorer(eps=eps)(model, X, Y),
            }
            model.decision_function(X[:10])  # compile and warm what a first call would
            soft_attackability(model, X[:10])
            attackability_score(model, X[:10], Y[:10], eps=eps)
            before = _current_mb()
            start = time.perf_counter()
            value = calls[step]()
            record["seconds"] = time.perf_counter() - start
            record["per_instance_ms"] = 1e3 * record["seconds"] / X.shape[0]
            record["value"] = float(np.mean(value))
            record["eps"] = eps
    record["rss_before_mb"] = before
    record["peak_mb"] = _peak_mb()
    record["growth_mb"] = record["peak_mb"] - before
    return record


STEPS = (
    "vectorise",
    "fit OvR LinearSVC",
    "fit ARM none",
    "fit ARM L2 alpha=0.001",
    "fit ARM-SAE alpha=0.1",
    "fit ARM AT per-label",
    "decision_function",
    "SAE (soft_attackability)",
    "GASE (attackability_score)",
    "F1 under GASE (scorer)",
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-docs", type=int, default=50_000)
    parser.add_argument("--vocabulary", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="5,000 documents, 5,000 words")
    parser.add_argument("--skip", nargs="*", default=[], help="steps to leave out")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "bench_text.json")
    )
    args = parser.parse_args()
    if args.quick:
        args.n_docs, args.vocabulary = 5_000, 5_000
    if args.step:
        print(json.dumps(run_step(args.step, args.work, args)))
        return

    rows = []
    with tempfile.TemporaryDirectory() as work:
        for step in STEPS:
            if step in args.skip:
                continue
            cmd = [sys.executable, __file__, "--step", step, "--work", work,
                   "--n-docs", str(args.n_docs), "--vocabulary", str(args.vocabulary)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode:
                sys.exit(f"step {step!r} failed:\n{done.stderr}")
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"  {step:<28} {r['seconds']:8.2f} s  peak {r['peak_mb']:7.0f} MB", flush=True)

    by_step = {r["step"]: r for r in rows}
    base = by_step.get("fit OvR LinearSVC")
    decision = by_step.get("decision_function")
    print(f"\n{by_step['vectorise']['shape'][0]} documents x {by_step['vectorise']['shape'][1]} "
          f"features, {by_step['vectorise']['nnz']} non-zeros, {N_LABELS} labels; one run")
    print(f"{'step':<28} {'time (s)':>9} {'/OvR fit':>9} {'ms/inst':>8} {'peak MB':>8} "
          f"{'growth MB':>10} {'limit MB':>9} {'micro-F1':>9}")
    for r in rows:
        ratio = r["seconds"] / base["seconds"] if base and r["step"].startswith("fit") else None
        limit = None
        if decision and r["step"].startswith(("SAE", "GASE", "F1 under")):
            limit = 2 * decision["peak_mb"] + 200
            r["peak_limit_mb"] = limit
            r["within_target"] = r["peak_mb"] <= limit
        if ratio is not None:
            r["time_vs_ovr_linearsvc"] = ratio
        cells = [
            "" if ratio is None else f"{ratio:.2f}",
            f"{r['per_instance_ms']:.3f}" if "per_instance_ms" in r else "",
            "" if limit is None else f"{limit:.0f}",
            f"{r['test_micro_f1']:.4f}" if "test_micro_f1" in r else "",
        ]
        print(f"{r['step']:<28} {r['seconds']:>9.2f} {cells[0]:>9} {cells[1]:>8} "
              f"{r['peak_mb']:>8.0f} {r['growth_mb']:>10.0f} {cells[2]:>9} {cells[3]:>9}")
    out = write_json(args.out, {"config": run_config(args), "rows": rows})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
