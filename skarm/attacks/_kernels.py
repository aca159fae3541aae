"""Compiled kernels of the attacks: the inner QP, the linear GASE greedy, the exact oracle.

They live in one module on purpose: numba's on-disk cache (``cache=True``) is invalidated by
changes to the file of the cached function only, so a kernel calling a solver defined in
another file could keep running a stale copy of it.

**The inner QP.** For a linear model ``h(x) = W x + b``, reference signs ``s`` and a label
set T, the perturbation is

    minimize (1/2) ||r||^2  subject to  s_j w_j^T r <= -mu_j  for j in T,       (P)

with ``mu_j = s_j h_j(x) + kappa_j`` (doc: alg-inner-qp). Its solution is
``r = -sum_{j in T} lambda_j s_j w_j`` with ``lambda >= 0`` the solution of the dual
``min 1/2 l^T Q l - mu^T l`` on the label Gram ``Q = (D_s K D_s)_TT``, so only the ``|T| x |T|``
Gram is needed, never ``d``-sized vectors.

Two rescalings that leave the feasible set unchanged keep the numbers well conditioned:

* each constraint is divided by ``||w_j||``, so the Gram has a unit diagonal and ``mu_j``
  becomes the single-label cost ``mu_j / ||w_j||``;
* all ``mu`` are divided by the attack budget eps, so a set fits the budget when its
  normalised cost is at most 1.

(P) is solved as a least-distance programme (Lawson and Hanson, "Solving Least Squares
Problems", 1974, ch. 23): the non-negative least squares ``min_{u >= 0} ||E u - f||`` with
``E = [G^T; mu^T]`` and ``f = e_{d+1}`` gives ``lambda = u / (1 - mu^T u)``, and
``1 - mu^T u = 0`` certifies that (P) is infeasible (for instance two labels whose
gradients point in opposite directions, or a zero gradient). NNLS needs ``E^T E = Q + mu mu^T``
and ``E^T f = mu`` only, which is the Gram again. Unlike the dual itself, this stays well posed
when ``Q`` is singular (duplicated or dependent labels).

The solver is the active-set method of Lawson and Hanson. It can first try a guessed active
set (one Cholesky solve settles the problem when the guess meets the optimality conditions)
and can start from a known feasible point: GASE starts the problem for ``T + {j}`` from the
solution for T, so that typically one or two Cholesky solves are needed instead of ``|T|``.
It allocates nothing on its fast path; the callers own the workspace. When that path, which
works on the Gram ``E^T E`` and so squares E's conditioning, drops a numerically dependent
column or fails the primal check, the problem is solved again on an explicit E (a pivoted
Cholesky factor of the Gram plus the margins) by Householder QR (doc: alg-inner-qp).

**GASE on a linear model** (:func:`gase_linear_kernel`) runs the greedy (doc: alg-gase)
per instance on the shared normalised Gram; the generic path of :mod:`._gase` uses
:func:`candidate_costs_kernel` and :func:`set_costs_kernel` on per-instance Jacobian Grams.
**The oracle** (:func:`exact_kernel`) enumerates label sets apriori style
(doc: alg-exact-attack).

The helpers of the GASE greedy are inlined into :func:`gase_linear_kernel` (``inline=
"always"``): every call of a compiled function increments and decrements the reference
count of each array it is passed, an atomic operation that cost the small greedy steps a
noticeable share of their time.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numba
import numpy as np

__all__ = [
    "qp_scratch",
    "candidate_costs_kernel",
    "exact_kernel",
    "gase_linear_kernel",
    "ldp_solve",
    "min_norm_perturbation",
    "normalised_gram",
    "normalised_margins",
    "set_costs_kernel",
]

# 1 - mu^T u below this means (P) is infeasible; the cost would be above ~3e6 (in units of the
# budget), far outside any budget, so nothing is lost by calling it infeasible.
_INFEASIBLE_DENOM = 1e-13
# Pivots of the Cholesky factorisation below this times (p + 1) times the diagonal are
# rounding noise: 16 machine epsilons per accumulated term.
_PIVOT_EPS = 16 * np.finfo(np.float64).eps


@numba.njit(cache=True, nogil=True)
def _cholesky_solve(M, pos, p, c, L, z):  # pragma: no cover - compiled
    """Solve ``M[pos, pos] z = c[pos]`` by Cholesky; False when not positive definite."""
    for a in range(p):
        ia = pos[a]
        for b in range(a + 1):
            ib = pos[b]
            acc = M[ia, ib]
            for q in range(b):
                acc -= L[a, q] * L[b, q]
            if a == b:
                # A pivot at the level of rounding means a column dependent on the others:
                # LH never needs it, so report failure. The pivot is the squared distance
                # of the column from the span of the others, computed with an absolute
                # error of about p eps on this unit-diagonal matrix; a larger threshold
                # (1e-12 was used) refused columns 1e-6 away from that span, which LH
                # needs when every constraint nearly passes through one point (a model
                # without intercept and more labels than features).
                if acc <= _PIVOT_EPS * (p + 1) * M[ia, ia] or acc <= 0.0:
                    return False
                L[a, a] = np.sqrt(acc)
            else:
                L[a, b] = acc / L[b, b]
    # Forward then backward substitution; the solution is written at z[pos[a]].
    for a in range(p):
        acc = c[pos[a]]
        for q in range(a):
            acc -= L[a, q] * z[pos[q]]
        z[pos[a]] = acc / L[a, a]
    for a in range(p - 1, -1, -1):
        acc = z[pos[a]]
        for q in range(a + 1, p):
            acc -= L[q, a] * z[pos[q]]
        z[pos[a]] = acc / L[a, a]
    return True


@numba.njit(cache=True, nogil=True)
def _passive_solve(M, c, k, passive, pos, L, z):  # pragma: no cover - compiled
    p = 0
    for a in range(k):
        z[a] = 0.0
        if passive[a]:
            pos[p] = a
            p += 1
    return _cholesky_solve(M, pos, p, c, L, z)


@numba.njit(cache=True, nogil=True)
def _build_row(Kt, signs, idx, k, c, dsc, M, built, a):  # pragma: no cover - compiled
    """Row a of ``M = D (D_s Kt D_s) D + c c^T`` (on idx), built the first time it is
    needed; ``c`` is already scaled by ``D = diag(dsc)``."""
    if built[a]:
        return
    ia = idx[a]
    for b in range(k):
        ib = idx[b]
        M[a, b] = dsc[a] * dsc[b] * signs[ia] * signs[ib] * Kt[ia, ib] + c[a] * c[b]
    built[a] = True


@numba.njit(cache=True, nogil=True)
def _gradient(M, c, k, x, w):  # pragma: no cover - compiled
    """``w = c - M x`` using the rows of M where x is non-zero (M is symmetric)."""
    for a in range(k):
        w[a] = c[a]
    for b in range(k):
        if x[b] != 0.0:
            xb = x[b]
            for a in range(k):
                w[a] -= M[b, a] * xb


@numba.njit(cache=True, nogil=True)
def _explicit_rows(Kt, signs, idx, k, c, dsc, E, tol):  # pragma: no cover - compiled
    """Write E = [R; c^T] with R^T R = D (D_s Kt D_s) D on idx (pivoted Cholesky, rank
    r <= k), so that the NNLS can work on E itself; returns its number of rows r + 1.

    Pivots below ``tol`` are rounding noise of an exactly dependent Gram and end the
    factorisation. The last row is the scaled margins, which are not part of the Gram: the
    near-dependence of E's columns that makes M = E^T E singular in floating point lives
    there, and E keeps it at its own scale instead of squared.
    """
    d = np.empty(k)
    used = np.zeros(k, dtype=np.bool_)
    for a in range(k):
        d[a] = dsc[a] * dsc[a] * Kt[idx[a], idx[a]]
    r = 0
    while r < k:
        p = -1
        for a in range(k):
            if not used[a] and (p < 0 or d[a] > d[p]):
                p = a
        if p < 0 or d[p] <= tol:
            break
        used[p] = True
        piv = np.sqrt(d[p])
        ip = idx[p]
        for a in range(k):
            ia = idx[a]
            val = dsc[p] * dsc[a] * signs[ip] * signs[ia] * Kt[ip, ia]
            for q in range(r):
                val -= E[q, p] * E[q, a]
            E[r, a] = val / piv if not used[a] or a == p else 0.0
        E[r, p] = piv
        for a in range(k):
            d[a] = d[a] - E[r, a] * E[r, a] if not used[a] else 0.0
        r += 1
    for a in range(k):
        E[r, a] = c[a]
    return r + 1


@numba.njit(cache=True, nogil=True)
def _qr_solve(E, nr, k, passive, pos, A, bvec, z):  # pragma: no cover - compiled
    """Least squares ``min ||E_P z - e_last||`` by Householder QR on the passive columns
    of E; False when a column is (numerically) dependent on the previous ones."""
    p = 0
    for a in range(k):
        z[a] = 0.0
        if passive[a]:
            pos[p] = a
            p += 1
    if p > nr:
        return False
    for i in range(nr):
        bvec[i] = 0.0
        for j in range(p):
            A[i, j] = E[i, pos[j]]
    bvec[nr - 1] = 1.0
    for j in range(p):
        norm2 = 0.0
        col2 = 0.0
        for i in range(j, nr):
            norm2 += A[i, j] * A[i, j]
        for i in range(nr):
            col2 += E[i, pos[j]] * E[i, pos[j]]
        norm = np.sqrt(norm2)
        # The part of column j outside the span of the previous ones, relative to its norm.
        if norm <= 1e-12 * np.sqrt(col2) or norm == 0.0:
            return False
        alpha = -norm if A[j, j] >= 0 else norm
        v0 = A[j, j] - alpha
        # Householder vector v = (v0, A[j+1:, j]); H = I - 2 v v^T / (v^T v).
        vnorm2 = v0 * v0 + norm2 - A[j, j] * A[j, j]
        if vnorm2 > 0.0:
            for q in range(j + 1, p):
                dot = v0 * A[j, q]
                for i in range(j + 1, nr):
                    dot += A[i, j] * A[i, q]
                f = 2.0 * dot / vnorm2
                A[j, q] -= f * v0
                for i in range(j + 1, nr):
                    A[i, q] -= f * A[i, j]
            dot = v0 * bvec[j]
            for i in range(j + 1, nr):
                dot += A[i, j] * bvec[i]
            f = 2.0 * dot / vnorm2
            bvec[j] -= f * v0
            for i in range(j + 1, nr):
                bvec[i] -= f * A[i, j]
        A[j, j] = alpha
    for j in range(p - 1, -1, -1):
        acc = bvec[j]
        for q in range(j + 1, p):
            acc -= A[j, q] * z[pos[q]]
        z[pos[j]] = acc / A[j, j]
    return True


@numba.njit(cache=True, nogil=True)
def _explicit_gradient(E, nr, k, u, w, res):  # pragma: no cover - compiled
    """``w = E^T (e_last - E u)``, from E itself."""
    for i in range(nr):
        res[i] = 1.0 if i == nr - 1 else 0.0
    for a in range(k):
        if u[a] != 0.0:
            for i in range(nr):
                res[i] -= E[i, a] * u[a]
    for a in range(k):
        acc = 0.0
        for i in range(nr):
            acc += E[i, a] * res[i]
        w[a] = acc


@numba.njit(cache=True, nogil=True)
def _lawson_hanson(  # pragma: no cover - compiled
    Kt, signs, idx, k, c, dsc, tol, guess, u0, M, L, u, z, w, pos, passive, excluded, built,
    E, nr, A, bvec,
):
    """Lawson-Hanson NNLS of the LDP in the scaled variables; the solution goes to ``u``.

    ``nr = 0``: least squares by Cholesky on the Gram ``M = E^T E`` (rows built as
    needed); ``nr > 0``: by QR on the explicit ``E[:nr]`` (:func:`_explicit_rows`).
    Returns whether a column was dropped as numerically dependent (the answer may then be
    short of the optimum).
    """
    explicit = nr > 0
    dependent = False
    solved = False
    # Warm start: if the guessed active set meets the optimality conditions (u > 0 on it, no
    # positive gradient off it), it is the solution.
    n_guess = 0
    for a in range(k):
        passive[a] = guess[a]
        if guess[a]:
            n_guess += 1
            if not explicit:
                _build_row(Kt, signs, idx, k, c, dsc, M, built, a)
    if n_guess > 0:
        if explicit:
            ok = _qr_solve(E, nr, k, passive, pos, A, bvec, z)
        else:
            ok = _passive_solve(M, c, k, passive, pos, L, z)
        if ok:
            solved = True
            for a in range(k):
                if passive[a] and z[a] <= 0.0:
                    solved = False
                    break
            if solved:
                if explicit:
                    _explicit_gradient(E, nr, k, z, w, bvec)
                else:
                    _gradient(M, c, k, z, w)
                for a in range(k):
                    if not passive[a] and w[a] > tol:
                        solved = False
                        break
            if solved:
                for a in range(k):
                    u[a] = z[a]
    if solved:
        return dependent

    # Lawson-Hanson NNLS from u0, with the support of u0 as the passive set.
    for a in range(k):
        u[a] = max(u0[a], 0.0) / dsc[a]
        passive[a] = u[a] > 0.0
        excluded[a] = False
        if passive[a] and not explicit:
            _build_row(Kt, signs, idx, k, c, dsc, M, built, a)
    if explicit:
        _explicit_gradient(E, nr, k, u, w, bvec)
    else:
        _gradient(M, c, k, u, w)
    for _ in range(3 * k + 3):
        t = -1
        best = tol
        for a in range(k):
            if not passive[a] and not excluded[a] and w[a] > best:
                best = w[a]
                t = a
        if t < 0:
            break
        passive[t] = True
        if not explicit:
            _build_row(Kt, signs, idx, k, c, dsc, M, built, t)
        first = True
        while True:
            if explicit:
                ok = _qr_solve(E, nr, k, passive, pos, A, bvec, z)
            else:
                ok = _passive_solve(M, c, k, passive, pos, L, z)
            if not ok:
                # Only the column just added can break the factorisation (the previous
                # passive set was independent); it is numerically dependent: drop it.
                passive[t] = False
                excluded[t] = True
                dependent = True
                break
            if first and z[t] <= 0.0:
                # Rounding made the new column useless; LH would cycle on it.
                passive[t] = False
                excluded[t] = True
                break
            first = False
            feasible = True
            for a in range(k):
                if passive[a] and z[a] <= 0.0:
                    feasible = False
                    break
            if feasible:
                for a in range(k):
                    u[a] = z[a]
                break
            alpha = 2.0
            arg = -1
            for a in range(k):
                if passive[a] and z[a] <= 0.0:
                    step = u[a] / (u[a] - z[a])
                    if step < alpha:
                        alpha = step
                        arg = a
            for a in range(k):
                u[a] += alpha * (z[a] - u[a])
                if passive[a] and u[a] <= 0.0:
                    passive[a] = False
                    u[a] = 0.0
            # The blocking index leaves the passive set even if rounding left it at a
            # tiny positive value: each pass removes at least one index, so the loop
            # ends. (No blocking index means 0/0 steps: drop every non-positive one.)
            if arg >= 0:
                passive[arg] = False
                u[arg] = 0.0
            else:
                for a in range(k):
                    if passive[a] and not z[a] > 0.0:
                        passive[a] = False
                        u[a] = 0.0
        if explicit:
            _explicit_gradient(E, nr, k, u, w, bvec)
        else:
            _gradient(M, c, k, u, w)
    return dependent


@numba.njit(cache=True, nogil=True)
def _ldp_cost(Kt, signs, mt, idx, k, c, dsc, u, nu):  # pragma: no cover - compiled
    """The cost and the unscaled multipliers ``nu`` of the NNLS solution ``u``; inf (and
    ``nu = 0``) when (P) is infeasible or the solution fails the primal check."""
    denom = 1.0
    for a in range(k):
        denom -= c[a] * u[a]
    if denom <= _INFEASIBLE_DENOM:
        for a in range(k):
            nu[a] = 0.0
        return np.inf
    cmax = 0.0
    for a in range(k):
        nu[a] = u[a] * dsc[a] / denom  # back to the unscaled variables
        if abs(mt[idx[a]]) > cmax:
            cmax = abs(mt[idx[a]])
    cost2 = 0.0
    for a in range(k):
        acc = 0.0
        ia = idx[a]
        for b in range(k):
            if nu[b] != 0.0:
                ib = idx[b]
                acc += signs[ia] * signs[ib] * Kt[ia, ib] * nu[b]
        # Primal check: s_a w_a^T r <= -mu_a. A nearly infeasible problem can leave
        # 1 - mu^T u just above the threshold, with a huge nu in the null space of the Gram
        # that satisfies nothing; this catches it.
        ca = mt[ia]
        if acc < ca - 1e-9 * (cmax + abs(ca)):
            for b in range(k):
                nu[b] = 0.0
            return np.inf
        cost2 += nu[a] * acc
    return np.sqrt(max(cost2, 0.0))


@numba.njit(cache=True, nogil=True)
def ldp_solve(  # pragma: no cover - compiled
    Kt, signs, mt, idx, k, guess, u0, nu, M, L, c, u, z, w, pos, passive, excluded, built,
    dsc, E, A, bvec, nu_first,
):
    """Normalised cost of (P) for the labels ``idx[:k]``; inf when infeasible.

    ``Kt`` is the unit-diagonal label Gram, ``signs`` the reference signs and ``mt`` the
    normalised margins to close (``mu_j / (||w_j|| eps)``). On return ``nu[:k]`` holds the
    normalised multipliers aligned with ``idx``: ``r = -eps sum_a nu_a s_a w_a / ||w_a||``.
    ``guess[:k]`` is an active set to try first and ``u0[:k] >= 0`` the starting point of
    the active-set iterations, in the NNLS variables ``u = nu / (1 + cost^2)`` (zero for a
    cold start). The other arguments are workspaces.

    The NNLS runs on the Gram ``M = E^T E`` first (the fast path). When it had to drop a
    numerically dependent column, or its answer fails the primal check, it runs again on
    an explicit ``E`` (:func:`_explicit_rows`), whose conditioning is the square root of
    M's: constraints that nearly pass through one point (a model without intercept, more
    labels than features) make M singular to rounding while E is not.
    """
    # The columns of E, (s_a g_a, mt_a), are scaled to unit norm (D = diag(dsc)): the
    # solution is the same up to u = D u', and a huge margin of one label (a constraint
    # far from binding, of a label with a tiny gradient) no longer swamps the others'
    # entries of M and the tolerance. The NNLS below works in the scaled variables.
    cpos = 0.0
    for a in range(k):
        raw = mt[idx[a]]
        dsc[a] = 1.0 / np.sqrt(1.0 + raw * raw) if abs(raw) < 1e150 else 1.0 / abs(raw)
        c[a] = raw * dsc[a]
        built[a] = False
        if c[a] > cpos:
            cpos = c[a]
    # Only the rows of M for labels that enter the active set are ever needed: O(k |P|).
    # The tolerance scales with the margins still to close (the positive ones; a
    # constraint holding with room to spare says nothing of the scale): with a huge budget
    # they are tiny (mu / eps), and an absolute one would accept u = 0 as optimal.
    tol = 1e-13 * cpos * (1.0 + cpos)
    dependent = _lawson_hanson(
        Kt, signs, idx, k, c, dsc, tol, guess, u0, M, L, u, z, w, pos, passive, excluded,
        built, E, 0, A, bvec,
    )
    cost = _ldp_cost(Kt, signs, mt, idx, k, c, dsc, u, nu)
    if not dependent and np.isfinite(cost):
        return cost
    for a in range(k):
        nu_first[a] = nu[a]
    nr = _explicit_rows(Kt, signs, idx, k, c, dsc, E, _PIVOT_EPS * (k + 1))
    _lawson_hanson(
        Kt, signs, idx, k, c, dsc, tol, guess, u0, M, L, u, z, w, pos, passive, excluded,
        built, E, nr, A, bvec,
    )
    cost_explicit = _ldp_cost(Kt, signs, mt, idx, k, c, dsc, u, nu)
    if cost_explicit <= cost:  # both answers are feasible points: keep the shorter
        return cost_explicit
    for a in range(k):
        nu[a] = nu_first[a]
    return cost


@numba.njit(cache=True, nogil=True)
def qp_scratch(m):  # pragma: no cover - compiled
    """Arrays for :func:`ldp_solve` on up to ``m`` labels: ``(u0, M, L, c, u, z, w, pos,
    passive, excluded, built, dsc, E, A, bvec, nu_first)``, the starting point and then
    the workspaces in the order it takes them (``ldp_solve(..., guess, scratch[0], nu,
    *scratch[1:])``). One set per thread."""
    return (
        np.empty(m),
        np.empty((m, m)),
        np.empty((m, m)),
        np.empty(m),
        np.empty(m),
        np.empty(m),
        np.empty(m),
        np.empty(m, dtype=np.int64),
        np.empty(m, dtype=np.bool_),
        np.empty(m, dtype=np.bool_),
        np.empty(m, dtype=np.bool_),
        np.empty(m),
        np.empty((m + 1, m)),
        np.empty((m + 1, m)),
        np.empty(m + 1),
        np.empty(m),
    )


def min_norm_perturbation(gram, mu):
    """Minimum-norm ``r = -sum_j lambda_j v_j`` with ``v_j^T r <= -mu_j`` for every j.

    The vectors ``v_j`` (``s_j w_j`` for label j) enter through their Gram only. This is the
    inner QP of GASE for one label set, exposed for tests.

    Parameters
    ----------
    gram : ndarray of shape (k, k)
        Gram matrix ``v_i^T v_j`` (positive semi-definite).
    mu : ndarray of shape (k,)
        Margins to close; constraints with ``mu_j <= 0`` hold at ``r = 0``.

    Returns
    -------
    lam : ndarray of shape (k,)
        Dual multipliers ``lambda >= 0``; all zero when infeasible.
    cost : float
        ``||r||``, or inf when no perturbation satisfies all constraints.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm.attacks._kernels import min_norm_perturbation
    >>> lam, cost = min_norm_perturbation(np.array([[4.0]]), np.array([1.0]))
    >>> round(float(lam[0]), 12), round(float(cost), 12)  # r = -v / 4: v^T r = -1
    (0.25, 0.5)
    """
    gram = np.asarray(gram, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    k = mu.shape[0]
    lam = np.zeros(k)
    norms = np.sqrt(np.clip(np.diag(gram), 0.0, None))
    valid = norms > 0
    if np.any(~valid & (mu > 0)):
        return lam, np.inf  # a zero vector cannot close a positive margin
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        return lam, 0.0
    inv = np.zeros(k)
    inv[valid] = 1.0 / norms[valid]
    Kt = gram * inv[:, None] * inv[None, :]
    mt = mu * inv
    # Normalise by the largest single-label cost still to close (else the largest slack),
    # so the costs that matter are O(1).
    binding = mt[idx][mt[idx] > 0]
    scale = float(np.max(binding)) if binding.size else float(np.max(np.abs(mt[idx])))
    scale = max(scale, np.finfo(float).tiny)
    mt = mt / scale
    scratch = qp_scratch(k)
    scratch[0][:] = 0.0  # a cold start
    nu = np.zeros(k)
    guess = np.zeros(k, dtype=bool)
    cost = ldp_solve(
        Kt, np.ones(k), mt, idx.astype(np.int64), idx.size, guess, scratch[0], nu, *scratch[1:]
    )
    if not np.isfinite(cost):
        return lam, np.inf
    lam[idx] = scale * nu[: idx.size] * inv[idx]
    return lam, scale * cost


def normalised_gram(G):
    """Unit-diagonal Gram ``G_jk / (||g_j|| ||g_k||)`` (zero rows for zero gradients).

    Parameters
    ----------
    G : ndarray of shape (m, m) or (n, m, m)

    Returns
    -------
    Kt : ndarray like G
    norms : ndarray of shape (m,) or (n, m)
        ``||g_j||``.
    valid : ndarray of bool like norms
        ``||g_j|| > 0``: the label can be moved at all.
    """
    diag = np.diagonal(G, axis1=-2, axis2=-1)
    norms = np.sqrt(np.clip(diag, 0.0, None))
    valid = norms > 0
    inv = np.where(valid, 1.0 / np.where(valid, norms, 1.0), 0.0)
    Kt = G * inv[..., :, np.newaxis] * inv[..., np.newaxis, :]
    m = G.shape[-1]
    eye = np.eye(m, dtype=bool)
    Kt = np.where(eye & valid[..., np.newaxis], 1.0, Kt)
    return Kt, norms, valid


def normalised_margins(mu, norms, valid, eps):
    """``mu_j / (||g_j|| eps)``: single-label costs in units of the budget.

    A label with a zero gradient cannot move: +inf if it still has to (``mu_j > 0``), 0 when
    it is already where it must be.
    """
    safe = np.where(valid, norms, 1.0) * eps
    return np.where(valid, mu / safe, np.where(mu > 0, np.inf, 0.0))


def gradient_coefficients(nus, norms, valid, signs, eps):
    """``eps nu_j s_j / ||g_j||``: the perturbation is ``r = -sum_j coef_j g_j``.

    The QP kernels work in units of the budget on unit-norm gradients; this maps their
    multipliers ``nu`` back to the raw gradients (0 for labels with a zero gradient).
    """
    return np.where(valid, eps * nus * signs / np.where(valid, norms, 1.0), 0.0)


@numba.njit(cache=True, nogil=True, inline="always")
def _single_label_set(Kt, s, mt, j, out):  # pragma: no cover - compiled
    """Labels past their threshold after label j's single-label step (``nu_j = mt_j``)."""
    count = 0
    for l in range(mt.shape[0]):
        out[l] = s[l] * s[j] * Kt[l, j] * mt[j] >= mt[l]
        if out[l]:
            count += 1
    return count


