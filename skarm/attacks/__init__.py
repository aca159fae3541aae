"""Evasion attacks on multi-label models: GASE, PGD (L2 or L-inf), the exact oracle, and the
targets of targeted attacks."""

from ._gase import GASEAttack
from ._oracle import exact_attack
from ._pgd import PGDAttack
from ._registry import ATTACKS
from ._targets import make_targets

__all__ = ["ATTACKS", "GASEAttack", "PGDAttack", "exact_attack", "make_targets"]
