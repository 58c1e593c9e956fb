"""The board: what one local worker is doing, in shared memory, readable at any time.

The main process never waits for a worker to tell it what it runs: the worker writes the
position (in its own stream of units) of the unit it starts and when, and the main process
reads that to log the START of a long unit, enforce the timeout, and blame the right unit
when a worker dies. The board also carries the units the main process *took back*: a range of
positions the worker skips, because they were handed to an idle worker instead (a unit never
waits behind a busy one). Starting a unit and taking units back hold the board's lock, so a
unit is either started here or taken back, never both and never neither.
"""

from __future__ import annotations

import math
from typing import Any

#: What the position holds before the worker started any unit, and while setup() runs.
IDLE, SETUP = -1.0, -2.0
_POSITION, _SINCE, _SKIP_FROM, _SKIP_TO = range(4)


class Board:
    """``position``: the unit running now, or that position + 0.5 once it has finished;
    ``since``: when it (or setup) started, in epoch seconds."""

    def __init__(self, context: Any) -> None:
        self.values = context.RawArray("d", [IDLE, 0.0, 0.0, 0.0])
        self.lock = context.Lock()

    # The worker's side.

    def setting_up(self, now: float) -> None:
        self.values[_SINCE] = now
        self.values[_POSITION] = SETUP

    def set_up(self) -> None:
        """setup() is done: the worker is ready for units."""
        self.values[_POSITION] = IDLE

    def begin(self, position: int, now: float) -> bool:
        """Mark ``position`` as running, unless it was taken back (then False: skip it)."""
        values = self.values
        lock = self.lock
        lock.acquire()  # not ``with``: its __enter__ is Python code, 3x the cost, once per unit
        try:
            if values[_SKIP_FROM] <= position < values[_SKIP_TO]:
                return False
            values[_SINCE] = now
            values[_POSITION] = position
            return True
        finally:
            lock.release()

    def end(self, position: int) -> None:
        self.values[_POSITION] = position + 0.5

    # The main process's side.

    def read(self) -> tuple[float, float]:
        """(position, since) as last written, as one pair: under the lock that ``begin`` holds
        while it writes both (read apart, a unit could be given the start time of the next)."""
        values = self.values
        with self.lock:
            return values[_POSITION], values[_SINCE]

    def take_back(self, first: int, end: int) -> int:
        """Have the worker skip positions from the first it has not started (at least
        ``first``) to ``end``; returns that first skipped position."""
        values = self.values
        with self.lock:
            position = values[_POSITION]
            start = max(first, math.floor(position) + 1 if position >= 0 else first)
            # A range taken back earlier that the worker has not reached yet stays skipped.
            keep = values[_SKIP_FROM] <= start <= values[_SKIP_TO]
            values[_SKIP_FROM] = min(values[_SKIP_FROM], start) if keep else start
            values[_SKIP_TO] = end
            return start
