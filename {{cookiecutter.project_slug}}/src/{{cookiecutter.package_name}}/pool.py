"""A pool of local worker processes that survives what kills a plain ``Pool``.

Each worker has its own pipe, and a two-number board in shared memory where it writes which
of its units it is running and since when. The main process watches every pipe and every
process sentinel at once and reads the boards, so it always knows what each worker is doing.
That is what lets it notice a worker that died (a plain ``multiprocess.Pool`` waits forever for
its result) and blame the right unit, kill one that hangs past the timeout, recycle one that
did too many units or grew too big, and put the units a lost worker had been given back in the
queue. Results come back unordered, as they finish.

Workers batch their records: one message at least every ``FLUSH_SECONDS`` and at the end of
every chunk, because on a virtual machine each message (a wake-up of another process) costs
more than a trivial unit. The board keeps that from delaying anything that matters: the START
of a long unit is logged from the board within ``WATCH_SECONDS``, not when the unit ends.
"""

from __future__ import annotations

import logging
import os
import pickle
import selectors
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import multiprocess
from multiprocess.connection import Connection

from .log import ForwardingHandler
from .settings import Settings
from .storage import loaded_modules
from .worker import Job, Outcome, Worker, describe, rss_mb

# Message kinds, worker -> main process.
START, END, LOG, RETIRE, SETUP_FAILED = "start", "end", "log", "retire", "setup-failed"
#: Seconds a worker gets to exit on its own before it is killed.
GRACE_SECONDS = 3.0
#: Workers that die in a row before doing any unit before the pool gives up.
MAX_BARREN_DEATHS = 3
#: ``prctl`` option: the signal a process gets when its parent dies (Linux).
PR_SET_PDEATHSIG = 1
#: A worker sends its records at least this often, in seconds, and at the end of each chunk.
FLUSH_SECONDS = 0.01
#: The main process reads the boards at least this often, in seconds, while units run.
WATCH_SECONDS = 0.25
#: What a board's position holds before its worker started any unit.
IDLE = -1.0
#: The adaptive chunk size aims at chunks of about this many seconds of work ...
CHUNK_SECONDS = 0.05
#: ... and never sends more units at once than this.
MAX_CHUNK = 256


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
    """How workers start unless ``--start-method`` says otherwise.

    On Linux, ``fork`` while the main process runs no other thread: the fastest, and
    recycling a worker costs one fork. Once a thread runs (a storage client's event loop, a
    library's thread pool), a fork may copy a lock that thread holds, locked
    forever in the child - what Python 3.12+ warns about - so then ``forkserver``: workers
    are forked from a server process that runs no thread. Elsewhere ``spawn`` (macOS's and
    Windows' default). All three work because the job is importable.
    """
    methods = multiprocess.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods:
        return "fork" if threading.active_count() == 1 else "forkserver"
    return "spawn"


def _send(conn: Connection, messages: list[tuple[Any, ...]]) -> None:
    """Send messages with the standard pickle: dill (multiprocess's default) is 30x slower
    for these small records, and they need nothing more."""
    conn.send_bytes(pickle.dumps(messages, pickle.HIGHEST_PROTOCOL))


