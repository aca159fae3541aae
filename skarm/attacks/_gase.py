"""GASE, Greedy Attack Space Expansion (doc: alg-gase), for linear and deep models.

The attacked label set T grows greedily. Each round scores every label not yet in T with a
marginal-cost estimator, takes the cheapest, computes the minimum-norm perturbation that
flips T plus that label (the QP of :mod:`skarm.attacks._kernels`), and adds every other
label that this perturbation flips for free. It stops when no label fits the budget.

Two implementations of the same algorithm:

* **linear** (``h(x) = W x + b``, read by :func:`skarm._decision.as_decision`): every
  quantity lives on the label Gram ``K = W W^T``; the perturbation is formed in input space
  once, at the end. The ``exact`` estimator (the cost of ``T + {j}`` itself) is evaluated
  lazily: costs only grow as T grows, so a lower bound from an earlier round (or from weak
  duality, ``cost(T + {j})^2 >= cost(T)^2 + gap_j^2``) that already exceeds the current best
  spares the QP ("lazy greedy", Minoux 1978). A label whose bound exceeds the budget is
  dropped for good. This is :func:`skarm.attacks._kernels.gase_linear_kernel`.
* **generic** (any model with ``decision_function`` and ``input_gradients``): the same
  greedy on the Jacobian Gram at the current adversarial point, with the inner attack
  iterating the linearised QP (a multi-label DeepFool that respects inequalities), batched
  over instances. On a linear model the linearisation is exact and both paths agree.

Two additions to the reconstructed greedy (doc: alg-gase), both in both paths:

* a second start: the greedy also runs from the single label whose own attack flips the
  most labels, and the better result is kept (``restart=True``);
* the "best of greedy and best singleton" safeguard of budgeted greedy algorithms (Khuller,
  Moss and Naor 1999; CELF, Leskovec et al. 2007): the result is never worse than the best
  single-label attack (the perturbation that flips one label, plus what it flips for free).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np

from ..utils._sklearn_compat import Interval, StrOptions
from ..utils._validation import to_dense
from ._base import (
    _ATTRIBUTES_DOC,
    _BUDGET_CONSTRAINTS,
    _BUDGET_PARAMS_DOC,
    _JOBS_PARAMS_DOC,
    BaseAttack,
    flipped_labels,
    is_linear,
    linear_attack,
)
from ._kernels import (
    candidate_costs_kernel,
    gase_linear_kernel,
    gradient_coefficients,
    normalised_gram,
    normalised_margins,
    set_costs_kernel,
)
from ._pgd import project, projected_gradient

__all__ = ["GASEAttack"]


# ---------------------------------------------------------------------------------------
# Generic differentiable models: linearised QP iterations, batched over instances
# ---------------------------------------------------------------------------------------


def _linearise(decision, X, R, S, tau, eps, H, J=None):
    """Linearise the model at ``X + R``, where its scores are ``H``: Jacobians and the
    normalised QP data.

    ``J``, the Jacobians at ``X + R`` when already known, is not evaluated again (for a
    torch model each Jacobian row is a backward pass).
    """
    if J is None:
        J = decision.input_gradients(X + R)
    G = np.matmul(J, np.swapaxes(J, 1, 2))
    Kt, norms, valid = normalised_gram(G)
    # Margins of the linearised model h(x + r') ~ h(x_t) + J (r' - r_t), for the total r'.
    base = H - np.einsum("bjd,bd->bj", J, R)
    Mt = normalised_margins(S * base - tau, norms, valid, eps)
    return J, Kt, norms, valid, Mt


def _step(J, nus, norms, valid, S, eps):
    """``r' = -eps sum_j nu_j s_j g_j / ||g_j||`` for each instance."""
    return -np.einsum("bj,bjd->bd", gradient_coefficients(nus, norms, valid, S, eps), J)


