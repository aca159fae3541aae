"""Where the threat model starts in a Pipeline: the feature space of its non-affine steps.

An attacker who edits a document changes words, not TF-IDF weights, and no gradient passes
through a vectoriser. The paper (and skarm) therefore measure and attack text models in the
feature space a fitted vectoriser produces: the perturbation is a change of the features.
skarm never makes that choice silently; :func:`feature_space` is the explicit way to make it.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._linear_models import is_affine_step, unfrozen

__all__ = ["feature_space"]


def feature_space(pipeline, X):
    """Split a fitted Pipeline after its last non-affine step, and transform X up to there.

    skarm differentiates a Pipeline through affine steps (scalers, PCA, TruncatedSVD) by
    folding them into the model. A step that is not affine, such as
    :class:`~sklearn.feature_extraction.text.TfidfVectorizer`, a one-hot encoder or a
    polynomial expansion, has no input gradient; attacks and scores then apply to the
    features it produces. This function makes that threat model explicit: it returns the
    rest of the Pipeline, which skarm can read, and X in that feature space.

    Read more in the :ref:`User Guide <feature-space>`.

    Parameters
    ----------
    pipeline : estimator instance
        A fitted :class:`~sklearn.pipeline.Pipeline` (a
        :class:`~sklearn.frozen.FrozenEstimator` around one is looked through). Any other
        estimator is returned as it is, with X.
    X : array-like or sparse matrix
        Input of the Pipeline (raw documents for a text pipeline).

    Returns
    -------
    model : estimator instance
        The steps after the last non-affine one: the final estimator, or a Pipeline of
        affine steps ending in it. They are the fitted steps of ``pipeline`` (not copies).
        ``pipeline`` itself when none of its steps is non-affine.
    X_features : {ndarray, sparse matrix}
        X transformed by the steps up to and including the last non-affine one (sparse stays
        sparse); X itself when ``model`` is ``pipeline``.

    See Also
    --------
    skarm.metrics.soft_attackability : Scores ``model`` on ``X_features``.
    skarm.attacks.GASEAttack : Attacks ``model`` on ``X_features``.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.pipeline import make_pipeline
    >>> from skarm import ARMClassifier, feature_space
    >>> from skarm.metrics import soft_attackability
    >>> docs = ["cheap pills now", "meeting at noon", "cheap meeting pills", "noon now"]
    >>> Y = [[1, 0], [0, 1], [1, 1], [0, 0]]
    >>> pipe = make_pipeline(TfidfVectorizer(), ARMClassifier(penalty="l2")).fit(docs, Y)
    >>> model, X_features = feature_space(pipe, docs)
    >>> type(model).__name__, X_features.shape
    ('ARMClassifier', (4, 6))
    >>> soft_attackability(model, X_features).shape
    (4,)
    """
    estimator = unfrozen(pipeline)
    if not isinstance(estimator, Pipeline):
        return pipeline, X
    check_is_fitted(estimator)
    last = -1
    for k, (_, step) in enumerate(estimator.steps[:-1]):
        if step not in (None, "passthrough") and not is_affine_step(unfrozen(step)):
            last = k
    if last < 0:
        return pipeline, X
    X_features = estimator[: last + 1].transform(X)
    rest = estimator[last + 1 :]
    model = rest[-1] if len(rest.steps) == 1 else rest
    return model, X_features
