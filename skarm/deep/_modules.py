"""torch modules of the deep backend: the default MLP and the search for the last layer."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import torch
from torch import nn

__all__ = ["MLP", "ConvNet", "last_linear_layer"]


class MLP(nn.Module):
    """Fully connected ReLU network mapping X to one logit per label.

    The default ``module`` of ``ARMClassifier(backend="torch")``: ``h(x) = W Rep(x) + b``,
    where ``Rep`` is the stack of hidden layers and ``(W, b)`` the last :class:`torch.nn.Linear`,
    the layer on which the "primal", "l2" and "nuclear" penalties act.

    Parameters
    ----------
    n_features : int
        Input width d.
    n_labels : int
        Number of logits m.
    hidden_layer_sizes : sequence of int, default=(100,)
        Widths of the hidden layers; empty for a linear model ``h(x) = W x + b``.

    Examples
    --------
    >>> import torch
    >>> from skarm.deep import MLP
    >>> MLP(4, 3, hidden_layer_sizes=(8,))(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_features, n_labels, hidden_layer_sizes=(100,)):
        super().__init__()
        sizes = [n_features, *hidden_layer_sizes]
        for size in sizes + [n_labels]:
            if not isinstance(size, Integral) or isinstance(size, bool) or size < 1:
                raise ValueError(
                    "The layer sizes of MLP must be positive integers; got "
                    f"n_features={n_features!r}, hidden_layer_sizes={hidden_layer_sizes!r}, "
                    f"n_labels={n_labels!r}."
                )
        layers = []
        for width_in, width_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        self.hidden = nn.Sequential(*layers)
        self.output = nn.Linear(sizes[-1], n_labels)

    def forward(self, X):
        """Compute the logits of a batch.

        Parameters
        ----------
        X : torch.Tensor of shape (B, n_features)
            A batch of inputs.

        Returns
        -------
        logits : torch.Tensor of shape (B, n_labels)
            One score per label; a label is predicted on when its score is positive.
        """
        return self.output(self.hidden(X))


class ConvNet(nn.Module):
    """Small convolutional network for single-channel images passed as flattened rows.

    Three 3x3 convolutions with ReLU (a 2x2 max-pooling after the second), a global max
    over positions, then the last :class:`torch.nn.Linear`, one logit per label: the network
    of the deep reproduction on :func:`~skarm.datasets.load_digit_canvases`, small enough to
    train on a CPU. The global max makes a label's score "is the object anywhere", which
    generalises across positions: with a position-specific fully connected layer instead,
    the same data gave a test micro-F1 of 0.45 against 0.81. Rows of X are unflattened to
    ``image_shape`` inside ``forward``, so that it fits scikit-learn's 2-D X.

    Parameters
    ----------
    n_features : int
        Input width d: the number of pixels.
    n_labels : int
        Number of logits m.
    image_shape : tuple of 2 int, default=None
        Height and width of the images; None for square images of side ``sqrt(d)``.
    channels : tuple of 3 int, default=(16, 32, 64)
        Output channels of the three convolutions; the last is the width of ``Rep(x)``.

    Examples
    --------
    >>> import torch
    >>> from skarm.deep import ConvNet
    >>> ConvNet(576, 10)(torch.zeros(2, 576)).shape
    torch.Size([2, 10])
    """

    def __init__(self, n_features, n_labels, image_shape=None, channels=(16, 32, 64)):
        super().__init__()
        if image_shape is None:
            side = int(round(n_features**0.5))
            if side * side != n_features:
                raise ValueError(
                    f"ConvNet got {n_features} features, which is not a square image; pass "
                    "image_shape=(height, width)."
                )
            image_shape = (side, side)
        height, width = (int(v) for v in image_shape)
        if height * width != n_features or min(height, width) < 2:
            raise ValueError(
                f"image_shape={tuple(image_shape)} does not fit {n_features} features (or is "
                "smaller than 2x2, which the pooling layer needs)."
            )
        c1, c2, c3 = channels
        self.image_shape = (height, width)
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(),
        )
        self.output = nn.Linear(c3, n_labels)

    def forward(self, X):
        """Compute the logits of a batch of flattened images.

        Parameters
        ----------
        X : torch.Tensor of shape (B, n_features)
            A batch of flattened images.

        Returns
        -------
        logits : torch.Tensor of shape (B, n_labels)
            One score per label.
        """
        images = X.reshape(X.shape[0], 1, *self.image_shape)
        return self.output(self.features(images))


def last_linear_layer(module, n_labels=None):
    """Return the last :class:`torch.nn.Linear` of ``module`` (in registration order).

    This is the layer ``h(x) = W Rep(x) + b`` of the paper: the "primal", "l2" and "nuclear"
    penalties act on its weight, and :func:`skarm.metrics.alignment_score` reads it.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    n_labels : int, default=None
        If given, the layer must have this many outputs.

    Returns
    -------
    layer : torch.nn.Linear or None
        None when the module has no such layer.

    Examples
    --------
    >>> from skarm.deep import MLP, last_linear_layer
    >>> last_linear_layer(MLP(4, 3, hidden_layer_sizes=(8,)))
    Linear(in_features=8, out_features=3, bias=True)
    """
    found = None
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            found = sub
    if found is not None and n_labels is not None and found.out_features != n_labels:
        return None
    return found


def label_head(module, n_labels, *, needed_by):
    """The module's label head (:func:`last_linear_layer` with ``n_labels`` outputs), or a
    ValueError that says ``needed_by`` needs one."""
    layer = last_linear_layer(module, n_labels)
    if layer is None:
        outputs = "" if n_labels is None else f" with {n_labels} outputs"
        raise ValueError(
            f"{needed_by} acts on the last linear layer h(x) = W Rep(x) + b, but the module "
            f"{type(module).__name__} has no torch.nn.Linear layer{outputs} (one per label) "
            "at its end."
        )
    return layer


def to_numpy(tensor):
    """A tensor as a float64 numpy array on the CPU, detached from the graph."""
    return tensor.detach().to("cpu", torch.float64).numpy()


def parameter_dtype(module):
    """Floating dtype of the module's parameters (float32 when it has none)."""
    for param in module.parameters():
        if param.is_floating_point():
            return param.dtype
    return torch.get_default_dtype()
