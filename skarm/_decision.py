"""The decision function of a fitted model, seen through what skarm's metrics and attacks need.

The decision protocol
---------------------
SAE, GASE, PGD and the penalties need four things from a model ``h: R^d -> R^m``, on X
that the model has validated: its scores ``h(x)``, its input gradients ``grad_x h_j(x)``
and their Gram. An object that provides them (:class:`DecisionProtocol`) can be scored and
attacked:

- ``n_features``, ``n_labels``, ``name``: the input width (None: not checked), the number
  of labels and a name for messages;
- ``check_X(X)``: validates X for the model (2-D, finite, the right width), returns it
  as the other methods take it;
- ``decision_function(X)``: scores of shape (n_samples, n_labels);
- ``input_gradients(X)``: Jacobians of shape (n_samples, n_labels, n_features);
- ``gradient_gram(X)``: their Grams, (n_samples, n_labels, n_labels), or one (n_labels,
  n_labels) matrix shared by all instances for a linear model.

skarm has three: :class:`LinearDecision` (``h(x) = W x + b``, the same gradients
everywhere, so one Gram ``K = W W^T``, which the exact linear attacks use through
``coef``), :class:`skarm.deep.DeepDecision` (a torch module, through autograd) and
:class:`DifferentiableDecision` (any model with ``decision_function`` and
``input_gradients``). :func:`as_decision` finds the right one for a model, in one place, on
public names only.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import sys
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._linear_models import final_linear, fold_affine_steps, pipeline_steps, unfrozen
from .utils._validation import check_model_input

__all__ = ["DecisionProtocol", "DifferentiableDecision", "LinearDecision", "as_decision"]


@runtime_checkable
class DecisionProtocol(Protocol):
    """What an object needs to be scored and attacked by skarm (see the module docstring).

    :class:`LinearDecision`, :class:`skarm.deep.DeepDecision` and
    :class:`DifferentiableDecision` implement it; :func:`as_decision` returns one of them,
    or an object of the user's that implements it, as it is.

    Parameters
    ----------
    *args, **kwargs
        None: a protocol is never built, only checked with ``isinstance``.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm import DecisionProtocol, LinearDecision
    >>> isinstance(LinearDecision(np.eye(2), np.zeros(2)), DecisionProtocol)
    True
    """

    n_features: int | None
    n_labels: int | None
    name: str

    def check_X(self, X):
        """Validate X for the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input to check.

        Returns
        -------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
            X as the other methods take it (float64; dense unless the model takes CSR).
        """

    def decision_function(self, X):
        """Compute the scores ``h(X)``.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_labels)
            One score per label; the label is predicted where it is positive.
        """

    def input_gradients(self, X):
        """Compute the Jacobians ``grad_x h(x)``.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        gradients : ndarray of shape (n_samples, n_labels, n_features)
            Row ``j`` of instance ``i`` is the gradient of label ``j``'s score.
        """

    def gradient_gram(self, X):
        """Compute the Gram of the input gradients.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        gram : ndarray of shape (n_samples, n_labels, n_labels) or (n_labels, n_labels)
            ``J J^T`` per instance, or one matrix shared by all instances (linear models).
        """


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

    Examples
    --------
    >>> import numpy as np
    >>> from skarm import LinearDecision
    >>> decision = LinearDecision(np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([0.0, -1.0]))
    >>> decision.decision_function(decision.check_X([[2.0, 1.0]]))
    array([[2., 2.]])
    >>> decision.gradient_gram()
    array([[1., 1.],
           [1., 2.]])
    """

    coef: np.ndarray
    intercept: np.ndarray
    name: str = "estimator"

    @property
    def n_features(self):
        """Input width d: the number of columns of ``coef``."""
        return self.coef.shape[1]

    @property
    def n_labels(self):
        """Number of labels m: the number of rows of ``coef``."""
        return self.coef.shape[0]

    def check_X(self, X):
        """Validate X for this model: 2-D, finite, numeric, dense or CSR, right width.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input to check.

        Returns
        -------
        X : ndarray or CSR matrix of shape (n_samples, n_features)
            X in float64, sparse input kept sparse.
        """
        return check_model_input(X, self.n_features, self.name)

    def decision_function(self, X):
        """Compute the scores ``h(X) = X W^T + b``.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_labels)
            One score per label.
        """
        scores = X @ self.coef.T
        return np.asarray(scores) + self.intercept

    def input_gradients(self, X):
        """Return the Jacobians ``grad_x h(x) = W``, the same for every instance.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        gradients : ndarray of shape (n_samples, n_labels, n_features)
            A read-only broadcast view of W: no n * m * d memory is allocated.
        """
        return np.broadcast_to(self.coef, (X.shape[0], *self.coef.shape))

    def gradient_gram(self, X=None):
        """Return the Gram of the input gradients, ``K = W W^T``, shared by all instances.

        Parameters
        ----------
        X : ignored
            Present for the decision protocol: the Gram does not depend on X.

        Returns
        -------
        gram : ndarray of shape (n_labels, n_labels)
            ``W W^T``.
        """
        return self.coef @ self.coef.T


