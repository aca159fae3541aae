"""The attacks that the metrics, scorers, Displays and searches can name by a string."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from types import MappingProxyType

from ._gase import GASEAttack
from ._pgd import PGDAttack

__all__ = ["ATTACKS"]

#: Attack name -> attack class, read-only: ``attack="gase"`` in a scorer, a Display or
#: :class:`~skarm.model_selection.RobustSearchCV` means ``ATTACKS["gase"]``.
ATTACKS = MappingProxyType({"gase": GASEAttack, "pgd": PGDAttack})
