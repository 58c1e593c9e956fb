"""A compact, ordered list of unit ids, for runs of millions of units.

A Python ``list`` of ``str`` costs ~70 bytes per short id (the object and the pointer): 700 MB
for 10 million tiles or pixels, before the first unit starts. ``UnitList`` keeps the ids in ONE
string, each followed by a newline: about one byte per character. It is iterated in chunks
(split in C), never indexed, which is all a run needs: count, filter, take the first N, hand
out in order.
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, compress, filterfalse, islice, pairwise, starmap
from operator import lt

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
        twice = _hashes_seen_twice(self)
        if not twice:
            return None
        first: dict[str, int] = {}
        for position, unit_id in compress(enumerate(self), map(twice.__contains__, map(hash, self))):
            if unit_id in first:
                return first[unit_id], position
            first[unit_id] = position
        return None


#: At most this many hashes per bucket (on average) in the search for repeats: a set of
#: 32,768 hashes is ~2.5 MB, small enough to stay in the processor's cache while it is built.
BUCKET = 1 << 15


def _hashes_seen_twice(ids: UnitList) -> set[int]:
    """The hashes that more than one of the ids have: 64 bits, so almost surely only those
    of a repeated id. One set of 10 million hashes would take ~750 MB, so the hashes are
    first dealt into buckets by their top bits, arrays of 8 bytes per id, all in C (one map
    per step); then each bucket gets a set of its own, whose length shows whether any of its
    hashes repeats. 10 million ids: ~3 s and ~100 MB (numpy's sort: ~1.6 s)."""
    bits = (len(ids) // BUCKET).bit_length()
    buckets = [array("q") for _ in range(1 << bits)]
    # A hash's top bits, as an index from either end: ``hash >> shift``.
    top = (sys.hash_info.width - bits).__rrshift__
    for chunk in ids._chunks():
        hashes = map(hash, chunk)  # str caches its hash: the second map only reads it back
        tops = map(top, map(hash, chunk))
        pairs = zip(map(buckets.__getitem__, tops), hashes, strict=True)
        deque(starmap(array.append, pairs), maxlen=0)
    twice: set[int] = set()
    while buckets:
        bucket = buckets.pop()
        if len(set(bucket)) < len(bucket):
            twice.update(value for value, seen in Counter(bucket).items() if seen > 1)
    return twice


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

    def take(self, count: int) -> list[str]:
        """The next ``count`` units (fewer if fewer are left), as ``popleft`` gives them."""
        taken: list[str] = []
        front = self._front
        while front and len(taken) < count:
            taken.append(front.popleft())
        if len(taken) < count and self._left:
            more = min(count - len(taken), self._left)
            taken.extend(islice(self._rest, more))
            self._left -= more
        tail = self._tail
        while tail and len(taken) < count:
            taken.append(tail.popleft())
        return taken

    def extendleft(self, unit_ids: Iterable[str]) -> None:
        """Put units back at the front (like ``deque.extendleft``: the last given comes first)."""
        self._front.extendleft(unit_ids)

    def extend(self, unit_ids: Iterable[str]) -> None:
        """Put units back at the end."""
        self._tail.extend(unit_ids)
