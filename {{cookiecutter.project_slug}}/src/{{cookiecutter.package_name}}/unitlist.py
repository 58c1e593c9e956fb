"""A compact, ordered list of unit ids, for runs of millions of units.

A Python ``list`` of ``str`` costs ~70 bytes per short id (the object and the pointer): 700 MB
for 10 million tiles or pixels, before the first unit starts. ``UnitList`` keeps the ids in ONE
string, each followed by a newline: about one byte per character. It is iterated in chunks
(split in C), never indexed, which is all a run needs: count, filter, take the first N, hand
out in order.
"""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, compress, filterfalse, islice, pairwise, starmap
from operator import lt
from types import ModuleType

#: Characters of the text split at a time while iterating: ~6,500 short ids, ~0.4 MB of
#: ``str`` objects at a time (a megabyte of text made ~7 MB: a gather's whole growth).
CHUNK = 1 << 16


class UnitList:
    """Unit ids in their order, immutable; iterating yields each id as a ``str``."""

    __slots__ = ("_count", "_text")

    def __init__(self, text: str = "", count: int | None = None) -> None:
        """``text``: the ids, each followed by ``\\n`` (ids never contain one)."""
        self._text = text
        self._count = text.count("\n") if count is None else count

    @classmethod
    def of(cls, ids: Iterable[str]) -> UnitList:
        """A list of the given ids (already validated)."""
        return _build(ids)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._chunks())

    def _chunks(self) -> Iterator[list[str]]:
        """The ids in order, a list of about ``CHUNK`` characters' worth at a time."""
        text, start, end = self._text, 0, len(self._text)
        while start < end:
            stop = text.rfind("\n", start, start + CHUNK) + 1
            if stop <= start:  # one id longer than a chunk (ids are short: not in practice)
                stop = text.index("\n", start) + 1
            yield text[start : stop - 1].split("\n")
            start = stop

    def ascending(self) -> bool:
        """Whether every id sorts strictly after the one before it (so none repeats): one
        comparison per id, in C. Lists made by a program or by ``ls`` usually are."""
        last: str | None = None
        for ids in self._chunks():
            if last is not None and not last < ids[0]:
                return False
            if not all(starmap(lt, pairwise(ids))):
                return False
            last = ids[-1]
        return True

    def __contains__(self, unit_id: object) -> bool:
        """A scan of the whole list (in C): for a few look-ups, not one per id."""
        if not isinstance(unit_id, str) or "\n" in unit_id or not unit_id:
            return False
        return self._text.startswith(unit_id + "\n") or f"\n{unit_id}\n" in self._text

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UnitList):
            return self._text == other._text
        if isinstance(other, list | tuple):
            return self._count == len(other) and all(
                a == b for a, b in zip(self, other, strict=False)
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = [unit_id for unit_id, _ in zip(self, range(5), strict=False)]
        more = f", ... ({self._count} ids)" if self._count > len(shown) else ""
        return f"UnitList({shown!r}{more})"

    def filtered(self, keep: Callable[[str], bool]) -> UnitList:
        """The ids for which ``keep`` is true, in order, as a new compact list."""
        return _joined(list(filter(keep, ids)) for ids in self._chunks())

    def without(self, excluded: set[str] | frozenset[str]) -> UnitList:
        """The ids not in ``excluded`` (a resume: every id whose output does not exist yet),
        filtered a chunk at a time in C."""
        if not excluded:
            return self
        return _joined(list(filterfalse(excluded.__contains__, ids)) for ids in self._chunks())

    def head(self, count: int) -> UnitList:
        """The first ``count`` ids."""
        if count >= self._count:
            return self
        end = 0
        for _ in range(count):
            end = self._text.index("\n", end) + 1
        return UnitList(self._text[:end], count)

    def any_contains(self, part: str) -> bool:
        """Whether any id contains ``part`` (one scan of the text, in C)."""
        return "\n" not in part and part in self._text

    def first_repeat(self) -> tuple[int, int] | None:
        """``(first, repeat)``: the positions of the earliest repeated id's two occurrences, or
        None if every id is unique.

        A ``set`` of 10 million ids takes over a gigabyte. Instead, a first pass finds the
        hashes that occur more than once (a repeat, or a rare collision) in a compact form,
        and a second pass checks exactly only the ids with such a hash. An ascending list
        (checked first, ~0.1 s per million ids) needs neither pass.
        """
        if self.ascending():
            return None
        numpy = _numpy() if self._count >= NUMPY_FROM else None
        suspects = _sorted_suspects(self, numpy) if numpy else _marked_suspects(self)
        if suspects is None:
            return None
        first: dict[str, int] = {}
        for position, unit_id in compress(enumerate(self), suspects):
            if unit_id in first:
                return first[unit_id], position
            first[unit_id] = position
        return None


#: Unordered lists of at least this many ids look for repeats with numpy (the ``many`` extra)
#: when it is installed: its import (~0.2 s) pays off from about here.
NUMPY_FROM = 200_000


def _numpy() -> ModuleType | None:
    """numpy if it is installed, imported only when a large list needs it."""
    try:
        return importlib.import_module("numpy")
    except ImportError:
        return None


def _sorted_suspects(ids: UnitList, numpy: ModuleType) -> Iterator[bool] | None:
    """For each id, whether its hash occurs twice among all the ids' hashes (None if no hash
    does), found by sorting the hashes as one array of 8 bytes per id: ~2 s for 10 million
    ids, where ``_marked_suspects`` takes ~15 s."""
    hashes = numpy.fromiter(map(hash, ids), dtype=numpy.int64, count=len(ids))
    hashes.sort()
    twice = set(hashes[1:][hashes[1:] == hashes[:-1]].tolist())
    del hashes
    return map(twice.__contains__, map(hash, ids)) if twice else None


def _marked_suspects(ids: UnitList) -> Iterator[bool] | None:
    """The same with the standard library alone, approximately: each id's hash marks one byte
    of a map of about 8 bytes per id; a byte marked twice makes its ids suspects (a repeat, or
    two ids sharing the byte: one id in 16 or so). Two operations per id in Python, ~0.7 µs
    (memory-bound: C-level gathers and scatters were measured no faster)."""
    mask = (1 << max(10, (len(ids) * 8).bit_length())) - 1
    seen = bytearray(mask + 1)
    twice: set[int] = set()
    for slot in map(mask.__and__, map(hash, ids)):
        if seen[slot]:
            twice.add(slot)
        else:
            seen[slot] = 1
    del seen
    return map(twice.__contains__, map(mask.__and__, map(hash, ids))) if twice else None


def _build(ids: Iterable[str]) -> UnitList:
    """A UnitList from ids, joined in batches so that no list of every id ever exists."""
    source = iter(ids)
    return _joined(iter(lambda: list(islice(source, 65536)), []))


def _joined(batches: Iterable[list[str]]) -> UnitList:
    """A UnitList of batches of ids, in order."""
    parts: list[str] = []
    count = 0
    for batch in batches:
        if batch:
            parts.append("\n".join(batch) + "\n")
            count += len(batch)
    return UnitList("".join(parts), count)


class UnitQueue:
    """The units a pool has yet to hand out: units given back first, then the rest of the
    list, read lazily (a ``deque`` of 10 million ids would take ~700 MB), then units given
    back to the end.

    Supports what a dispatcher does with a ``deque``: ``len``, truth, ``popleft``,
    ``extendleft`` and ``extend``.
    """

    __slots__ = ("_front", "_left", "_rest", "_tail")

    def __init__(self, unit_ids: Iterable[str], count: int | None = None) -> None:
        if count is None:
            if not isinstance(unit_ids, UnitList | list | tuple):
                unit_ids = list(unit_ids)
            count = len(unit_ids)
        self._front: deque[str] = deque()
        self._rest = iter(unit_ids)
        self._left = count
        self._tail: deque[str] = deque()

    def __len__(self) -> int:
        return len(self._front) + self._left + len(self._tail)

    def __bool__(self) -> bool:
        return bool(self._front or self._left or self._tail)

    def popleft(self) -> str:
        if self._front:
            return self._front.popleft()
        if self._left:
            self._left -= 1
            return next(self._rest)
        return self._tail.popleft()

    def extendleft(self, unit_ids: Iterable[str]) -> None:
        """Put units back at the front (like ``deque.extendleft``: the last given comes first)."""
        self._front.extendleft(unit_ids)

    def extend(self, unit_ids: Iterable[str]) -> None:
        """Put units back at the end."""
        self._tail.extend(unit_ids)