def _end_with_parent() -> None:
    """On Linux, have the kernel kill this worker if the main process dies (say, by the OOM
    killer): nobody could receive its results, and it would redo units of the next run."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    parent = multiprocess.parent_process()
    if parent is not None and not parent.is_alive():  # it died before the prctl call
        os._exit(1)


def _worker_main(
    conn: Connection,
    board: Any,
    job: Job[Any],
    settings: Settings,
    max_tasks: int,
    max_memory_mb: int,
) -> None:
    """The loop of one worker process: chunks of ids in, batches of records out.

    ``board[0]`` is the position (in this worker's stream of units) of the unit running now, or
    that position + 0.5 once it has finished; ``board[1]`` is when it started (epoch seconds).
    """
    _end_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    # A forked worker inherits the main process's SIGTERM handler, which would turn the pool's
    # ``terminate()`` into an exception caught as a unit failure: SIGTERM ends a worker at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    outbox: list[tuple[Any, ...]] = []
    # A unit's START record is sent only if the unit logs something (its START line must come
    # before its LOG lines); otherwise the main process takes it from the END record (or from
    # the board, for a long unit): one record per unit instead of two.
    unsent_start: list[tuple[Any, ...]] = []

    def forward(record: tuple[str, str, str, float]) -> None:
        if unsent_start:
            outbox.append(unsent_start.pop())
        outbox.append((LOG, *record))

    handler = ForwardingHandler(forward)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        worker = Worker(job, settings)
    except Exception as exc:
        _send(conn, [(SETUP_FAILED, *describe(exc), traceback.format_exc())])
        return
    position = 0
    flushed = time.monotonic()
    retire: str | None = None
    try:
        while retire is None and (chunk := pickle.loads(conn.recv_bytes())) is not None:
            for unit_id in chunk:
                started = time.time()
                board[1] = started
                board[0] = position
                handler.unit = unit_id
                unsent_start[:] = [(START, unit_id, started)]
                outbox.append((END, worker.attempt(unit_id)))
                board[0] = position + 0.5
                position += 1
                handler.unit = "-"
                if position >= max_tasks:
                    retire = f"did {position} units"
                elif max_memory_mb and (rss := rss_mb()) > max_memory_mb:
                    retire = f"uses {rss:.0f} MiB > {max_memory_mb} MiB"
                if retire is not None:
                    outbox.append((RETIRE, retire))
                    break
                if time.monotonic() - flushed >= FLUSH_SECONDS:
                    _send(conn, outbox)
                    outbox.clear()
                    flushed = time.monotonic()
            _send(conn, outbox)
            outbox.clear()
            flushed = time.monotonic()
    finally:
        worker.close()


@dataclass
class _Slot:
    """The main process's view of one worker."""

    process: Any
    conn: Connection
    board: Any
    #: Units sent to the worker and not yet reported, in the order it runs them.
    assigned: deque[str] = field(default_factory=deque)
    #: The worker's position of ``assigned[0]``.
    base: int = 0
    #: The positions (not yet reported finished) whose START has been reported.
    announced: set[int] = field(default_factory=set)
    retiring: bool = False
    verdict: str | None = None  # set when the main process killed it on purpose

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def running(self) -> tuple[int, str, float] | None:
        """(position, unit, start time) of the unit the worker runs now, from its board."""
        position, started = self.board[0], self.board[1]
        if position == IDLE or position != int(position) or position < self.base:
            return None
        index = int(position) - self.base
        if index >= len(self.assigned):
            return None
        return int(position), self.assigned[index], started


class LocalPool:
    """Runs a job over unit ids in worker processes; ``events`` yields what happens."""

    def __init__(self, job: Job[Any], settings: Settings) -> None:
        self.job = job
        self.settings = settings
        #: Mean seconds per unit so far (for the adaptive chunk size), None before any unit.
        self.mean_seconds: float | None = None
        self.context = multiprocess.get_context(settings.start_method or default_start_method())
        if self.context.get_start_method() == "forkserver":
            # The server imports the job's code and the storage libraries once; each worker
            # is a fork of it, ready to work.
            modules = [__name__, job.process.__module__, *loaded_modules()]
            self.context.set_forkserver_preload(modules)
        self.slots: list[_Slot] = []
        self.queue: deque[str] = deque()
        self.barren_deaths = 0
        #: Every worker's pipe and exit sentinel, registered once (not rebuilt per wait).
        self.selector = selectors.DefaultSelector()

    def _spawn(self) -> _Slot:
        parent_conn, child_conn = self.context.Pipe(duplex=True)
        board = self.context.RawArray("d", [IDLE, 0.0])
        process = self.context.Process(
            target=_worker_main,
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
        slot = _Slot(process, parent_conn, board)
        self.selector.register(parent_conn.fileno(), selectors.EVENT_READ, (slot, False))
        self.selector.register(process.sentinel, selectors.EVENT_READ, (slot, True))
        return slot

    def _chunksize(self) -> int:
        """``settings.chunksize``, or adaptive (0): one unit at a time until units have been
        timed, then about CHUNK_SECONDS of work per chunk, and never so many that a worker
        holds a large share of what is left (long units stay balanced to the end)."""
        if self.settings.chunksize:
            return self.settings.chunksize
        if self.mean_seconds is None:
            return 1
        size = min(MAX_CHUNK, int(CHUNK_SECONDS / max(self.mean_seconds, 1e-6)))
        return max(1, min(size, len(self.queue) // (4 * self.settings.workers)))

    def _refill(self, slot: _Slot) -> None:
        """Keep at most two chunks in flight per worker, so it never waits for the next."""
        size = self._chunksize()
        while self.queue and len(slot.assigned) <= size and not slot.retiring:
            chunk = [self.queue.popleft() for _ in range(min(size, len(self.queue)))]
            try:
                slot.conn.send_bytes(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
            except OSError:
                # The worker exited (it retired, or died) before its last records were read:
                # the units go back to the queue, and its sentinel gets it buried and replaced.
                self.queue.extendleft(reversed(chunk))
                return
            slot.assigned.extend(chunk)

    def _drain(self, slot: _Slot) -> list[Event]:
        """Every record the worker has sent so far, as events (read all at once, so that the
        worker's next chunk can be sent before the events are handled)."""
        events: list[Event] = []
        while True:
            try:
                if not slot.conn.poll():
                    return events
                messages = pickle.loads(slot.conn.recv_bytes())
            except (EOFError, OSError):
                return events
            for message in messages:
                kind = message[0]
                if kind == START:
                    if slot.base not in slot.announced:  # not yet reported from the board
                        slot.announced.add(slot.base)
                        events.append(Started(message[1], slot.pid, message[2]))
                elif kind == END:
                    outcome: Outcome = message[1]
                    if slot.base not in slot.announced:
                        events.append(Started(outcome.unit, slot.pid, outcome.started))
                    mean = self.mean_seconds
                    self.mean_seconds = (
                        outcome.seconds if mean is None else 0.9 * mean + 0.1 * outcome.seconds
                    )
                    slot.assigned.popleft()
                    slot.announced.discard(slot.base)
                    slot.base += 1
                    self.barren_deaths = 0
                    events.append(outcome)
                elif kind == LOG:
                    events.append(UserLog(*message[1:]))
                elif kind == RETIRE:
                    slot.retiring = True
                elif kind == SETUP_FAILED:
                    raise PoolError(f"setup() failed in a worker: {message[1]}: {message[2]}")

    def _watch(self) -> Iterator[Event]:
        """Report the START of units running longer than a flush; enforce the timeout."""
        now = time.time()
        for slot in self.slots:
            running = slot.running()
            if running is None:
                continue
            position, unit, started = running
            if position not in slot.announced:
                slot.announced.add(position)
                yield Started(unit, slot.pid, started)
            limit = self.settings.timeout
            if limit and slot.verdict is None and now - started > limit:
                slot.verdict = f"timed out after {limit:g} s; its worker was replaced"
                slot.process.kill()

    def _bury(self, slot: _Slot) -> Iterator[Event]:
        """A worker has exited: blame the unit it was running, requeue the rest, replace it.

        Units it finished after its last message are requeued too: their records died with it,
        and redoing a unit is safe (its output is replaced atomically).
        """
        yield from self._drain(slot)
        slot.process.join()
        self.selector.unregister(slot.conn.fileno())
        self.selector.unregister(slot.process.sentinel)
        slot.conn.close()
        self.slots.remove(slot)
        running = slot.running()
        if running is not None:
            position, unit, started = running
            del slot.assigned[position - slot.base]
            if position not in slot.announced:
                yield Started(unit, slot.pid, started)
            reason = slot.verdict or self._death_reason(slot.process.exitcode)
            yield Outcome(
                unit,
                False,
                started,
                max(0.0, time.time() - started),
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

    def _wait_seconds(self) -> float | None:
        """How long to wait for messages: until the next timeout or board reading is due."""
        if not any(slot.assigned for slot in self.slots):
            return None
        wait = WATCH_SECONDS
        if self.settings.timeout:
            now = time.time()
            for slot in self.slots:
                running = slot.running()
                if running is not None:
                    wait = min(wait, max(0.0, running[2] + self.settings.timeout - now))
        return wait

    def events(self, unit_ids: Iterable[str]) -> Iterator[Event]:
        """Run every unit; yields Started, UserLog and Outcome events as they happen."""
        self.queue = deque(unit_ids)
        try:
            for _ in range(min(self.settings.workers, len(self.queue))):
                self.slots.append(self._spawn())
            watched = time.monotonic()
            while self.slots and (self.queue or any(slot.assigned for slot in self.slots)):
                for slot in self.slots:
                    self._refill(slot)
                exited: list[_Slot] = []
                for key, _ in self.selector.select(self._wait_seconds()):
                    slot, is_sentinel = key.data
                    if not is_sentinel:
                        events = self._drain(slot)
                        self._refill(slot)
                        yield from events
                    elif slot not in exited:
                        exited.append(slot)
                for slot in exited:
                    yield from self._bury(slot)
                if time.monotonic() - watched >= min(WATCH_SECONDS, self.settings.timeout or 1):
                    watched = time.monotonic()
                    yield from self._watch()
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """End every worker: politely if idle, by SIGTERM and then SIGKILL if not."""
        for slot in self.slots:
            try:
                if slot.assigned:
                    slot.process.terminate()
                else:
                    slot.conn.send_bytes(pickle.dumps(None))
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
        self.selector.close()
