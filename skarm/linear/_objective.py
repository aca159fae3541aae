"""Training objective of the linear ARM models: hinge loss plus one transferability penalty.

For ``h(x) = W x + b`` (W of shape (m, d)) and labels ``y`` in {-1, +1}^(n x m):

    L(W, b) = (1/n) sum_i loss(h(x_i), y_i) + ||W||_F^2 / (2 C n) + alpha * R(W, b)

with R one of (doc: alg-arm-sae, alg-arm-primal, alg-arm-single, alg-baselines; the paper's
lambda is ``alpha``, its alpha is ``margin_floor``):

* ``"l2"``      ``||W||_F^2``
* ``"nuclear"`` ``||W||_*`` (handled by its proximal operator, not here)
* ``"single"``  ``(1/n) sum_i sum_k ||w_k|| c_ik``                         (Eq. 16)
* ``"primal"``  ``(1/n) sum_i max_S ||sum_{j in S} y_ij w_j||``             (Eq. 6, C_{W,z})
* ``"sae"``     ``(1/n) sum_i max_S ||sum_{j in S} y_ij c_ij w_j||``        (Eq. 14-15)

where ``c_ij = min(exp(-y_ij h_j(x_i)), 1/margin_floor)``. The maxima over label sets use
the one greedy search (:func:`skarm._greedy.greedy_subset_norm`) with the selection held fixed
when differentiating (a Danskin-style subgradient, as the authors' code does).

Every penalty returns its value and its gradient split in two parts, so the expensive X-sized
products are done once for loss and penalty together:

* ``grad_scores`` (n, m): d R / d h(x_i), chained through ``h = X W^T + b`` by the caller;
* ``grad_coef`` (m, d): the direct part d R / d W at fixed h, always ``M @ W`` for an
  (m, m) matrix M, so no n x d work is needed: ``u_i = W^T v_i`` gives
  ``sum_i v_i u_i^T / ||u_i|| = (V^T diag(1/phi) V) W``.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from .._greedy import greedy_subset_norm
from .._sae import arm_sae_label_weights
from .._spec import LOSSES, MARGIN_WEIGHTINGS, PENALTIES

__all__ = ["LOSSES", "MARGIN_WEIGHTINGS", "PENALTIES", "Objective", "hinge_loss"]


# The hinge is minimised through its Huber smoothing: quadratic for margins in (1 - width, 1),
# the hinge minus width/2 below that, 0 above; so at most width/2 below the hinge, with the
# hinge's gradient outside (1 - width, 1). With the SVM's weak ridge term the
# problem is ill-conditioned, so the width shrinks in stages, each warm-starting the next:
# on yeast this reaches the width-0.01 optimum in ~400 L-BFGS iterations where starting at
# 0.01 takes ~1500 (measured with scipy's L-BFGS-B, gtol 1e-4).
HINGE_SMOOTHING_SCHEDULE = (0.5, 0.1, 0.01)


def hinge_loss(margins, loss, width=HINGE_SMOOTHING_SCHEDULE[-1]):
    """Per-entry loss and its derivative in the margin ``t = y h``.

    ``width`` is the Huber smoothing of the hinge (ignored by the squared hinge).
    """
    if loss == "squared_hinge":
        slack = np.maximum(1.0 - margins, 0.0)
        return slack**2, -2.0 * slack
    slack = 1.0 - margins
    quadratic = (slack > 0) & (slack < width)
    value = np.where(slack >= width, slack - width / 2, 0.0)
    value = np.where(quadratic, slack**2 / (2 * width), value)
    deriv = np.where(slack >= width, -1.0, 0.0)
    deriv = np.where(quadratic, -slack / width, deriv)
    return value, deriv


def _unit_rows(W):
    """Row norms of W and its rows scaled to unit norm (0 for a zero row: the norm's
    subgradient 0 there), for the terms in ``||w_j||`` ("single", adversarial training)."""
    norms = np.linalg.norm(W, axis=1)
    unit = np.divide(W, norms[:, None], out=np.zeros_like(W), where=norms[:, None] > 0)
    return norms, unit


def _subset_norm_terms(K, W, weights, instance_weights, *, weights_grad=True):
    """Value and gradients of ``sum_i w_i max_S ||sum_{j in S} weights_ij v_j||``.

    ``v_j`` are the rows of W (Gram K). Returns the weighted sum of the greedy norms,
    ``d/d weights`` (n, m; None unless ``weights_grad``: the weights of "primal" are the
    constant labels) and the direct part ``d/d W`` at fixed weights (m, d).
    """
    phi, selected = greedy_subset_norm(K, weights)
    V = np.where(selected, weights, 0.0)  # v_i = b_i * weights_i, u_i = W^T v_i
    active = phi > 0  # ||u|| is not differentiable at 0; its subgradient 0 is used there
    scale = np.zeros_like(phi)
    scale[active] = instance_weights[active] / phi[active]
    grad_coef = (V.T * scale) @ V @ W
    value = float(instance_weights @ phi)
    if not weights_grad:
        return value, None, grad_coef
    # d||u_i|| / d weights_ij = b_ij (u_i . w_j) / ||u_i|| = b_ij (K v_i)_j / ||u_i||
    grad_weights = np.where(selected, (V @ K) * scale[:, None], 0.0)
    return value, grad_weights, grad_coef


class Objective:
    """Loss + ridge + penalty of a linear ARM model, with analytic gradients.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_labels)
        Labels in {-1, +1}.
    penalty : {None, "l2", "nuclear", "single", "primal", "sae"}
    alpha : float
        Penalty weight (the paper's lambda).
    C : float
        Inverse strength of the SVM's own ridge term ``||W||^2 / (2 C n)``.
    margin_floor : float
        The paper's alpha in Eq. 13-16.
    loss : {"hinge", "squared_hinge"}
    loss_reduction : {"sum", "mean"}
        Sum or average the loss over labels.
    margin_weighting : {"floor", "soft"}, default="floor"
        The margin weights of "sae" and "single" (:func:`skarm._sae.arm_sae_label_weights`).
    adversarial_eps : float, default=0.0
        Per-label adversarial training: the loss of label j is taken at its worst case over
        the L2 ball of this radius, ``loss(y_j h_j(x) - eps ||w_j||)``.
    """

    def __init__(self, X, Y, *, penalty, alpha, C, margin_floor, loss, loss_reduction,
                 margin_weighting="floor", adversarial_eps=0.0):
        self.X = X
        self.Y = Y
        self.n_samples, self.n_labels = Y.shape
        self.penalty = penalty
        self.alpha = alpha
        self.ridge = 0.0 if np.isinf(C) else 1.0 / (C * self.n_samples)
        self.margin_floor = margin_floor
        self.margin_weighting = margin_weighting
        self.adversarial_eps = float(adversarial_eps)
        self.loss = loss
        self.smoothing = HINGE_SMOOTHING_SCHEDULE[-1]
        self.loss_scale = 1.0 / self.n_samples / (self.n_labels if loss_reduction == "mean" else 1)
        if penalty == "primal":
            # C_{W,z} depends on z only through y: one greedy per distinct label vector.
            self.patterns, counts = np.unique(Y, axis=0, return_counts=True)
            self.pattern_weights = counts / self.n_samples

    def scores(self, W, b):
        return np.asarray(self.X @ W.T) + b

    def penalty_terms(self, W, H):
        """alpha * R: value, d/dh (n, m) or None, direct d/dW (m, d) or None."""
        p, a = self.penalty, self.alpha
        if p is None or p == "nuclear" or a == 0:
            return 0.0, None, None
        if p == "l2":
            return a * float(np.sum(W * W)), None, 2 * a * W
        n = self.n_samples
        if p == "single":
            weights, slope = self.label_weights(H)
            c = np.abs(weights)
            norms, unit = _unit_rows(W)
            value = float(c.sum(axis=0) @ norms) / n
            grad_coef = (c.sum(axis=0) / n)[:, None] * unit
            # c = -y weights, so d c / d h = -y slope
            grad_h = -self.Y * slope * norms / n
            return a * value, a * grad_h, a * grad_coef
        K = W @ W.T
        if p == "primal":
            value, _, grad_coef = _subset_norm_terms(
                K, W, self.patterns, self.pattern_weights, weights_grad=False
            )
            return a * value, None, a * grad_coef
        # "sae": weights_ij = -y_ij c_ij(h), with slope d weights / d h
        weights, slope = self.label_weights(H)
        value, grad_weights, grad_coef = _subset_norm_terms(
            K, W, weights, np.full(n, 1.0 / n)
        )
        grad_h = grad_weights * slope
        return a * value, a * grad_h, a * grad_coef

    def label_weights(self, H):
        """ARM-SAE weights ``-y c(y h)`` and their slope in h (``margin_weighting``)."""
        return arm_sae_label_weights(H, self.Y, self.margin_floor, self.margin_weighting)

    def svm_terms(self, W, H):
        """Loss + ridge at scores ``H``: value, and the loss's derivative in the margins
        ``y h - eps ||w_j||`` (n, m; unscaled, so in [-1, 0] for the hinge)."""
        margins = self.Y * H
        if self.adversarial_eps > 0:
            margins = margins - self.adversarial_eps * np.linalg.norm(W, axis=1)
        loss, dloss = hinge_loss(margins, self.loss, self.smoothing)
        value = self.loss_scale * float(loss.sum()) + 0.5 * self.ridge * float(np.sum(W * W))
        return value, dloss

    def adversarial_grad_coef(self, W, dloss):
        """Direct part d/dW of the per-label worst case ``-eps ||w_j||`` in the margins.

        ``loss'(t) * (-eps w_j / ||w_j||)`` summed over the instances; at ``w_j = 0`` the
        subgradient 0 of the norm is used.
        """
        unit = _unit_rows(W)[1]
        return (-self.adversarial_eps * self.loss_scale * dloss.sum(axis=0))[:, None] * unit

    def value_and_grad(self, W, b):
        """Objective value and gradients (dW, db) at (W, b), nuclear norm excluded."""
        H = self.scores(W, b)
        value, dloss = self.svm_terms(W, H)
        grad_h = self.loss_scale * dloss * self.Y
        grad_W = self.ridge * W
        if self.adversarial_eps > 0:
            grad_W = grad_W + self.adversarial_grad_coef(W, dloss)
        pen_value, pen_grad_h, pen_grad_W = self.penalty_terms(W, H)
        value += pen_value
        if pen_grad_h is not None:
            grad_h = grad_h + pen_grad_h
        if pen_grad_W is not None:
            grad_W = grad_W + pen_grad_W
        return (value, *self.through_scores(grad_h, grad_W))

    def through_scores(self, grad_h, grad_W):
        """Gradients (dW, db) of a term with derivative ``grad_h`` (n, m) in the scores
        ``h = X W^T + b`` and direct part ``grad_W`` (m, d) at fixed scores."""
        return grad_W + np.asarray(self.X.T @ grad_h).T, grad_h.sum(axis=0)

    def best_intercept(self):
        """The intercept that minimises the objective at ``W = 0``, and that minimum.

        Every penalty is 0 at ``W = 0`` whatever b is, so this is the exact optimum over b
        there (the solver's answer when a large ``alpha`` keeps W at 0). The derivative in
        b is non-decreasing and the optimum lies in [-1, 1] (beyond it one class's loss is
        0 and the other's grows), so bisection finds it.
        """
        lo = np.full(self.n_labels, -1.0)
        hi = np.full(self.n_labels, 1.0)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            _, deriv = hinge_loss(self.Y * mid, self.loss, self.smoothing)
            slope = (deriv * self.Y).sum(axis=0)
            lo = np.where(slope < 0, mid, lo)
            hi = np.where(slope < 0, hi, mid)
        b = 0.5 * (lo + hi)
        loss, _ = hinge_loss(self.Y * b, self.loss, self.smoothing)
        return b, self.loss_scale * float(loss.sum())

    def smoothing_schedule(self):
        """Hinge smoothing widths to solve in turn (one stage for the squared hinge)."""
        return HINGE_SMOOTHING_SCHEDULE if self.loss == "hinge" else (self.smoothing,)

    def decoupled_ridge(self):
        """Weight ``lam`` of ``||W||^2 / 2`` when the objective is one SVM per label, else None.

        True for no penalty and "l2" (which adds ``2 alpha`` to the ridge) as long as that
        weight is positive; :mod:`skarm.linear._dual_cd` then solves it.
        """
        if self.penalty not in (None, "l2") and self.alpha != 0:
            return None
        lam = self.ridge + (2.0 * self.alpha if self.penalty == "l2" else 0.0)
        return lam if lam > 0 else None

    def nuclear_weight(self):
        """Weight of ``||W||_*`` for the proximal solver (0 unless penalty="nuclear")."""
        return self.alpha if self.penalty == "nuclear" else 0.0
