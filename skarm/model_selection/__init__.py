"""Model selection helpers for robust multi-label models."""

from ._refit import robust_refit
from ._search import robust_search

__all__ = ["robust_refit", "robust_search"]
