"""L2 PGD against a torch network, the inner maximisation of adversarial training.

:func:`l2_pgd_perturb` is what ``ARMNet`` runs on every training minibatch when
``adversarial_eps > 0`` (Madry et al., *Towards Deep Learning Models Resistant to
Adversarial Attacks*, ICLR 2018): the outer minimisation then takes the loss, and the
penalty, at the perturbed batch. It works on the batch's own device and dtype.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["l2_pgd_perturb"]

# The step length is ``STEP_FACTOR * eps / n_steps``, as PGDAttack's default: the iterate can
# cross the ball and come back, yet a few steps suffice.
STEP_FACTOR = 2.5


def _row_norms(T):
    """L2 norm of each instance of a (B, ...) tensor, shape (B, 1, ..., 1) for broadcasting."""
    return T.flatten(1).norm(dim=1).reshape(-1, *([1] * (T.ndim - 1)))


def _random_in_ball(X, eps, generator=None):
    """One point drawn uniformly from the L2 ball of radius eps, per instance of X."""
    direction = torch.randn(X.shape, dtype=X.dtype, device=X.device, generator=generator)
    direction = direction / _row_norms(direction).clamp_min(torch.finfo(X.dtype).tiny)
    n_inputs = X[0].numel()
    u = torch.rand((X.shape[0],), dtype=X.dtype, device=X.device, generator=generator)
    radius = eps * u.pow(1.0 / n_inputs)
    return direction * radius.reshape(-1, *([1] * (X.ndim - 1)))


def _instance_loss(logits, y):
    """Per-instance BCE-with-logits, summed over the labels, shape (B,)."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    return bce.flatten(1).sum(dim=1)


def l2_pgd_perturb(module, X, y, *, eps, n_steps=10, forward=None, generator=None):
    """Find L2 perturbations of a batch that raise the network's loss, by PGD.

    Each instance ``x`` gets ``x + r`` with ``||r||_2 <= eps`` that (approximately)
    maximises its BCE-with-logits loss, summed over the labels: a random start ``r_0``
    drawn uniformly from the ball, then ``n_steps`` steps
    ``r <- Proj(r + (2.5 eps / n_steps) g / ||g||)``, where ``g`` is the gradient of the
    instance's loss at ``x + r`` and ``Proj`` rescales ``r`` back onto the ball. The last
    iterate is returned, as in Madry et al.

    Choices, and why:

    * the random start keeps the attack from starting where the loss is flat or its
      gradient masked at the clean point, and, drawn anew in every batch, varies the
      perturbations the network is trained on;
    * the step is along the gradient normalised per instance, so that each instance moves
      by the same length whatever the scale of its gradient (a large step size on an
      unnormalised gradient would leave the instances with small gradients unattacked);
      ``2.5 eps / n_steps`` lets the path cross the ball, so the attack can reach the far
      side of it within the steps;
    * the loss is summed (not averaged) over the batch: instances are independent, so the
      gradient of the sum holds every instance's own gradient;
    * a module with BatchNorm layers attacks in evaluation mode: in training mode the batch
      statistics would couple the instances (each instance's gradient would depend on the
      others' perturbations) and every attack step would update the running statistics
      with perturbed batches. The mode of every submodule is restored afterwards. Other
      modules (dropout included) keep their mode, so the attack is against the network as
      it is being trained;
    * the gradients are taken with :func:`torch.autograd.grad` with respect to the input
      only: the attack leaves the parameters' ``.grad`` untouched, and the returned batch
      is detached, so the training loss does not differentiate through the attack (the
      Danskin-style gradient of the inner maximum).

    Parameters
    ----------
    module : torch.nn.Module
        The network, mapping a batch to (B, m) logits.
    X : torch.Tensor of shape (B, ...)
        The clean batch, floating point, on the module's device.
    y : torch.Tensor of shape (B, m)
        {0, 1} targets, in X's dtype.
    eps : float
        The L2 budget per instance (X flattened), > 0.
    n_steps : int, default=10
        Number of PGD steps, >= 1.
    forward : callable, default=None
        ``forward(X) -> logits``; None calls ``module`` (``ARMNet`` passes its ``infer``
        so that fit parameters reach the module's forward).
    generator : torch.Generator, default=None
        Random source of the start; None uses torch's global one (which ``fit`` seeds
        from ``random_state``).

    Returns
    -------
    X_adv : torch.Tensor of the shape of X
        ``X + r``, detached, with ``||r_i||_2 <= eps``.

    Examples
    --------
    >>> import torch
    >>> from skarm.deep._adversarial import l2_pgd_perturb
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> layer = torch.nn.Linear(4, 3)
    >>> X, y = torch.randn(8, 4), (torch.rand(8, 3) > 0.5).float()
    >>> X_adv = l2_pgd_perturb(layer, X, y, eps=0.5, n_steps=5)
    >>> bool(((X_adv - X).norm(dim=1) <= 0.5 + 1e-6).all())
    True
    """
    if not (eps > 0):
        raise ValueError(f"eps must be positive; got eps={eps!r}.")
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1; got n_steps={n_steps!r}.")
    forward = module if forward is None else forward
    X = X.detach()
    y = y.detach().to(X.dtype)
    step = STEP_FACTOR * eps / n_steps
    tiny = torch.finfo(X.dtype).tiny
    modes = {sub: sub.training for sub in module.modules()}
    if any(isinstance(sub, _BatchNorm) for sub in modes):
        module.eval()
    try:
        with torch.enable_grad():
            R = _random_in_ball(X, eps, generator)
            for _ in range(int(n_steps)):
                X_r = (X + R).requires_grad_(True)
                (grad,) = torch.autograd.grad(_instance_loss(forward(X_r), y).sum(), X_r)
                R = R + step * grad / _row_norms(grad).clamp_min(tiny)
                # Projection onto the ball: rows outside it are scaled back to its surface.
                R = R * (eps / _row_norms(R).clamp_min(tiny)).clamp(max=1.0)
    finally:
        for sub, training in modes.items():
            sub.training = training
    return (X + R).detach()
