"""Model selection helpers for robust multi-label models."""

from ._refit import robust_refit

__all__ = ["robust_refit"]