@numba.njit(cache=True, nogil=True, inline="always")
def _best_single_label(Kt, valid, s, mt, work):  # pragma: no cover - compiled
    """The label whose single-label attack fits the budget and flips the most labels.

    Ties go to the lowest index. Returns (-1, 0) when no single label fits.
    """
    best_j = -1
    best_count = 0
    for j in range(mt.shape[0]):
        if valid[j] and 0.0 < mt[j] <= 1.0:
            count = _single_label_set(Kt, s, mt, j, work)
            if count > best_count:
                best_count = count
                best_j = j
    return best_j, best_count


@numba.njit(cache=True, nogil=True, inline="always")
def _solve_with(
    Kt, valid, s, mt, inT, nu, shrink, j, idx, guess, nu_k, out, ws
):  # pragma: no cover
    """Cost of T + {j}; its multipliers (over all labels) go to ``out``.

    ``nu`` is the solution for T. With ``shrink = 1 / (1 + cost(T)^2) > 0`` it is optimal
    for T, and the solver starts from it; with 0, its support plus j is only a guess.
    """
    u0 = ws[0]
    m = mt.shape[0]
    k = 0
    for l in range(m):
        if inT[l] and valid[l]:
            idx[k] = l
            guess[k] = shrink == 0.0 and nu[l] > 0.0
            u0[k] = shrink * nu[l]
            k += 1
    idx[k] = j
    guess[k] = shrink == 0.0
    u0[k] = 0.0
    k += 1
    cost = ldp_solve(Kt, s, mt, idx, k, guess, u0, nu_k, *ws[1:])
    for l in range(m):
        out[l] = 0.0
    for a in range(k):
        out[idx[a]] = nu_k[a]
    return cost


