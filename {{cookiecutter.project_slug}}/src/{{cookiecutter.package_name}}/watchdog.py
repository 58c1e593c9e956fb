"""What the main process checks on local workers between their messages: it reads each
worker's board to log the START of a unit that runs long (``WATCH_SECONDS`` after it began,
not when it ends), and kills a worker whose unit - or whose ``setup()`` - runs past
``--timeout``.

A START from the board is logged only once every record of the units its worker did before
has arrived, so that read per worker the log is in time order. A worker sends its records in
batches; when a long unit starts right after others, it is asked for the ones it still holds
(``RECORDS_SIGNAL``) instead of keeping them until the long unit ends."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import suppress

from .events import Event, Started
from .settings import Settings
from .worker_loop import RECORDS_SIGNAL
from .worker_slot import WorkerSlot

#: The main process reads the boards at least this often, in seconds, while units run.
WATCH_SECONDS = 0.25


def watch(slots: list[WorkerSlot], settings: Settings) -> Iterator[Event]:
    """START events of the units that began since the last look; enforce the timeout."""
    now = time.time()
    limit = settings.timeout
    for slot in slots:
        running = slot.running()
        if running is None:
            since = slot.in_setup_since()
            if limit and since is not None and slot.verdict is None and now - since > limit:
                slot.verdict = f"setup() did not finish within {limit:g} s (--timeout)"
                slot.process.kill()  # what it started is ended when it is buried
            continue
        position, unit, started = running
        if position not in slot.announced:
            if position == slot.base:  # every earlier unit's record is in: START goes after
                slot.announced.add(position)
                yield Started(unit, slot.pid, started)
            elif now - started >= WATCH_SECONDS and slot.asked != position:
                # A long unit, and the worker still holds records of units it did before:
                # ask for them (they come back through the pipe), then its START follows.
                slot.asked = position
                with suppress(OSError):  # it has just exited: its sentinel says so next
                    os.kill(slot.pid, RECORDS_SIGNAL)
        if limit and slot.verdict is None and now - started > limit:
            slot.verdict = f"timed out after {limit:g} s; its worker was replaced"
            slot.process.kill()  # what it started is ended when it is buried


def wait_seconds(slots: list[WorkerSlot], settings: Settings) -> float:
    """How long to wait for messages: until the next timeout or board reading is due (also
    while no worker holds a unit: one may be in setup(), or ready again for the queue)."""
    wait = WATCH_SECONDS
    if settings.timeout:
        now = time.time()
        for slot in slots:
            running = slot.running()
            since = running[2] if running is not None else slot.in_setup_since()
            if since is not None:
                wait = min(wait, max(0.0, since + settings.timeout - now))
    return wait
