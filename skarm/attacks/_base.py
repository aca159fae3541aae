"""What every evasion attack in skarm shares: the model interface, the targets, the checks.

An attack wraps an already fitted multi-label model ``h`` and perturbs each instance ``x``
into ``x + r`` with ``||r||_2 <= eps`` so that as many labels as possible flip. This module
holds the estimator contract (parameters, ``fit``/``transform``/``attack``), the
per-instance targets (reference signs, overshoot, thresholds), the batching over instances
and the final verification: every reported flip is re-checked by evaluating the model's
decision function at the returned ``X_adv`` (in input space, not through the label Gram the
linear solver works on), and the perturbation is guaranteed to lie in the ball.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from abc import ABCMeta, abstractmethod
from numbers import Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from joblib.parallel import get_active_backend
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import label_binarize
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from .._decision import LinearDecision, as_decision
from .._linear_models import unfrozen
from ..utils._sklearn_compat import (
    N_JOBS_CONSTRAINT,
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    fitted_target_type,
    validate_data,
)
from ..utils._threads import single_threaded_blas
from ..utils._validation import (
    check_finite_scores,
    check_label_indicator,
    to_dense,
)
from ._kernels import gradient_coefficients, normalised_margins

__all__ = ["BaseAttack"]

# Rows per task handed to joblib: small enough for a progress report on long runs, large
# enough that the per-task overhead is negligible next to the work.
_BATCH_SIZE = 128


def _is_fitted(estimator):
    """Whether ``estimator`` is fitted; objects without ``fit`` (decision objects) are."""
    if not callable(getattr(estimator, "fit", None)):
        return True
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def reference_signs(scores, y):
    """Signs in {-1, +1} against which flips are counted: y if given, else the prediction.

    The prediction is ``h_j(x) > 0``: a score of exactly 0 predicts the negative class, as
    ``OneVsRestClassifier`` and ``RidgeClassifier`` do.
    """
    if y is not None:
        return 2.0 * y - 1.0
    return np.where(scores > 0, 1.0, -1.0)


def flipped_labels(scores, signs):
    """Labels whose prediction ``h_j > 0`` disagrees with the reference sign."""
    return (scores > 0) != (signs > 0)


def label_reach(decision, J0, eps):
    """``eps ||grad_x h_j(x)||``: how far a step of norm eps moves each score, to first order.

    Shape (m,) for a linear model (``eps ||w_j||``), else (n_samples, m) from the input
    gradients ``J0`` at X.
    """
    if J0 is None:
        return eps * np.linalg.norm(decision.coef, axis=1)
    return eps * np.linalg.norm(J0, axis=2)


def overshoot_margins(scores, overshoot, reach):
    """``kappa_j = overshoot * max(min(1, reach_j), |h_j(x)|)``: how far past its boundary a
    label goes.

    A score at 0 must cross it by a margin that rounding cannot undo, hence a floor; a fixed
    floor of ``overshoot`` (the margin used before) was out of reach of a budget that moves
    the score by less, which made GASE miss flips any step would get (a score of exactly 0
    with a tiny budget), so the floor is the reach when that is smaller.
    """
    # A label that cannot move (zero gradient) keeps the floor 1: with a floor of 0 a score
    # of exactly 0 would count as already pushed past its boundary.
    floor = np.where(reach > 0, np.minimum(1.0, reach), 1.0)
    return overshoot * np.maximum(floor, np.abs(scores))


def label_thresholds(scores, signs, kappa):
    """Thresholds ``tau`` such that label j is attacked when ``s_j h_j(x + r) <= tau_j``.

    A label the model already gets right must be pushed ``kappa_j`` past its boundary (see
    :func:`overshoot_margins`), so that its sign really changes in floating point. A label
    already wrong must stay at least as wrong as it is (or ``kappa_j`` past
    the boundary, whichever is weaker): ``r = 0`` satisfies that, so labels already flipped
    cost nothing, as step 1 of the GASE greedy requires (doc: alg-gase).

    Returns
    -------
    tau : ndarray of shape (n_samples, n_labels)
    flipped0 : ndarray of bool, shape (n_samples, n_labels)
        The labels flipped at ``r = 0``.
    """
    flipped0 = flipped_labels(scores, signs)
    tau = np.where(flipped0, np.maximum(-kappa, signs * scores), -kappa)
    return tau, flipped0


def row_norms(A):
    """L2 norms of the rows of a dense A, without overflow: each row is scaled by its max.

    ``np.linalg.norm`` squares the entries, so a perturbation of norm above ~1e154 (a budget
    that large) would come out as inf.
    """
    scale = np.max(np.abs(A), axis=1) if A.shape[1] else np.zeros(A.shape[0])
    safe = np.where(scale > 0, scale, 1.0)
    return scale * np.linalg.norm(A / safe[:, np.newaxis], axis=1)


def _measured_norms(D):
    """L2 norms of the rows of D as users measure them, and never below what they measure.

    ``np.linalg.norm`` (what users and the docstrings check) and :func:`row_norms` (which
    does not overflow) can differ by a rounding step; the larger of the two is returned
    where ``np.linalg.norm`` is finite.
    """
    with np.errstate(over="ignore"):
        plain = np.linalg.norm(D, axis=1)
    scaled = row_norms(D)
    return np.where(np.isfinite(plain), np.maximum(plain, scaled), scaled)


def budget_norms(D, norm="l2"):
    """The norms of the rows of D in the budget's norm, as users measure them."""
    if norm == "linf":
        return np.max(np.abs(D), axis=1) if D.shape[1] else np.zeros(D.shape[0])
    return _measured_norms(D)