@numba.njit(cache=True, nogil=True, inline="always")
def _add_free_labels(Kt, s, mt, nu, inT, qnu):  # pragma: no cover - compiled
    """Add every label the perturbation ``nu`` already pushes past its threshold."""
    m = mt.shape[0]
    for l in range(m):
        qnu[l] = 0.0
    for a in range(m):
        if nu[a] != 0.0:
            for l in range(m):
                qnu[l] += s[l] * s[a] * Kt[l, a] * nu[a]
    for l in range(m):
        if not inT[l] and qnu[l] >= mt[l]:
            inT[l] = True


@numba.njit(cache=True, nogil=True, inline="always")
def _count(flags):  # pragma: no cover - compiled
    """Number of True entries of a boolean vector (the size of a label set)."""
    count = 0
    for l in range(flags.shape[0]):
        if flags[l]:
            count += 1
    return count


@numba.njit(cache=True, nogil=True, inline="always")
def _reachable(inT, alive):  # pragma: no cover - compiled
    """Most labels the greedy can still end with: those in T and the live candidates.

    Any other label l has ``cost(T + {l}) > 1`` (a lower bound or the cost itself is above
    the budget) and costs only grow with T, so no later perturbation within the budget
    flips it, neither as a candidate nor for free.
    """
    count = 0
    for l in range(inT.shape[0]):
        if inT[l] or alive[l]:
            count += 1
    return count