def _inner_attack(decision, X, R, sets, S, tau, eps, max_iter, H0, J0):
    """Iterate the linearised QP for the label sets ``sets`` from the perturbations R.

    ``H0`` and ``J0`` are the scores and Jacobians at the start ``X + R``.
    Returns whether each attack succeeded (every label of its set flipped on the model with
    ``||r|| <= eps``), the perturbations, the scores at ``X + r`` and the last multipliers.
    """
    n = X.shape[0]
    R = R.copy()
    ok = np.zeros(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    nus = np.zeros(S.shape)
    H_out = np.empty(S.shape)
    for it in range(max_iter + 1):
        rows = np.flatnonzero(~done)
        if rows.size == 0:
            break
        if it == 0:
            H = H0
        else:
            H = decision.decision_function(X[rows] + R[rows])
        H_out[rows] = H
        if it > 0:
            # Stop as soon as every target is flipped on the model itself.
            hit = np.all(flipped_labels(H, S[rows]) | ~sets[rows], axis=1)
            fits = np.linalg.norm(R[rows], axis=1) <= eps
            ok[rows[hit]] = fits[hit]
            done[rows[hit]] = True
            rows, H = rows[~hit], H[~hit]
            if rows.size == 0 or it == max_iter:
                break
        J, Kt, norms, valid, Mt = _linearise(
            decision, X[rows], R[rows], S[rows], tau[rows], eps, H, J0 if it == 0 else None
        )
        costs = np.empty(rows.size)
        step_nus = np.empty((rows.size, S.shape[1]))
        set_costs_kernel(Kt, valid, S[rows], Mt, sets[rows], nus[rows], costs, step_nus)
        infeasible = ~np.isfinite(costs)
        done[rows[infeasible]] = True
        keep = ~infeasible
        nus[rows[keep]] = step_nus[keep]
        R[rows[keep]] = _step(
            J[keep], step_nus[keep], norms[keep], valid[keep], S[rows[keep]], eps
        )
    return ok, R, H_out, nus


def _expand_generic(
    decision, X, S, tau, eps, exact, n_retry, max_iter, inT, R, H, nu_prev, start_rows,
    J=None,
):
    """The greedy rounds of GASE (doc: alg-gase) on the instances ``rows``, batched.

    ``inT``, ``R``, ``H`` and ``nu_prev`` (the attacked sets, perturbations, scores at
    ``X + R`` and last multipliers) are updated in place. ``J``, the Jacobians at ``X + R``
    if known, serves the first round.
    """
    n, m = inT.shape
    active = np.zeros(n, dtype=bool)
    active[start_rows] = True
    dead = np.zeros((n, m), dtype=bool)  # labels whose attack failed: costs only grow
    for _ in range(m):
        rows = np.flatnonzero(active & ~inT.all(axis=1))
        if rows.size == 0:
            break
        H_r = H[rows]
        J_r, Kt, norms, valid, Mt = _linearise(
            decision, X[rows], R[rows], S[rows], tau[rows], eps, H_r,
            None if J is None else J[rows],
        )
        J = None  # the perturbations move from here on
        if exact:
            est = np.empty((rows.size, m))
            cand_nus = np.empty((rows.size, m, m))
            candidate_costs_kernel(Kt, valid, S[rows], Mt, inT[rows], nu_prev[rows], est, cand_nus)
        else:
            r_norm = np.linalg.norm(R[rows], axis=1)[:, np.newaxis] / eps
            gap = np.maximum(0.0, S[rows] * H_r - tau[rows])
            with np.errstate(divide="ignore"):
                est = r_norm + np.where(valid, gap / (np.where(valid, norms, 1.0) * eps), np.inf)
            est[inT[rows]] = np.inf
        est[dead[rows]] = np.inf
        # Candidates by increasing estimate, ties to the lowest index (stable sort).
        order = np.argsort(est, axis=1, kind="stable")
        success = np.zeros(rows.size, dtype=bool)
        for attempt in range(min(n_retry + 1, m)):
            cand = order[:, attempt]
            todo = ~success & np.isfinite(est[np.arange(rows.size), cand])
            if not todo.any():
                break
            sub = rows[todo]
            sets = inT[sub].copy()
            sets[np.arange(sub.size), cand[todo]] = True
            # Every attempt starts where the round's linearisation was taken.
            ok, R_new, H_new, nus_new = _inner_attack(
                decision, X[sub], R[sub], sets, S[sub], tau[sub], eps, max_iter,
                H0=H_r[todo], J0=J_r[todo],
            )
            dead[sub[~ok], cand[todo][~ok]] = True
            won = sub[ok]
            R[won] = R_new[ok]
            H[won] = H_new[ok]
            nu_prev[won] = nus_new[ok]
            inT[won] = sets[ok] | (S[won] * H_new[ok] <= tau[won])
            success[np.flatnonzero(todo)[ok]] = True
        active[rows[~success]] = False


def _single_label_attacks(X, J0, scores, S, tau, eps, decision):
    """The best one-step single-label attack from x of each instance (as in the kernels).

    ``J0`` are the Jacobians at X. Returns the label (-1 when no single label fits), the
    labels it flips past their thresholds and its perturbation.
    """
    n, m = scores.shape
    norms0 = np.linalg.norm(J0, axis=2)
    valid0 = norms0 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        cost0 = np.where(valid0, (S * scores - tau) / np.where(valid0, norms0, 1.0), np.inf)
    best = np.full(n, -1)
    hits_best = np.zeros((n, m), dtype=bool)
    R_best = np.zeros_like(X)
    b_idx, j_idx = np.nonzero((cost0 > 0) & (cost0 <= eps))
    if b_idx.size == 0:
        return best, hits_best, R_best
    step = cost0[b_idx, j_idx] / norms0[b_idx, j_idx] * S[b_idx, j_idx]
    R_single = -step[:, np.newaxis] * J0[b_idx, j_idx]
    H_single = decision.decision_function(X[b_idx] + R_single)
    hits = S[b_idx] * H_single <= tau[b_idx]
    hits[np.arange(b_idx.size), j_idx] = True
    counts = hits.sum(axis=1)
    for b in np.unique(b_idx):
        mine = np.flatnonzero(b_idx == b)
        pick = mine[np.argmax(counts[mine])]  # first maximum: lowest label
        best[b], hits_best[b], R_best[b] = j_idx[pick], hits[pick], R_single[pick]
    return best, hits_best, R_best


def _gase_generic(
    decision, X, scores, J0, S, tau, flipped0, eps, exact, n_retry, max_iter, restart
):
    """GASE on a model known only through scores and input gradients (one batch).

    The same steps as :func:`skarm.attacks._kernels.gase_linear_kernel`: the greedy from
    the labels already flipped, a second start from the best single-label attack, and the
    single-label safeguard.
    """
    n, m = scores.shape
    R = np.zeros_like(X)
    H = scores.copy()
    # J0, the Jacobian at r = 0, is shared by all the starts below.
    inT = flipped0 | (S * scores <= tau)
    nu_prev = np.zeros((n, m))
    _expand_generic(
        decision, X, S, tau, eps, exact, n_retry, max_iter, inT, R, H, nu_prev, np.arange(n),
        J=J0,
    )
    single, single_hits, R_single = _single_label_attacks(X, J0, scores, S, tau, eps, decision)
    if restart:
        rows = np.flatnonzero((single >= 0) & ~inT[np.arange(n), np.maximum(single, 0)])
        sets = flipped0[rows].copy()
        sets[np.arange(rows.size), single[rows]] = True
        ok, R_seed, H_seed, nus_seed = _inner_attack(
            decision,
            X[rows],
            np.zeros((rows.size, X.shape[1])),
            sets,
            S[rows],
            tau[rows],
            eps,
            max_iter,
            H0=scores[rows],
            J0=J0[rows],
        )
        # The second start, on the seeded instances only.
        seeded = rows[ok]
        inT_b = sets[ok] | (S[seeded] * H_seed[ok] <= tau[seeded])
        R_b = R_seed[ok]
        _expand_generic(
            decision, X[seeded], S[seeded], tau[seeded], eps, exact, n_retry, max_iter, inT_b,
            R_b, H_seed[ok], nus_seed[ok], np.arange(seeded.size),
        )
        better = inT_b.sum(axis=1) > inT[seeded].sum(axis=1)
        inT[seeded[better]], R[seeded[better]] = inT_b[better], R_b[better]
    # Safeguard: never fewer labels than the best single-label attack.
    better = (single >= 0) & (single_hits.sum(axis=1) > inT.sum(axis=1))
    inT[better], R[better] = single_hits[better], R_single[better]
    return R, inT


# ---------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------


class GASEAttack(BaseAttack):
    __doc__ = f"""Greedy Attack Space Expansion (GASE): flip as many labels as possible within eps.

    For each instance x, GASE grows a set T of labels to flip. Each round it adds the label
    whose addition is cheapest (in L2 norm of the perturbation), computes the minimum-norm
    perturbation that flips all of T, and adds every label that perturbation flips for free;
    it stops when no further label fits the budget ``eps``. The number of labels flipped is
    a certified lower bound on the attackability ``C*(x)`` of Eq. 1: the perturbation that
    achieves it is returned, lies in the ball, and every flip is re-checked on the model's
    scores at the returned point.

    As a transformer, :meth:`fit_transform` attacks the true labels y and :meth:`transform`
    attacks the model's own predictions, so that GASE can sit in a
    :class:`~sklearn.pipeline.Pipeline` (where y never reaches ``transform``). Each instance
    is attacked on its own: its result does not depend on the batch it comes in.

    Read more in the :ref:`User Guide <gase>`.

    Parameters
    ----------
    estimator : estimator instance
        The multi-label model to attack. A fitted model is used as it is (neither cloned
        nor refitted); an unfitted one is cloned and fitted on the (X, y) given to
        :meth:`fit` (``estimator_``). Since :func:`~sklearn.base.clone` unfits this
        parameter, in ``GridSearchCV`` each fold attacks the model fitted on that fold;
        wrap a model in :class:`~sklearn.frozen.FrozenEstimator` to attack it as it is
        there too. Either linear in X (skarm's linear estimators, ``OneVsRestClassifier`` or
        ``MultiOutputClassifier`` of linear classifiers, ``RidgeClassifier``, Pipelines of
        affine steps ending in one of them), attacked exactly through its label Gram; or
        differentiable (skarm's estimators with the torch backend, or any object with
        ``decision_function(X)`` of shape (n_samples, n_labels) and ``input_gradients(X)``
        of shape (n_samples, n_labels, n_features)), attacked by linearised iterations.
    eps : float
        The budget: ``||x_adv - x|| <= eps`` in the norm ``norm``, in the units of the raw
        input X.
    {_BUDGET_PARAMS_DOC}
        The greedy works in the L2 ball of radius eps (inside the L-inf ball of the same
        radius) and without the box; the steps on the model (``refine_steps``) then work in
        the budget itself, also on linear models.
    reference : {{"label", "prediction"}}, default="label"
        What flips are counted against. ``"label"``: the true labels y wherever they are
        given (:meth:`fit_transform`, ``attack(X, y)``), as Eq. 1 is written; labels the
        model already gets wrong count from the start. Without y (:meth:`transform`,
        ``attack(X)``) the reference is the model's prediction on X. ``"prediction"``:
        always the model's prediction.
    marginal_cost : {{"auto", "exact", "first_order"}}, default="auto"
        How each round ranks the candidate labels. ``"exact"``: the cost of flipping
        ``T + {{j}}``, one small QP per candidate (on the Jacobian linearisation for
        non-linear models). ``"first_order"``: the distance from the current adversarial
        point to label j's boundary along its gradient, plus the cost so far; cheaper but it
        ignores how flipping j interacts with T. ``"auto"`` is ``"exact"`` for linear models
        and ``"first_order"`` for the others.
    n_retry : int, default=2
        When the chosen label does not fit the budget, how many next-best labels to try
        before stopping (the ``"exact"`` ranking on a linear model needs none: its best
        candidate not fitting means none does).
    max_iter : int, default=20
        Linearised QP iterations of the inner attack on non-linear models (a linear model
        needs one).
    restart : bool, default=True
        Also run the greedy from a second start, the single label whose own minimum-norm
        attack flips the most labels, when the first run did not flip that label, and keep
        the better result. At most twice the time; it matters when labels are strongly
        correlated, where the cheapest first label can lead the greedy away from a large
        group of labels that move together.
    refine_steps : int, default=100
        Non-linear models only: projected gradient steps taken on the model itself from the
        greedy's solution, keeping the perturbation that flips the most labels. On a
        piecewise-linear network (ReLU, max pooling) the linearised inner attack stalls at
        kinks, and these steps carry the attack on from where it stopped. With ``restart``
        they also run from x itself, which is :class:`PGDAttack`'s path with
        ``max_iter=refine_steps``: GASE then never flips fewer labels than that PGD. 0
        turns them off. Linear models take none (their inner attack is exact).
    overshoot : float, default=1e-6
        Each attacked label is pushed ``kappa_j = overshoot * max(min(1, eps ||w_j||),
        |h_j(x)|)`` past its boundary (the gradient's norm for non-linear models), so the
        sign flips in floating point. Non-linear models may need more
        (DeepFool uses 0.02) to cross the boundary in few iterations.
    {_JOBS_PARAMS_DOC}

    {_ATTRIBUTES_DOC}

    See Also
    --------
    PGDAttack : L2 projected gradient descent, the baseline.
    exact_attack : The exact attackability, by enumeration, for few labels.
    skarm.metrics.attackability_score : Mean number of labels GASE flips (C_a).

    Notes
    -----
    The greedy expansion and the inner QP are described in :ref:`alg-gase` and
    :ref:`alg-inner-qp`; only the abstract of the GASE paper [1]_ was available, so the
    marginal-cost estimator, the stopping rule and the inner attack are a reconstruction.
    On a linear model, the inner problem is solved exactly on the label Gram ``W W^T`` (no
    work in the input dimension until the final perturbation), and the exact marginal
    costs are evaluated lazily, which is exact because costs only grow with T. The result
    is the best of the greedy, of its second start (``restart``) and of the best
    single-label attack. A score of exactly 0 predicts the negative class.

    X may be sparse, but the perturbed output is dense.

    References
    ----------
    .. [1] Z. Yang, Y. Han and X. Zhang, "Characterizing the Evasion Attackability of
       Multi-label Classifiers", AAAI 2021, arXiv:2012.09427.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.svm import LinearSVC
    >>> from skarm.attacks import GASEAttack
    >>> X, Y = make_multilabel_classification(n_samples=100, n_classes=5, random_state=0)
    >>> model = OneVsRestClassifier(LinearSVC()).fit(X, Y)
    >>> result = GASEAttack(model, eps=1.0).attack(X[:5], Y[:5])
    >>> bool(np.all(result.norms <= 1.0))
    True
    >>> result.n_flipped.shape
    (5,)
    """

    _parameter_constraints: dict = {
        **BaseAttack._parameter_constraints,
        **_BUDGET_CONSTRAINTS,
        "marginal_cost": [StrOptions({"auto", "exact", "first_order"})],
        "n_retry": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "restart": ["boolean"],
        "refine_steps": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        *,
        eps,
        norm="l2",
        clip=None,
        reference="label",
        marginal_cost="auto",
        n_retry=2,
        max_iter=20,
        restart=True,
        refine_steps=100,
        overshoot=1e-6,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(
            estimator,
            eps=eps,
            reference=reference,
            overshoot=overshoot,
            n_jobs=n_jobs,
            verbose=verbose,
        )
        self.norm = norm
        self.clip = clip
        self.marginal_cost = marginal_cost
        self.n_retry = n_retry
        self.max_iter = max_iter
        self.restart = restart
        self.refine_steps = refine_steps

    def _exact(self, decision):
        if self.marginal_cost == "auto":
            return is_linear(decision)
        return self.marginal_cost == "exact"

    def _prepare(self, decision):
        if not is_linear(decision):
            return None
        return normalised_gram(decision.gradient_gram())

    def _perturb(self, decision, context, X, scores, signs, tau, flipped0, kappa, J0):
        eps = float(self.eps)
        exact = self._exact(decision)
        if context is None:
            R, targets = _gase_generic(
                decision,
                X,
                scores,
                J0,
                signs,
                tau,
                flipped0,
                eps,
                exact,
                self.n_retry,
                self.max_iter,
                self.restart,
            )
        else:
            def kernel(Kt, valid, signs, Mt, targets, nus):
                gase_linear_kernel(
                    Kt, valid, signs, Mt, flipped0, exact, self.n_retry, self.restart,
                    targets, nus,
                )

            R, targets = linear_attack(decision, context, scores, signs, tau, eps, kernel)
            if self.norm == "l2" and self.clip is None:
                return R, targets  # the greedy's QP is exact on a linear model
        return self._refine(decision, X, R, targets, scores, J0, signs, flipped0, kappa, eps)

    def _geometry(self):
        return self.norm, self.clip

    def _refine(self, decision, X, R, targets, scores, J0, signs, flipped0, kappa, eps):
        """Projected gradient steps on the model in the budget: from the greedy's
        perturbations ``R`` and, with ``restart``, from the origin too (PGDAttack's own
        path); the best is kept."""
        n_steps = self.refine_steps
        if n_steps == 0:
            return R, targets
        X = to_dense(X)
        geometry = dict(norm=self.norm, clip=self.clip)
        gradients = None if is_linear(decision) else decision.input_gradients
        # PGDAttack's default step length, for a path as long as its whole run.
        step = 2.5 * eps / n_steps
        R_best = project(X, R, eps, **geometry)  # the greedy ignores the box
        targets = targets.copy()
        # Labels flipped at R_best, known from each path (no second evaluation of the model).
        best_count = flipped_labels(scores, signs).sum(axis=1)
        # Where the greedy stayed at x, the path from its solution is the one from the origin.
        rows = np.flatnonzero(np.any(R_best != 0, axis=1) | (not self.restart))
        if rows.size:
            at = np.any(R_best[rows] != 0, axis=1)
            H = scores[rows].copy()
            H[at] = decision.decision_function(X[rows[at]] + R_best[rows[at]])
            J = None
            if gradients is not None:
                J = J0[rows].copy()
                J[at] = gradients(X[rows[at]] + R_best[rows[at]])
            R_rows, flipped = projected_gradient(
                decision, X[rows], R_best[rows], H, J, signs[rows],
                flipped_labels(H, signs[rows]), kappa[rows], eps, step, n_steps, **geometry,
            )
            moved = np.any(R_rows != R_best[rows], axis=1)
            R_best[rows[moved]], targets[rows[moved]] = R_rows[moved], flipped[moved]
            best_count[rows] = flipped.sum(axis=1)
        if self.restart:
            R_0, flipped_0 = projected_gradient(
                decision, X, np.zeros_like(X), scores, J0, signs, flipped0, kappa, eps, step,
                n_steps, **geometry,
            )
            better = flipped_0.sum(axis=1) > best_count
            R_best[better], targets[better] = R_0[better], flipped_0[better]
        return R_best, targets
