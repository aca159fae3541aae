"""Attackability-regularised multi-label classifiers: ARMClassifier and its presets.

Two backends share the validation, the label binarisation and the prediction rule here:
``backend="linear"`` (``h(x) = W x + b``, maths in :mod:`skarm.linear`) and
``backend="torch"`` (any torch module, trained through skorch in :mod:`skarm.deep`, which
is imported only when that backend is used).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import difflib
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from ._decision import LinearDecision
from .exceptions import CollapsedModelWarning
from .linear._objective import LOSSES, MARGIN_WEIGHTINGS, PENALTIES, Objective
from .linear._solvers import SOLVERS, minimize, select_solver
from .utils._sklearn_compat import (
    N_JOBS_CONSTRAINT,
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    _fit_context,
    validate_data,
)
from .utils._validation import check_finite_fit, check_fit_scale

__all__ = ["ARMClassifier", "ARMPrimalClassifier", "ARMSAEClassifier"]

_CONVERGENCE_MSG = (
    "{name} did not converge: {why}. Increase max_iter, standardise the features, or lower "
    "alpha."
)


def _convergence_reason(n_iter, max_iter):
    """Why a fit stopped short of the tolerance: the budget, or a stall before it."""
    if n_iter >= max_iter:
        return f"it used all max_iter={max_iter} iterations"
    return (
        f"the solver stopped after {n_iter} of max_iter={max_iter} iterations without "
        "meeting tol (no step lowered the objective further: a line-search stall)"
    )

# adversarial_method values; "auto" resolves per backend (_BaseARMClassifier._adversarial).
ADVERSARIAL_METHODS = ("auto", "per-label", "pgd")
_LINEAR_ADVERSARIAL = ("per-label",)
_TORCH_ADVERSARIAL = ("pgd",)

_SUPPORTED_TARGETS = ("binary", "multiclass", "multilabel-indicator")

# Attributes only one backend sets; a refit with the other backend removes them.
_LINEAR_ATTRIBUTES = ("coef_", "intercept_")
_TORCH_ATTRIBUTES = ("net_",)


def _deep_backend():
    """:mod:`skarm.deep._fit`, imported on first use of ``backend="torch"``.

    Raises :class:`~skarm.exceptions.BackendNotAvailableError` (an ImportError) naming the
    ``deep`` extra when torch or skorch is missing.
    """
    from .deep import require_deep_extra

    require_deep_extra()
    from .deep import _fit

    return _fit


def _unique(y):
    """Distinct values of a dense or sparse label matrix."""
    return np.unique(y.data if sp.issparse(y) else np.asarray(y))


class _BaseARMClassifier(ClassifierMixin, BaseEstimator):
    """Validation and bookkeeping shared by ARMClassifier and its presets.

    Subclasses only say which penalty they use (``_penalty``); the maths lives in
    :mod:`skarm.linear` and, for ``backend="torch"``, :mod:`skarm.deep`.
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="right")],
        "margin_floor": [Interval(Real, 0, None, closed="neither")],
        "margin_weighting": [StrOptions(set(MARGIN_WEIGHTINGS))],
        "adversarial_eps": [Interval(Real, 0, None, closed="left")],
        "adversarial_method": [StrOptions(set(ADVERSARIAL_METHODS))],
        "adversarial_steps": [Interval(Integral, 1, None, closed="left")],
        "loss": [StrOptions(set(LOSSES))],
        "loss_reduction": [StrOptions({"sum", "mean"})],
        "backend": [StrOptions({"linear", "torch"})],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "warm_start": ["boolean"],
        "n_jobs": N_JOBS_CONSTRAINT,
        "module": [None, HasMethods(["forward"])],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [None, Interval(Real, 0, 1, closed="neither")],
        "device": "no_validation",  # "auto" or anything torch.device reads; checked in fit
        "callbacks": [None, list],
        "net_params": [None, dict],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _penalty(self):
        raise NotImplementedError

    def _validate_params(self):
        try:
            super()._validate_params()
        except InvalidParameterError as exc:
            value = getattr(self, "penalty", None)
            names = [p for p in PENALTIES if p is not None]
            if isinstance(value, str) and value not in names:
                close = difflib.get_close_matches(value.lower(), names, n=1)
                if close:
                    raise InvalidParameterError(f"{exc} Did you mean '{close[0]}'?") from None
            raise

    def _binarize(self, y):
        target_type = type_of_target(y, input_name="y")
        if target_type not in _SUPPORTED_TARGETS:
            raise ValueError(
                f"{type(self).__name__} supports binary, multiclass and multilabel-indicator "
                f"targets (a 2-D y must be a {{0, 1}} indicator); got a {target_type} y."
            )
        # type_of_target calls any 2-valued integer matrix an indicator, {0, 2} included.
        if target_type == "multilabel-indicator" and not np.isin(_unique(y), (0, 1)).all():
            raise ValueError(
                f"A 2-D y must be a {{0, 1}} label indicator; got the values {_unique(y)}."
            )
        self.label_binarizer_ = LabelBinarizer()
        Y = self.label_binarizer_.fit_transform(y)
        self.classes_ = self.label_binarizer_.classes_
        return Y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model to X and the labels y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            A 2-D {0, 1} label indicator (multi-label), or 1-D binary or multiclass labels,
            binarised one-vs-rest as :class:`~sklearn.multiclass.OneVsRestClassifier` does.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        deep = self._deep_backend_requested()
        if deep and self.warm_start:
            raise ValueError(
                "warm_start=True is available with backend='linear' only; the torch "
                "backend trains a new network in every fit."
            )
        X, y = validate_data(
            self, X, y, accept_sparse=False if deep else "csr", dtype=np.float64,
            multi_output=True,
        )
        check_classification_targets(y)
        Y = self._binarize(y)
        if deep:
            for attr in _LINEAR_ATTRIBUTES:
                self.__dict__.pop(attr, None)
            self.net_ = deep.fit_net(self, X, Y, self._penalty())
            self.n_iter_ = len(self.net_.history)
            self._warn_if_collapsed(X, Y)
            return self
        for attr in _TORCH_ATTRIBUTES:
            self.__dict__.pop(attr, None)
        n_features = X.shape[1]
        m = Y.shape[1]
        coef = np.zeros((m, n_features))
        intercept = np.zeros(m)
        # A label constant in training is predicted as that constant, as OvR does.
        constant = np.all(Y == Y[:1], axis=0)
        for j in np.flatnonzero(constant):
            warnings.warn(f"Label {j} is present in all training examples." if Y[0, j]
                          else f"Label not {j} is present in all training examples.",
                          UserWarning, stacklevel=2)
            intercept[j] = 1.0 if Y[0, j] else -1.0
        fit_cols = np.flatnonzero(~constant)
        self.n_iter_ = 0
        if fit_cols.size:
            start = None  # coef_ is still the previous fit's here
            previous = getattr(self, "coef_", None)
            if self.warm_start and previous is not None and previous.shape == (m, n_features):
                start = previous[fit_cols].copy(), self.intercept_[fit_cols].copy()
            W, b, self.n_iter_ = self._fit_linear(X, 2.0 * Y[:, fit_cols] - 1.0, start)
            coef[fit_cols], intercept[fit_cols] = W, b
        self.coef_ = coef
        self.intercept_ = intercept
        self._warn_if_collapsed(X, Y)
        return self

    def _warn_if_collapsed(self, X, Y):
        """Warn when a penalised or adversarially trained fit predicts a constant for every
        label on its own training data (``W = 0`` for the linear backend): too much
        ``alpha`` or ``adversarial_eps`` gives the constant model, which is never what the
        user asked for and was returned silently before."""
        eps = self._adversarial()[1]
        penalised = self.alpha > 0 and self._penalty() is not None
        if not (penalised or eps > 0) or np.all(Y == Y[:1]):
            return
        scores = self._skarm_decision().decision_function(X)
        if not np.all((scores > 0) == (scores[:1] > 0)):
            return
        causes = []
        if penalised:
            causes.append(f"penalty={self._penalty()!r} with alpha={self.alpha!r}")
        if eps > 0:
            causes.append(f"adversarial_eps={eps!r}")
        lower = " or ".join(
            name for name, on in (("alpha", penalised), ("adversarial_eps", eps > 0)) if on
        )
        warnings.warn(
            f"{type(self).__name__} with {' and '.join(causes)} predicts the same labels for "
            f"every training instance: the penalty or budget is so strong that the constant "
            f"model won. Lower {lower} (for example tenfold).",
            CollapsedModelWarning,
            stacklevel=4,  # the user's call: fit, then scikit-learn's _fit_context wrapper
        )

    def _adversarial(self):
        """``(method, eps)`` of adversarial training, ``(None, 0.0)`` when it is off.

        "auto" is "per-label" for the linear backend and "pgd" for the torch one; a method
        of the other backend raises ValueError.
        """
        eps = float(self.adversarial_eps)
        if eps == 0.0:
            return None, 0.0
        method = self.adversarial_method
        supported = _TORCH_ADVERSARIAL if self.backend == "torch" else _LINEAR_ADVERSARIAL
        if method == "auto":
            method = supported[0]
        if method not in supported:
            raise ValueError(
                f"adversarial_method={method!r} is not available with backend="
                f"{self.backend!r}; it supports {', '.join(map(repr, supported))} (or "
                "'auto')."
            )
        return method, eps

    def _deep_backend_requested(self):
        """The deep fitting module if ``backend="torch"`` (imported now), else None."""
        return _deep_backend() if self.backend == "torch" else None

    def _is_torch_fitted(self):
        return hasattr(self, "net_")

    def _fit_linear(self, X, Y_signed, start=None):
        name = type(self).__name__
        check_fit_scale(X, name)
        eps = self._adversarial()[1]  # the linear backend's one method is "per-label"
        objective = Objective(
            X, Y_signed, penalty=self._penalty(), alpha=self.alpha, C=self.C,
            margin_floor=self.margin_floor, loss=self.loss, loss_reduction=self.loss_reduction,
            margin_weighting=self.margin_weighting, adversarial_eps=eps,
        )
        solver = select_solver(self.solver, objective, sparse=sp.issparse(X))
        if start is None:
            W0 = np.zeros((Y_signed.shape[1], X.shape[1]))
            b0 = np.zeros(Y_signed.shape[1])
        else:
            W0, b0 = start
        hint = f"Lower alpha (got {self.alpha!r}) or C (got {self.C!r}), or scale X."
        try:
            W, b, n_iter, converged = minimize(
                objective, W0, b0, max_iter=self.max_iter, tol=self.tol, solver=solver,
                random_state=check_random_state(self.random_state),
                polish=self.solver == "auto", n_jobs=self.n_jobs,
            )
        except FloatingPointError as exc:
            raise ValueError(f"{name} diverged: {exc} {hint}") from exc
        check_finite_fit(W, b, name, hint)
        if not converged:
            warnings.warn(
                _CONVERGENCE_MSG.format(
                    name=type(self).__name__, why=_convergence_reason(n_iter, self.max_iter)
                ),
                ConvergenceWarning,
                stacklevel=3,
            )
        return W, b, n_iter

    def decision_function(self, X):
        """Per-label decision scores: ``h(x) = W x + b``, or the torch module's logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data (dense only for ``backend="torch"``).

        Returns
        -------
        scores : ndarray of shape (n_samples, n_labels) or (n_samples,)
            One column per label; 1-D for a binary problem, as OneVsRestClassifier does.
        """
        check_is_fitted(self)
        accept_sparse = False if self._is_torch_fitted() else "csr"
        X = validate_data(self, X, accept_sparse=accept_sparse, dtype=np.float64, reset=False)
        scores = self._skarm_decision().decision_function(X)
        return scores.ravel() if self.label_binarizer_.y_type_ == "binary" else scores

    def predict(self, X):
        """Predict labels: ``h_j(x) > 0`` per label, the argmax for a multiclass y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predictions in the format of the y seen in fit.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            scores = scores[:, None]
        return self.label_binarizer_.inverse_transform(scores, threshold=0.0)

    def _skarm_decision(self):
        """The decision model the metrics and attacks use.

        A :class:`~skarm._decision.LinearDecision` for the linear backend; for the torch
        backend a :class:`~skarm.deep.DeepDecision` (scores and input gradients through
        autograd; its ``coef`` is the last linear layer's weight).
        """
        check_is_fitted(self)
        if self._is_torch_fitted():
            return _deep_backend().decision_of(self)
        return LinearDecision(self.coef_, self.intercept_, type(self).__name__)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = self.backend != "torch"
        return tags


_COMMON_PARAMS_DOC = """alpha : float, default=1e-4
        Weight of the penalty: the paper's lambda in Eq. 6, 15 and 16.

    C : float, default=1.0
        Inverse strength of the SVM's own ridge term ``||W||_F^2 / (2 C n)``, as in
        :class:`~sklearn.svm.LinearSVC`; ``np.inf`` removes it. Linear backend only.

    margin_floor : float, default=0.01
        The paper's alpha in Eq. 13-16: a label's weight ``1 / max(exp(y_j h_j), alpha)``
        is capped at ``1 / margin_floor``. Used by the "sae" and "single" penalties.

    margin_weighting : {"floor", "soft"}, default="floor"
        How the "sae" and "single" penalties weight a label by its margin ``t = y_j h_j``:
        "floor" is the paper's ``1 / max(exp(t), margin_floor)`` (Eq. 13, weights up to
        ``1 / margin_floor``, 100 by default); "soft" is the authors' released code's
        ``1 / log(exp(margin_floor) + exp(exp(t)))``, smooth and capped near
        ``1 / log(1 + exp(margin_floor))`` (1.43 by default). Both decay as ``exp(-t)``
        for large margins. See :ref:`the user guide <sources>`.

    adversarial_eps : float, default=0.0
        L2 budget of adversarial training (0 turns it off): the loss is taken at the worst
        perturbation of norm at most ``adversarial_eps`` of each training instance, found
        by ``adversarial_method``. Combines with every penalty. Give it in the units of X
        (for example a fraction of :func:`~skarm.experiments.median_row_norm`).

    adversarial_method : {"auto", "per-label", "pgd"}, default="auto"
        How adversarial training finds the perturbations. "per-label" (linear backend):
        the exact worst case of every label alone, ``loss(y_j h_j(x) - eps ||w_j||)``,
        convex and certified for each label; "pgd" (torch backend):
        ``adversarial_steps`` steps of L2 PGD per minibatch inside the training step.
        "auto" is "per-label" for the linear backend and "pgd" for the torch one. (The
        joint min-max against GASE was measured and not shipped: see the user guide.)

    adversarial_steps : int, default=10
        Torch backend: PGD steps per minibatch ("pgd").

    loss : {"hinge", "squared_hinge"}, default="hinge"
        Per-label loss of the linear backend. The hinge is minimised through its Huber
        smoothing, shrunk in stages to a width of 0.01: it lies at most 0.005 below the
        hinge per label and instance, with the hinge's gradient outside margins in
        (0.99, 1). The torch backend always uses BCE-with-logits.

    loss_reduction : {"sum", "mean"}, default="sum"
        Sum the loss over labels (the paper's Theorem 1) or average it (the authors' code);
        "mean" rescales alpha by the number of labels. Both backends.

    backend : {"linear", "torch"}, default="linear"
        "linear": ``h(x) = W x + b`` trained in numpy/scipy, on dense or sparse X.
        "torch": ``module`` (default an MLP) trained with BCE-with-logits plus the penalty
        through skorch, on dense X; needs the ``deep`` extra (``pip install "skarm[deep]"``)
        and raises :class:`~skarm.exceptions.BackendNotAvailableError` without it. "sae" and
        "single" then differentiate the network's input gradients (double backprop);
        "primal", "l2" and "nuclear" act on its last :class:`torch.nn.Linear` layer.

    solver : {"auto", "lbfgs", "dual-cd"}, default="auto"
        Linear backend only. "lbfgs": L-BFGS on the whole objective (accelerated proximal
        gradient for the "nuclear" penalty), any penalty. "dual-cd": one SVM per label by
        dual coordinate descent, as :class:`~sklearn.svm.LinearSVC`'s liblinear does but
        with the intercept unpenalised, for the penalties that decouple over labels (None,
        "l2") with a ridge term (finite ``C``); for "sae", the same SVMs solved inside
        proximal-gradient steps on the penalty. "auto": "dual-cd" for sparse X where it
        applies (on bibtex 10-30x faster than L-BFGS for None, 3-4x for "sae", each to a
        lower objective), finished by L-BFGS if the SVMs have not converged within
        ``max_iter`` sweeps; "lbfgs" otherwise (dual coordinate descent is the slower one on
        dense, low-dimensional data). All minimise the same objective.

    max_iter : int, default=1000
        Maximum number of solver iterations: L-BFGS iterations (all hinge-smoothing stages
        together), or sweeps over the data per label for "dual-cd" (proximal steps for
        "sae"). Linear backend only.

    tol : float, default=1e-4
        Tolerance of the stopping criterion: L-BFGS's projected gradient; for "dual-cd"
        the spread of the dual's projected gradient (liblinear's rule) or the relative
        duality gap; for "dual-cd" with "sae", three proximal steps in a row that lower the
        objective by at most ``tol`` relatively. Linear backend only.

    warm_start : bool, default=False
        Linear backend: when True, ``fit`` starts the solver from the previous fit's
        ``coef_`` and ``intercept_`` (same width of X and same labels; otherwise from 0),
        which saves iterations along a path of ``alpha`` or ``adversarial_eps`` values
        (``model.set_params(alpha=a).fit(X, Y)`` in a loop). L-BFGS and FISTA (dense X,
        and every penalty but ``None``, "l2" and "sae" on sparse X) use it; the dual
        coordinate descent on sparse X starts from its own point (its dual variables at 0,
        or for "sae" with a ridge the unpenalised SVMs) whatever it is.
        :class:`~sklearn.model_selection.GridSearchCV` clones the estimator for each
        candidate, so it never warm-starts. The torch backend does not support it.

    n_jobs : int, default=None
        Linear backend: threads over the labels where the solver decouples them (the dual
        coordinate descent for sparse X: ``penalty=None`` and "l2", adversarial training,
        and the per-label SVMs of each proximal step of "sae"). The labels' results do not
        depend on it. ``None`` means 1 unless in a :obj:`joblib.parallel_backend` context;
        ``-1`` means all processors.

    module : torch.nn.Module class or instance, default=None
        Torch backend: the network mapping a (batch, n_features) float tensor to
        (batch, n_labels) logits. None is an MLP with ``hidden_layer_sizes`` (ReLU). A class
        is instantiated in fit, with ``n_features`` and ``n_labels`` passed when its
        ``__init__`` has parameters of those names (others through ``net_params``, as
        ``{"module__width": 64}``). An instance is copied in fit, so each fit starts from
        its weights (a pretrained backbone stays pretrained; see :mod:`skarm.deep`).

    hidden_layer_sizes : int or array-like of int, default=(100,)
        Torch backend, default ``module`` only: widths of the hidden layers (an int is one
        layer; an empty tuple gives the linear model ``h(x) = W x + b``).

    max_epochs : int, default=100
        Torch backend: number of training epochs (fewer if an early-stopping callback
        ends training).

    batch_size : int, default=64
        Torch backend: instances per minibatch.

    lr : float, default=1e-3
        Torch backend: learning rate of the optimizer (Adam unless ``net_params`` sets
        ``"optimizer"``).

    validation_fraction : float in (0, 1) or None, default=None
        Torch backend: share of the training data held out (not stratified) to compute the
        validation loss (BCE plus penalty) each epoch, as early stopping and checkpoint
        callbacks monitor it (``"valid_loss"``). None trains on all the data.

    device : str or torch.device, default="auto"
        Torch backend: where to train and predict. "auto" is CUDA when available, else
        the CPU.

    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Torch backend: passed to the skorch net, e.g. ``skorch.callbacks.EarlyStopping``,
        ``Checkpoint`` or ``ProgressBar``. They are deep-copied in fit; the trained copies
        are in ``net_.callbacks_``.

    net_params : dict, default=None
        Torch backend: further arguments of the skorch net :class:`~skarm.deep.ARMNet`,
        with skorch's prefixes: ``{"optimizer": torch.optim.SGD,
        "optimizer__momentum": 0.9, "module__dropout": 0.5,
        "iterator_train__num_workers": 2}``. Arguments that are parameters of this
        estimator may not be repeated here.

    random_state : int, RandomState instance or None, default=None
        Torch backend: seeds torch for the initialisation, the shuffling of the batches,
        dropout and the validation split (the caller's torch RNG state is restored after
        fit), so a fit on the CPU is deterministic for an int. Linear backend: orders the
        sweeps of ``solver="dual-cd"``; L-BFGS is deterministic without it.

    verbose : int, default=0
        Verbosity; for the torch backend, skorch's per-epoch log."""

