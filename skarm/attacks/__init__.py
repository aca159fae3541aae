"""Evasion attacks on multi-label models: GASE, L2 PGD and the exact oracle."""

from ._gase import GASEAttack
from ._oracle import exact_attack
from ._pgd import PGDAttack
from ._registry import ATTACKS

__all__ = ["ATTACKS", "GASEAttack", "PGDAttack", "exact_attack"]
