"""The decision function of a fitted torch network, seen through what skarm's metrics need.

:class:`DeepDecision` is the deep twin of :class:`skarm._decision.LinearDecision`: scores,
per-instance input gradients (Jacobians with :mod:`torch.func`, batched) and their Gram, on
numpy float64 arrays, whatever device the network lives on. ``soft_attackability``,
``sae_score``, ``alignment_score`` and the attacks get it from a torch-backend estimator's
``decision_``, or from :func:`skarm.as_decision` of a torch module.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch

from ..utils._validation import check_model_input
from ._modules import label_head, parameter_dtype, to_numpy
from ._penalties import input_jacobian

__all__ = ["DeepDecision"]

# Floats of Jacobian held at once when computing input gradients batch by batch
# (2^24 float32 = 64 MiB, plus the same again for the Gram's inputs).
_JACOBIAN_BUDGET = 2**24


class DeepDecision:
    """Scores and input gradients of a torch module ``h: R^d -> R^m``.

    The module is used as it is, in evaluation mode (set here, once), so its dropout and
    batch statistics are those of prediction. Every method takes X already validated by
    :meth:`check_X` (dense float64) and returns numpy float64 arrays; computations run on
    ``device`` in the module's own dtype, in batches.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a (B, d) tensor to (B, m) logits.
    n_features : int, default=None
        Input width d; None reads it from the first X given to :meth:`check_X`.
    n_labels : int, default=None
        Number of labels m; None reads it from the module's output on the first row given
        to :meth:`check_X`.
    device : str or torch.device, default=None
        Where the module lives; None: where its parameters are (the CPU if it has none).
    batch_size : int, default=1024
        Instances per forward pass in :meth:`decision_function`; Jacobians use smaller
        batches, sized to hold about 16M floats.
    name : str, default="estimator"
        Name of the model it was read from, for error messages.

    Attributes
    ----------
    coef : ndarray of shape (n_labels, n_hidden)
        Weight ``W`` of the last linear layer ``h(x) = W Rep(x) + b``: the rows
        :func:`skarm.metrics.alignment_score` compares: for a deep model the alignment is
        that of the final linear layer (:ref:`alg-phi-align`). It lives in the
        representation space, not in the input space, so unlike ``LinearDecision.coef`` it
        is not the input gradient.
    intercept : ndarray of shape (n_labels,)
        Bias ``b`` of that layer (zeros when it has none).

    Examples
    --------
    >>> import numpy as np
    >>> from skarm.deep import MLP, DeepDecision
    >>> decision = DeepDecision(MLP(4, 3, hidden_layer_sizes=(8,)), n_features=4, n_labels=3)
    >>> X = decision.check_X(np.ones((5, 4)))
    >>> decision.decision_function(X).shape, decision.input_gradients(X).shape
    ((5, 3), (5, 3, 4))
    >>> decision.gradient_gram(X).shape
    (5, 3, 3)
    """

    def __init__(
        self, module, *, n_features=None, n_labels=None, device=None, batch_size=1024,
        name="estimator",
    ):
        self.module = module.eval()
        self.n_features = None if n_features is None else int(n_features)
        self.n_labels = None if n_labels is None else int(n_labels)
        if device is None:  # where the module's parameters are
            device = next((p.device for p in module.parameters()), "cpu")
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        self.name = name
        self.dtype = parameter_dtype(module)
        self._use_func = True

    # ------------------------------------------------------------------ last layer
    def _last_layer(self):
        return label_head(self.module, self.n_labels,
                          needed_by=f"The label weights W of {self.name} (alignment_score)")

    @property
    def coef(self):
        """Weight ``W`` of the last linear layer, as float64 (see Attributes)."""
        return to_numpy(self._last_layer().weight)

    @property
    def intercept(self):
        """Bias ``b`` of the last linear layer, zeros when it has none (see Attributes)."""
        layer = self._last_layer()
        if layer.bias is None:
            return np.zeros(self.n_labels)
        return to_numpy(layer.bias)

    # ------------------------------------------------------------------ data
    def check_X(self, X):
        """Validate X for this model: 2-D, finite, numeric, of the right width.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input to check; sparse input is densified.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Dense float64 copy or view of X.
        """
        X = check_model_input(X, self.n_features, self.name, dense=True)
        if self.n_features is None:
            self.n_features = X.shape[1]
        if self.n_labels is None and X.shape[0]:
            with torch.no_grad():
                out = self.module(self._tensor(X[:1]))
            if out.ndim != 2 or out.shape[0] != 1:
                raise ValueError(
                    f"{self.name} must map X of shape (n_samples, n_features) to logits of "
                    f"shape (n_samples, n_labels); on one row it returned {tuple(out.shape)}."
                )
            self.n_labels = int(out.shape[1])
        return X

    def _tensor(self, X):
        X = np.asarray(X)
        if not X.flags.writeable:
            # joblib's workers get memory-mapped, read-only inputs, which torch warns about
            # (it cannot share read-only memory); a copy costs less than the forward pass.
            X = X.copy()
        return torch.as_tensor(X, device=self.device).to(self.dtype)

    def _rows(self, n_per_row):
        """Instances per batch so that a batch holds about ``_JACOBIAN_BUDGET`` floats."""
        return int(max(1, min(self.batch_size, _JACOBIAN_BUDGET // max(1, n_per_row))))

    # ------------------------------------------------------------------ scores
    def decision_function(self, X):
        """Compute the logits ``h(X)``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_labels)
            The module's outputs, in float64.
        """
        out = np.empty((X.shape[0], self.n_labels))
        with torch.no_grad():
            for start in range(0, X.shape[0], self.batch_size):
                stop = start + self.batch_size
                out[start:stop] = to_numpy(self.module(self._tensor(X[start:stop])))
        return out

    # ------------------------------------------------------------------ gradients
    def _jacobian_func(self, Xb):
        """``vmap(jacrev(h))``: one instance at a time as the module sees a batch of 1."""
        module = self.module

        def h(x):
            return module(x.unsqueeze(0)).squeeze(0)

        return torch.func.vmap(torch.func.jacrev(h))(Xb)

    def _jacobian_autograd(self, Xb):
        with torch.enable_grad():
            Xb = Xb.detach().requires_grad_(True)
            return input_jacobian(self.module(Xb), Xb)

    def _jacobian(self, Xb):
        if self._use_func:
            try:
                with torch.no_grad():
                    return self._jacobian_func(Xb)
            except (RuntimeError, NotImplementedError):
                # An operation torch.func cannot transform (in-place on an input, .item(),
                # ...): fall back to plain autograd, exact in evaluation mode.
                self._use_func = False
        return self._jacobian_autograd(Xb)

    def _jacobian_batches(self, X):
        step = self._rows(self.n_labels * self.n_features)
        for start in range(0, X.shape[0], step):
            stop = start + step
            J = self._jacobian(self._tensor(X[start:stop]))
            yield start, stop, J.reshape(J.shape[0], self.n_labels, -1)

    def input_gradients(self, X):
        """Compute the Jacobians ``grad_x h(x)``, one per instance.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        gradients : ndarray of shape (n_samples, n_labels, n_features)
            Row ``j`` of instance ``i`` is the input gradient of label ``j``'s score.
        """
        out = np.empty((X.shape[0], self.n_labels, self.n_features))
        for start, stop, J in self._jacobian_batches(X):
            out[start:stop] = to_numpy(J)
        return out

    def gradient_gram(self, X):
        """Compute the per-instance Gram ``J J^T`` of the input gradients.

        Computed batch by batch on the module's device; the (n, m, d) Jacobian is never
        held whole.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Input validated by :meth:`check_X`.

        Returns
        -------
        gram : ndarray of shape (n_samples, n_labels, n_labels)
            Inner products of the label gradients, instance by instance.
        """
        out = np.empty((X.shape[0], self.n_labels, self.n_labels))
        for start, stop, J in self._jacobian_batches(X):
            J = J.to(torch.float64)
            out[start:stop] = to_numpy(J @ J.transpose(1, 2))
        return out

    def __repr__(self):
        return (
            f"DeepDecision({type(self.module).__name__}, n_features={self.n_features}, "
            f"n_labels={self.n_labels}, device={str(self.device)!r})"
        )
