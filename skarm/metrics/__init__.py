"""Attackability metrics and scorers for multi-label models."""

from ._sae import alignment_score, sae_score, soft_attackability

__all__ = ["alignment_score", "sae_score", "soft_attackability"]