_ATTRIBUTES_DOC = """Attributes
    ----------
    coef_ : ndarray of shape (n_labels, n_features)
        Label weight vectors ``w_j`` (rows). Linear backend only: a torch fit sets no
        ``coef_``; the last layer's weights are ``net_.module_``'s (and what
        :func:`~skarm.metrics.alignment_score` compares).

    intercept_ : ndarray of shape (n_labels,)
        Label biases. Linear backend only.

    net_ : skarm.deep.ARMNet
        Torch backend only: the trained skorch net (``net_.module_`` is the network,
        ``net_.history`` the per-epoch losses).

    classes_ : ndarray
        Labels seen in fit: the label indices for a 2-D y, the classes for a 1-D y.

    label_binarizer_ : LabelBinarizer
        Binarises y one-vs-rest.

    n_iter_ : int
        Number of solver iterations (linear backend; for "dual-cd" the most sweeps any
        label took, plus L-BFGS's iterations where "auto" finished with it, or the
        proximal steps for "sae") or of training epochs (torch).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string feature names."""


class ARMClassifier(_BaseARMClassifier):
    __doc__ = f"""Multi-label hinge-loss classifier with an attack-transferability penalty.

    Fits ``h(x) = W x + b`` by minimising
    ``(1/n) sum_i hinge(h(x_i), y_i) + ||W||^2 / (2 C n) + alpha * R(W, b)`` where R is one
    of the penalties of the paper's Table 3 (ARM-SAE, ARM-Primal, ARM-Single and the L2 and
    nuclear-norm baselines). A drop-in replacement for
    ``OneVsRestClassifier(LinearSVC())``.

    With ``backend="torch"`` the model is any torch module ``h(x) = W Rep(x) + b`` (default
    an MLP), trained by minibatch Adam on ``mean_i BCE(h(x_i), y_i) + alpha * R`` through
    skorch (ALGORITHMS.md 3.5): "sae" and "single" use the module's input gradients, the
    others its last linear layer. Parameters marked "linear backend only" are ignored by the
    torch backend, and those marked "torch backend" by the linear one.

    Read more in the :ref:`User Guide <arm>`.

    Parameters
    ----------
    penalty : {{"sae", "primal", "single", "l2", "nuclear"}} or None, default="sae"
        The penalty R (paper names in brackets):

        - "sae" (ARM-SAE, Eq. 15): the mean soft attackability of the training instances
          with the margin-weighted vectors of Eq. 14;
        - "primal" (ARM-Primal, Eq. 6): the mean of ``max_S ||sum_S y_j w_j||``;
        - "single" (ARM-Single, Eq. 16): every label penalised alone;
        - "l2": ``||W||_F^2``; "nuclear": ``||W||_*`` (by its proximal operator);
        - None: the plain linear SVM ("non").

    {_COMMON_PARAMS_DOC}

    {_ATTRIBUTES_DOC}

    See Also
    --------
    ARMSAEClassifier : ``penalty="sae"`` fixed.
    ARMPrimalClassifier : ``penalty="primal"`` fixed.
    skarm.metrics.soft_attackability : The SAE of a fitted model.

    Notes
    -----
    The maxima over label sets in "sae" and "primal" use the same greedy search as
    :func:`skarm.metrics.soft_attackability`, with the selection held fixed when
    differentiating. The paper's lambda is ``alpha`` and its alpha is ``margin_floor``.

    References
    ----------
    Z. Yang, Y. Han and X. Zhang, "Attack Transferability Characterization for Adversarially
    Robust Multi-label Classification", ECML-PKDD 2021.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from skarm import ARMClassifier
    >>> X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    >>> clf = ARMClassifier(penalty="sae", alpha=0.1).fit(X, Y)
    >>> clf.predict(X[:2]).shape
    (2, 4)

    The same penalty on a small network (needs ``pip install "skarm[deep]"``):

    >>> deep = ARMClassifier(penalty="sae", alpha=0.1, backend="torch",
    ...                      hidden_layer_sizes=(32,), max_epochs=20,
    ...                      random_state=0).fit(X, Y)  # doctest: +SKIP
    >>> deep.predict(X[:2]).shape  # doctest: +SKIP
    (2, 4)
    """

    _parameter_constraints: dict = {
        **_BaseARMClassifier._parameter_constraints,
        "penalty": [StrOptions({p for p in PENALTIES if p is not None}), None],
    }

    def __init__(
        self,
        penalty="sae",
        alpha=1e-4,
        *,
        C=1.0,
        margin_floor=0.01,
        margin_weighting="floor",
        adversarial_eps=0.0,
        adversarial_method="auto",
        adversarial_steps=10,
        loss="hinge",
        loss_reduction="sum",
        backend="linear",
        solver="auto",
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        n_jobs=None,
        module=None,
        hidden_layer_sizes=(100,),
        max_epochs=100,
        batch_size=64,
        lr=1e-3,
        validation_fraction=None,
        device="auto",
        callbacks=None,
        net_params=None,
        random_state=None,
        verbose=0,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.C = C
        self.margin_floor = margin_floor
        self.margin_weighting = margin_weighting
        self.adversarial_eps = adversarial_eps
        self.adversarial_method = adversarial_method
        self.adversarial_steps = adversarial_steps
        self.loss = loss
        self.loss_reduction = loss_reduction
        self.backend = backend
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.device = device
        self.callbacks = callbacks
        self.net_params = net_params
        self.random_state = random_state
        self.verbose = verbose

    def _penalty(self):
        return self.penalty


class _PresetARMClassifier(_BaseARMClassifier):
    """ARMClassifier with the penalty fixed by the subclass (``_fixed_penalty``).

    The presets share this ``__init__``; scikit-learn reads their parameters from it.
    """

    _fixed_penalty = None

    def __init__(
        self,
        alpha=1e-4,
        *,
        C=1.0,
        margin_floor=0.01,
        margin_weighting="floor",
        adversarial_eps=0.0,
        adversarial_method="auto",
        adversarial_steps=10,
        loss="hinge",
        loss_reduction="sum",
        backend="linear",
        solver="auto",
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        n_jobs=None,
        module=None,
        hidden_layer_sizes=(100,),
        max_epochs=100,
        batch_size=64,
        lr=1e-3,
        validation_fraction=None,
        device="auto",
        callbacks=None,
        net_params=None,
        random_state=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.C = C
        self.margin_floor = margin_floor
        self.margin_weighting = margin_weighting
        self.adversarial_eps = adversarial_eps
        self.adversarial_method = adversarial_method
        self.adversarial_steps = adversarial_steps
        self.loss = loss
        self.loss_reduction = loss_reduction
        self.backend = backend
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.device = device
        self.callbacks = callbacks
        self.net_params = net_params
        self.random_state = random_state
        self.verbose = verbose

    def _penalty(self):
        return self._fixed_penalty


class ARMSAEClassifier(_PresetARMClassifier):
    __doc__ = f"""ARM-SAE: ARMClassifier with the Soft Attackability penalty (Eq. 15).

    Minimises ``(1/n) sum_i hinge(h(x_i), y_i) + ||W||^2 / (2 C n)
    + (alpha/n) sum_i phi_hat(x_i, y_i)``, where ``phi_hat`` (Eq. 14) is the SAE with the
    label vectors ``-y_j grad h_j(x) / max(exp(y_j h_j(x)), margin_floor)``.

    Parameters
    ----------
    {_COMMON_PARAMS_DOC}

    {_ATTRIBUTES_DOC}

    See Also
    --------
    ARMClassifier : The same model with any penalty.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from skarm import ARMSAEClassifier
    >>> X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    >>> ARMSAEClassifier(alpha=0.1).fit(X, Y).coef_.shape
    (4, 20)
    """

    _fixed_penalty = "sae"


class ARMPrimalClassifier(_PresetARMClassifier):
    __doc__ = f"""ARM-Primal: ARMClassifier with the C_(W,z) penalty of Theorem 1 (Eq. 6).

    Minimises ``(1/n) sum_i hinge(h(x_i), y_i) + ||W||^2 / (2 C n)
    + (alpha/n) sum_i max_S ||sum_{{j in S}} y_ij w_j||``: the alignment of the label weight
    vectors, the same for every instance with the same label set.

    Parameters
    ----------
    {_COMMON_PARAMS_DOC}

    {_ATTRIBUTES_DOC}

    See Also
    --------
    ARMClassifier : The same model with any penalty.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from skarm import ARMPrimalClassifier
    >>> X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    >>> ARMPrimalClassifier(alpha=0.1).fit(X, Y).coef_.shape
    (4, 20)
    """

    _fixed_penalty = "primal"
