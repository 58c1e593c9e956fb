"""What the main process checks on local workers between their messages: it reads each
worker's board to log the START of a unit that runs long (``WATCH_SECONDS`` after it began,
not when it ends), and kills a worker whose unit - or whose ``setup()`` - runs past
``--timeout``."""

from __future__ import annotations

import time
from collections.abc import Iterator

from .events import Event, Started
from .settings import Settings
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
            slot.announced.add(position)
            yield Started(unit, slot.pid, started)
        if limit and slot.verdict is None and now - started > limit:
            slot.verdict = f"timed out after {limit:g} s; its worker was replaced"
            slot.process.kill()  # what it started is ended when it is buried


def wait_seconds(slots: list[WorkerSlot], settings: Settings) -> float | None:
    """How long to wait for messages: until the next timeout or board reading is due."""
    if not any(slot.holding for slot in slots):
        return None
    wait = WATCH_SECONDS
    if settings.timeout:
        now = time.time()
        for slot in slots:
            running = slot.running()
            since = running[2] if running is not None else slot.in_setup_since()
            if since is not None:
                wait = min(wait, max(0.0, since + settings.timeout - now))
    return wait
