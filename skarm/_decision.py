"""The decision function of a fitted model, seen through the quantities skarm needs.

SAE, GASE and the penalties need two things from a model: its scores ``h(x)`` and the Gram of
its input gradients ``grad_x h_j(x)``. A :class:`LinearDecision` (``h(x) = W x + b``) has the
same gradients everywhere, so the Gram ``K = W W^T`` is shared by all instances.

:func:`as_decision` reads ``(W, b)`` off the models users already have, in the
coordinates of the *raw* input (an attacker perturbs what enters the Pipeline), folding affine
preprocessing steps into ``W`` and ``b``.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.frozen import FrozenEstimator
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted

from .utils._sklearn_compat import ConstantPredictor, fitted_target_type
from .utils._validation import check_model_input, to_dense

__all__ = ["LinearDecision", "as_decision"]

SUPPORTED_MODELS = (
    "skarm's estimators, linear classifiers with coef_ and intercept_ (binary, or "
    "RidgeClassifier with 2-D y), OneVsRestClassifier and MultiOutputClassifier over them, "
    "and Pipelines of StandardScaler, MinMaxScaler (clip=False), MaxAbsScaler, PCA, "
    "TruncatedSVD or 'passthrough' steps ending in one of these"
)


@dataclass(frozen=True)
class LinearDecision:
    """A multi-label linear decision function ``h(x) = x W^T + b`` in the raw input space.

    Parameters
    ----------
    coef : ndarray of shape (n_labels, n_features)
        ``W``; row ``j`` is the gradient of ``h_j``.
    intercept : ndarray of shape (n_labels,)
        ``b``.
    name : str
        Name of the model it was read from, for error messages.
    """

    coef: np.ndarray
    intercept: np.ndarray
    name: str = "estimator"

    @property
    def n_features(self):
        return self.coef.shape[1]

    @property
    def n_labels(self):
        return self.coef.shape[0]

    def check_X(self, X):
        """Validate X for this model: 2-D, finite, numeric, dense or CSR, right width."""
        return check_model_input(X, self.n_features, self.name)

    def decision_function(self, X):
        """Scores ``h(X)`` of shape (n_samples, n_labels); X must be validated."""
        scores = X @ self.coef.T
        return np.asarray(scores) + self.intercept

    def input_gradients(self, X):
        """Jacobians ``grad_x h(x)`` of shape (n_samples, n_labels, n_features).

        A read-only broadcast view of W: no n * m * d memory is allocated.
        """
        return np.broadcast_to(self.coef, (X.shape[0], *self.coef.shape))

    def gradient_gram(self, X=None):
        """Gram of the input gradients: ``K = W W^T``, shared by all instances (X unused)."""
        return self.coef @ self.coef.T


def _binary_linear(est, where):
    """(w, b) of a fitted binary linear classifier, as a (1, d) row and (1,) intercept."""
    if not (hasattr(est, "coef_") and hasattr(est, "intercept_")):
        raise TypeError(
            f"{where} is a {type(est).__name__}, which has no linear decision function "
            f"(coef_ and intercept_). Supported: {SUPPORTED_MODELS}."
        )
    coef = np.atleast_2d(to_dense(est.coef_))
    if coef.shape[0] != 1:
        raise TypeError(
            f"{where} is a multiclass {type(est).__name__} (coef_ has {coef.shape[0]} rows). "
            "Soft attackability needs one sign decision per label (multi-label or binary)."
        )
    return coef, np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64)).reshape(1)


def _final_linear(est):
    """(W, b) of the last step, in that step's own input space."""
    name = type(est).__name__
    if isinstance(est, OneVsRestClassifier):
        if fitted_target_type(est) == "multiclass":
            raise TypeError(
                "OneVsRestClassifier was fitted on a multiclass target; its prediction is an "
                "argmax, not one sign decision per label. Fit it on a 2-D label indicator."
            )
        rows, biases = [], []
        for k, sub in enumerate(est.estimators_):
            if isinstance(sub, ConstantPredictor):
                # OvR's stand-in for a label constant in training: a flat score whose sign
                # is that constant (OvR predicts 1 when its score 1 is > 0).
                d = est.n_features_in_
                w = np.zeros((1, d))
                b = np.array([1.0 if np.ravel(sub.y_)[0] == 1 else -1.0])
            else:
                w, b = _binary_linear(sub, f"estimators_[{k}]")
            rows.append(w)
            biases.append(b)
        return np.vstack(rows), np.concatenate(biases)
    if isinstance(est, MultiOutputClassifier):
        pairs = [_binary_linear(sub, f"estimators_[{k}]") for k, sub in enumerate(est.estimators_)]
        return np.vstack([w for w, _ in pairs]), np.concatenate([b for _, b in pairs])
    if hasattr(est, "coef_") and hasattr(est, "intercept_"):
        coef = np.atleast_2d(to_dense(est.coef_))
        if coef.shape[0] > 1 and fitted_target_type(est) != "multilabel-indicator":
            raise TypeError(
                f"{name} was fitted on a multiclass target (coef_ has {coef.shape[0]} rows); "
                "its prediction is an argmax, not one sign decision per label."
            )
        intercept = np.broadcast_to(
            np.asarray(est.intercept_, dtype=np.float64), (coef.shape[0],)
        ).copy()
        return coef, intercept
    raise TypeError(
        f"{name} has no linear decision function h(x) = W x + b that skarm can read. "
        f"Supported: {SUPPORTED_MODELS}."
    )