@numba.njit(cache=True, nogil=True, inline="always")
def _expand(Kt, valid, s, mt, inT, nu, cost_T, exact, n_retry, floor, work):  # pragma: no cover
    """The greedy rounds of GASE (doc: alg-gase), from the set ``inT`` whose solution is ``nu``.

    Updates ``inT`` and ``nu`` in place. Gives up, leaving an unfinished set, as soon as it
    can no longer end with more than ``floor`` labels (-1: never gives up).
    """
    lb, est, fresh, alive, cand_nu, qnu, idx, guess, nu_k, ws = work
    m = mt.shape[0]
    _add_free_labels(Kt, s, mt, nu, inT, qnu)
    for l in range(m):
        fresh[l] = False
        # Weak duality with the multipliers of T plus the best step along label l alone:
        # cost(T + {l})^2 >= cost(T)^2 + gap_l^2, where gap_l is the distance from the
        # current point to label l's half-space (the single-label cost when T is empty).
        gap = max(0.0, mt[l] - qnu[l])
        lb[l] = np.sqrt(cost_T * cost_T + gap * gap)
        alive[l] = valid[l] and not inT[l] and lb[l] <= 1.0
    shrink = 1.0 / (1.0 + cost_T * cost_T)
    while True:
        if _reachable(inT, alive) <= floor:
            return
        accepted = -1
        if exact:
            # Lazy argmin of cost(T + {j}), ties to the lowest index: re-solve the label with
            # the smallest bound until the smallest bound is an up-to-date cost.
            while True:
                j = -1
                for l in range(m):
                    if alive[l] and (j < 0 or lb[l] < lb[j]):
                        j = l
                if j < 0 or lb[j] > 1.0:
                    break
                if fresh[j]:
                    accepted = j
                    break
                cost = _solve_with(
                    Kt, valid, s, mt, inT, nu, shrink, j, idx, guess, nu_k, cand_nu[j], ws
                )
                lb[j] = cost
                fresh[j] = True
                if cost > 1.0:
                    alive[j] = False  # costs only grow with T: it never fits again
        else:
            # First-order estimate: distance from the current point to label j's threshold
            # along its own gradient, plus the cost so far.
            n_alive = 0
            for l in range(m):
                if alive[l]:
                    est[l] = cost_T + max(0.0, mt[l] - qnu[l])
                    n_alive += 1
            for _ in range(min(n_retry + 1, n_alive)):
                j = -1
                for l in range(m):
                    if alive[l] and (j < 0 or est[l] < est[j]):
                        j = l
                cost = _solve_with(
                    Kt, valid, s, mt, inT, nu, shrink, j, idx, guess, nu_k, cand_nu[j], ws
                )
                alive[j] = False
                if cost <= 1.0:
                    lb[j] = cost
                    accepted = j
                    break
        if accepted < 0:
            break
        for l in range(m):
            nu[l] = cand_nu[accepted, l]
            fresh[l] = False
        inT[accepted] = True
        cost_T = lb[accepted]
        shrink = 1.0 / (1.0 + cost_T * cost_T)
        _add_free_labels(Kt, s, mt, nu, inT, qnu)
        for l in range(m):
            if inT[l]:
                alive[l] = False
            elif alive[l]:
                gap = max(0.0, mt[l] - qnu[l])
                bound = np.sqrt(cost_T * cost_T + gap * gap)
                if bound > lb[l]:
                    lb[l] = bound
                if lb[l] > 1.0:
                    alive[l] = False


