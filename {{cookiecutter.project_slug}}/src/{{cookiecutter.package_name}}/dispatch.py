"""Which local worker gets which units, and when.

Units go out in chunks sized to the work (see ``chunksize``), at most two chunks per worker,
so a worker never waits for its next one. A unit sent to a worker that then gets stuck (a
unit that hangs, a slow ``setup()``) is taken back once another worker is idle with nothing
left to give it: no unit waits behind a busy worker while another one idles.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterable

from .settings import Settings
from .unitlist import UnitQueue
from .worker_slot import WorkerSlot

#: The adaptive chunk size aims at chunks of about this many seconds of work ...
CHUNK_SECONDS = 0.1
#: ... and never sends more units at once than this.
MAX_CHUNK = 256
#: A worker's unstarted units are taken back for an idle worker once its current unit (or
#: its setup()) has run this long.
STUCK_SECONDS = 0.25


def _idle(slot: WorkerSlot) -> bool:
    """Ready for units and without any: set up, not retiring, holding none."""
    return slot.holding == 0 and not slot.retiring and slot.in_setup_since() is None


class Dispatcher:
    def __init__(self, unit_ids: Iterable[str], settings: Settings) -> None:
        #: What is left to hand out, read lazily from the unit list (millions of ids are not
        #: copied into a deque of strings).
        self.queue = UnitQueue(unit_ids)
        self.settings = settings
        #: Mean seconds per unit so far (for the adaptive chunk size), None before any unit.
        self.mean_seconds: float | None = None

    def timed(self, seconds: float) -> None:
        """Account for a finished unit's duration."""
        mean = self.mean_seconds
        self.mean_seconds = seconds if mean is None else 0.9 * mean + 0.1 * seconds

    def timed_run(self, seconds: float, count: int) -> None:
        """Account for ``count`` units that took ``seconds`` in all (as ``timed`` for each,
        each at their mean)."""
        mean = seconds / count
        weight = 0.9**count
        self.mean_seconds = (
            mean if self.mean_seconds is None else weight * self.mean_seconds + (1 - weight) * mean
        )

    def chunksize(self) -> int:
        """``settings.chunksize``, or adaptive (0): one unit at a time until units have been
        timed, then about CHUNK_SECONDS of work per chunk, and never so many that a worker
        holds a large share of what is left (long units stay balanced to the end)."""
        if self.settings.chunksize:
            return self.settings.chunksize
        if self.mean_seconds is None:
            return 1
        size = min(MAX_CHUNK, int(CHUNK_SECONDS / max(self.mean_seconds, 1e-6)))
        return max(1, min(size, len(self.queue) // (4 * self.settings.workers)))

    def refill(self, slot: WorkerSlot) -> None:
        """Keep at most two chunks in flight per worker, so it never waits for the next."""
        if not self.queue or not slot.ready():
            return
        size = self.chunksize()
        queue = self.queue
        while queue and slot.holding <= size:
            chunk = queue.take(size)
            try:
                slot.conn.send_bytes(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
            except OSError:
                # The worker exited (it retired, or died) before its last records were read:
                # the units go back to the queue, and its sentinel gets it buried and replaced.
                queue.extendleft(reversed(chunk))
                return
            slot.give(chunk)

    def rebalance(self, slots: list[WorkerSlot]) -> None:
        """With nothing left to hand out and a worker idle, take back the units that stuck
        workers have not started (they go to the idle ones)."""
        if self.queue or not any(_idle(slot) for slot in slots):
            return
        now = time.time()
        for slot in slots:
            if slot.holding < 2 and not (slot.holding and slot.in_setup_since() is not None):
                continue
            running = slot.running()
            since = running[2] if running else slot.in_setup_since()
            if since is not None and now - since >= STUCK_SECONDS:
                self.queue.extend(slot.take_back())
