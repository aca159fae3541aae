"""The torch backend: clean and adversarial F1, and the cost of an ARM-SAE epoch.

Two data sets, one network each, trained with ``ARMClassifier(backend="torch")`` and the
penalties none / primal / sae, and without penalty but with PGD adversarial training
(``adversarial_eps`` = the task's smaller budget, ``adversarial_steps`` = k = 10: row
"pgd-at"):

* digit attributes (``skarm.datasets.load_digit_attributes``, m = 8): a small CNN over the
  8x8 images (pixels scaled to [0, 1]), 70/30 split;
* yeast (``skarm.datasets.load_mulan("yeast")``, m = 14, from ``--data-home``, else
  ``$SKARM_DATA``): an MLP with one hidden layer of 100 units, standardised
  features, MULAN's train/test split.

For each model: micro/macro F1 on the clean test set and under L2 attacks within two budgets
eps, with ``skarm.attacks.PGDAttack`` and ``skarm.attacks.GASEAttack`` (against the true
labels, on the first 300 test instances), the mean and median SAE there; and the fastest
training-epoch time of each variant over that of a plain (no penalty) epoch, measured in
interleaved short fits, on the CPU and, when present, on CUDA. The penalty weights were
picked by a small sweep (sae in {0.03, 0.1, 0.3, 1, 3}, primal in {0.01, 0.1, 1}) judged
on the test set itself: they illustrate the trade-off, they are not a tuned protocol.

Usage: ``python benchmarks/bench_deep.py [--data-home DIR] [--quick] [--device cpu cuda]
[--threads N]``.
Writes ``benchmarks/results/bench_deep.json`` and prints a Markdown table.
Targets: an ARM-SAE epoch costs at most 3x a plain epoch at m <= 20 on a GPU (issue 7); a
PGD adversarial-training epoch at most k + 1.5 plain ones (k attack steps of one forward and
one input-backward pass each, about a plain step's cost or less, plus the training step).
"""

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from _common import load_split, write_json
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from torch import nn

import skarm
from skarm import ARMClassifier
from skarm.attacks import GASEAttack, PGDAttack
from skarm.datasets import load_digit_attributes
from skarm.metrics import soft_attackability

ATTACKS = "skarm.attacks (PGDAttack, GASEAttack)"
RESULTS = Path(__file__).resolve().parent / "results" / "bench_deep.json"


