"""Starting, burying and stopping local worker processes.

The main process watches every worker's pipe and exit sentinel at once, so it notices a worker
that died (a plain ``multiprocess.Pool`` waits forever for its result), blames the unit it was
running, and replaces it. Each worker leads its own process group, so ending a worker - killed
past the timeout, dead, recycled, or stopped with the run - ends what its unit started too.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import multiprocess
from multiprocess.connection import wait

from .board import Board
from .children import end_group, kill_group
from .events import Event, Outcome, PoolError, Started
from .settings import Settings
from .start_method import default_start_method
from .storage import loaded_modules
from .worker import Job
from .worker_loop import worker_main
from .worker_slot import WorkerSlot

#: Seconds a worker gets to exit on its own before it is killed.
GRACE_SECONDS = 3.0
#: Workers that die in a row before doing any unit before the pool gives up.
MAX_BARREN_DEATHS = 3


def death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        return f"worker died: signal {-exitcode} ({name})"
    return f"worker exited with code {exitcode} in the middle of the unit"


class Supervisor:
    """The local worker processes of one run."""

    def __init__(self, job: Job[Any], settings: Settings) -> None:
        self.job = job
        self.settings = settings
        self.context = multiprocess.get_context(settings.start_method or default_start_method())
        if self.context.get_start_method() == "forkserver":
            # The server imports the job's code and the storage libraries once; each worker
            # is a fork of it, ready to work.
            modules = [worker_main.__module__, job.process.__module__, *loaded_modules()]
            self.context.set_forkserver_preload(modules)
        self.slots: list[WorkerSlot] = []
        self.barren_deaths = 0
        #: Every worker's pipe and exit sentinel, registered once (not rebuilt per wait).
        self.selector = selectors.DefaultSelector()

    def spawn(self) -> WorkerSlot:
        parent_conn, child_conn = self.context.Pipe(duplex=True)
        board = Board(self.context)
        process = self.context.Process(
            target=worker_main,
            args=(
                child_conn,
                board,
                self.job,
                self.settings,
                self.settings.max_tasks_per_worker,
                self.settings.max_worker_memory_mb,
            ),
            daemon=True,
        )
        process.start()
        child_conn.close()
        slot = WorkerSlot(process, parent_conn, board)
        self.selector.register(parent_conn.fileno(), selectors.EVENT_READ, (slot, False))
        self.selector.register(process.sentinel, selectors.EVENT_READ, (slot, True))
        self.slots.append(slot)
        return slot

    def bury(self, slot: WorkerSlot) -> tuple[list[Event], list[str]]:
        """A worker has exited: the events that says (its unit failed), and the units it
        held that were not started or whose records died with it (to be done again; redoing
        a unit is safe, its output is replaced atomically)."""
        running = slot.running()
        # Before join: the worker's id is still reserved. A worker that retired between
        # units leaves only what its setup() started: no count is reported, so no scan.
        orphans = 0
        if slot.retiring and running is None:
            kill_group(slot.pid)
        else:
            orphans = end_group(slot.pid)
        slot.process.join()
        self.selector.unregister(slot.conn.fileno())
        self.selector.unregister(slot.process.sentinel)
        slot.conn.close()
        self.slots.remove(slot)
        events: list[Event] = []
        reason = slot.verdict or death_reason(slot.process.exitcode)
        if orphans:
            reason += f"; {orphans} process(es) it had started were killed"
        if running is not None:
            position, unit, started = running
            del slot.assigned[position - slot.base]
            if position not in slot.announced:
                events.append(Started(unit, slot.pid, started))
            events.append(
                Outcome(
                    unit,
                    False,
                    started,
                    max(0.0, time.time() - started),
                    error="WorkerDied" if slot.verdict is None else "Timeout",
                    message=reason,
                )
            )
        elif not slot.retiring:
            self.barren_deaths += 1
            if self.barren_deaths >= MAX_BARREN_DEATHS:
                raise PoolError(
                    f"{self.barren_deaths} workers in a row died before finishing any unit "
                    f"(last: {reason})"
                )
        return events, slot.units()

    def exited(self, wait: float | None) -> Iterator[tuple[WorkerSlot, bool]]:
        """(worker, whether it exited) for each worker with news, waiting up to ``wait``."""
        for key, _ in self.selector.select(wait):
            yield key.data

    def shutdown(self) -> None:
        """End every worker: politely if idle, by SIGTERM and then SIGKILL if not; and
        whatever their units started."""
        for slot in self.slots:
            try:
                if slot.holding:
                    os.killpg(slot.pid, signal.SIGTERM)
                else:
                    slot.conn.send_bytes(pickle.dumps(None))
            except OSError:  # it has not made its own process group yet, or has exited
                with suppress(OSError):
                    slot.process.terminate()
        deadline = time.monotonic() + GRACE_SECONDS
        for slot in self.slots:
            if not wait([slot.process.sentinel], max(0.0, deadline - time.monotonic())):
                slot.process.kill()
            wait([slot.process.sentinel])
            end_group(slot.pid)  # what setup() started; before join, as in ``bury``
            slot.process.join()
            slot.conn.close()
        self.slots.clear()
        self.selector.close()
