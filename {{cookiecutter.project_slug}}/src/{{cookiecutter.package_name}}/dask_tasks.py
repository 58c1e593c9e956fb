"""What runs inside a Dask worker: the plugin that holds the worker's ``Worker`` (``setup()``
once per worker process) and the task that runs one unit.

A task reports its unit's start and its outcome as events on the run's topic the moment they
happen, not only as its result: the client hears of a finished unit even if the worker dies
before the result is fetched, and releases the task at once, so Dask never computes a
finished unit again (it would run the user's ``process()`` twice).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, NamedTuple

from distributed import WorkerPlugin, get_worker

from .children import become_subreaper
from .events import Outcome
from .log import ForwardingHandler
from .settings import Settings
from .worker import Job, Worker, describe

#: At most this many of a unit's own log records come back with its outcome.
MAX_LOG_RECORDS = 200
# Event kinds on a run's topic.
STARTED, FINISHED = "started", "finished"


def topic_of(plugin_name: str) -> str:
    """The topic of the run whose plugin is ``plugin_name``: its tasks' STARTED and FINISHED."""
    return f"{plugin_name}-units"


class _SetupFailed(Exception):
    """``setup()`` raised in a Dask worker; every unit there would fail the same way."""


class TaskResult(NamedTuple):
    """What a task sends back: the outcome (or why setup failed) and the unit's log records."""

    outcome: Outcome | None
    pid: int
    logs: list[tuple[str, str, float]]
    setup_error: str | None = None


def finished_message(key: str, result: TaskResult) -> dict[str, Any]:
    """A task's result as an event (msgpack-able: no tuples of our own types)."""
    assert result.outcome is not None
    return {
        "kind": FINISHED,
        "key": key,
        "unit": result.outcome.unit,
        "pid": result.pid,
        "outcome": result.outcome._asdict(),
        "logs": [list(record) for record in result.logs],
    }


def result_of(message: dict[str, Any]) -> TaskResult:
    """The inverse of ``finished_message``."""
    logs = [(str(level), str(text), float(at)) for level, text, at in message["logs"]]
    return TaskResult(Outcome(**message["outcome"]), int(message["pid"]), logs)


class RunPlugin(WorkerPlugin):
    """Holds one ``Worker`` per Dask worker process for one run; closes it at the end."""

    def __init__(self, job: Job[Any], settings: Settings, name: str) -> None:
        self.job = job
        self.settings = settings
        self.name = name
        self._worker: Worker[Any] | None = None
        self._setup_error: str | None = None
        self._lock: threading.Lock | None = None

    def setup(self, worker: Any) -> None:
        self._lock = threading.Lock()
        # The user's INFO records reach the run log, as with the local pool.
        root = logging.getLogger()
        root.setLevel(min(root.level or logging.WARNING, logging.INFO))

    def teardown(self, worker: Any) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def unit_worker(self) -> Worker[Any]:
        """This process's Worker, created (and ``setup()`` run) by the first unit."""
        assert self._lock is not None, "the plugin was not set up"
        with self._lock:
            if self._setup_error is None and self._worker is None:
                # With one thread, one unit at a time runs here: what a unit leaves running
                # can be ended with it. With several, a unit cannot tell its processes from
                # those of the units running beside it.
                alone = get_worker().state.nthreads == 1
                if alone:
                    become_subreaper()
                try:
                    self._worker = Worker(self.job, self.settings, contain_children=alone)
                except Exception as exc:  # noqa: UW302 - reported to the runner, which stops
                    error, message = describe(exc)
                    self._setup_error = f"{error}: {message}"
            if self._worker is None:
                raise _SetupFailed(self._setup_error)
            return self._worker


def run_unit(plugin_name: str, topic: str, unit_id: str) -> TaskResult:
    """The task: one unit on this Dask worker, its log records collected on the way."""
    dask_worker = get_worker()
    pid = os.getpid()
    plugin = dask_worker.plugins[plugin_name]
    assert isinstance(plugin, RunPlugin)
    try:
        worker = plugin.unit_worker()
    except _SetupFailed as exc:
        return TaskResult(None, pid, [], setup_error=str(exc))
    key = str(dask_worker.get_current_task())
    dask_worker.log_event(
        topic,
        {
            "kind": STARTED,
            "key": key,
            "unit": unit_id,
            "pid": pid,
            "at": time.time(),
            "address": dask_worker.address,
        },
    )
    records: list[tuple[str, str, float]] = []

    def keep(record: tuple[str, str, str, float]) -> None:
        if len(records) < MAX_LOG_RECORDS:
            level, _, message, created = record
            records.append((level, message, created))

    handler = ForwardingHandler(keep)
    handler.unit = unit_id
    this_thread = threading.get_ident()
    handler.addFilter(lambda record: record.thread == this_thread)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        outcome = worker.attempt(unit_id)
    finally:
        root.removeHandler(handler)
    result = TaskResult(outcome, pid, records)
    dask_worker.log_event(topic, finished_message(key, result))
    return result
