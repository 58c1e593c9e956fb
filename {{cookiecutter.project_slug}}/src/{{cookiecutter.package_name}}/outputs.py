"""The shapes a unit's output can take, and how one listing tells which units are done.

- ``file`` (the default): ``<output>/<id><suffix>``, one file;
- ``folder``: ``<output>/<id><suffix>/`` holding any files, complete once its last object,
  ``_SUCCESS``, exists;
- no output on purpose: ``process()`` calls ``unit.skip(reason)``; the runner writes
  ``<output>/<id><suffix>.skipped`` holding the reason, so the unit counts as done, and
  ``status`` tells it apart.

A unit redone (``--overwrite``, ``--rerun-stale``) may change shape: a skip removes the unit's
older output first (a crash in between leaves the unit pending), an output removes the older
skip record after its commit (a crash in between leaves both, and the output wins).

``process.py`` declares the shape once: ``OUTPUT_SHAPE = "folder"`` (default ``"file"``).
Ids may hold folders (``a/b/c``): outputs mirror them, and the listing is recursive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import itemgetter, not_

from .errors import UserError
from .storage import FOLDER_MARKER, PART_MARKER, Store
from .unitlist import UnitList

SHAPES = ("file", "folder")
#: Appended to a unit's output name for the record of a unit that chose to write nothing.
SKIP_SUFFIX = ".skipped"


def output_name(unit_id: str, suffix: str) -> str:
    """The name of a unit's output (a file, or a folder for the folder shape)."""
    return f"{unit_id}{suffix}"


@dataclass
class Listing:
    """What one listing of the output location says about the units."""

    #: Every unit that counts as done, the skipped ones included.
    done: set[str] = field(default_factory=set)
    #: The units done without output, by their own choice (``unit.skip``).
    skipped: set[str] = field(default_factory=set)


def _hidden(name: str) -> bool:
    return name.startswith(".") or "/." in name or PART_MARKER in name


def scan(names: list[str], suffix: str, shape: str) -> Listing:
    """Sort the names of one recursive listing into done and skipped units.

    Every step runs in C over all names (a suffix test, a slice); only when the listing
    holds hidden or staged names at all are they looked at one by one."""
    listing = Listing()
    skip_tail = suffix + SKIP_SUFFIX
    complete_tail = f"{suffix}/{FOLDER_MARKER}"
    tail = complete_tail if shape == "folder" else suffix
    cut, skip_cut = len(tail), len(skip_tail)
    is_skip = list(map(str.endswith, names, repeat(skip_tail)))
    rest = list(compress(names, map(not_, is_skip))) if any(is_skip) else names
    skips = _visible(list(compress(names, is_skip)))
    found = _visible(list(compress(rest, map(str.endswith, rest, repeat(tail)))))
    done, skipped = listing.done, listing.skipped
    skipped.update(map(itemgetter(slice(None, -skip_cut)), skips))
    done.update(map(itemgetter(slice(None, -cut)), found) if cut else found)
    skipped -= done  # an output beside a skip record wins (see the module's docstring)
    done |= skipped
    return listing


def _visible(names: list[str]) -> list[str]:
    """``names`` without hidden and staged ones, looked at one by one only if there are any."""
    joined = "\n" + "\n".join(names)
    if "\n." in joined or "/." in joined or PART_MARKER in joined:
        return [name for name in names if not _hidden(name)]
    return names


def list_units(outputs: Store, suffix: str, shape: str = "file") -> Listing:
    """The done and skipped units, from ONE recursive listing of ``outputs``."""
    return scan(outputs.walk(), suffix, shape)


def first_clash(ids: UnitList, suffix: str) -> tuple[str, str, str] | None:
    """Two ids whose outputs cannot both exist, ``(a, b, name)``: ``a``'s output (or skip
    record) ``name`` is also the name of a folder holding ``b``'s (``a`` and ``a/b`` with
    folder outputs); None if there are none. One scan of the text when no id has a folder;
    otherwise passes in C over the ids (~0.5 s per million)."""
    if not ids.any_contains("/"):
        return None
    parents = set(map(itemgetter(0), map(str.rpartition, ids, repeat("/"))))
    folders: set[str] = set()  # every folder an id's output lies in
    for parent in parents:
        while parent and parent not in folders:
            folders.add(parent)
            parent = parent.rpartition("/")[0]
    for tail in (suffix, suffix + SKIP_SUFFIX):
        for name in filter(folders.__contains__, map(str.__add__, ids, repeat(tail))):
            outer = name[: -len(tail)] if tail else name
            inner = next(unit_id for unit_id in ids if unit_id.startswith(name + "/"))
            return outer, inner, name
    return None


def check_layout(ids: UnitList, suffix: str) -> None:
    """Refuse, in one line, ids whose outputs would collide (see ``first_clash``)."""
    clash = first_clash(ids, suffix)
    if clash is not None:
        outer, inner, name = clash
        raise UserError(
            f"unit ids {outer!r} and {inner!r} collide: {name!r} would be both the output of "
            "the first and a folder holding the output of the second; rename one of them"
        )
