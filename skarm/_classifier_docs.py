"""Docstring sections shared by ARMClassifier and its presets (one text, three classes)."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

__all__ = ["ATTRIBUTES_DOC", "COMMON_PARAMS_DOC"]

COMMON_PARAMS_DOC = """alpha : float, default=1e-4
        Weight of the penalty: the paper's lambda in Eq. 6, 15 and 16.

    C : float, default=1.0
        Inverse strength of the SVM's own ridge term ``||W||_F^2 / (2 C n)``, as in
        :class:`~sklearn.svm.LinearSVC`; ``np.inf`` removes it. Linear backend only.

    margin_floor : float, default=0.01
        The paper's alpha in Eq. 13-16: a label's weight ``1 / max(exp(y_j h_j), alpha)``
        is capped at ``1 / margin_floor``. Used by the "sae" and "single" penalties.

    margin_weighting : {"floor", "soft"}, default="floor"
        How the "sae" and "single" penalties weight a label by its margin ``t = y_j h_j``:
        "floor" is the paper's ``1 / max(exp(t), margin_floor)`` (Eq. 13, weights up to
        ``1 / margin_floor``, 100 by default); "soft" is the authors' released code's
        ``1 / log(exp(margin_floor) + exp(exp(t)))``, smooth and capped near
        ``1 / log(1 + exp(margin_floor))`` (1.43 by default). Both decay as ``exp(-t)``
        for large margins. See :ref:`the user guide <sources>`.

    adversarial_eps : float, default=0.0
        L2 budget of adversarial training (0 turns it off): the loss is taken at the worst
        perturbation of norm at most ``adversarial_eps`` of each training instance, found
        by ``adversarial_method``. Combines with every penalty. Give it in the units of X
        (for example a fraction of :func:`~skarm.utils.median_row_norm`).

    adversarial_method : {"auto", "per-label", "pgd"}, default="auto"
        How adversarial training finds the perturbations. "per-label" (linear backend):
        the exact worst case of every label alone, ``loss(y_j h_j(x) - eps ||w_j||)``,
        convex and certified for each label; "pgd" (torch backend):
        ``adversarial_steps`` steps of L2 PGD per minibatch inside the training step.
        "auto" is "per-label" for the linear backend and "pgd" for the torch one. (The
        joint min-max against GASE was measured and not shipped: see the user guide.)

    adversarial_steps : int, default=10
        Torch backend: PGD steps per minibatch ("pgd").

    loss : {"hinge", "squared_hinge"}, default="hinge"
        Per-label loss of the linear backend. The hinge is minimised through its Huber
        smoothing, shrunk in stages to a width of 0.01: it lies at most 0.005 below the
        hinge per label and instance, with the hinge's gradient outside margins in
        (0.99, 1). The torch backend always uses BCE-with-logits.

    loss_reduction : {"sum", "mean"}, default="sum"
        Sum the loss over labels (the paper's Theorem 1) or average it (the authors' code);
        "mean" rescales alpha by the number of labels. Both backends.

    backend : {"linear", "torch"}, default="linear"
        "linear": ``h(x) = W x + b`` trained in numpy/scipy, on dense or sparse X.
        "torch": ``module`` (default an MLP) trained with BCE-with-logits plus the penalty
        through skorch, on dense X; needs the ``deep`` extra (``pip install "skarm[deep]"``)
        and raises :class:`~skarm.exceptions.BackendNotAvailableError` without it. "sae" and
        "single" then differentiate the network's input gradients (double backprop);
        "primal", "l2" and "nuclear" act on its last :class:`torch.nn.Linear` layer.

    solver : {"auto", "lbfgs", "dual-cd"}, default="auto"
        Linear backend only. "lbfgs": L-BFGS on the whole objective (accelerated proximal
        gradient for the "nuclear" penalty), any penalty. "dual-cd": one SVM per label by
        dual coordinate descent, as :class:`~sklearn.svm.LinearSVC`'s liblinear does but
        with the intercept unpenalised, for the penalties that decouple over labels (None,
        "l2") with a ridge term (finite ``C``); for "sae", the same SVMs solved inside
        proximal-gradient steps on the penalty. "auto": "dual-cd" for sparse X where it
        applies (on bibtex 10-30x faster than L-BFGS for None, 3-4x for "sae", each to a
        lower objective), finished by L-BFGS if the SVMs have not converged within
        ``max_iter`` sweeps; "lbfgs" otherwise (dual coordinate descent is the slower one on
        dense, low-dimensional data). All minimise the same objective.

    max_iter : int, default=1000
        Maximum number of solver iterations: L-BFGS iterations (all hinge-smoothing stages
        together), or sweeps over the data per label for "dual-cd" (proximal steps for
        "sae"). Linear backend only.

    tol : float, default=1e-4
        Tolerance of the stopping criterion: L-BFGS's projected gradient; for "dual-cd"
        the spread of the dual's projected gradient (liblinear's rule) or the relative
        duality gap; for "dual-cd" with "sae", three proximal steps in a row that lower the
        objective by at most ``tol`` relatively. Linear backend only.

    warm_start : bool, default=False
        Linear backend: when True, ``fit`` starts the solver from the previous fit's
        ``coef_`` and ``intercept_`` (same width of X and same labels; otherwise from 0),
        which saves iterations along a path of ``alpha`` or ``adversarial_eps`` values
        (``model.set_params(alpha=a).fit(X, Y)`` in a loop). L-BFGS and FISTA (dense X,
        and every penalty but ``None``, "l2" and "sae" on sparse X) use it; the dual
        coordinate descent on sparse X starts from its own point (its dual variables at 0,
        or for "sae" with a ridge the unpenalised SVMs) whatever it is.
        :class:`~sklearn.model_selection.GridSearchCV` clones the estimator for each
        candidate, so it never warm-starts. The torch backend does not support it.

    n_jobs : int, default=None
        Linear backend: threads over the labels where the solver decouples them (the dual
        coordinate descent for sparse X: ``penalty=None`` and "l2", adversarial training,
        and the per-label SVMs of each proximal step of "sae"). The labels' results do not
        depend on it. ``None`` means 1 unless in a :obj:`joblib.parallel_backend` context;
        ``-1`` means all processors.

    module : torch.nn.Module class or instance, default=None
        Torch backend: the network mapping a (batch, n_features) float tensor to
        (batch, n_labels) logits. None is an MLP with ``hidden_layer_sizes`` (ReLU). A class
        is instantiated in fit, with ``n_features`` and ``n_labels`` passed when its
        ``__init__`` has parameters of those names (others through ``net_params``, as
        ``{"module__width": 64}``). An instance is copied in fit, so each fit starts from
        its weights (a pretrained backbone stays pretrained; see :mod:`skarm.deep`).

    hidden_layer_sizes : int or array-like of int, default=(100,)
        Torch backend, default ``module`` only: widths of the hidden layers (an int is one
        layer; an empty tuple gives the linear model ``h(x) = W x + b``).

    max_epochs : int, default=100
        Torch backend: number of training epochs (fewer if an early-stopping callback
        ends training).

    batch_size : int, default=64
        Torch backend: instances per minibatch.

    lr : float, default=1e-3
        Torch backend: learning rate of the optimizer (Adam unless ``net_params`` sets
        ``"optimizer"``).

    validation_fraction : float in (0, 1) or None, default=None
        Torch backend: share of the training data held out (not stratified) to compute the
        validation loss (BCE plus penalty) each epoch, as early stopping and checkpoint
        callbacks monitor it (``"valid_loss"``). None trains on all the data.

    device : str or torch.device, default="auto"
        Torch backend: where to train and predict. "auto" is CUDA when available, else
        the CPU.

    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Torch backend: passed to the skorch net, e.g. ``skorch.callbacks.EarlyStopping``,
        ``Checkpoint`` or ``ProgressBar``. They are deep-copied in fit; the trained copies
        are in ``net_.callbacks_``.

    net_params : dict, default=None
        Torch backend: further arguments of the skorch net :class:`~skarm.deep.ARMNet`,
        with skorch's prefixes: ``{"optimizer": torch.optim.SGD,
        "optimizer__momentum": 0.9, "module__dropout": 0.5,
        "iterator_train__num_workers": 2}``. Arguments that are parameters of this
        estimator may not be repeated here.

    random_state : int, RandomState instance or None, default=None
        Torch backend: seeds torch for the initialisation, the shuffling of the batches,
        dropout and the validation split (the caller's torch RNG state is restored after
        fit), so a fit on the CPU is deterministic for an int. Linear backend: orders the
        sweeps of ``solver="dual-cd"``; L-BFGS is deterministic without it.

    verbose : int, default=0
        Verbosity; for the torch backend, skorch's per-epoch log."""

