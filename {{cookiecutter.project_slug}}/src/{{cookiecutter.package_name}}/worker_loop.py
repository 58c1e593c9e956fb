"""The loop of one local worker process: chunks of unit ids in, batches of records out.

Workers batch their records: one message at least every ``FLUSH_SECONDS`` and at the end of
every chunk, because on a virtual machine each message (a wake-up of another process) costs
more than a trivial unit. The board (see ``board.py``) keeps that from delaying anything that
matters: the main process reads from it what each worker runs, and when it started.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import time
import traceback
from typing import Any

import multiprocess
from multiprocess.connection import Connection

from .board import Board
from .children import become_subreaper
from .events import Done, Outcome
from .log import ForwardingHandler
from .settings import Settings
from .worker import Job, Worker, describe, rss_mb

# Message kinds, worker -> main process. DONE holds the ``Done`` records of consecutive units
# that committed an output and have nothing else to report (no Outcome to pickle and rebuild).
START, END, DONE, LOG, RETIRE, SETUP_FAILED = "start", "end", "done", "log", "retire", "setup-failed"
#: ``prctl`` option: the signal a process gets when its parent dies (Linux).
PR_SET_PDEATHSIG = 1
#: A worker sends its records at least this often, in seconds, and at the end of each chunk.
FLUSH_SECONDS = 0.1
#: The main process's request for the records a worker holds while a long unit runs (see
#: ``watchdog.py``). SIGWINCH because every process ignores it by default: a request that
#: reaches a process without this module's handler does nothing.
RECORDS_SIGNAL = signal.SIGWINCH


def send(conn: Connection, message: Any) -> None:
    """Send with the standard pickle: dill (multiprocess's default) is 30x slower for these
    small records, and they need nothing more."""
    conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


class Outbox:
    """The records a worker has yet to send. Consecutive ``Done`` records travel as one DONE
    record holding their list: the main process handles such a run of units in one go."""

    __slots__ = ("_done", "records")

    def __init__(self) -> None:
        self.records: list[tuple[Any, ...]] = []
        self._done: list[Done] | None = None

    def add(self, record: tuple[Any, ...]) -> None:
        self.records.append(record)
        self._done = None

    def done(self, record: Done) -> None:
        run = self._done
        if run is None:
            run = self._done = []
            self.records.append((DONE, run))
        run.append(record)

    def send(self, conn: Connection) -> None:
        """Send every record (at the end of a chunk, even none: the chunk is done), and start
        afresh."""
        send(conn, self.records)
        self.records = []
        self._done = None


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


def _own_process_group() -> None:
    """Lead a process group of its own: what a unit starts joins it, so the main process
    can end the worker together with everything it started (``os.killpg``)."""
    try:
        os.setpgid(0, 0)
    except (OSError, AttributeError):
        return


def worker_main(
    conn: Connection,
    board: Board,
    job: Job[Any],
    settings: Settings,
    max_tasks: int,
    max_memory_mb: int,
) -> None:
    """Run the units the main process sends until it sends None (or it is time to retire)."""
    _end_with_parent()
    _own_process_group()
    become_subreaper()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    # A forked worker inherits the main process's SIGTERM handler, which would turn the pool's
    # ``terminate()`` into an exception caught as a unit failure: SIGTERM ends a worker at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    outbox = Outbox()
    # A unit's START record is sent only if the unit logs something (its START line must come
    # before its LOG lines); otherwise the main process takes it from the END record (or from
    # the board, for a long unit): one record per unit instead of two.
    unsent_start: list[tuple[Any, ...]] = []

    def forward(record: tuple[str, str, str, float]) -> None:
        if unsent_start:
            outbox.add(unsent_start.pop())
        outbox.add((LOG, *record))

    in_unit = False

    def send_records(signum: int, frame: object) -> None:
        """On request, send the records of the units done before the one running now: its
        START is logged only after them. Only inside a unit: the loop never sends then."""
        if in_unit and outbox.records:
            outbox.send(conn)

    signal.signal(RECORDS_SIGNAL, send_records)
    handler = ForwardingHandler(forward)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    board.setting_up(time.time())
    try:
        worker = Worker(job, settings)
    except Exception as exc:
        send(conn, [(SETUP_FAILED, *describe(exc), traceback.format_exc())])
        return
    board.set_up()
    run = worker.run
    begin = board.begin
    position = 0
    done = 0
    flushed = time.monotonic()
    retire: str | None = None
    try:
        while retire is None and (chunk := pickle.loads(conn.recv_bytes())) is not None:
            for unit_id in chunk:
                started = time.time()
                if not begin(position, started):  # taken back: another worker runs it
                    position += 1
                    continue
                handler.unit = unit_id
                unsent_start.append((START, unit_id, started))
                in_unit = True
                result = run(unit_id)
                in_unit = False
                unsent_start.clear()
                if isinstance(result, Outcome):
                    outbox.add((END, result))
                else:
                    outbox.done(result)
                board.end(position)
                position += 1
                done += 1
                handler.unit = "-"
                if done >= max_tasks:
                    retire = f"did {done} units"
                elif max_memory_mb and (rss := rss_mb()) > max_memory_mb:
                    retire = f"uses {rss:.0f} MiB > {max_memory_mb} MiB"
                if retire is not None:
                    outbox.add((RETIRE, retire))
                    break
                if time.monotonic() - flushed >= FLUSH_SECONDS:
                    outbox.send(conn)
                    flushed = time.monotonic()
            outbox.send(conn)
            flushed = time.monotonic()
    finally:
        worker.close()