def _into_ball(X, R, eps, norm="l2", clip=None):
    """``X + R`` with ``||(X + R) - X|| <= eps`` exactly as computed in floating point, and
    inside ``clip`` (X being inside).

    The solvers keep ``||R|| <= eps`` up to rounding; a relative shrink (1e-12 at first,
    far below the overshoot) absorbs the rounding of the norm and of the addition. The
    shrink doubles on every pass, so the loop ends (at worst with ``R = 0``) whatever the
    rounding of ``X + R`` does. Clipping to the box moves every coordinate towards X's,
    so it never takes a point out of the ball; shrinking towards X never leaves the box.
    """
    X = to_dense(X)
    X_adv = X + R
    if clip is not None:
        X_adv = np.clip(X_adv, clip[0], clip[1])
        R = X_adv - X
    norms = budget_norms(X_adv - X, norm)
    over = norms > eps
    shrink = 1e-12
    while np.any(over):
        factor = max(1.0 - shrink, 0.0)
        R[over] *= (eps / norms[over] * factor)[:, np.newaxis]
        X_adv[over] = X[over] + R[over]
        norms[over] = budget_norms(X_adv[over] - X[over], norm)
        over = norms > eps
        shrink *= 2.0
    return X_adv, norms


# The budget's geometry of the attacks that take one (GASE and PGD; the exact oracle is L2).
_BUDGET_CONSTRAINTS = {
    "norm": [StrOptions({"l2", "linf"})],
    "clip": [tuple, None],
}

_BUDGET_PARAMS_DOC = """norm : {"l2", "linf"}, default="l2"
        The norm of the budget: ``||x_adv - x||_2 <= eps`` or ``max_k |x_adv_k - x_k| <=
        eps`` (the L-infinity budget of most image papers). ``norms`` in the result are
        measured in it.
    clip : tuple (low, high) or None, default=None
        The valid input range, such as the pixel range: ``low <= x_adv <= high`` in every
        coordinate, on top of the budget. X itself must lie in it. None: no bound."""


def check_clip(clip, X, owner):
    """Check ``clip`` (None or (low, high), low < high) and that X lies inside it."""
    if clip is None:
        return None
    if len(clip) != 2 or not all(isinstance(v, Real) and np.isfinite(v) for v in clip) \
            or not clip[0] < clip[1]:
        raise ValueError(
            f"The 'clip' parameter of {owner} must be None or a tuple (low, high) of finite "
            f"numbers with low < high. Got {clip!r} instead."
        )
    low, high = float(clip[0]), float(clip[1])
    values = X.data if sp.issparse(X) else X
    implicit_zero = sp.issparse(X) and X.nnz < X.shape[0] * X.shape[1]
    if values.size and (values.min() < low or values.max() > high) or (
        implicit_zero and not low <= 0.0 <= high
    ):
        raise ValueError(
            f"X has values outside clip=({low:g}, {high:g}): the attack keeps x_adv in that "
            "range, so x must start in it. Clip X first or widen clip."
        )
    return low, high


