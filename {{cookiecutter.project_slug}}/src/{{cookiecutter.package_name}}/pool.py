"""A pool of local worker processes that survives what kills a plain ``Pool``.

Each worker has its own pipe and the main process watches every pipe and every process
sentinel at once, so it knows which unit each worker is running. That is what lets it notice a
worker that died (a plain ``multiprocess.Pool`` waits forever for its result), kill one that
hangs past the timeout, recycle one that did too many units or grew too big, and put the units
a lost worker had been given back in the queue. Results come back unordered, as they finish.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import multiprocess
from multiprocess.connection import Connection, wait

from .log import ForwardingHandler
from .settings import Settings
from .worker import Job, Outcome, Worker, describe, rss_mb

# Message kinds, worker -> main process.
START, END, LOG, RETIRE, SETUP_FAILED = "start", "end", "log", "retire", "setup-failed"
#: Seconds a worker gets to exit on its own before it is killed.
GRACE_SECONDS = 3.0
#: Workers that die in a row before doing any unit before the pool gives up.
MAX_BARREN_DEATHS = 3


class Started(NamedTuple):
    unit: str
    worker: int
    at: float


class UserLog(NamedTuple):
    level: str
    unit: str
    message: str
    at: float


Event = Started | Outcome | UserLog


class PoolError(Exception):
    """The pool cannot go on: every worker would fail the same way (e.g. setup() raises)."""


def default_start_method() -> str:
    """``fork`` where it is safe and fast (Linux: the main process runs no threads), else
    ``spawn``. Both work because the job is importable."""
    methods = multiprocess.get_all_start_methods()
    return "fork" if sys.platform.startswith("linux") and "fork" in methods else "spawn"


def _worker_main(
    conn: Connection, job: Job[Any], settings: Settings, max_tasks: int, max_memory_mb: int
) -> None:
    """The loop of one worker process: chunks of ids in, START/END records out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    handler = ForwardingHandler(lambda record: conn.send((LOG, *record)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        worker = Worker(job, settings)
    except Exception as exc:
        conn.send((SETUP_FAILED, *describe(exc), traceback.format_exc()))
        return
    done = 0
    try:
        while (chunk := conn.recv()) is not None:
            for unit_id in chunk:
                handler.unit = unit_id
                conn.send((START, unit_id, time.time()))
                conn.send((END, worker.attempt(unit_id)))
                handler.unit = "-"
                done += 1
                if done >= max_tasks:
                    conn.send((RETIRE, f"did {done} units"))
                    return
                if max_memory_mb and (rss := rss_mb()) > max_memory_mb:
                    conn.send((RETIRE, f"uses {rss:.0f} MiB > {max_memory_mb} MiB"))
                    return
    finally:
        worker.close()


@dataclass
class _Slot:
    """The main process's view of one worker."""

    process: Any
    conn: Connection
    assigned: deque[str] = field(default_factory=deque)
    current: str | None = None
    since: float = 0.0
    retiring: bool = False
    verdict: str | None = None  # set when the main process killed it on purpose

    @property
    def pid(self) -> int:
        return int(self.process.pid)


class LocalPool:
    """Runs a job over unit ids in worker processes; ``events`` yields what happens."""

    def __init__(self, job: Job[Any], settings: Settings, chunksize: int) -> None:
        self.job = job
        self.settings = settings
        self.chunksize = max(1, chunksize)
        self.context = multiprocess.get_context(settings.start_method or default_start_method())
        self.slots: list[_Slot] = []
        self.queue: deque[str] = deque()
        self.barren_deaths = 0

    def _spawn(self) -> _Slot:
        parent_conn, child_conn = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=_worker_main,
            args=(
                child_conn,
                self.job,
                self.settings,
                self.settings.max_tasks_per_worker,
                self.settings.max_worker_memory_mb,
            ),
            daemon=True,
        )
        process.start()
        child_conn.close()
        return _Slot(process, parent_conn)

    def _refill(self, slot: _Slot) -> None:
        """Keep at most two chunks in flight per worker, so it never waits for the next."""
        while self.queue and len(slot.assigned) <= self.chunksize and not slot.retiring:
            chunk = [self.queue.popleft() for _ in range(min(self.chunksize, len(self.queue)))]
            slot.conn.send(chunk)
            slot.assigned.extend(chunk)

    def _drain(self, slot: _Slot) -> Iterator[Event]:
        """Every message the worker has sent so far."""
        while True:
            try:
                if not slot.conn.poll():
                    return
                message = slot.conn.recv()
            except (EOFError, OSError):
                return
            kind = message[0]
            if kind == START:
                slot.current, slot.since = message[1], time.monotonic()
                yield Started(message[1], slot.pid, message[2])
            elif kind == END:
                outcome: Outcome = message[1]
                slot.assigned.remove(outcome.unit)
                slot.current = None
                self.barren_deaths = 0
                yield outcome
            elif kind == LOG:
                yield UserLog(*message[1:])
            elif kind == RETIRE:
                slot.retiring = True
            elif kind == SETUP_FAILED:
                raise PoolError(f"setup() failed in a worker: {message[1]}: {message[2]}")

    def _bury(self, slot: _Slot) -> Iterator[Event]:
        """A worker has exited: blame the unit it was running, requeue the rest, replace it."""
        yield from self._drain(slot)
        slot.process.join()
        slot.conn.close()
        self.slots.remove(slot)
        if slot.current is not None:
            slot.assigned.remove(slot.current)
            reason = slot.verdict or self._death_reason(slot.process.exitcode)
            now = time.time()
            yield Outcome(
                slot.current,
                False,
                now - (time.monotonic() - slot.since),
                time.monotonic() - slot.since,
                error="WorkerDied" if slot.verdict is None else "Timeout",
                message=reason,
            )
        elif not slot.retiring:
            self.barren_deaths += 1
            if self.barren_deaths >= MAX_BARREN_DEATHS:
                raise PoolError(
                    f"{self.barren_deaths} workers in a row died before finishing any unit "
                    f"(last: {self._death_reason(slot.process.exitcode)})"
                )
        self.queue.extendleft(reversed(slot.assigned))
        if self.queue and len(self.slots) < self.settings.workers:
            self.slots.append(self._spawn())

    @staticmethod
    def _death_reason(exitcode: int | None) -> str:
        if exitcode is not None and exitcode < 0:
            try:
                name = signal.Signals(-exitcode).name
            except ValueError:
                name = "unknown signal"
            return f"worker died: signal {-exitcode} ({name})"
        return f"worker exited with code {exitcode} in the middle of the unit"

    def _deadline(self) -> float | None:
        """Seconds until the earliest per-unit timeout, or None without a timeout."""
        if not self.settings.timeout:
            return None
        busy = [slot.since for slot in self.slots if slot.current is not None]
        if not busy:
            return self.settings.timeout
        return max(0.0, min(busy) + self.settings.timeout - time.monotonic())

    def _enforce_timeout(self) -> None:
        """Kill the workers whose current unit ran past the timeout; ``_bury`` reports it."""
        limit = self.settings.timeout
        now = time.monotonic()
        for slot in self.slots:
            if slot.current is not None and slot.verdict is None and now - slot.since > limit:
                slot.verdict = f"timed out after {limit:g} s; its worker was replaced"
                slot.process.kill()

    def events(self, unit_ids: list[str]) -> Iterator[Event]:
        """Run every unit; yields Started, UserLog and Outcome events as they happen."""
        self.queue = deque(unit_ids)
        try:
            for _ in range(min(self.settings.workers, len(self.queue))):
                self.slots.append(self._spawn())
            while self.slots and (self.queue or any(slot.assigned for slot in self.slots)):
                for slot in self.slots:
                    self._refill(slot)
                by_handle: dict[Any, _Slot] = {}
                for slot in self.slots:
                    by_handle[slot.conn] = slot
                    by_handle[slot.process.sentinel] = slot
                ready = wait(list(by_handle), timeout=self._deadline())
                exited: list[_Slot] = []
                for handle in ready:
                    slot = by_handle[handle]
                    if handle is slot.conn:
                        yield from self._drain(slot)
                    elif slot not in exited:
                        exited.append(slot)
                for slot in exited:
                    yield from self._bury(slot)
                if self.settings.timeout:
                    self._enforce_timeout()
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """End every worker: politely if idle, by SIGTERM and then SIGKILL if not."""
        for slot in self.slots:
            try:
                if slot.assigned:
                    slot.process.terminate()
                else:
                    slot.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + GRACE_SECONDS
        for slot in self.slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.conn.close()
        self.slots.clear()