@numba.njit(cache=True, nogil=True)
def gase_linear_kernel(
    Kt, valid, S, Mt, T0, exact, n_retry, restart, T_out, nu_out
):  # pragma: no cover - compiled
    n, m = Mt.shape
    ws = qp_scratch(m)
    idx = np.empty(m, dtype=np.int64)
    guess = np.empty(m, dtype=np.bool_)
    nu_k = np.empty(m)
    work = (
        np.empty(m),  # lower bounds on cost(T + {j})
        np.empty(m),  # first-order estimates
        np.empty(m, dtype=np.bool_),  # bound up to date this round
        np.empty(m, dtype=np.bool_),  # candidate that may still fit
        np.empty((m, m)),  # solution for T + {j}
        np.empty(m),  # (Q nu)_l: how far the current point pushes each label
        idx,
        guess,
        nu_k,
        ws,
    )
    inT_b = np.empty(m, dtype=np.bool_)
    nu_b = np.empty(m)
    seed_nu = np.empty(m)
    single = np.empty(m, dtype=np.bool_)
    for b in range(n):
        s = S[b]
        mt = Mt[b]
        inT = T_out[b]
        nu = nu_out[b]
        for l in range(m):
            inT[l] = T0[b, l]
            nu[l] = 0.0
        _expand(Kt, valid, s, mt, inT, nu, 0.0, exact, n_retry, -1, work)
        count = _count(inT)
        j, single_count = _best_single_label(Kt, valid, s, mt, single)
        # No set can hold more than the labels already flipped plus those whose own cost
        # fits the budget; when the greedy reached that, a second start cannot do better.
        upper = 0
        for l in range(m):
            if T0[b, l] or (valid[l] and mt[l] <= 1.0):
                upper += 1
        if restart and j >= 0 and not inT[j] and count < upper:
            # Second start, from the label whose own attack flips the most labels, when the
            # greedy did not take it. With strongly correlated labels the cheapest first
            # label can lead the greedy away from a large group that moves together.
            for l in range(m):
                inT_b[l] = T0[b, l]
                nu_b[l] = 0.0
            cost = _solve_with(
                Kt, valid, s, mt, inT_b, nu_b, 1.0, j, idx, guess, nu_k, seed_nu, ws
            )
            if cost <= 1.0:
                for l in range(m):
                    nu_b[l] = seed_nu[l]
                inT_b[j] = True
                # Only a strictly larger set replaces the first one: the second start
                # stops once it cannot end above ``count`` labels.
                _expand(Kt, valid, s, mt, inT_b, nu_b, cost, exact, n_retry, count, work)
                count_b = _count(inT_b)
                if count_b > count:
                    count = count_b
                    for l in range(m):
                        inT[l] = inT_b[l]
                        nu[l] = nu_b[l]
        if j >= 0 and single_count > count:
            # Safeguard: never fewer labels than the best single-label attack.
            _single_label_set(Kt, s, mt, j, inT)
            for l in range(m):
                nu[l] = 0.0
            nu[j] = mt[j]