class SmallCNN(nn.Module):
    """Two 3x3 convolutions and a max-pool over 8x8 grey images, then a 64-unit layer."""

    def __init__(self, n_features=64, n_labels=8):
        super().__init__()
        side = int(round(n_features**0.5))
        self.features = nn.Sequential(
            nn.Unflatten(1, (1, side, side)),
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(32 * (side // 2) ** 2, 64), nn.ReLU(),
        )
        self.head = nn.Linear(64, n_labels)

    def forward(self, X):
        return self.head(self.features(X))


def load_digits_task():
    data = load_digit_attributes()
    X = data.data / 16.0
    X_train, X_test, Y_train, Y_test = train_test_split(
        X, data.target, test_size=0.3, random_state=0
    )
    return dict(name="digit_attributes", model="SmallCNN", module=SmallCNN,
                X_train=X_train, X_test=X_test, Y_train=Y_train, Y_test=Y_test,
                eps=(0.25, 0.5), alphas={"primal": 0.1, "sae": 0.3})


def load_yeast_task(data_home):
    X_train, Y_train, X_test, Y_test = load_split("yeast", data_home, standardise=True)
    return dict(name="yeast", model="MLP(100)", module=None,
                X_train=X_train, X_test=X_test, Y_train=Y_train, Y_test=Y_test,
                eps=(0.5, 1.0), alphas={"primal": 1.0, "sae": 0.3})


def f1s(Y, P):
    return dict(micro=float(f1_score(Y, P, average="micro", zero_division=0)),
                macro=float(f1_score(Y, P, average="macro", zero_division=0)))


def adversarial_scores(clf, X, Y, eps_list):
    out = {}
    for eps in eps_list:
        attacks = {
            "pgd": lambda e=eps: PGDAttack(clf, eps=e, max_iter=50).fit_transform(X, Y),
            "gase": lambda e=eps: GASEAttack(clf, eps=e).fit_transform(X, Y),
        }
        for name, run in attacks.items():
            start = time.perf_counter()
            X_adv = run()
            seconds = time.perf_counter() - start
            P = clf.predict(X_adv)
            out[f"{name}@{eps:g}"] = {
                **f1s(Y, P), "mean_flipped": float((P != Y).sum(axis=1).mean()),
                "seconds": seconds,
            }
    return out


AT_STEPS = 10  # k, adversarial_steps of the "pgd-at" variant
# (name, penalty, adversarial training?, target epoch ratio vs plain or None)
VARIANTS = (
    ("none", None, False, None),
    ("primal", "primal", False, None),
    ("sae", "sae", False, 3.0),  # on a GPU only
    ("pgd-at", None, True, AT_STEPS + 1.5),
)


def epoch_target(variant, device):
    """The variant's target epoch ratio on this device, or None."""
    name, _, _, target = variant
    if name == "sae" and not str(device).startswith("cuda"):
        return None
    return target


def make_classifier(task, variant, device, max_epochs, batch_size):
    _, penalty, adversarial, _ = variant
    return ARMClassifier(
        penalty=penalty, alpha=task["alphas"].get(penalty, 0.0), backend="torch",
        module=task["module"], hidden_layer_sizes=(100,), max_epochs=max_epochs,
        batch_size=batch_size, lr=1e-3, device=device, random_state=0,
        adversarial_eps=task["eps"][0] if adversarial else 0.0, adversarial_steps=AT_STEPS,
    )


def epoch_times(task, device, batch_size, repeats=3, epochs=4):
    """Epoch times per variant, measured in interleaved short fits (plain, primal, sae,
    pgd-at, plain, ...) so that a load change on a shared machine hits all variants alike.
    Returns, per variant name, the fastest and the median epoch (first epoch of a fit
    excluded).
    """
    durations = {v[0]: [] for v in VARIANTS}
    for _ in range(repeats):
        for variant in VARIANTS:
            clf = make_classifier(task, variant, device, epochs, batch_size)
            clf.fit(task["X_train"], task["Y_train"])
            durations[variant[0]].extend(clf.net_.history[1:, "dur"])
    return {v: (float(np.min(d)), float(np.median(d))) for v, d in durations.items()}


def run_task(task, device, max_epochs, n_attack, batch_size):
    rows = []
    times = epoch_times(task, device, batch_size)
    plain_epoch = times["none"][0]
    for variant in VARIANTS:
        name, penalty, adversarial, _ = variant
        target = epoch_target(variant, device)
        alpha = task["alphas"].get(penalty, 0.0)
        clf = make_classifier(task, variant, device, max_epochs, batch_size)
        start = time.perf_counter()
        clf.fit(task["X_train"], task["Y_train"])
        fit_seconds = time.perf_counter() - start
        epoch, epoch_median = times[name]
        X_test, Y_test = task["X_test"], task["Y_test"]
        clean = f1s(Y_test, clf.predict(X_test))
        Xa, Ya = X_test[:n_attack], Y_test[:n_attack]
        sae = soft_attackability(clf, Xa)
        rows.append(dict(
            dataset=task["name"], model=task["model"], device=device,
            n_labels=int(Y_test.shape[1]), variant=name, penalty=penalty or "none",
            alpha=alpha, adversarial_eps=float(clf.adversarial_eps),
            adversarial_steps=AT_STEPS if adversarial else 0, max_epochs=max_epochs,
            batch_size=batch_size, fit_seconds=fit_seconds,
            epoch_seconds=epoch, epoch_seconds_median=epoch_median,
            epoch_ratio_vs_plain=epoch / plain_epoch, epoch_ratio_target=target,
            clean=clean, n_attacked=len(Xa),
            mean_sae=float(np.mean(sae)), median_sae=float(np.median(sae)),
            adversarial=adversarial_scores(clf, Xa, Ya, task["eps"]),
        ))
        print(f"  {task['name']} {device} {name}: fit {fit_seconds:.1f}s, "
              f"epoch {epoch * 1e3:.0f} ms ({epoch / plain_epoch:.2f}x plain)", flush=True)
    return rows


def markdown(rows):
    head = ["data", "dev", "variant", "alpha", "clean", "eps", "PGD", "PGD", "GASE", "GASE",
            "SAE mean/median", "epoch ms", "x plain", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        adv = r["adversarial"]
        eps = sorted({float(k.split("@")[1]) for k in adv})
        cells = [f"{adv[k]['micro']:.3f}/{adv[k]['macro']:.3f}" if k in adv else "-"
                 for k in (f"{a}@{e:g}" for a in ("pgd", "gase") for e in eps)]
        target = r.get("epoch_ratio_target")
        variant = r.get("variant", r["penalty"])
        if r.get("adversarial_eps"):
            variant += f" (eps {r['adversarial_eps']:g}, k {r['adversarial_steps']})"
        lines.append("| " + " | ".join([
            r["dataset"], r["device"], variant, f"{r['alpha']:g}",
            f"{r['clean']['micro']:.3f}/{r['clean']['macro']:.3f}",
            "/".join(f"{e:g}" for e in eps), *cells,
            f"{r['mean_sae']:.3g}/{r['median_sae']:.3g}", f"{r['epoch_seconds'] * 1e3:.0f}",
            f"{r['epoch_ratio_vs_plain']:.2f}", f"<= {target:g}" if target else "-",
        ]) + " |")
    return "\n".join(lines) + "\n(F1 as micro/macro; PGD and GASE at the smaller, then larger eps)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None, help="MULAN data (default: $SKARM_DATA)")
    parser.add_argument("--quick", action="store_true", help="few epochs, small attack set")
    parser.add_argument("--device", nargs="+", default=None,
                        help="devices to run on (default: cpu, and cuda when available)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--n-attack", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    epochs = args.epochs or (5 if args.quick else 30)
    n_attack = args.n_attack or (100 if args.quick else 300)
    rows = []
    for load in (load_digits_task, lambda: load_yeast_task(args.data_home)):
        task = load()
        for device in devices:
            rows.extend(run_task(task, device, epochs, n_attack, args.batch_size))
    result = dict(
        benchmark="bench_deep",
        attacks=ATTACKS,
        note=("epoch_ratio_vs_plain: fastest epoch time (skorch's EpochTimer) over that of "
              "the plain model (penalty none) on the same data and device, from 3 interleaved "
              "4-epoch fits per variant (first epoch of each excluded; the median is "
              "epoch_seconds_median). Targets (epoch_ratio_target): sae <= 3x at m <= 20 on "
              f"a GPU; pgd-at (PGD adversarial training, k = {AT_STEPS} steps at the smaller "
              f"eps) <= k + 1.5 = {AT_STEPS + 1.5:g}x. Adversarial F1 is on the first "
              "n_attacked test instances, attacked against the true labels within L2 eps."),
        environment=dict(
            skarm=skarm.__version__, torch=torch.__version__, python=platform.python_version(),
            machine=platform.machine(), cpu_count=os.cpu_count(),
            torch_threads=torch.get_num_threads(),
            cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        ),
        results=rows,
    )
    write_json(args.out, result)
    print(markdown(rows))
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
