"""Speed and memory of soft_attackability against decision_function on the same X.

For n = 10,000 instances, d = 1,000 features and m in {10, 50, 200} labels, prints a table
with the time of ``soft_attackability``, the time of ``decision_function``, their ratio, the
speed-up over a per-instance Python loop (the plain Algorithm 1 on explicit vectors, timed on
a subsample and scaled to n), and the peak memory traced during ``soft_attackability``.
Writes the same as JSON to ``benchmarks/results/bench_sae.json``.

The greedy search alone is timed too, on the model's Gram and SAE weights: the numba kernel
(the CPU path) and, when CUDA is available (a GPU is never required), its torch twin on the
GPU (``skarm.deep._greedy.greedy_subset_norm_torch``, the path of torch models on CUDA), the
GPU row being the column "greedy cuda (s)".

Usage: ``python benchmarks/bench_sae.py [--n-samples N] [--repeats R]``.
Target (issue 2): ratio <= 3 at m = 50.
"""

import argparse
import tracemalloc
from pathlib import Path

import numpy as np
from _common import best_time, run_config, write_json
from sklearn.linear_model import RidgeClassifier

from skarm._greedy import greedy_subset_norm
from skarm._sae import sae_label_weights
from skarm.metrics import soft_attackability


def cuda_greedy_seconds(K, C, repeats):
    """Best time of the torch greedy on CUDA (synchronised), or None without a GPU."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    from skarm.deep._greedy import greedy_subset_norm_torch

    K_gpu = torch.as_tensor(K, device="cuda")
    C_gpu = torch.as_tensor(C, device="cuda")

    def run():
        greedy_subset_norm_torch(K_gpu, C_gpu)
        torch.cuda.synchronize()

    run()  # warm up (kernels, allocator)
    return best_time(run, repeats)[0]


def plain_loop_sae(W, H):
    """Per-instance Algorithm 1 on explicit vectors a_j = -w_j / h_j (no Gram trick)."""
    out = np.empty(len(H))
    for i, h in enumerate(H):
        A = -W / h[:, None]
        s = np.zeros(W.shape[1])
        free = np.ones(len(h), bool)
        last = 0.0
        while free.any():
            idx = np.flatnonzero(free)
            values = np.linalg.norm(s + A[idx], axis=1)
            best = int(np.argmax(values))
            if values[best] < last:
                break
            last = values[best]
            s += A[idx[best]]
            free[idx[best]] = False
        out[i] = last
    return out


def run(n_samples, n_features, labels, repeats, loop_samples):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((n_samples, n_features))
    rows = []
    for m in labels:
        Y = (X[:2000] @ rng.standard_normal((n_features, m)) > 0).astype(int)
        model = RidgeClassifier(alpha=1.0).fit(X[:2000], Y)
        soft_attackability(model, X[:10])  # compile the kernel outside the timings
        t_sae, _ = best_time(lambda: soft_attackability(model, X), repeats)  # noqa: B023
        t_dec, _ = best_time(lambda: model.decision_function(X), repeats)  # noqa: B023
        H = model.decision_function(X[:loop_samples])
        t_loop, sae_loop = best_time(lambda: plain_loop_sae(model.coef_, H), 1)  # noqa: B023
        t_loop *= n_samples / loop_samples
        np.testing.assert_allclose(
            sae_loop, soft_attackability(model, X[:loop_samples]), rtol=1e-8
        )
        K = model.coef_ @ model.coef_.T
        C = sae_label_weights(model.decision_function(X))[0]
        t_greedy, _ = best_time(lambda: greedy_subset_norm(K, C), repeats)  # noqa: B023
        t_cuda = cuda_greedy_seconds(K, C, repeats)
        tracemalloc.start()
        soft_attackability(model, X)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "n_labels": m,
                "sae_s": t_sae,
                "decision_function_s": t_dec,
                "ratio_sae_over_decision": t_sae / t_dec,
                "per_instance_loop_s": t_loop,
                "speedup_over_loop": t_loop / t_sae,
                "peak_mib": peak / 2**20,
                "greedy_numba_s": t_greedy,
                "greedy_torch_cuda_s": t_cuda,
                "n_m_float64_mib": n_samples * m * 8 / 2**20,
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-features", type=int, default=1_000)
    parser.add_argument("--labels", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--loop-samples", type=int, default=200)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_sae.json"))
    args = parser.parse_args()
    rows = run(args.n_samples, args.n_features, args.labels, args.repeats, args.loop_samples)
    header = (
        f"n={args.n_samples}, d={args.n_features}; times are the best of {args.repeats}\n"
        f"{'m':>5} {'SAE (s)':>9} {'decision (s)':>13} {'ratio':>6} "
        f"{'loop (s)':>9} {'speed-up':>9} {'peak MiB':>9} {'n*m*8 MiB':>10} "
        f"{'greedy (s)':>11} {'greedy cuda (s)':>16}"
    )
    print(header)
    for r in rows:
        cuda = "-" if r["greedy_torch_cuda_s"] is None else f"{r['greedy_torch_cuda_s']:.4f}"
        print(
            f"{r['n_labels']:>5} {r['sae_s']:>9.4f} {r['decision_function_s']:>13.4f} "
            f"{r['ratio_sae_over_decision']:>6.2f} {r['per_instance_loop_s']:>9.2f} "
            f"{r['speedup_over_loop']:>9.0f} {r['peak_mib']:>9.1f} {r['n_m_float64_mib']:>10.1f} "
            f"{r['greedy_numba_s']:>11.4f} {cuda:>16}"
        )
    out = write_json(args.out, {"config": run_config(args), "rows": rows})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