# The preprocessing steps folded into W and b: each is x -> (x * scale) @ M + offset.
AFFINE_STEPS = (StandardScaler, MaxAbsScaler, MinMaxScaler, PCA, TruncatedSVD)


def is_affine_step(step):
    """Whether a fitted Pipeline step is an affine map skarm folds into a linear model."""
    if isinstance(step, MinMaxScaler):
        return not step.clip  # clipping is not affine
    return isinstance(step, AFFINE_STEPS)


def _affine_step(step, name):
    """(scale, M, offset) with step(x) = (x * scale) @ M + offset; M None means identity."""
    if not is_affine_step(step):
        raise TypeError(
            f"Pipeline step {name!r} ({type(step).__name__}) is not an affine map, so skarm "
            "cannot differentiate the Pipeline through it. To measure and attack the model "
            "in the feature space this step produces (the threat model of attacks on TF-IDF "
            "or bag-of-words features), split the Pipeline there: "
            "`model, X_features = skarm.feature_space(pipeline, X)`. Affine steps skarm "
            f"folds into the model: {SUPPORTED_MODELS}."
        )
    d = step.n_features_in_
    if isinstance(step, StandardScaler):
        # scikit-learn keeps mean_ when with_mean=False (and scale_ is None when
        # with_std=False): what transform applies is decided by the flags, as there.
        scale = 1.0 / step.scale_ if step.with_std and step.scale_ is not None else np.ones(d)
        mean = step.mean_ if step.with_mean and step.mean_ is not None else np.zeros(d)
        return scale, None, -mean * scale
    if isinstance(step, MaxAbsScaler):
        return 1.0 / step.scale_, None, np.zeros(d)
    if isinstance(step, MinMaxScaler) and not step.clip:
        return step.scale_, None, step.min_
    if isinstance(step, PCA):
        M = step.components_.T
        if step.whiten:
            # As PCA.transform: variances below machine epsilon are clipped to it.
            scale = np.sqrt(step.explained_variance_)
            M = M / np.maximum(scale, np.finfo(scale.dtype).eps)
        return np.ones(d), M, -step.mean_ @ M
    M = step.components_.T  # TruncatedSVD
    return np.ones(d), M, np.zeros(M.shape[1])


def _unfrozen(estimator):
    """The model inside a :class:`~sklearn.frozen.FrozenEstimator` (the scikit-learn way to
    keep a fitted model fitted through ``clone``), which delegates attributes but is not
    itself an OvR, a Pipeline or a skarm estimator."""
    while isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    return estimator


def as_decision(estimator):
    """Read the decision function of a fitted multi-label model.

    skarm's estimators provide their own decision model (``_skarm_decision()``: linear, or
    a torch module's scores and input gradients); other models are read as linear.

    Parameters
    ----------
    estimator : estimator instance
        A fitted model; see ``SUPPORTED_MODELS``.

    Returns
    -------
    decision : LinearDecision or skarm.deep.DeepDecision
        ``(W, b)`` in the raw input space of ``estimator``; for a torch-backend skarm
        estimator its scores and input gradients (``DeepDecision``).

    Raises
    ------
    NotFittedError
        If ``estimator`` (or its last step) is not fitted.
    TypeError
        If the model's decision function is not linear in its input, or not one sign
        decision per label.
    """
    estimator = _unfrozen(estimator)
    if hasattr(estimator, "_skarm_decision"):
        return estimator._skarm_decision()
    name = type(estimator).__name__
    steps = []
    final = estimator
    if isinstance(estimator, Pipeline):
        steps = [
            (name, _unfrozen(s))
            for name, s in estimator.steps[:-1]
            if s not in (None, "passthrough")
        ]
        final = _unfrozen(estimator.steps[-1][1])
        if hasattr(final, "_skarm_decision"):
            decision = final._skarm_decision()
            if not isinstance(decision, LinearDecision):
                # A torch-backend model: its coef is a last layer, not an input gradient,
                # so preprocessing cannot be folded into it.
                if steps:
                    raise TypeError(
                        f"{name} ends in {type(final).__name__} with a non-linear decision "
                        "function; skarm cannot fold the Pipeline's preprocessing into it. "
                        "Put the preprocessing inside the torch module, or attack the final "
                        "step on preprocessed X: `model, X_features = "
                        "skarm.feature_space(pipeline, X)` splits after a non-affine step."
                    )
                return decision
            W, b = decision.coef, decision.intercept
        else:
            check_is_fitted(final)
            W, b = _final_linear(final)
    else:
        check_is_fitted(estimator)
        W, b = _final_linear(estimator)
    # Fold affine steps backwards: h = ((x * s) @ M + o) W^T + b.
    for step_name, step in reversed(steps):
        if is_affine_step(step):
            check_is_fitted(step)  # before reading its fitted attributes
        scale, M, offset = _affine_step(step, step_name)
        b = b + W @ offset
        if M is not None:
            W = W @ M.T
        W = W * scale
    return LinearDecision(np.ascontiguousarray(W, dtype=np.float64), np.asarray(b, float), name)