@numba.njit(cache=True, nogil=True)
def candidate_costs_kernel(Kt, valid, S, Mt, inT, nu_prev, costs, nus):  # pragma: no cover
    n, m = Mt.shape
    ws = qp_scratch(m)
    idx = np.empty(m, dtype=np.int64)
    guess = np.empty(m, dtype=np.bool_)
    nu_k = np.empty(m)
    for b in range(n):
        for j in range(m):
            costs[b, j] = np.inf
            if valid[b, j] and not inT[b, j]:
                costs[b, j] = _solve_with(
                    Kt[b],
                    valid[b],
                    S[b],
                    Mt[b],
                    inT[b],
                    nu_prev[b],
                    0.0,  # the linearisation moved: nu_prev is only a guess
                    j,
                    idx,
                    guess,
                    nu_k,
                    nus[b, j],
                    ws,
                )


@numba.njit(cache=True, nogil=True)
def set_costs_kernel(Kt, valid, S, Mt, sets, nu_prev, costs, nus):  # pragma: no cover
    n, m = Mt.shape
    ws = qp_scratch(m)
    idx = np.empty(m, dtype=np.int64)
    guess = np.empty(m, dtype=np.bool_)
    nu_k = np.empty(m)
    for b in range(n):
        u0 = ws[0]
        k = 0
        for l in range(m):
            nus[b, l] = 0.0
            if sets[b, l]:
                if valid[b, l]:
                    idx[k] = l
                    guess[k] = nu_prev[b, l] > 0.0
                    u0[k] = 0.0
                    k += 1
                elif Mt[b, l] > 0.0:
                    k = -1  # a label that cannot move but has to
                    break
        if k < 0:
            costs[b] = np.inf
            continue
        costs[b] = ldp_solve(
            Kt[b],
            S[b],
            Mt[b],
            idx,
            k,
            guess,
            u0,
            nu_k,
            *ws[1:],
        )
        for a in range(k):
            nus[b, idx[a]] = nu_k[a]


