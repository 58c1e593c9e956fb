"""A unit is done if and only if its output exists.

The done set comes from ONE listing of the output location (not one existence check per
unit: on object storage that is one request per 1,000 outputs instead of one per unit). Outputs
are staged and committed atomically by the store, so a crash never leaves a file that counts
as done; staged files are hidden and never match. What counts as an output depends on the
job's output shape (see outputs.py).
"""

from __future__ import annotations

from .outputs import list_units, output_name
from .storage import Store
from .unitlist import UnitList

__all__ = ["done_ids", "output_name", "pending"]


def done_ids(
    outputs: Store, suffix: str, shape: str = "file", among: set[str] | None = None
) -> set[str]:
    """The ids whose output exists (or that chose to write none), from one listing; only
    those ``among`` the given ids, if any are given."""
    done = list_units(outputs, suffix, shape).done
    return done if among is None else done & among


def pending(unit_ids: UnitList, done: set[str]) -> UnitList:
    """The ids still to do, in their original order."""
    return unit_ids.without(done)
