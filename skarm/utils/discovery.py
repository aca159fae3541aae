"""Find skarm's public estimators by walking the package, as scikit-learn's own discovery does.

The common estimator checks run on what this finds, so a new estimator is checked from the
day it is added, with no list to keep by hand.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import importlib
import inspect
import pkgutil

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
)

# Subpackages that need an optional extra; left out, not an error, when it is not installed.
_OPTIONAL_DEPENDENCIES = {"torch", "skorch", "matplotlib", "pandas"}

_TYPE_FILTERS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
}


def _public_modules():
    """Import and yield every module of skarm, skipping those of a missing optional extra."""
    import skarm

    yield skarm
    for module_info in pkgutil.walk_packages(skarm.__path__, prefix="skarm."):
        if ".tests" in module_info.name or module_info.name.endswith("__main__"):
            continue
        try:
            yield importlib.import_module(module_info.name)
        except ModuleNotFoundError as exc:
            if exc.name.partition(".")[0] not in _OPTIONAL_DEPENDENCIES:
                raise


def all_estimators(type_filter=None):
    """Return every public estimator class of skarm, with its name.

    The package is walked module by module, as :func:`sklearn.utils.discovery.all_estimators`
    walks scikit-learn. A class counts when it derives from
    :class:`~sklearn.base.BaseEstimator`, is defined in skarm (not imported into it), is not
    abstract and its name has no leading underscore. Modules that need an optional extra
    (torch and skorch for :mod:`skarm.deep`) are skipped when the extra is not installed.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer"}, list of those or None, \
            default=None
        Keep only the estimators of these kinds; None keeps them all.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs, sorted by name, each class once.

    Examples
    --------
    >>> from skarm.utils.discovery import all_estimators
    >>> names = [name for name, _ in all_estimators(type_filter="transformer")]
    >>> names
    ['GASEAttack', 'PGDAttack']
    """
    if type_filter is None:
        mixins = None
    else:
        kinds = [type_filter] if isinstance(type_filter, str) else list(type_filter)
        unknown = [kind for kind in kinds if kind not in _TYPE_FILTERS]
        if unknown:
            raise ValueError(
                f"The 'type_filter' parameter of all_estimators must be None or among "
                f"{sorted(_TYPE_FILTERS)}. Got {type_filter!r} instead."
            )
        mixins = tuple(_TYPE_FILTERS[kind] for kind in kinds)

    found = {}
    for module in _public_modules():
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                name.startswith("_")
                or not cls.__module__.startswith("skarm.")
                or not issubclass(cls, BaseEstimator)
                or inspect.isabstract(cls)
            ):
                continue
            if mixins is None or issubclass(cls, mixins):
                found[name] = cls
    return sorted(found.items())
