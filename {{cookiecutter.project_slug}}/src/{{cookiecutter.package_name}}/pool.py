"""A pool of local worker processes that survives what kills a plain ``Pool``.

Each worker has its own pipe and a board in shared memory (``board.py``) saying which of its
units it runs and since when, so the main process always knows what each worker is doing. That
is what lets it notice a worker that died and blame the right unit (``supervisor.py``), kill one
that hangs past the timeout (``watchdog.py``), recycle one that did too many units or grew too
big, and hand units only to workers ready for them (``dispatch.py``). Results come back
unordered, as they finish.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

from .dispatch import Dispatcher
from .events import WAITING, Committed, Event, PoolError, Started, UserLog
from .settings import Settings
from .supervisor import Supervisor
from .watchdog import WATCH_SECONDS, wait_seconds, watch
from .worker import Job
from .worker_loop import DONE, END, LOG, RETIRE, SETUP_FAILED, START
from .worker_slot import WorkerSlot


class LocalPool:
    """Runs a job over unit ids in worker processes; ``events`` yields what happens."""

    def __init__(self, job: Job[Any], settings: Settings) -> None:
        self.settings = settings
        self.workers = Supervisor(job, settings)
        self.dispatch = Dispatcher([], settings)

    def _drain(self, slot: WorkerSlot) -> list[Event]:
        """Every record the worker has sent so far, as events (read all at once, so that the
        worker's next chunk can be sent before the events are handled)."""
        events: list[Event] = []
        while True:
            try:
                if not slot.has_data():
                    return events
                messages = pickle.loads(slot.conn.recv_bytes())
            except (EOFError, OSError):
                return events
            timed_run = self.dispatch.timed_run
            finished = False
            for message in messages:
                kind = message[0]
                if kind == DONE:  # a run of plain units: one Committed event
                    units = message[1]
                    events.append(Committed(slot.pid, units, slot.finish(len(units))))
                    timed_run(sum(map(itemgetter(2), units)), len(units))
                    finished = True
                    continue
                if kind == START:
                    if slot.base not in slot.announced:  # not yet reported from the board
                        slot.announced.add(slot.base)
                        events.append(Started(message[1], slot.pid, message[2]))
                elif kind == END:
                    outcome = message[1]
                    if not slot.finish_first():
                        events.append(Started(outcome.unit, slot.pid, outcome.started))
                    self.dispatch.timed(outcome.seconds)
                    finished = True
                    events.append(outcome)
                elif kind == LOG:
                    events.append(UserLog(*message[1:]))
                elif kind == RETIRE:
                    slot.retiring = True
                elif kind == SETUP_FAILED:
                    raise PoolError(f"setup() failed in a worker: {message[1]}: {message[2]}")
            if finished:
                self.workers.barren_deaths = 0

    def _bury(self, slot: WorkerSlot) -> Iterator[Event]:
        """A worker has exited: report what it sent last and its unit, requeue the rest."""
        yield from self._drain(slot)
        events, units = self.workers.bury(slot)
        yield from events
        queue = self.dispatch.queue
        queue.extendleft(reversed(units))
        if queue and len(self.workers.slots) < self.settings.workers:
            self.workers.spawn()

    def events(self, unit_ids: Iterable[str]) -> Iterator[Event]:
        """Run every unit; yields Started, UserLog and Outcome events as they happen."""
        dispatch = self.dispatch = Dispatcher(unit_ids, self.settings)
        workers = self.workers
        slots = workers.slots
        try:
            for _ in range(min(self.settings.workers, len(dispatch.queue))):
                workers.spawn()
            watched = time.monotonic()
            while slots and (dispatch.queue or any(slot.holding for slot in slots)):
                dispatch.rebalance(slots)
                for slot in slots:
                    dispatch.refill(slot)
                exited: list[WorkerSlot] = []
                news = False
                for slot, is_sentinel in workers.exited(wait_seconds(slots, self.settings)):
                    news = True
                    if not is_sentinel:
                        events = self._drain(slot)
                        dispatch.refill(slot)
                        yield from events
                    elif slot not in exited:
                        exited.append(slot)
                if not news:
                    yield WAITING
                for slot in exited:
                    yield from self._bury(slot)
                if time.monotonic() - watched >= min(WATCH_SECONDS, self.settings.timeout or 1):
                    watched = time.monotonic()
                    yield from watch(slots, self.settings)
        finally:
            workers.shutdown()
