"""Attackability-regularised multi-label classifiers: ARMClassifier and its presets.

The estimators validate their parameters and data, binarise y
(:mod:`skarm.utils._targets`) and hand the arrays to one of two backends:
``backend="linear"`` (``h(x) = W x + b``, fitted by :func:`skarm.linear._fit.fit_linear`)
and ``backend="torch"`` (any torch module, trained through skorch by
:func:`skarm.deep._fit.fit_net`, imported only when that backend is used). Prediction is
shared. The parameter and attribute docs the three classes share are in
:mod:`skarm._classifier_docs`.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import difflib
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._classifier_docs import ATTRIBUTES_DOC, COMMON_PARAMS_DOC
from ._decision import LinearDecision
from .exceptions import CollapsedModelWarning
from .linear._fit import fit_linear
from .linear._objective import LOSSES, MARGIN_WEIGHTINGS, PENALTIES
from .linear._solvers import SOLVERS
from .utils._sklearn_compat import (
    N_JOBS_CONSTRAINT,
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    _fit_context,
    validate_data,
)
from .utils._targets import binarize_targets

__all__ = ["ARMClassifier", "ARMPrimalClassifier", "ARMSAEClassifier"]

# adversarial_method values; "auto" resolves per backend (_BaseARMClassifier._adversarial).
ADVERSARIAL_METHODS = ("auto", "per-label", "pgd")
_LINEAR_ADVERSARIAL = ("per-label",)
_TORCH_ADVERSARIAL = ("pgd",)

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
        self.label_binarizer_, Y = binarize_targets(y, type(self).__name__)
        self.classes_ = self.label_binarizer_.classes_
        if deep:
            for attr in _LINEAR_ATTRIBUTES:
                self.__dict__.pop(attr, None)
            self.net_ = deep.fit_net(self, X, Y, self._penalty())
            self.n_iter_ = len(self.net_.history)
        else:
            for attr in _TORCH_ATTRIBUTES:
                self.__dict__.pop(attr, None)
            # The linear backend's one adversarial method is "per-label".
            self.coef_, self.intercept_, self.n_iter_ = fit_linear(
                self, X, Y, self._penalty(), self._adversarial()[1]
            )
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


class ARMClassifier(_BaseARMClassifier):
    __doc__ = f"""Multi-label hinge-loss classifier with an attack-transferability penalty.

    Fits ``h(x) = W x + b`` by minimising
    ``(1/n) sum_i hinge(h(x_i), y_i) + ||W||^2 / (2 C n) + alpha * R(W, b)`` where R is one
    of the penalties of the paper's Table 3 (ARM-SAE, ARM-Primal, ARM-Single and the L2 and
    nuclear-norm baselines). A drop-in replacement for
    ``OneVsRestClassifier(LinearSVC())``.

    With ``backend="torch"`` the model is any torch module ``h(x) = W Rep(x) + b`` (default
    an MLP), trained by minibatch Adam on ``mean_i BCE(h(x_i), y_i) + alpha * R`` through
    skorch (:ref:`alg-deep`): "sae" and "single" use the module's input gradients, the
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

    {COMMON_PARAMS_DOC}

    {ATTRIBUTES_DOC}

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
    {COMMON_PARAMS_DOC}

    {ATTRIBUTES_DOC}

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
    {COMMON_PARAMS_DOC}

    {ATTRIBUTES_DOC}

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
