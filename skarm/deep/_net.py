"""The skorch net that trains a torch module with an ARM penalty.

:class:`ARMNet` is a :class:`skorch.NeuralNet` with the few overrides multi-label ARM
training needs, following skorch's customisation points (``get_loss``,
``train_step_single``, ``validation_step``) rather than a loop of its own:

* the loss is BCE-with-logits on float {0, 1} targets, summed over labels (or averaged,
  ``loss_reduction="mean"``) and averaged over the batch, plus ``alpha * R`` from
  :func:`skarm.deep._penalties.arm_penalty`;
* for the input-gradient penalties ("sae", "single") the batch is given
  ``requires_grad=True`` before the forward pass, so the penalty differentiates the
  network's own input gradients (double backprop); the validation loss includes the penalty
  too (computed with gradients enabled, without the double-backprop graph);
* with ``adversarial_eps > 0`` each training batch is first replaced by its L2 PGD
  perturbation against the current network
  (:func:`skarm.deep._adversarial.l2_pgd_perturb`), and the loss and the penalty are taken
  there (Madry et al.'s adversarial training); the validation loss stays clean;
* ``predict_proba`` is the per-label sigmoid and ``predict`` thresholds the logits at 0
  (skorch's defaults would return a 2-column binary probability and no threshold);
* no validation split unless one is asked for, and then a non-stratified one (stratifying
  on a 2-D indicator is not defined); training batches are shuffled;
* a training that diverges stops with a ValueError naming the epoch (and the batch): a
  non-finite training loss, logits or penalty Gram, an optimizer step that overflows the
  parameters' dtype, or parameters that are not finite at the end of an epoch. Otherwise
  training runs its ``max_epochs`` epochs (or fewer, by a callback such as early stopping).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause


import numpy as np
import torch
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from .._greedy import NonFiniteGramError
from .._spec import PENALTIES, SHARED_PARAMETERS
from ..utils._sklearn_compat import StrOptions, validate_parameter_constraints
from ._adversarial import l2_pgd_perturb
from ._modules import label_head
from ._params import TORCH_PARAMETERS
from ._penalties import INPUT_GRADIENT_PENALTIES, LAST_LAYER_PENALTIES, arm_penalty

__all__ = ["ARMNet"]

_CONVOLUTIONS = (
    torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d,
    torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d,
)


class ARMNet(NeuralNet):
    """Skorch net for multi-label logits trained with BCE plus an ARM penalty.

    Built by ``ARMClassifier.fit`` when ``backend="torch"`` (its ``net_`` attribute); usable
    on its own as any skorch net. Parameters not listed are :class:`skorch.NeuralNet`'s.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        Maps a batch of X to (B, m) logits.
    *args
        Passed to :class:`skorch.NeuralNet` (positional arguments after ``module``).
    criterion : torch criterion class, default=torch.nn.BCEWithLogitsLoss
        Built with ``reduction="none"`` (when it is the default) so that the loss can be
        reduced as ``loss_reduction`` says.
    penalty : {None, "l2", "nuclear", "single", "primal", "sae"}, default=None
        The ARM penalty R.
    alpha : float, default=0.0
        Weight of the penalty (the paper's lambda).
    margin_floor : float, default=0.01
        The paper's alpha in Eq. 13-16 ("sae" and "single").
    margin_weighting : {"floor", "soft"}, default="floor"
        How "sae" and "single" weight a label by its margin: the paper's cap at
        ``1 / margin_floor`` or the authors' code's smooth one
        (:func:`~skarm.deep.arm_sae_label_weights`).
    adversarial_eps : float, default=0.0
        L2 budget of PGD adversarial training; 0 turns it off. When positive, every
        training batch is replaced by ``adversarial_steps`` steps of L2 PGD on the
        per-instance BCE against the current network (a random start in the ball, steps of
        ``2.5 * adversarial_eps / adversarial_steps``), and the loss and the penalty are
        computed on that batch. The validation loss and the predictions stay clean.
    adversarial_steps : int, default=10
        PGD steps per training batch; an adversarial epoch costs about
        ``adversarial_steps`` forward and input-backward passes more than a plain one.
    loss_reduction : {"sum", "mean"}, default="sum"
        Sum the per-label BCE over labels or average it; either way it is averaged over the
        batch.
    train_split : callable or None, default=None
        Skorch's validation split; None trains on all the data.
    input_jacobian : {"auto", "batched", "loop"}, default="auto"
        How "sae" and "single" take the m input gradients of a batch: one vmapped backward
        pass ("batched") or m backward passes ("loop"). "auto" loops on the CPU for modules
        with convolutions (PyTorch's vmap of the convolution backward is slower there than
        the loop) and batches otherwise. A fixed rule, not a timing, so that training stays
        deterministic.
    **kwargs
        Passed to :class:`skorch.NeuralNet`; ``iterator_train__shuffle`` defaults to True.

    See Also
    --------
    skarm.ARMClassifier : The scikit-learn estimator that builds and fits this net.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skarm.deep import ARMNet, MLP
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 5)).astype(np.float32)
    >>> Y = (X[:, :3] > 0).astype(np.float32)
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = ARMNet(MLP, module__n_features=5, module__n_labels=3, max_epochs=5,
    ...              penalty="sae", alpha=0.1, lr=0.1, optimizer=torch.optim.SGD,
    ...              verbose=0).fit(X, Y)
    >>> net.predict(X).shape
    (64, 3)
    """

    def __init__(
        self,
        module,
        *args,
        criterion=torch.nn.BCEWithLogitsLoss,
        penalty=None,
        alpha=0.0,
        margin_floor=0.01,
        margin_weighting="floor",
        adversarial_eps=0.0,
        adversarial_steps=10,
        loss_reduction="sum",
        train_split=None,
        input_jacobian="auto",
        **kwargs,
    ):
        if criterion is torch.nn.BCEWithLogitsLoss:
            kwargs.setdefault("criterion__reduction", "none")
        kwargs.setdefault("iterator_train__shuffle", True)
        super().__init__(module, *args, criterion=criterion, train_split=train_split, **kwargs)
        self.penalty = penalty
        self.alpha = alpha
        self.margin_floor = margin_floor
        self.margin_weighting = margin_weighting
        self.adversarial_eps = adversarial_eps
        self.adversarial_steps = adversarial_steps
        self.loss_reduction = loss_reduction
        self.input_jacobian = input_jacobian

    # The parameters ARMNet adds to skorch's, checked when the net is initialised (fit or
    # initialize()), with scikit-learn's wording; skorch checks its own.
    _parameter_constraints: dict = {
        "penalty": [StrOptions({p for p in PENALTIES if p is not None}), None],
        **{name: SHARED_PARAMETERS[name] for name in (
            "alpha", "margin_floor", "margin_weighting", "adversarial_eps", "loss_reduction"
        )},
        "adversarial_steps": TORCH_PARAMETERS["adversarial_steps"],
        "input_jacobian": [StrOptions({"auto", "batched", "loop"})],
    }

    def initialize(self):
        """Check ARMNet's own parameters, then initialise the net as skorch does.

        Returns
        -------
        self : ARMNet
            The initialised net.
        """
        validate_parameter_constraints(
            self._parameter_constraints,
            {name: getattr(self, name) for name in self._parameter_constraints},
            caller_name=type(self).__name__,
        )
        return super().initialize()

    # ------------------------------------------------------------------ helpers
    def _needs_input_gradients(self):
        return self.penalty in INPUT_GRADIENT_PENALTIES and self.alpha != 0

    def _input_tensor(self, Xi, needed_by):
        """The batch as a floating tensor on the device (for what differentiates the input)."""
        if not isinstance(Xi, torch.Tensor | np.ndarray):
            raise TypeError(
                f"{needed_by} differentiates the input, so X must be an array or a tensor; "
                f"got a batch of type {type(Xi).__name__}."
            )
        Xi = to_tensor(Xi, device=self.device)
        if not Xi.is_floating_point():
            Xi = Xi.to(torch.get_default_dtype())
        return Xi

    def _input_batch(self, Xi):
        """The batch as a tensor on the device, a leaf requiring grad when the penalty needs it."""
        if not self._needs_input_gradients():
            return Xi
        Xi = self._input_tensor(Xi, needed_by=f'penalty="{self.penalty}"')
        return Xi.detach().requires_grad_(True)

    def _adversarial_batch(self, Xi, yi, **fit_params):
        """The training batch perturbed by L2 PGD against the current module."""
        Xi = self._input_tensor(Xi, needed_by=f"adversarial_eps={self.adversarial_eps!r}")
        yi = to_tensor(yi, device=self.device).to(Xi.dtype)
        return l2_pgd_perturb(
            self.module_, Xi, yi, eps=float(self.adversarial_eps),
            n_steps=int(self.adversarial_steps),
            forward=lambda Z: self.infer(Z, **fit_params),
        )

    def _batched_jacobian(self):
        if self.input_jacobian != "auto":
            return self.input_jacobian == "batched"
        on_cpu = torch.device(self.device).type == "cpu"
        has_conv = any(isinstance(sub, _CONVOLUTIONS) for sub in self.module_.modules())
        return not (on_cpu and has_conv)

    def last_layer_weight(self, n_labels=None):
        """Return the weight of the module's last ``torch.nn.Linear``.

        Parameters
        ----------
        n_labels : int, default=None
            If given, that layer must have this many outputs (it must be the label head).

        Returns
        -------
        weight : torch.nn.Parameter of shape (n_labels, n_hidden)
            The W of ``h(x) = W Rep(x) + b``, the matrix the "primal", "l2" and "nuclear"
            penalties act on.
        """
        return label_head(self.module_, n_labels, needed_by=f'penalty="{self.penalty}"').weight

    # ------------------------------------------------------------------ loss
    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Compute BCE-with-logits (reduced per ``loss_reduction``) plus ``alpha * R``.

        Parameters
        ----------
        y_pred : torch.Tensor of shape (B, m)
            Logits.
        y_true : torch.Tensor of shape (B, m)
            {0, 1} targets.
        X : torch.Tensor, default=None
            The batch the logits came from (with ``requires_grad=True`` for "sae" and
            "single").
        training : bool, default=False
            Whether the loss will be differentiated (builds the double-backprop graph).

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        y_true = to_tensor(y_true, device=self.device).to(y_pred.dtype)
        loss = self.criterion_(y_pred, y_true)
        if loss.ndim:
            loss = loss.sum(dim=-1).mean() if self.loss_reduction == "sum" else loss.mean()
        if self.penalty is None or self.alpha == 0:
            return loss
        # A diverged network's logits (and input gradients) are inf or NaN, on which the
        # penalties fail with errors of their own; name the divergence instead.
        if not bool(torch.isfinite(y_pred).all()):
            raise self._diverged(
                f"the logits became non-finite on a {'training' if training else 'validation'}"
                " batch",
                batch=training,
            )
        try:
            penalty = arm_penalty(
                self.penalty,
                logits=y_pred,
                y_signed=2.0 * y_true - 1.0,
                alpha=self.alpha,
                margin_floor=self.margin_floor,
                margin_weighting=self.margin_weighting,
                X=X if self._needs_input_gradients() else None,
                weight=(
                    self.last_layer_weight(y_pred.shape[-1])
                    if self.penalty in LAST_LAYER_PENALTIES
                    else None
                ),
                create_graph=training,
                batched_jacobian=self._batched_jacobian(),
            )
        except NonFiniteGramError as exc:
            # The greedy selection of "sae" and "primal" rejects a Gram (of the input
            # gradients, of the last layer's rows) that overflowed, which finite logits do
            # not rule out.
            source = (
                "input gradients" if self.penalty in INPUT_GRADIENT_PENALTIES
                else "last layer's weights"
            )
            raise self._diverged(
                f"the Gram of the {source} became non-finite on a "
                f"{'training' if training else 'validation'} batch",
                batch=training,
            ) from exc
        return loss + penalty

    # ------------------------------------------------------------------ divergence
    def _diverged(self, what, *, batch=True):
        """The ValueError that stops a training whose loss or parameters stopped being finite.

        ``batch``: name the batch (the history's batch count, right during training only).
        """
        epoch = len(self.history)
        where = f"epoch {epoch}" if epoch else "outside training"
        if batch and epoch and self.history[-1, "batches"]:
            where += f", batch {len(self.history[-1, 'batches'])}"
        lower = f"lr (got {self.lr!r})"
        if self.penalty is not None and self.alpha != 0:
            lower += f" or alpha (got {self.alpha!r})"
        return ValueError(f"Training diverged: {what} at {where}. Lower {lower}, or scale X.")

    def train_step(self, batch, **fit_params):
        """Run one optimizer step (skorch's), stopping when training diverges.

        A non-finite training loss, or an optimizer step that overflows the parameters'
        floating-point type, raises ValueError naming the epoch and the batch: the
        parameters would be NaN from then on, and every later step wasted.

        Parameters
        ----------
        batch : tuple
            As for :meth:`train_step_single`.
        **fit_params : dict
            As for :meth:`train_step_single`.

        Returns
        -------
        step : dict
            What :meth:`train_step_single` returns.
        """
        try:
            step = super().train_step(batch, **fit_params)
        except RuntimeError as exc:
            # torch's message for a step (lr * update) beyond the parameters' dtype.
            if "overflow" not in str(exc):
                raise
            dtypes = sorted({str(p.dtype) for _, p in self.get_all_learnable_params()})
            raise self._diverged(
                f"the optimizer step overflowed the parameters' {' and '.join(dtypes)}"
            ) from exc
        loss = step["loss"]
        if not bool(torch.isfinite(loss).all()):
            raise self._diverged(f"the training loss became {loss.item()}")
        return step

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Raise ValueError if a parameter is no longer finite (the last step's NaN or inf).

        Runs before the callbacks' ``on_epoch_end``, so that no checkpoint saves them.

        Parameters
        ----------
        net : ARMNet
            This net (skorch passes it to its notification hooks).
        dataset_train, dataset_valid : Dataset, default=None
            The epoch's training and validation data.
        **kwargs : dict
            Further arguments of skorch's hook.
        """
        super().on_epoch_end(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        params = list(self.get_all_learnable_params())
        if params and not bool(torch.stack([torch.isfinite(p).all() for _, p in params]).all()):
            names = [name for name, p in params if not bool(torch.isfinite(p).all())]
            raise self._diverged(
                f"the parameters {', '.join(names)} became non-finite", batch=False
            )

    # ------------------------------------------------------------------ steps
    def train_step_single(self, batch, **fit_params):
        """Run forward, loss (with the penalty) and backward for one training batch.

        With ``adversarial_eps > 0`` the batch is first replaced by its PGD perturbation
        (detached, so the backward pass does not go through the attack), and the loss, the
        penalty and the returned logits are those of the perturbed batch.

        Parameters
        ----------
        batch : tuple
            The ``(X, y)`` batch from the training iterator.
        **fit_params : dict
            Passed to the module's forward.

        Returns
        -------
        step : dict
            ``{"loss": loss, "y_pred": logits}``, as skorch expects.
        """
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        if self.adversarial_eps > 0:
            Xi = self._adversarial_batch(Xi, yi, **fit_params)
        Xi = self._input_batch(Xi)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        """Compute the validation loss, penalty included, on the clean batch.

        Autograd stays on when the penalty needs input gradients.

        Parameters
        ----------
        batch : tuple
            The ``(X, y)`` batch from the validation iterator.
        **fit_params : dict
            Passed to the module's forward.

        Returns
        -------
        step : dict
            ``{"loss": loss, "y_pred": logits}``, detached, as skorch expects.
        """
        self._set_training(False)
        Xi, yi = unpack_data(batch)
        with torch.set_grad_enabled(self._needs_input_gradients()):
            Xi = self._input_batch(Xi)
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=False)
        return {"loss": loss.detach(), "y_pred": y_pred.detach()}

    # ------------------------------------------------------------------ prediction
    def predict_proba(self, X):
        """Per-label probabilities ``sigmoid(h(X))``, shape (n_samples, n_labels).

        Parameters
        ----------
        X : input data
            Anything skorch accepts.

        Returns
        -------
        y_proba : ndarray of shape (n_samples, n_labels)
            Probability that each label is on.
        """
        return torch.sigmoid(self.forward(X)).numpy()

    def predict(self, X):
        """Per-label {0, 1} predictions ``h_j(x) > 0``, shape (n_samples, n_labels).

        Parameters
        ----------
        X : input data
            Anything skorch accepts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_labels)
            Predicted labels, 0 or 1.
        """
        return (self.forward(X) > 0).numpy().astype(np.int64)
