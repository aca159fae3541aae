"""Reading ``h(x) = W x + b`` off scikit-learn's linear models and Pipelines.

:func:`final_linear` reads ``(W, b)`` off the last step; :func:`fold_affine_steps` folds the
affine preprocessing steps before it in, so that ``(W, b)`` act on the *raw* input (an
attacker perturbs what enters the Pipeline). :func:`skarm.as_decision` wraps the result in a
:class:`~skarm.LinearDecision`.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.frozen import FrozenEstimator
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted

from .utils._sklearn_compat import ConstantPredictor, fitted_target_type
from .utils._validation import to_dense

__all__ = ["SUPPORTED_MODELS", "final_linear", "fold_affine_steps", "is_affine_step",
           "pipeline_steps", "unfrozen"]

SUPPORTED_MODELS = (
    "skarm's estimators, linear classifiers with coef_ and intercept_ (binary, or "
    "RidgeClassifier with 2-D y), OneVsRestClassifier and MultiOutputClassifier over them, "
    "and Pipelines of StandardScaler, MinMaxScaler (clip=False), MaxAbsScaler, PCA, "
    "TruncatedSVD or 'passthrough' steps ending in one of these"
)


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


def final_linear(est):
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
    if isinstance(est, ClassifierChain):
        raise TypeError(
            "ClassifierChain feeds each label's prediction (a step function of x) to the "
            "next labels' classifiers, so its decision is neither linear nor differentiable "
            "in x and no gradient attack applies to it. MultiOutputClassifier of the same "
            "linear classifiers is supported."
        )
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


def unfrozen(estimator):
    """The model inside a :class:`~sklearn.frozen.FrozenEstimator` (the scikit-learn way to
    keep a fitted model fitted through ``clone``), which delegates attributes but is not
    itself an OvR, a Pipeline or a skarm estimator."""
    while isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    return estimator


def pipeline_steps(pipeline):
    """``(steps, final)``: the named preprocessing steps (passthrough left out) and the
    last step, each looked through a FrozenEstimator."""
    steps = [
        (name, unfrozen(step)) for name, step in pipeline.steps[:-1]
        if step not in (None, "passthrough")
    ]
    return steps, unfrozen(pipeline.steps[-1][1])


def fold_affine_steps(steps, W, b):
    """``(W, b)`` of ``h(step_k(...step_1(x)))`` from the last step's ``(W, b)``."""
    # Fold affine steps backwards: h = ((x * s) @ M + o) W^T + b.
    for step_name, step in reversed(steps):
        if is_affine_step(step):
            check_is_fitted(step)  # before reading its fitted attributes
        scale, M, offset = _affine_step(step, step_name)
        b = b + W @ offset
        if M is not None:
            W = W @ M.T
        W = W * scale
    return np.ascontiguousarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)