class DifferentiableDecision:
    """The interface generic attacks need, read off a model that provides it.

    ``model.decision_function(X)`` gives the scores ``h(X)`` of shape (n_samples, n_labels)
    and ``model.input_gradients(X)`` the Jacobians ``grad_x h(X)`` of shape
    (n_samples, n_labels, n_features), both on dense float64 X. This is what
    :class:`skarm._decision.LinearDecision` provides for linear models and what a deep
    backend provides through automatic differentiation.

    Parameters
    ----------
    model : object
        Provides ``decision_function`` and ``input_gradients``; ``n_features_in_``, when
        present, is used to check the width of X.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm import DifferentiableDecision
    >>> class Quadratic:
    ...     def decision_function(self, X):
    ...         return (X**2).sum(axis=1, keepdims=True) - 1.0
    ...     def input_gradients(self, X):
    ...         return 2.0 * X[:, None, :]
    >>> decision = DifferentiableDecision(Quadratic())
    >>> X = decision.check_X(np.array([[1.0, 2.0]]))
    >>> decision.decision_function(X), decision.gradient_gram(X)
    (array([[4.]]), array([[[20.]]]))
    """

    def __init__(self, model):
        self.model = model
        self.name = type(model).__name__
        self.n_labels = None  # known from the first scores: the attacks score X first

    def check_X(self, X):
        """Validate X (2-D, finite, numeric) and densify it: gradients act on dense input.

        The number of labels is read from the scores of the first row, once.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input to check.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Dense float64 X.
        """
        X = check_model_input(X, self.n_features, self.name, dense=True)
        if self.n_labels is None and X.shape[0]:
            self.decision_function(X[:1])
        return X

    def decision_function(self, X):
        """Compute the model's scores, checked for shape.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_labels)
            ``model.decision_function(X)``, a 1-D result as one column.
        """
        scores = np.asarray(self.model.decision_function(X), dtype=np.float64)
        if scores.ndim not in (1, 2) or scores.shape[0] != X.shape[0]:
            raise ValueError(
                f"{self.name}.decision_function returned shape {scores.shape} for "
                f"{X.shape[0]} instances; expected (n_samples, n_labels) or (n_samples,)."
            )
        scores = scores.reshape(X.shape[0], -1)
        self.n_labels = scores.shape[1]
        return scores

    def input_gradients(self, X):
        """Compute the model's input gradients, checked for shape and finiteness.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        gradients : ndarray of shape (n_samples, n_labels, n_features)
            ``model.input_gradients(X)``.
        """
        grads = np.asarray(self.model.input_gradients(X), dtype=np.float64)
        if self.n_labels is None:
            self.decision_function(X[:1])
        n_labels = self.n_labels
        expected = (X.shape[0], n_labels, X.shape[1])
        single = n_labels == 1 and grads.shape == (X.shape[0], X.shape[1])
        if grads.shape != expected and not single:
            raise ValueError(
                f"{self.name}.input_gradients returned shape {grads.shape}; expected "
                f"(n_samples, n_labels, n_features) = {expected}: the gradient of each "
                "label's score with respect to each input feature."
            )
        if not np.isfinite(grads).all():
            raise ValueError(
                f"{self.name}.input_gradients returned non-finite values (nan or inf) for "
                f"{int((~np.isfinite(grads)).any(axis=tuple(range(1, grads.ndim))).sum())} "
                f"of {X.shape[0]} instances; the model or its input overflowed."
            )
        return grads.reshape(expected)

    @property
    def n_features(self):
        """Input width: the model's ``n_features_in_``, None when it has none."""
        return getattr(self.model, "n_features_in_", None)

    def gradient_gram(self, X):
        """Compute the per-instance Gram ``J J^T`` of the input gradients.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        gram : ndarray of shape (n_samples, n_labels, n_labels)
            Inner products of the label gradients, instance by instance.
        """
        J = self.input_gradients(X)
        return np.einsum("nid,njd->nij", J, J)


