"""A unit is done if and only if its output exists.

The done set comes from ONE listing of the output location (not one existence check per
unit: on object storage that is one request per 1,000 outputs instead of one per unit). Outputs
are staged and committed atomically by the store, so a crash never leaves a file that counts
as done; staged files are hidden and never match.
"""

from __future__ import annotations

from .storage import PART_MARKER, Store
from .unitlist import UnitList


def output_name(unit_id: str, suffix: str) -> str:
    """The file name of a unit's output."""
    return f"{unit_id}{suffix}"


def done_ids(outputs: Store, suffix: str, among: set[str] | None = None) -> set[str]:
    """The ids whose output exists, from one listing of ``outputs``; only those ``among`` the
    given ids, if any are given (a few failed units need no set of every done one)."""
    cut = len(suffix)
    ids = (
        name[:-cut] if cut else name
        for name in outputs.names()
        if name.endswith(suffix) and not name.startswith(".") and PART_MARKER not in name
    )
    return set(ids) if among is None else {unit_id for unit_id in ids if unit_id in among}


def pending(unit_ids: UnitList, done: set[str]) -> UnitList:
    """The ids still to do, in their original order."""
    return unit_ids.without(done)
