"""The reproduction protocol: data, split, standardisation, budgets, models and grids.

Everything that defines *what* is computed lives here, as constants and plain functions, so
that the cache key of a cell (:mod:`skarm.experiments._cells`), the tables and the
documentation (``benchmarks/REPRODUCTION.md``) all read the same numbers.

The protocol (doc: alg-protocol) follows the paper where it is explicit, and fixes the
rest once for every data set (no per-data-set tuning):

- split: a seeded random 50/30/20 train/validation/test split of all the rows (the paper's
  split, not the authors' code's 56/24/20), then a ``StandardScaler`` fitted on the training
  rows (``preprocess="standardise"``, the default) or every row scaled to unit L2 norm
  (``preprocess="unit-norm"``, the geometry of the paper's TF-IDF rows). A sparse data set
  (medical, enron, bibtex: sparse MULAN files) is read as CSR and stays CSR end to end
  under "unit-norm", which scales rows without touching the zeros; "standardise" centres
  the columns, which fills them in, so it densifies the set first. The solver follows the
  storage (``ARMClassifier(solver="auto")``: dual coordinate descent on CSR where the
  penalty allows it, L-BFGS or FISTA on dense arrays), so unit-norm numbers on a sparse
  set are those of the CSR fit: another solver, stopped at its own tolerance, than a fit
  of the same rows stored dense, hence not the same digits;
- budgets: the paper's L2 budgets are on unit-norm Creepware rows, so here they are the same
  numbers as *fractions of the median L2 norm of the standardised training rows*: Table 3
  at 0.05 and 0.2, Table 2 at 0.5, Table 4 at 0.05;
- models: :class:`~skarm.ARMClassifier` with each of the six penalties and its defaults,
  and adversarial training ("at", not in the paper: ``penalty=None`` with the per-label
  worst-case loss at a training budget ``adversarial_eps``);
- grids: every penalty over the same half-decade grid of ``alpha`` (the paper's lambda);
  Tables 2 and 4 show its decade sub-grid, as the paper's five columns do; adversarial
  training over a grid of training budgets, fractions of the median row norm like the
  attack budgets.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import difflib
import hashlib
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import Normalizer, StandardScaler
from sklearn.utils import Bunch

from ..utils._tradeoff import median_row_norm

__all__ = [
    "ADVERSARIAL",
    "ALL_METHODS",
    "DATASETS",
    "DEEP_DATASETS",
    "FULL_NAMES",
    "METHODS",
    "MODELS",
    "PAPER_NAMES",
    "PREPROCESSING",
    "REGULARISERS",
    "Protocol",
    "ReproduceError",
    "budget_key",
    "budgets",
    "default_protocol",
    "load_dataset",
    "make_estimator",
    "split_standardise",
]

# Bump when the meaning of a cell changes (metrics, split, attack settings), so that cached
# cells computed under the old protocol are recomputed rather than silently reused.
# 2: the validation split is attacked at every budget of Table 3 (not only eps_select), cells
# record whether the model collapsed, the preprocessing enters the key, adversarial training.
PROTOCOL_VERSION = 2

# The data sets of the full run: the embedded default first, then the four MULAN sets that
# stand in for the paper's Creepware (linear models, as in the paper's Creepware setting).
DATASETS = ("digits", "emotions", "yeast", "medical", "enron")
# The data sets of the deep run (model="torch"): the embedded image-tagging task (a CNN)
# and a MULAN feature set (the default MLP), standing in for the paper's VOC2012 and Planet.
DEEP_DATASETS = ("canvases", "emotions")
_ALIASES = {"digit_attributes": "digits", "digit-attributes": "digits",
            "digit_canvases": "canvases", "digit-canvases": "canvases"}
# Canvases generated for the reproduction (a fixed seed: the data are part of the protocol).
_N_CANVASES = 4000
# model values: the linear SVM of the paper's Creepware setting, or the torch backend (a
# CNN on image data sets, the default MLP on feature vectors: the VOC / Planet setting).
MODELS = ("linear", "torch")

# Method name -> ARMClassifier penalty, in the paper's column order (Table 3).
METHODS = {
    "none": None,
    "l2": "l2",
    "nuclear": "nuclear",
    "single": "single",
    "primal": "primal",
    "sae": "sae",
}
# The penalised methods (every method but "none"), in the same order.
REGULARISERS = tuple(m for m, penalty in METHODS.items() if penalty is not None)
# Adversarial training (not in the paper): ARMClassifier(penalty=None, adversarial_eps=e),
# the exact per-label worst case of the linear backend; its grid value is the training
# budget e as a fraction of the median row norm, chosen on validation like lambda.
ADVERSARIAL = "at"
# Every method of the protocol: the paper's six, then adversarial training.
ALL_METHODS = (*METHODS, ADVERSARIAL)
# The paper's column headers (Table 3: non / L2 / nl / sg / pm / SAE), and ours for AT.
PAPER_NAMES = {
    "none": "non",
    "l2": "L2",
    "nuclear": "nl",
    "single": "sg",
    "primal": "pm",
    "sae": "SAE",
    ADVERSARIAL: "AT",
}
FULL_NAMES = {
    "none": "unregularised",
    "l2": "L2 (Frobenius)",
    "nuclear": "nuclear norm",
    "single": "ARM-Single",
    "primal": "ARM-Primal",
    "sae": "ARM-SAE",
    ADVERSARIAL: "adversarial training (per-label worst case)",
}
# preprocess values: fitted on the training rows ("standardise") or row by row ("unit-norm").
PREPROCESSING = ("standardise", "unit-norm")


def check_preprocess(preprocess):
    """Raise :class:`ReproduceError` unless ``preprocess`` is one of :data:`PREPROCESSING`."""
    if preprocess not in PREPROCESSING:
        raise ReproduceError(
            f"unknown preprocess {preprocess!r}; choose from {', '.join(PREPROCESSING)}."
        )


class ReproduceError(Exception):
    """A user error in a reproduction run: its message says what is wrong and how to fix it.

    The command line prints the message on one line and exits with status 2.

    Examples
    --------
    >>> from skarm.experiments import ReproduceError, load_dataset
    >>> try:
    ...     load_dataset("no-such-set")
    ... except ReproduceError as error:
    ...     print(type(error).__name__)
    ReproduceError
    """


@dataclass(frozen=True)
class Protocol:
    """The settings of a reproduction run (all of them enter the cache key of a cell).

    Parameters
    ----------
    lambda_grid : tuple of float
        Positive penalty weights ``alpha`` swept for every penalty (``alpha = 0`` is the
        unregularised model, computed once and shared by all penalties).
    table_grid : tuple of float
        The sub-grid shown in Tables 2 and 4 (five columns in the paper), 0 included.
    eps_table3 : tuple of float
        Table 3 budgets, as fractions of the median row norm.
    eps_table2 : float
        Table 2 budget (C_a and its Spearman correlation with SAE).
    eps_table4 : float
        Table 4 budget (the "pert" rows).
    eps_select : float
        Budget of the validation adversarial micro-F1 that selects ``alpha`` in Table 3
        (the paper's tuning: one model per method for every budget). The validation split
        is attacked at every Table 3 budget too: the selection table picks at each.
    at_grid : tuple of float
        Training budgets of adversarial training ("at"), as fractions of the median row
        norm (the same scale as the attack budgets), chosen on validation like ``alpha``.
        The default spans 0.2x-4x of the small reported budget 0.05 and reaches the large
        one, 0.2: the per-label worst case already gives W = 0 at 0.2 on most of the data
        sets (no hyperplane keeps most training rows that far away), so larger budgets
        only add collapsed models.
    at_method : str
        ``adversarial_method`` of those models ("per-label": the exact worst case of each
        label alone, convex).
    preprocess : {"standardise", "unit-norm"}
        "standardise": a ``StandardScaler`` fitted on the training rows; "unit-norm": every
        row scaled to unit L2 norm after the split (the geometry of the paper's TF-IDF).
    split : tuple of float
        Train, validation and test fractions.
    random_state : int
        Seed of the split (and of the row subsample in quick mode).
    max_samples : int or None
        Rows kept before splitting (a seeded random subset), None for all.
    max_attack : int or None
        Test (and validation) instances attacked per cell, None for all.
    pgd_max_iter : int
        Steps of the PGD cross-check.
    estimator_params : dict
        Parameters of :class:`~skarm.ARMClassifier` other than ``penalty`` and ``alpha``.
    gase_params : dict
        Parameters of :class:`~skarm.GASEAttack` other than the model, ``eps`` and
        ``reference`` (empty: its defaults).
    report_attack : {"gase", "gase+pgd"}
        The attack behind every "under attack" figure (C_a, adversarial F1, the selection
        of alpha): GASE, as in the paper, or per instance whichever of GASE and PGD flips
        more labels (both certify their flips, so this is still a lower bound on C*; the
        torch protocol's choice: on the CNN GASE's linearised steps stall, far below
        PGD's count (measured in the deep section of ``benchmarks/REPRODUCTION.md``), and
        an evaluation by the weaker attack alone would call the models robust).
    model : {"linear", "torch"}
        "linear": the linear SVM (the paper's Creepware setting); "torch": the torch
        backend with :class:`~skarm.deep.ConvNet` on image data sets and the default MLP
        on feature vectors (the paper's VOC2012 / Planet setting), on CUDA when torch
        finds a device (``device="auto"``), else on the CPU.
    quick : bool
        Whether this is the quick protocol (recorded in the results).

    See Also
    --------
    default_protocol : The full and quick protocols.
    reproduce : Runs a protocol.

    Examples
    --------
    >>> from skarm.experiments import Protocol
    >>> protocol = Protocol(lambda_grid=(0.1, 1.0), table_grid=(0.0, 0.1))
    >>> protocol.grid("sae"), protocol.grid("none"), protocol.grid("at")
    ((0.1, 1.0), (0.0,), (0.01, 0.025, 0.05, 0.1, 0.2))
    >>> protocol.eps_fractions
    (0.05, 0.2, 0.5)
    """

    lambda_grid: tuple = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0)
    table_grid: tuple = (0.0, 1e-3, 1e-2, 1e-1, 1.0)
    eps_table3: tuple = (0.05, 0.2)
    eps_table2: float = 0.5
    eps_table4: float = 0.05
    eps_select: float = 0.05
    at_grid: tuple = (0.01, 0.025, 0.05, 0.1, 0.2)
    at_method: str = "per-label"
    preprocess: str = "standardise"
    split: tuple = (0.5, 0.3, 0.2)
    random_state: int = 0
    max_samples: int | None = None
    max_attack: int | None = None
    pgd_max_iter: int = 100
    estimator_params: dict = field(
        default_factory=lambda: {
            "C": 1.0,
            "margin_floor": 0.01,
            "loss": "hinge",
            "loss_reduction": "sum",
            "max_iter": 1000,
            "tol": 1e-4,
        }
    )
    gase_params: dict = field(default_factory=dict)
    report_attack: str = "gase"
    model: str = "linear"
    quick: bool = False

    def __post_init__(self):
        check_preprocess(self.preprocess)
        if self.report_attack not in ("gase", "gase+pgd"):
            raise ReproduceError(f"unknown report_attack {self.report_attack!r}; choose "
                                 "from gase, gase+pgd.")
        if self.model not in MODELS:
            raise ReproduceError(
                f"unknown model {self.model!r}; choose from {', '.join(MODELS)}."
            )

    @property
    def val_eps_fractions(self):
        """Budgets the validation split is attacked at: ``eps_select`` and Table 3's."""
        return tuple(sorted({*self.eps_table3, self.eps_select}))

    @property
    def eps_fractions(self):
        """All budgets evaluated in a cell, as sorted fractions of the median row norm."""
        return tuple(sorted({*self.eps_table3, self.eps_table2, self.eps_table4,
                             self.eps_select}))

    def grid(self, method):
        """Return the ``alpha`` values of one method.

        Parameters
        ----------
        method : str
            One of :data:`ALL_METHODS` ("none", "sae", "primal", ..., "at").

        Returns
        -------
        alphas : tuple of float
            ``(0.0,)`` for "none", ``at_grid`` for "at" (training budgets), else
            ``lambda_grid``.
        """
        if method == ADVERSARIAL:
            return tuple(self.at_grid)
        return (0.0,) if METHODS[method] is None else tuple(self.lambda_grid)

    def as_dict(self):
        """Return the settings as a JSON-ready dict.

        Returns
        -------
        settings : dict
            The dataclass fields plus ``eps_fractions`` and ``val_eps_fractions``.
        """
        return {**asdict(self), "eps_fractions": list(self.eps_fractions),
                "val_eps_fractions": list(self.val_eps_fractions)}


# The deep protocol's training settings: Adam on minibatches (the paper's deep training),
# 30 epochs, which reach a test micro-F1 of about 0.81 on the canvases; adversarial
# training with 5 PGD steps per minibatch (10 would double its cost for the same budget).
_DEEP_PARAMS = {
    "margin_floor": 0.01,
    "loss_reduction": "sum",
    "hidden_layer_sizes": [64],
    "max_epochs": 30,
    "batch_size": 64,
    "lr": 3e-3,
    "adversarial_steps": 5,
    "random_state": 0,
}


def default_protocol(quick=False, preprocess="standardise", model="linear"):
    """The protocol of the full reproduction, or of the quick smoke run.

    Parameters
    ----------
    quick : bool, default=False
        Quick mode: at most 300 rows, two-value grids (``alpha`` in {0, 0.1}), one
        adversarial-training budget (0.05), at most 40 attacked instances, 20 PGD steps (for
        ``model="torch"``: 10 attacked instances, 10 PGD steps and 3 epochs). It runs in
        seconds (the torch one in about half a minute) and exercises every code path, but
        its numbers mean little.
    preprocess : {"standardise", "unit-norm"}, default="standardise"
        The features' preprocessing (see :class:`Protocol`).
    model : {"linear", "torch"}, default="linear"
        The models (see :class:`Protocol`). The torch protocol sweeps a decade grid of
        ``alpha`` (1e-3 to 1, the four non-zero columns of Tables 2 and 4), adversarial
        training at 0.05, 0.1 and 0.2 of the median row norm, attacks 40 test and validation
        instances with GASE (DeepFool's overshoot 0.02, one start) and 50 PGD steps, and
        reports per instance the stronger of the two attacks.

    Returns
    -------
    protocol : Protocol
        The settings of the run.

    Examples
    --------
    >>> from skarm.experiments import default_protocol
    >>> default_protocol().lambda_grid
    (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
    >>> default_protocol(quick=True).table_grid
    (0.0, 0.1)
    >>> default_protocol(model="torch").at_method
    'pgd'
    """
    deep = {}
    if model == "torch":
        deep = {
            "model": "torch",
            "estimator_params": dict(_DEEP_PARAMS),
            "at_method": "pgd",
            "lambda_grid": (1e-3, 1e-2, 1e-1, 1.0),
            "at_grid": (0.05, 0.1, 0.2),
            "max_attack": 40,
            "pgd_max_iter": 50,
            # DeepFool's overshoot: the linearised steps cross a curved boundary in a few
            # iterations instead of creeping up to it (1e-6 is for exact linear models).
            # No second start: on the CNN it cost 40% of GASE's time and changed no count
            # (benchmarks/REPRODUCTION.md, deep section).
            "gase_params": {"overshoot": 0.02, "restart": False},
            "report_attack": "gase+pgd",
        }
    elif model != "linear":
        raise ReproduceError(f"unknown model {model!r}; choose from {', '.join(MODELS)}.")
    if not quick:
        return Protocol(preprocess=preprocess, **deep)
    if deep:
        deep.update(max_attack=10, pgd_max_iter=10,
                    estimator_params={**_DEEP_PARAMS, "max_epochs": 3})
    return Protocol(**{
        "lambda_grid": (0.1,),
        "table_grid": (0.0, 0.1),
        "at_grid": (0.05,),
        "preprocess": preprocess,
        "max_samples": 300,
        "max_attack": 40,
        "pgd_max_iter": 20,
        "quick": True,
        **{k: v for k, v in deep.items() if k not in ("lambda_grid", "at_grid")},
    })


def make_estimator(method, alpha, protocol, scale=None, image_shape=None):
    """The unfitted model of one cell: ``ARMClassifier(penalty, alpha, **params)``.

    ``alpha = 0`` gives the unregularised model whatever the penalty, so it is built as
    ``penalty=None``. For adversarial training ("at") ``alpha`` is the training budget as a
    fraction of ``scale`` (the median row norm of the training rows): the model is
    ``ARMClassifier(penalty=None, adversarial_eps=alpha * scale)``. With
    ``protocol.model == "torch"`` the module is a :class:`~skarm.deep.ConvNet` when the
    data set has an ``image_shape`` (images), else the default MLP.
    """
    from .._classifier import ARMClassifier

    params = dict(protocol.estimator_params)
    if protocol.model == "torch":
        params["backend"] = "torch"  # the protocol's model decides the backend
        if image_shape is not None:
            from ..deep import ConvNet

            if image_shape[0] != image_shape[1]:
                raise ReproduceError(f"the torch protocol's ConvNet takes square images; "
                                     f"got image_shape={tuple(image_shape)}.")
            # The class: fit_net builds it (seeded) with n_features and n_labels, and
            # ConvNet reads the square image side from n_features.
            params["module"] = ConvNet
    if method == ADVERSARIAL and alpha > 0:
        if scale is None:
            raise ValueError("adversarial training needs the scale of its budget")
        return ARMClassifier(penalty=None, adversarial_eps=float(alpha * scale),
                             adversarial_method=protocol.at_method, **params)
    penalty = METHODS[method] if alpha > 0 else None
    return ARMClassifier(penalty=penalty, alpha=float(alpha), **params)


def canonical_name(name):
    """The data set name used in the results (lower case, aliases resolved)."""
    name = str(name).strip().lower()
    return _ALIASES.get(name, name)


# Values of the dense form of X hashed at a time by _fingerprint (8 MiB of float64).
_FINGERPRINT_BLOCK = 1 << 20


def _fingerprint(X, Y):
    """A short hash of the data, so that a changed file invalidates the cached cells.

    The hash does not depend on the storage: it is the SHA-1 of the shape and the C-order
    bytes of the dense form of X, then the same of Y. A sparse X is densified a block of
    rows at a time (about ``_FINGERPRINT_BLOCK`` values), never whole, so dense and CSR
    storage of the same matrix give the same fingerprint, equal to that of the dense array
    (the fingerprints of the data sets densified by earlier versions are unchanged).

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from skarm.experiments._protocol import _fingerprint
    >>> X, Y = np.array([[0.0, 2.0], [1.5, 0.0]]), np.array([[1], [0]])
    >>> _fingerprint(X, Y) == _fingerprint(sp.csr_matrix(X), Y)
    True
    """
    digest = hashlib.sha1()
    for a in (X, Y):
        a = a.tocsr() if sp.issparse(a) else np.asarray(a)  # CSR: sliced by rows
        shape = tuple(int(s) for s in a.shape)
        digest.update(str(shape).encode())
        row_size = int(np.prod(shape[1:], dtype=np.int64))
        step = max(1, _FINGERPRINT_BLOCK // max(1, row_size))
        for start in range(0, shape[0], step):
            block = a[start:start + step]
            block = block.toarray() if sp.issparse(block) else block
            digest.update(np.ascontiguousarray(block).tobytes())
    return digest.hexdigest()[:16]


def load_dataset(name, *, data_home=None, max_samples=None, random_state=0):
    """Load a data set of the reproduction: X dense, or CSR when its file is sparse.

    Parameters
    ----------
    name : str
        ``"digits"`` (the embedded :func:`~skarm.datasets.load_digit_attributes`, no download),
        ``"canvases"`` (4000 images of :func:`~skarm.datasets.load_digit_canvases`, seed 0,
        no download) or a MULAN data set name for :func:`~skarm.datasets.load_mulan` (all rows: the
        protocol makes its own split).
    data_home : str or path-like, default=None
        Folder of the MULAN data (default: the ``SKARM_DATA`` environment variable).
    max_samples : int, default=None
        Keep a seeded random subset of this many rows (quick mode).
    random_state : int, default=0
        Seed of that subset.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``name``, ``X`` (float64: a dense array, or a CSR matrix with sorted indices and
        no duplicates when the file is sparse), ``Y`` ({0, 1} int), ``target_names``,
        ``fingerprint`` (a hash of X and Y that does not depend on the storage of X) and
        ``image_shape`` (the image's height and width for image data, else None).

    Raises
    ------
    ReproduceError
        Unknown name, or MULAN data that are neither local nor downloadable.

    Examples
    --------
    >>> from skarm.experiments import load_dataset
    >>> data = load_dataset("digits", max_samples=100)
    >>> data.X.shape, data.Y.shape
    ((100, 64), (100, 8))
    """
    name = canonical_name(name)
    image_shape = None
    if name == "digits":
        from ..datasets import load_digit_attributes

        bunch = load_digit_attributes()
        X, Y, target_names = bunch.data, bunch.target, list(bunch.target_names)
    elif name == "canvases":
        from ..datasets import load_digit_canvases

        bunch = load_digit_canvases(n_samples=_N_CANVASES, random_state=0)
        X, Y, target_names = bunch.data, bunch.target, list(bunch.target_names)
        image_shape = bunch.image_shape
    else:
        from ..datasets import load_mulan
        from ..datasets._mulan import _UnknownDatasetError

        try:
            # sklearn's OpenML fallback warns on every network retry; the error below (if
            # the download fails for good) says it all.
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message="A network error occurred", category=UserWarning,
                    module=r"sklearn\.datasets\._openml",
                )
                bunch = load_mulan(name, subset="all", data_home=data_home)
        except FileNotFoundError as exc:
            raise ReproduceError(f"{exc} On the command line: --data-home DIR.") from None
        except _UnknownDatasetError:
            close = difflib.get_close_matches(name, DATASETS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ReproduceError(
                f"unknown data set {name!r}{hint}; choose from {', '.join(DATASETS)} or all, "
                "or name a MULAN data set under --data-home (NAME/NAME.arff, NAME.xml)."
            ) from None
        except ValueError as exc:
            raise ReproduceError(f"cannot read data set {name!r}: {exc}") from None
        X, Y, target_names = bunch.data, bunch.target, list(bunch.target_names)
    if sp.issparse(X):
        # Kept sparse (split_standardise densifies it only to standardise): CSR, float64,
        # canonical (sorted indices, duplicates summed); a copy, not the loader's matrix.
        X = X.tocsr().astype(np.float64, copy=True)
        X.sum_duplicates()
        values = X.data
    else:
        X = values = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.int64)
    if np.isnan(values).any():
        # MULAN encodes missing values as NaN; none of the protocol's data sets has any.
        raise ReproduceError(f"data set {name!r} has missing values, which the protocol "
                             "does not impute; choose another data set.")
    if max_samples is not None and X.shape[0] > max_samples:
        rows = np.sort(np.random.RandomState(random_state).permutation(X.shape[0])[:max_samples])
        X, Y = X[rows], Y[rows]
    return Bunch(name=name, X=X, Y=Y, target_names=target_names,
                 fingerprint=_fingerprint(X, Y), image_shape=image_shape)


def budget_key(fraction):
    """The key of the budget ``fraction`` (of the median row norm) in the results: ``"0.05"``."""
    return f"{fraction:g}"


def budgets(X_train, fractions):
    """Compute L2 budgets ``eps = fraction * median_row_norm(X_train)``.

    The paper's budgets (Creepware: 0.05 and 0.2 in Table 3, 0.5 in Table 2) apply to rows
    of unit L2 norm; expressed as fractions of the median row norm they mean the same
    relative perturbation on any data set.

    Parameters
    ----------
    X_train : {array-like, sparse matrix} of shape (n_samples, n_features)
        The (standardised) training data.
    fractions : iterable of float
        Budgets as fractions of the median row norm.

    Returns
    -------
    budgets : dict of str to float
        ``{f"{fraction:g}": fraction * median_row_norm(X_train)}``.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm.experiments import budgets
    >>> budgets(np.array([[3.0, 4.0], [6.0, 8.0]]), (0.05, 0.2))
    {'0.05': 0.375, '0.2': 1.5}
    """
    scale = median_row_norm(X_train)
    return {budget_key(f): float(f * scale) for f in fractions}


def split_standardise(X, Y, *, fractions=(0.5, 0.3, 0.2), random_state=0,
                      preprocess="standardise"):
    """Seeded random train/validation/test split, then standardisation fitted on train.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Features. A sparse X stays sparse (CSR) under "unit-norm"; "standardise" centres
        the columns, which fills in the zeros, so it densifies a sparse X first.
    Y : ndarray of shape (n_samples, n_labels)
        {0, 1} labels.
    fractions : tuple of 3 float, default=(0.5, 0.3, 0.2)
        Train, validation and test fractions (the paper's 50/30/20).
    random_state : int, default=0
        Seed of the permutation.
    preprocess : {"standardise", "unit-norm"}, default="standardise"
        "standardise": a ``StandardScaler`` fitted on the training rows; "unit-norm": every
        row divided by its L2 norm (all-zero rows stay zero), nothing fitted.

    Returns
    -------
    split : :class:`~sklearn.utils.Bunch`
        ``X_train, X_val, X_test`` (preprocessed: dense arrays, or CSR matrices for a
        sparse X under "unit-norm"), ``Y_train, Y_val, Y_test`` and the row
        indices ``train, val, test`` into the input. The test rows come in random order,
        so a prefix of them is a random subset.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm.experiments import split_standardise
    >>> rng = np.random.RandomState(0)
    >>> s = split_standardise(rng.rand(10, 3), rng.randint(0, 2, (10, 2)))
    >>> len(s.train), len(s.val), len(s.test)
    (5, 3, 2)
    >>> bool(np.allclose(s.X_train.mean(axis=0), 0))
    True
    >>> u = split_standardise(rng.rand(10, 3), rng.randint(0, 2, (10, 2)), preprocess="unit-norm")
    >>> bool(np.allclose(np.linalg.norm(u.X_test, axis=1), 1))
    True
    >>> import scipy.sparse as sp
    >>> X = sp.random(10, 6, density=0.5, format="csr", random_state=0)
    >>> Y = rng.randint(0, 2, (10, 2))
    >>> sp.issparse(split_standardise(X, Y, preprocess="unit-norm").X_train)
    True
    >>> sp.issparse(split_standardise(X, Y).X_train)
    False
    """
    check_preprocess(preprocess)
    if sp.issparse(X):
        # Row slicing needs CSR; centring the columns (StandardScaler) fills in the zeros.
        X = X.toarray() if preprocess == "standardise" else X.tocsr()
    n = X.shape[0]
    order = np.random.RandomState(random_state).permutation(n)
    n_train = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    train, val, test = np.split(order, [n_train, n_train + n_val])
    scaler = (StandardScaler().fit(X[train]) if preprocess == "standardise"
              else Normalizer(norm="l2"))
    return Bunch(
        X_train=scaler.transform(X[train]),
        X_val=scaler.transform(X[val]),
        X_test=scaler.transform(X[test]),
        Y_train=Y[train],
        Y_val=Y[val],
        Y_test=Y[test],
        train=train,
        val=val,
        test=test,
    )
