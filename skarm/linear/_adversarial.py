"""Joint multi-label adversarial training of the linear model against GASE.

``adversarial_method="gase"`` solves the min-max of Madry et al. (ICLR 2018) with the
multi-label attack: the inner maximisation is :class:`~skarm.attacks.GASEAttack` at the
training budget (the largest set of labels one perturbation of norm at most ``eps`` flips,
and its minimum-norm perturbation), the outer minimisation the ARM objective on the
perturbed rows. By Danskin's theorem, with the perturbations held fixed the gradient is the
clean gradient at the perturbed rows, so the rounds alternate: attack the training rows
with the current model, refit on the perturbed rows from the current model (warm start),
repeat while the number of labels GASE flips on the training rows keeps falling.

This is less pessimistic than the per-label worst case (one perturbation cannot be the
worst case for every label at once) but it is a heuristic: GASE maximises the number of
flips, not the loss, and the rounds need not converge. The user guide reports how it
compares with the per-label form (:ref:`adversarial-training`).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from .._decision import LinearDecision

__all__ = ["gase_rounds"]


class _Snapshot:
    """The current ``(W, b)`` as a fitted model for the attack (it has no ``fit``)."""

    def __init__(self, W, b):
        self._decision = LinearDecision(W, b, "ARMClassifier")

    def _skarm_decision(self):
        return self._decision


def gase_rounds(X, Y, W, b, *, eps, n_rounds, refit):
    """Alternate GASE attacks on the training rows and refits on the perturbed rows.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training rows.
    Y : ndarray of shape (n_samples, n_labels)
        {0, 1} labels (flips are counted against them).
    W, b : ndarrays
        The clean model, the first one attacked.
    eps : float
        Training budget.
    n_rounds : int
        Most rounds of attack and refit.
    refit : callable
        ``refit(X_adv, W, b) -> (W, b, n_iter, converged)``, warm-started at ``(W, b)``.

    Returns
    -------
    W, b : ndarrays
        The model after the last round that lowered the flips on the training rows.
    n_iter : int
        Solver iterations of all refits.
    converged : bool
        Whether the last refit converged.
    flips : list of int
        Labels flipped on the training rows by GASE before each round (and after the last).
    """
    from ..attacks import GASEAttack

    n_iter, converged, flips = 0, True, []
    best = None
    for _ in range(n_rounds + 1):
        result = GASEAttack(_Snapshot(W, b), eps=eps).attack(X, Y)
        count = int(result.n_flipped.sum())
        flips.append(count)
        if best is not None and count >= best[0]:  # the rounds stalled: keep the best
            return best[1], best[2], n_iter, converged, flips
        best = (count, W, b)
        if count == 0 or len(flips) > n_rounds:
            break
        W, b, it, converged = refit(result.X_adv, W, b)
        n_iter += it
    return best[1], best[2], n_iter, converged, flips
