"""The main process's view of one local worker: its process, pipe, board and units."""

from __future__ import annotations

import select
from collections import deque
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from multiprocess.connection import Connection

from .board import SETUP, Board


@dataclass
class WorkerSlot:
    process: Any
    conn: Connection
    board: Board
    #: Units sent to the worker and not yet reported, in the order it runs them; None for a
    #: unit taken back (the worker skips it). ``assigned[0]`` is never None.
    assigned: deque[str | None] = field(default_factory=deque)
    #: The worker's position of ``assigned[0]``.
    base: int = 0
    #: How many units in ``assigned`` are not None.
    holding: int = 0
    #: The positions (not yet reported finished) whose START has been reported.
    announced: set[int] = field(default_factory=set)
    retiring: bool = False
    #: The position of the long unit for which the worker was asked for its records.
    asked: int = -1
    #: The board when its units were taken back (it was stuck): it gets no more until the
    #: board moves on.
    stalled: tuple[float, float] | None = None
    verdict: str | None = None  # set when the main process killed it on purpose
    _readable: select.poll | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def has_data(self) -> bool:
        """Whether the worker's pipe holds something to read, without waiting.
        (``Connection.poll()`` builds and tears down a selector on every call, which cost more
        than handling the records it announced: ~70 us, twice per message.)"""
        if self._readable is None:
            self._readable = select.poll()
            self._readable.register(self.conn.fileno(), select.POLLIN)
        return bool(self._readable.poll(0))

    def give(self, units: list[str]) -> None:
        self.assigned.extend(units)
        self.holding += len(units)

    def finish_first(self) -> bool:
        """Drop the unit the worker reported finished (``assigned[0]``) and the taken-back
        places behind it; returns whether its START was reported already."""
        self.assigned.popleft()
        self.holding -= 1
        was_announced = self.base in self.announced
        self.announced.discard(self.base)
        self.base += 1
        self._drop_leading_gaps()
        return was_announced

    def finish(self, count: int) -> list[bool] | None:
        """``finish_first`` for ``count`` units in a row; None if no START was reported (then
        without looking at each unit: a run of trivial units is common)."""
        assigned = self.assigned
        if self.announced or None in assigned:
            announced = [self.finish_first() for _ in range(count)]
            return announced if any(announced) else None
        for _ in repeat(None, count):
            assigned.popleft()
        self.base += count
        self.holding -= count
        return None

    def _drop_leading_gaps(self) -> None:
        while self.assigned and self.assigned[0] is None:
            self.assigned.popleft()
            self.base += 1

    def running(self) -> tuple[int, str, float] | None:
        """(position, unit, start time) of the unit the worker runs now, from its board."""
        position, started = self.board.read()
        if position < 0 or position != int(position) or position < self.base:
            return None
        index = int(position) - self.base
        if index >= len(self.assigned):
            return None
        unit = self.assigned[index]
        return None if unit is None else (int(position), unit, started)

    def in_setup_since(self) -> float | None:
        """When setup() started, if it is still running."""
        position, since = self.board.read()
        return since if position == SETUP else None

    def take_back(self) -> list[str]:
        """The units the worker has not started, which it will now skip."""
        self.stalled = self.board.read()
        first = self.board.take_back(self.base, self.base + len(self.assigned))
        taken: list[str] = []
        for index in range(first - self.base, len(self.assigned)):
            unit = self.assigned[index]
            if unit is not None:
                taken.append(unit)
                self.assigned[index] = None
        self.holding -= len(taken)
        self._drop_leading_gaps()
        return taken

    def ready(self) -> bool:
        """Whether it may be given units: not retiring, and not stuck where it was when its
        units were taken back."""
        if self.retiring:
            return False
        if self.stalled is not None:
            if self.board.read() == self.stalled:
                return False
            self.stalled = None
        return True

    def units(self) -> list[str]:
        """Every unit it holds, in order (for requeueing those of a lost worker)."""
        return [unit for unit in self.assigned if unit is not None]