# Docstring fragments shared by the attacks' classes (inserted with f-strings, as the
# classifiers do), so that the common parameters are described once.
_JOBS_PARAMS_DOC = """n_jobs : int, default=None
        Number of threads over batches of instances. ``None`` means 1 unless in a
        :obj:`joblib.parallel_backend` context; ``-1`` means all processors.
    verbose : int, default=0
        Report progress (per batch of instances) when positive."""

_ATTRIBUTES_DOC = """Attributes
    ----------
    estimator_ : estimator instance
        The model attacked after :meth:`fit`: ``estimator`` itself when it was fitted, else
        a fitted clone of it.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X` has feature names
        that are all strings."""


class BaseAttack(OneToOneFeatureMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the attacks: an evasion attack on a fitted multi-label model.

    Subclasses implement ``_perturb(decision, context, X, scores, signs, tau, flipped0,
    kappa, J0)`` (``J0`` the input gradients at X, None for a linear model), which returns
    the perturbations (n_samples, n_features) and the attacked label sets
    (n_samples, n_labels) of one batch, and optionally ``_prepare(decision)`` for work shared
    by all batches (the label Gram of a linear model).

    Warning: This class should not be used directly. Use derived classes instead.
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["predict"]),
            HasMethods(["decision_function", "input_gradients"]),
            HasMethods(["forward", "parameters"]),  # a torch module, read as logits
        ],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "reference": [StrOptions({"label", "prediction"})],
        "overshoot": [Interval(Real, 0, None, closed="left")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "verbose": ["verbose"],
    }

    def __init__(
        self, estimator, *, eps, reference="label", overshoot=1e-6, n_jobs=None, verbose=0
    ):
        self.estimator = estimator
        self.eps = eps
        self.reference = reference
        self.overshoot = overshoot
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Attach the model to attack: the fitted ``estimator``, or a clone fitted on (X, y).

        A fitted ``estimator`` is used as it is (not cloned, not refitted); ``fit`` only
        checks it against X and y. An unfitted one, which is what
        :func:`~sklearn.base.clone` leaves in ``GridSearchCV`` or ``cross_validate``, is
        cloned and fitted on (X, y), so that each fold attacks the model of that fold.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Instances, to check their width against the model's (and to fit an unfitted
            model on).
        y : array-like of shape (n_samples, n_labels) or (n_samples,), default=None
            {0, 1} labels, checked if given; needed to fit an unfitted model. A 1-D y is
            read as the model's binary or multiclass target, one-vs-rest.

        Returns
        -------
        self : object
            The attack.
        """
        decision, X = self._attach(X, y)
        if y is not None and X.shape[0]:
            n_labels = decision.decision_function(X[:1]).shape[1]
            self._label_indicator(y, X.shape[0], n_labels)
        return self

    def _attach(self, X, y):
        """Set ``estimator_`` (fitting a clone if needed) and validate X once for it."""
        name = type(self).__name__
        if _is_fitted(self.estimator):
            self.estimator_ = self.estimator
        elif y is None:
            raise NotFittedError(
                f"The estimator of {name} is not fitted, and fit(X, y) fits a clone of it, "
                "which needs y. Pass a fitted estimator to attack it as it is, or pass y."
            )
        else:
            self.estimator_ = clone(self.estimator).fit(X, y)
        decision = as_decision(self.estimator_, owner=name)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), reset=True)
        return decision, decision.check_X(X)

    def transform(self, X):
        """Attack the model's own predictions on X (y never reaches transform).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Instances to perturb.

        Returns
        -------
        X_adv : ndarray of shape (n_samples, n_features)
            Perturbed instances, each within ``eps`` of its original (L2). Dense also for
            sparse X (a perturbation moves along the model's gradients, which are dense):
            ``8 n_samples n_features`` bytes. For a linear model the work is done by
            batches of rows, so nothing else grows with X (a model differentiated through
            its input gradients densifies X first); the metrics and scorers, which need
            only counts or predictions, never hold ``X_adv`` whole.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), reset=False)
        return self._attack(X, None).X_adv

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y=None):
        """Attack the true labels y (or, without y, the model's predictions).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Instances to perturb.
        y : array-like of shape (n_samples, n_labels), default=None
            {0, 1} labels; flips are counted against them when ``reference="label"``.

        Returns
        -------
        X_adv : ndarray of shape (n_samples, n_features)
            Perturbed instances, each within ``eps`` of its original (L2); dense, as for
            :meth:`transform`.
        """
        decision, X = self._attach(X, y)
        return self._run(decision, X, y).X_adv

    # attack() needs no fit: it validates the parameters itself, through _fit_context.
    @_fit_context(prefer_skip_nested_validation=True)
    def attack(self, X, y=None, *, return_X_adv=True):
        """Attack X and return the perturbed data with per-instance details.

        Needs no prior :meth:`fit`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Instances to perturb.
        y : array-like of shape (n_samples, n_labels), default=None
            {0, 1} labels. With y and ``reference="label"`` flips are counted against y
            (labels the model already gets wrong count from the start, Eq. 1); otherwise
            against the model's prediction on X.
        return_X_adv : bool, default=True
            Whether to keep the perturbed instances. False (what the metrics and scorers
            use, which need only counts) never holds ``X_adv`` whole: ``result.X_adv`` is
            None and the memory stays that of one batch of rows.

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            With keys

            - ``X_adv``: ndarray of shape (n_samples, n_features), the perturbed instances
              (dense, also for sparse X; see :meth:`transform`);
            - ``n_flipped``: ndarray of shape (n_samples,), the number of labels whose
              prediction on ``X_adv`` differs from the reference, checked on the model;
            - ``flipped``: bool ndarray of shape (n_samples, n_labels), those labels;
            - ``targets``: bool ndarray of shape (n_samples, n_labels), the label set the
              attack aimed at;
            - ``norms``: ndarray of shape (n_samples,), ``||X_adv - X||_2 <= eps``;
            - ``reference``: ``"label"`` or ``"prediction"``, what flips were counted
              against;
            - ``eps``: the budget.
        """
        return self._attack(X, y, keep_X_adv=bool(return_X_adv))

    def attack_target(self, X, target, *, return_X_adv=True):
        """Push the predictions on X towards the label sets ``target`` within the budget.

        A targeted attack: it succeeds on an instance when the model predicts exactly
        ``target[i]`` at ``x_adv`` (hide all labels, hide or show one, any ``Y'``; see
        :func:`skarm.attacks.make_targets`). It is the untargeted attack with the reference
        set to the complement of the target, so every label counts: those already at their
        target value are kept there (at least as far past their boundary as they are) and
        the others are flipped, as many as the budget allows, which is the capped-margin
        form of ML-CW's targeted loss. The success is checked on the model at ``X_adv``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Instances to perturb.
        target : array-like of shape (n_samples, n_labels)
            {0, 1} label sets the attack aims at, one per instance.
        return_X_adv : bool, default=True
            Whether to keep the perturbed instances (see :meth:`attack`).

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            With keys ``X_adv``, ``norms`` and ``eps`` as in :meth:`attack`, and

            - ``success``: bool ndarray of shape (n_samples,), the prediction at ``X_adv``
              equals ``target`` on every label;
            - ``n_mismatched``: ndarray of shape (n_samples,), labels still off target;
            - ``matched``: bool ndarray of shape (n_samples, n_labels), labels at target;
            - ``success_rate``: the mean of ``success`` (the exact-match attack success
              rate).
        """
        decision, X = self._checked(X)
        n_labels = decision.decision_function(X[:1]).shape[1] if X.shape[0] else 0
        target = self._label_indicator(target, X.shape[0], n_labels)
        # Against the complement as "labels", whatever ``reference`` says.
        out = self._run(decision, X, 1 - target, keep_X_adv=bool(return_X_adv),
                        reference="label")
        matched = out.flipped
        success = matched.all(axis=1)
        return Bunch(
            X_adv=out.X_adv,
            success=success,
            n_mismatched=n_labels - matched.sum(axis=1),
            matched=matched,
            norms=out.norms,
            success_rate=float(success.mean()) if success.size else float("nan"),
            eps=self.eps,
        )

    def _model(self):
        """The model attacked: the one attached by :meth:`fit`, else ``estimator``."""
        return getattr(self, "estimator_", self.estimator)

    def _label_indicator(self, y, n_samples, n_labels):
        """y as an (n_samples, n_labels) {0, 1} indicator; a 1-D y is binarised as OvR does."""
        model = unfrozen(self._model())
        classes = getattr(model, "classes_", None)
        final = model
        if isinstance(final, Pipeline):  # the target type is the last step's
            final = unfrozen(final.steps[-1][1])
        if not sp.issparse(y):
            y = np.asarray(y)
        if y.ndim == 1 and n_labels > 1 and fitted_target_type(final) == "multilabel-indicator":
            raise ValueError(
                f"y is 1-D, but {type(model).__name__} was fitted on a multi-label target "
                f"with {n_labels} labels. Pass y as an (n_samples, {n_labels}) {{0, 1}} "
                "indicator."
            )
        if y.ndim == 1 and classes is not None and np.ndim(classes) == 1:
            y = label_binarize(y, classes=classes)
        return check_label_indicator(y, n_samples, n_labels)

    def _prepare(self, decision):
        return None

    def _geometry(self):
        """The budget's norm and the input box (None: none) of this attack."""
        return "l2", None

    @abstractmethod
    def _perturb(self, decision, context, X, scores, signs, tau, flipped0, kappa, J0):
        """The perturbations and attacked label sets of one batch (see the class docstring)."""

    def _attack(self, X, y, *, keep_X_adv=True):
        decision, X = self._checked(X)
        return self._run(decision, X, y, keep_X_adv=keep_X_adv)

    def _checked(self, X):
        """The model's decision and X checked for it (width, dtype, the ``clip`` box)."""
        decision = as_decision(self._model(), owner=type(self).__name__)
        X = decision.check_X(X)
        check_clip(self._geometry()[1], X, type(self).__name__)
        return decision, X

    def _attack_batch(self, decision, context, X, scores, signs, keep_X_adv):
        """One batch: perturb, put into the ball, verify on the model; X densified here only."""
        eps = float(self.eps)
        # The Jacobian at X, once per batch: the thresholds and the generic attacks share it.
        J0 = None if is_linear(decision) else decision.input_gradients(to_dense(X))
        kappa = overshoot_margins(scores, self.overshoot, label_reach(decision, J0, eps))
        tau, flipped0 = label_thresholds(scores, signs, kappa)
        R, targets = self._perturb(
            decision, context, X, scores, signs, tau, flipped0, kappa, J0
        )
        X_adv, norms = _into_ball(X, R, self.eps, *self._geometry())
        # The check on the model's scores at the X_adv actually returned (input space).
        scores_adv = decision.decision_function(X_adv)
        check_finite_scores(
            scores_adv, decision.name, "perturbed instances",
            cause=(
                f"its scores are finite on X, so the perturbations (of norm up to "
                f"eps={self.eps:g}) take the input beyond what the model's arithmetic holds "
                "(float32 overflows above 3.4e38); use a smaller eps"
            ),
        )
        flipped = flipped_labels(scores_adv, signs)
        return (X_adv if keep_X_adv else None), flipped, targets, norms

    def _attack_rows(self, decision, context, X, scores, signs, keep_X_adv):
        """One task: its rows by batches of ``_BATCH_SIZE`` (bounded memory per batch)."""
        return [
            self._attack_batch(
                decision, context, *_rows(start, _BATCH_SIZE, X, scores, signs), keep_X_adv
            )
            for start in range(0, X.shape[0], _BATCH_SIZE)
        ]

    def _run(self, decision, X, y, *, keep_X_adv=True, reference=None):
        """Attack X (already checked for ``decision``) against y or the predictions.

        Work is done by batches of rows, each densified on its own, so the memory beyond
        the inputs and the returned ``X_adv`` is bounded by the batch; with
        ``keep_X_adv=False`` (the metrics) ``X_adv`` is not kept at all (None).
        """
        n_samples = X.shape[0]
        scores = decision.decision_function(X)
        check_finite_scores(scores, decision.name)
        if y is not None:
            y = self._label_indicator(y, n_samples, scores.shape[1])
        use_y = y is not None and (reference or self.reference) == "label"
        signs = reference_signs(scores, y if use_y else None)
        context = self._prepare(decision)

        n_jobs = effective_n_jobs(self.n_jobs) if n_samples > _BATCH_SIZE else 1
        task_rows = _BATCH_SIZE
        if n_jobs > 1 and not _shared_memory_backend():
            # A process backend (loky, dask, ray, set with joblib's parallel_config) pickles
            # the model and the context for every task: one task per worker, each working
            # through its rows by batches. Measured on running loky workers (600 rows, 983
            # labels, 2 workers): 0.47-0.50 s, against 0.56-0.64 s with 128-row tasks.
            task_rows = -(-n_samples // n_jobs)
        starts = list(range(0, n_samples, task_rows))
        # Threads (the default): the compiled kernels release the GIL and numpy's BLAS does
        # too, so there is nothing to pickle and the model is shared, not copied. BLAS runs
        # on one thread: its products here are small, and OpenBLAS threads contending with
        # joblib's, numba's or torch's made attacks on a torch model vary from 0.8 s to 52 s
        # (measured, 2 cores); with one BLAS thread they stayed near 1 s.
        with single_threaded_blas():
            parts = Parallel(n_jobs=n_jobs, prefer="threads", verbose=self.verbose)(
                delayed(self._attack_rows)(
                    decision, context, *_rows(start, task_rows, X, scores, signs), keep_X_adv
                )
                for start in starts
            )
        n_features = X.shape[1]
        m = scores.shape[1]
        parts = [part for task in parts for part in task]
        if not parts:
            X_adv = np.zeros((0, n_features)) if keep_X_adv else None
            flipped = targets = np.zeros((0, m), dtype=bool)
            norms = np.zeros(0)
        else:
            X_adv = np.vstack([p[0] for p in parts]) if keep_X_adv else None
            flipped, targets, norms = (
                np.concatenate([p[k] for p in parts]) for k in (1, 2, 3)
            )
        n_flipped = flipped.sum(axis=1)
        if self.verbose:
            print(
                f"[{type(self).__name__}] {n_samples} instances, eps={self.eps:g}: "
                f"{n_flipped.mean() if n_samples else 0.0:.3f} labels flipped on average."
            )
        return Bunch(
            X_adv=X_adv,
            n_flipped=n_flipped,
            flipped=flipped,
            targets=targets,
            norms=norms,
            reference="label" if use_y else "prediction",
            eps=self.eps,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


def _rows(start, size, *arrays):
    """Rows ``start:start + size`` of each array (dense or sparse)."""
    return [array[start : start + size] for array in arrays]


def _shared_memory_backend():
    """Whether the joblib backend an attack would get (threads preferred) shares memory."""
    backend, _ = get_active_backend(prefer="threads")
    return bool(getattr(backend, "supports_sharedmem", False))


def linear_attack(decision, context, scores, signs, tau, eps, kernel):
    """Run a label-Gram QP kernel on a linear model and map its answer to input space.

    ``context`` is ``normalised_gram(decision.gradient_gram())``; ``kernel(Kt, valid, signs,
    Mt, targets, nus)`` fills the attacked label sets and their multipliers in units of the
    budget. Returns the perturbations (n_samples, n_features) and the label sets.
    """
    Kt, norms, valid = context
    Mt = np.ascontiguousarray(normalised_margins(signs * scores - tau, norms, valid, eps))
    targets = np.empty(scores.shape, dtype=bool)
    nus = np.empty(scores.shape)
    kernel(Kt, valid, signs, Mt, targets, nus)
    return -gradient_coefficients(nus, norms, valid, signs, eps) @ decision.coef, targets


def is_linear(decision):
    """True for an exact linear decision function (the Gram shortcut applies)."""
    return isinstance(decision, LinearDecision)