@numba.njit(cache=True, nogil=True)
def exact_kernel(Kt, valid, S, Mt, T_out, nu_out):  # pragma: no cover - compiled
    n, m = Mt.shape
    n_sets = 1 << m
    feasible = np.zeros(n_sets, dtype=np.bool_)
    level = np.empty(n_sets, dtype=np.int64)
    next_level = np.empty(n_sets, dtype=np.int64)
    ws = qp_scratch(m)
    u0 = ws[0]
    idx = np.empty(m, dtype=np.int64)
    guess = np.empty(m, dtype=np.bool_)
    nu_k = np.empty(m)
    for b in range(n):
        s = S[b]
        mt = Mt[b]
        for q in range(n_sets):
            feasible[q] = False
        feasible[0] = True
        level[0] = 0
        n_cur = 1
        best = 0
        best_size = 0
        for l in range(m):
            nu_out[b, l] = 0.0
        for size in range(1, m + 1):
            n_next = 0
            for p in range(n_cur):
                base = level[p]
                top = -1
                for i in range(m):
                    if (base >> i) & 1:
                        top = i
                for j in range(top + 1, m):
                    cand = base | (1 << j)
                    ok = True
                    for i in range(m):
                        if (cand >> i) & 1 and not feasible[cand ^ (1 << i)]:
                            ok = False
                            break
                    if not ok:
                        continue
                    k = 0
                    for i in range(m):
                        if (cand >> i) & 1:
                            if valid[i]:
                                idx[k] = i
                                # Try "all constraints active" first (the ML-DeepFool step).
                                guess[k] = True
                                u0[k] = 0.0
                                k += 1
                            elif mt[i] > 0.0:
                                ok = False  # cannot move, yet has to
                    if not ok:
                        continue
                    cost = ldp_solve(
                        Kt,
                        s,
                        mt,
                        idx,
                        k,
                        guess,
                        u0,
                        nu_k,
                        *ws[1:],
                    )
                    if cost <= 1.0:
                        feasible[cand] = True
                        next_level[n_next] = cand
                        n_next += 1
                        if size > best_size:  # the first feasible set of this size
                            best = cand
                            best_size = size
                            for l in range(m):
                                nu_out[b, l] = 0.0
                            for a in range(k):
                                nu_out[b, idx[a]] = nu_k[a]
            if n_next == 0:
                break
            for p in range(n_next):
                level[p] = next_level[p]
            n_cur = n_next
        for l in range(m):
            T_out[b, l] = (best >> l) & 1 == 1