ATTRIBUTES_DOC = """Attributes
    ----------
    decision_ : LinearDecision or skarm.deep.DeepDecision
        The fitted decision function, which prediction, the metrics and the attacks use
        (the decision protocol, :class:`~skarm.DecisionProtocol`): ``h(x) = W x + b``
        for the linear backend, the trained module's scores and input gradients for torch.

    coef_ : ndarray of shape (n_labels, n_features)
        Label weight vectors ``w_j`` (rows): ``decision_.coef``. Linear backend only: a
        torch fit has no ``coef_``; the last layer's weights are ``decision_.coef`` (what
        :func:`~skarm.metrics.alignment_score` compares).

    intercept_ : ndarray of shape (n_labels,)
        Label biases: ``decision_.intercept``. Linear backend only.

    net_ : skarm.deep.ARMNet
        Torch backend only: the trained skorch net (``net_.module_`` is the network,
        ``net_.history`` the per-epoch losses).

    classes_ : ndarray
        Labels seen in fit: the label indices for a 2-D y, the classes for a 1-D y.

    label_binarizer_ : LabelBinarizer
        Binarises y one-vs-rest.

    n_iter_ : int
        Number of solver iterations (linear backend; for "dual-cd" the most sweeps any
        label took, plus L-BFGS's iterations where "auto" finished with it, or the
        proximal steps for "sae") or of training epochs (torch).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string feature names."""