def _torch_module(obj):
    """Whether obj is a torch module, without importing torch for anyone else."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _own_decision(estimator):
    """The fitted ``decision_`` of a skarm model (any estimator that keeps one), or the
    module of a fitted skorch net (``module_``, its outputs read as logits), or None."""
    decision = getattr(estimator, "decision_", None)
    if isinstance(decision, DecisionProtocol):
        return decision
    module = getattr(estimator, "module_", None)
    if getattr(estimator, "initialized_", False) and _torch_module(module):
        from .deep._decision import DeepDecision

        return DeepDecision(module, device=getattr(estimator, "device", None),
                            name=type(estimator).__name__)
    return None


def _generic_or_raise(estimator, owner, error):
    if callable(getattr(estimator, "input_gradients", None)) and callable(
        getattr(estimator, "decision_function", None)
    ):
        return DifferentiableDecision(estimator)
    raise TypeError(
        f"{owner} needs a differentiable model: one whose decision function is linear in X, "
        "a torch module, or one that provides decision_function(X) and input_gradients(X). "
        f"{error}"
    ) from error


def as_decision(estimator, *, owner="skarm"):
    """Return the decision function of a fitted multi-label model (the decision protocol).

    Resolved on public names, in this order:

    1. an object that implements :class:`DecisionProtocol` is returned as it is;
    2. skarm's fitted estimators: their ``decision_`` (linear or torch); a fitted skorch
       net: a :class:`~skarm.deep.DeepDecision` of its ``module_``;
    3. a ``torch.nn.Module``: a :class:`~skarm.deep.DeepDecision` of it, in evaluation
       mode (its input width and number of labels are read from the first X it checks).
       Its outputs are read as logits, positive for a predicted label: a module that ends
       in a sigmoid must be attacked without it;
    4. scikit-learn's linear models, OneVsRest / MultiOutput over them and Pipelines of
       affine steps ending in one (or in a linear skarm model): a :class:`LinearDecision`
       in the raw input space, the preprocessing folded into ``W`` and ``b``;
    5. any other model with ``decision_function`` and ``input_gradients``: a
       :class:`DifferentiableDecision`.

    A :class:`~sklearn.frozen.FrozenEstimator` is looked through.

    Parameters
    ----------
    estimator : object
        A fitted model; see the order above.
    owner : str, default="skarm"
        Who asks (an attack's name), for the error message.

    Returns
    -------
    decision : object
        A :class:`LinearDecision`, :class:`~skarm.deep.DeepDecision` or
        :class:`DifferentiableDecision`, or the object itself: it implements
        :class:`DecisionProtocol`.

    Raises
    ------
    NotFittedError
        If ``estimator`` (or its last step) is not fitted.
    TypeError
        If none of the above applies: a non-affine Pipeline step, a multiclass model, a
        model that is neither linear nor differentiable.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.linear_model import RidgeClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skarm import as_decision
    >>> X, Y = make_multilabel_classification(n_samples=50, n_classes=3, random_state=0)
    >>> model = make_pipeline(StandardScaler(), RidgeClassifier()).fit(X, Y)
    >>> decision = as_decision(model)
    >>> type(decision).__name__, decision.coef.shape
    ('LinearDecision', (3, 20))
    >>> bool(np.allclose(decision.decision_function(X), model.decision_function(X)))
    True
    """
    estimator = unfrozen(estimator)
    if isinstance(estimator, DecisionProtocol):
        return estimator
    if _torch_module(estimator):
        from .deep._decision import DeepDecision

        return DeepDecision(estimator, name=type(estimator).__name__)
    name = type(estimator).__name__
    steps, final = [], estimator
    if isinstance(estimator, Pipeline):
        steps, final = pipeline_steps(estimator)
    if callable(getattr(estimator, "fit", None)):
        check_is_fitted(final)
    own = _own_decision(final)
    if own is not None:
        if not steps:
            return own
        if isinstance(own, LinearDecision):
            return LinearDecision(*fold_affine_steps(steps, own.coef, own.intercept), name)
        raise TypeError(
            f"{name} ends in {type(final).__name__} with a non-linear decision function; "
            "skarm cannot fold the Pipeline's preprocessing into it. Put the preprocessing "
            "inside the torch module, or attack the final step on preprocessed X: "
            "`model, X_features = skarm.feature_space(pipeline, X)` splits after a "
            "non-affine step."
        )
    try:
        W, b = fold_affine_steps(steps, *final_linear(final))
    except TypeError as error:
        return _generic_or_raise(estimator, owner, error)
    return LinearDecision(W, b, name)
