"""Evasion attacks on multi-label models: GASE, L2 PGD and the exact oracle."""

from ._gase import GASEAttack
from ._oracle import exact_attack
from ._pgd import PGDAttack

__all__ = ["GASEAttack", "PGDAttack", "exact_attack"]
