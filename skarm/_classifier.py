"""Attackability-regularised multi-label classifiers: ARMClassifier and its presets.

The estimator is the seam between the user and two backends (:ref:`architecture`): it
validates its parameters and data, binarises y (:mod:`skarm.utils._targets`), refuses
the other backend's parameters (:func:`skarm._spec.check_backend_parameters`) and hands
plain values to :func:`skarm.linear._fit.fit_linear` (``h(x) = W x + b``) or
:func:`skarm.deep._fit.fit_net` (any torch module, trained through skorch; imported only
when that backend is used). Each returns a fitted decision object (the decision protocol,
:mod:`skarm._decision`) that the estimator keeps as ``decision_``; prediction, the metrics
and the attacks all go through it. The parameter and attribute docs the three classes
share are in :mod:`skarm._classifier_docs`.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import difflib
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._classifier_docs import ATTRIBUTES_DOC, COMMON_PARAMS_DOC
from ._decision import LinearDecision
from ._spec import PENALTIES, SHARED_PARAMETERS, check_backend_parameters
from .deep._params import TORCH_PARAMETERS
from .exceptions import CollapsedModelWarning
from .linear._fit import LINEAR_PARAMETERS, fit_linear
from .utils._sklearn_compat import (
    InvalidParameterError,
    StrOptions,
    _fit_context,
    validate_data,
)
from .utils._targets import binarize_targets

__all__ = ["ARMClassifier", "ARMPrimalClassifier", "ARMSAEClassifier"]

# adversarial_method per backend; "auto" is the first.
_ADVERSARIAL_METHODS = {"linear": ("per-label",), "torch": ("pgd",)}
# The parameters only one backend reads: set on the other, they are refused.
_BACKEND_PARAMETERS = {"linear": tuple(LINEAR_PARAMETERS), "torch": tuple(TORCH_PARAMETERS)}


def _deep_backend():
    """:mod:`skarm.deep._fit`, imported on first use of ``backend="torch"``.

    Raises :class:`~skarm.exceptions.BackendNotAvailableError` (an ImportError) naming the
    ``deep`` extra when torch or skorch is missing.
    """
    from .deep import require_deep_extra

    require_deep_extra()
    from .deep import _fit

    return _fit


class ARMClassifier(ClassifierMixin, BaseEstimator):
    __doc__ = f"""Multi-label hinge-loss classifier with an attack-transferability penalty.

    Fits ``h(x) = W x + b`` by minimising
    ``(1/n) sum_i hinge(h(x_i), y_i) + ||W||^2 / (2 C n) + alpha * R(W, b)`` where R is one
    of the penalties of the paper's Table 3 (ARM-SAE, ARM-Primal, ARM-Single and the L2 and
    nuclear-norm baselines). A drop-in replacement for
    ``OneVsRestClassifier(LinearSVC())``.

    With ``backend="torch"`` the model is any torch module ``h(x) = W Rep(x) + b`` (default
    an MLP), trained by minibatch Adam on ``mean_i BCE(h(x_i), y_i) + alpha * R`` through
    skorch (:ref:`alg-deep`): "sae" and "single" use the module's input gradients, the
    others its last linear layer. A parameter marked "linear backend only" or "torch
    backend" set away from its default with the other backend raises a ValueError: that
    backend would not read it.

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
        "penalty": [StrOptions({p for p in PENALTIES if p is not None}), None],
        **SHARED_PARAMETERS,
        **LINEAR_PARAMETERS,
        **TORCH_PARAMETERS,
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


    def _validate_params(self):
        try:
            super()._validate_params()
        except InvalidParameterError as exc:
            value = self.penalty
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
        check_backend_parameters(self, _BACKEND_PARAMETERS)
        _, adversarial_eps = self._adversarial()
        deep = _deep_backend() if self.backend == "torch" else None
        X, y = validate_data(
            self, X, y, accept_sparse=False if deep else "csr", dtype=np.float64,
            multi_output=True,
        )
        self.label_binarizer_, Y = binarize_targets(y, type(self).__name__)
        self.classes_ = self.label_binarizer_.classes_
        shared = dict(
            penalty=self.penalty, alpha=self.alpha, margin_floor=self.margin_floor,
            margin_weighting=self.margin_weighting, loss_reduction=self.loss_reduction,
            adversarial_eps=adversarial_eps, random_state=self.random_state,
            name=type(self).__name__,
        )
        if deep:
            self.decision_, self.net_ = deep.fit_net(
                X, Y, **shared, adversarial_steps=self.adversarial_steps,
                module=self.module, hidden_layer_sizes=self.hidden_layer_sizes,
                max_epochs=self.max_epochs, batch_size=self.batch_size, lr=self.lr,
                validation_fraction=self.validation_fraction, device=self.device,
                callbacks=self.callbacks, net_params=self.net_params, verbose=self.verbose,
            )
            self.n_iter_ = len(self.net_.history)
        else:
            self.__dict__.pop("net_", None)  # a torch fit's network, if refitted
            previous = self.__dict__.get("decision_")
            self.decision_, self.n_iter_ = fit_linear(
                X, Y, **shared, C=self.C, loss=self.loss, solver=self.solver,
                max_iter=self.max_iter, tol=self.tol, n_jobs=self.n_jobs,
                start=previous if self.warm_start and isinstance(previous, LinearDecision)
                else None,
            )
        self._warn_if_collapsed(X, Y)
        return self

    @property
    def coef_(self):
        """``W`` of ``h(x) = W x + b`` (linear backend): ``decision_.coef``."""
        return self._linear_decision("coef_").coef

    @coef_.setter
    def coef_(self, value):
        decision = self._linear_decision("coef_")
        self.decision_ = LinearDecision(np.asarray(value), decision.intercept, decision.name)

    @property
    def intercept_(self):
        """``b`` of ``h(x) = W x + b`` (linear backend): ``decision_.intercept``."""
        return self._linear_decision("intercept_").intercept

    @intercept_.setter
    def intercept_(self, value):
        decision = self._linear_decision("intercept_")
        self.decision_ = LinearDecision(decision.coef, np.asarray(value), decision.name)

    def _linear_decision(self, attribute):
        decision = self.__dict__.get("decision_")
        if not isinstance(decision, LinearDecision):
            why = "is not fitted" if decision is None else "was fitted with backend='torch'"
            raise AttributeError(
                f"{type(self).__name__} {why}; {attribute} is the weights of a linear fit "
                "(the network of a torch fit is net_, its decision decision_)."
            )
        return decision

    def _warn_if_collapsed(self, X, Y):
        """Warn when a penalised or adversarially trained fit predicts a constant for every
        label on its own training data (``W = 0`` for the linear backend): too much
        ``alpha`` or ``adversarial_eps`` gives the constant model, which is never what the
        user asked for and was returned silently before."""
        eps = self._adversarial()[1]
        penalised = self.alpha > 0 and self.penalty is not None
        if not (penalised or eps > 0) or np.all(Y == Y[:1]):
            return
        scores = self.decision_.decision_function(X)
        if not np.all((scores > 0) == (scores[:1] > 0)):
            return
        causes = []
        if penalised:
            causes.append(f"penalty={self.penalty!r} with alpha={self.alpha!r}")
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
        supported = _ADVERSARIAL_METHODS[self.backend]
        if method == "auto":
            method = supported[0]
        if method not in supported:
            raise ValueError(
                f"adversarial_method={method!r} is not available with backend="
                f"{self.backend!r}; it supports {', '.join(map(repr, supported))} (or "
                "'auto')."
            )
        return method, eps

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
        linear = isinstance(self.decision_, LinearDecision)
        X = validate_data(
            self, X, accept_sparse="csr" if linear else False, dtype=np.float64, reset=False
        )
        scores = self.decision_.decision_function(X)
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = self.backend != "torch"
        return tags



class _ARMPreset(ARMClassifier):
    """ARMClassifier with the penalty fixed by the subclass (``_fixed_penalty``).

    As scikit-learn's Lasso is ElasticNet with ``l1_ratio=1``: the signature lists what
    ``get_params`` reads (every parameter but ``penalty``), and ``__init__`` hands them on.
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
        super().__init__(
            penalty=self._fixed_penalty, alpha=alpha, C=C, margin_floor=margin_floor,
            margin_weighting=margin_weighting, adversarial_eps=adversarial_eps,
            adversarial_method=adversarial_method, adversarial_steps=adversarial_steps,
            loss=loss, loss_reduction=loss_reduction, backend=backend, solver=solver,
            max_iter=max_iter, tol=tol, warm_start=warm_start, n_jobs=n_jobs, module=module,
            hidden_layer_sizes=hidden_layer_sizes, max_epochs=max_epochs,
            batch_size=batch_size, lr=lr, validation_fraction=validation_fraction,
            device=device, callbacks=callbacks, net_params=net_params,
            random_state=random_state, verbose=verbose,
        )


class ARMSAEClassifier(_ARMPreset):
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


class ARMPrimalClassifier(_ARMPreset):
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
