"""The ``skarm`` console script."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import sys


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
    return 0


def main(argv=None):
    """Entry point of the ``skarm`` command."""
    parser = argparse.ArgumentParser(prog="skarm", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="score the attackability of a small linear model")
    demo.add_argument("--random-state", type=int, default=0)
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["demo", *(argv or [])])
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
