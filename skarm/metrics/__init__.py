"""Attackability metrics and scorers for multi-label models."""

from ._adversarial import attackability_score, make_adversarial_scorer
from ._report import attack_report
from ._sae import alignment_score, sae_score, soft_attackability

__all__ = [
    "alignment_score",
    "attack_report",
    "attackability_score",
    "make_adversarial_scorer",
    "sae_score",
    "soft_attackability",
]
