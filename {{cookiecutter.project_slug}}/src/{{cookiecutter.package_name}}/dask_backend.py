"""The units on a Dask cluster: ``run --backend dask``.

Without ``--scheduler`` it starts a ``LocalCluster`` of ``--workers`` worker processes on this
machine, one thread each; with ``--scheduler ADDRESS`` it joins an existing cluster (``dask
scheduler`` and ``dask worker`` on your servers, dask-jobqueue, Kubernetes, ...).

A task is one unit. The Dask worker runs it through the same ``Worker.attempt`` as the local
pool: the unit writes its own output to the shared storage and only the small ``Outcome``
record comes back, never the data. Each Dask worker process holds ONE ``Worker`` (so
``setup()`` runs once per worker process, not per unit) in a worker plugin that lives as long
as the run. Units are submitted in a bounded window of a few tasks per worker thread, topped up
as tasks complete (``distributed.as_completed``): a million units never become a million
futures at once. This module only executes: it yields the same events as the local pool
(``Started``, ``UserLog``, ``Outcome``), so the runner writes the same log, failure records,
retry list and progress bar whichever backend ran the units.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple
from uuid import uuid4

from distributed import (
    Client,
    Future,
    KilledWorker,
    LocalCluster,
    WorkerPlugin,
    as_completed,
    get_worker,
)

from .dask_workers import check_workers
from .events import Event, Outcome, PoolError, Started, UserLog
from .log import ForwardingHandler
from .settings import Settings
from .worker import Job, Worker, describe

#: Tasks in flight per worker thread: enough that no worker waits for its next unit.
TASKS_PER_THREAD = 4
#: How long to wait for a scheduler to answer, or for a local cluster to start.
CONNECT_TIMEOUT = 60.0
#: How long to wait for the cluster to let go of this run's tasks and plugin at the end.
CLOSE_TIMEOUT = 30.0
#: Seconds between checks on running units (timeouts) and on the cluster (workers left).
POLL_SECONDS = 1.0
#: Give up when the cluster has had no worker at all for this long.
NO_WORKER_SECONDS = 300.0
#: At most this many of a unit's own log records come back with its outcome.
MAX_LOG_RECORDS = 200


class _SetupFailed(Exception):
    """``setup()`` raised in a Dask worker; every unit there would fail the same way."""


class TaskResult(NamedTuple):
    """What a task sends back: the outcome (or why setup failed) and the unit's log records."""

    outcome: Outcome | None
    pid: int
    logs: list[tuple[str, str, float]]
    setup_error: str | None = None


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
                try:
                    self._worker = Worker(self.job, self.settings)
                except Exception as exc:  # noqa: UW302 - reported to the runner, which stops
                    error, message = describe(exc)
                    self._setup_error = f"{error}: {message}"
            if self._worker is None:
                raise _SetupFailed(self._setup_error)
            return self._worker


def run_unit(plugin_name: str, started_topic: str, unit_id: str) -> TaskResult:
    """The task: one unit on this Dask worker, its log records collected on the way."""
    dask_worker = get_worker()
    pid = os.getpid()
    plugin = dask_worker.plugins[plugin_name]
    assert isinstance(plugin, RunPlugin)
    try:
        worker = plugin.unit_worker()
    except _SetupFailed as exc:
        return TaskResult(None, pid, [], setup_error=str(exc))
    dask_worker.log_event(
        started_topic,
        {"unit": unit_id, "pid": pid, "at": time.time(), "address": dask_worker.address},
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
    return TaskResult(outcome, pid, records)


def absolute(location: str) -> str:
    """A local path made absolute (as this process sees it); URLs as they are."""
    if "://" in location and not location.startswith("file://"):
        return location
    return str(Path(location.removeprefix("file://")).expanduser().absolute())


class DaskBackend:
    """Runs a job's units on a Dask cluster; ``events`` yields what happens, like LocalPool."""

    def __init__(self, job: Job[Any], settings: Settings) -> None:
        self.job = job
        # Workers elsewhere have another working directory: local paths must be absolute.
        self.settings = settings.replace(
            input=absolute(settings.input), output=absolute(settings.output)
        )
        self.run_token = uuid4().hex[:12]
        self.plugin_name = f"unit-run-{self.run_token}"
        self.started_topic = f"{self.plugin_name}-started"
        self.in_flight: dict[Future[TaskResult], str] = {}
        #: unit -> (Dask worker address, start time) of the units seen starting.
        self.running: dict[str, tuple[str, float]] = {}
        #: Start announcements from the workers (filled by the client's event thread).
        self.starts: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        #: One notice per finished task: waiting for the next one needs no polling.
        self.notices: queue.SimpleQueue[None] = queue.SimpleQueue()
        #: How many units were submitted so far (a unit's number is part of its task key).
        self.submitted = 0
        #: Units run again by Dask after a lost result: their next start resets the clock.
        self.restarted: set[str] = set()

    @contextmanager
    def _client(self, units: int) -> Iterator[Client]:
        """A client of the given scheduler, or of a new local cluster closed at the end."""
        if self.settings.scheduler:
            with Client(
                self.settings.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False
            ) as client:
                yield client
            return
        with (
            LocalCluster(
                n_workers=max(1, min(self.settings.workers, units)),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster, timeout=CONNECT_TIMEOUT, set_as_default=False) as client,
        ):
            yield client

    def events(self, units: Iterable[str]) -> Iterator[Event]:
        """Run every unit; yields Started, UserLog and Outcome events as they happen."""
        unit_ids = list(units)
        if not unit_ids:
            return
        with self._client(len(unit_ids)) as client:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            check_workers(client, self.settings.job)  # one line, not one failure per unit
            nthreads = client.nthreads()
            yield UserLog(
                "INFO",
                "-",
                f"dask scheduler {client.scheduler_info()['address']} with {len(nthreads)} "
                f"workers, {sum(nthreads.values())} threads; dashboard {client.dashboard_link}",
                time.time(),
            )
            client.register_plugin(RunPlugin(self.job, self.settings, self.plugin_name))
            client.subscribe_topic(self.started_topic, lambda event: self.starts.put(event[1]))
            try:
                yield from self._drive(client, unit_ids)
            finally:
                client.unsubscribe_topic(self.started_topic)
                with suppress(Exception):  # noqa: UW302 - best effort: the cluster may be gone
                    client.cancel(list(self.in_flight), force=True)
                    client.unregister_worker_plugin(self.plugin_name)

    def _window(self, client: Client) -> int:
        """How many tasks to keep in flight: a few per worker thread of the cluster now."""
        return TASKS_PER_THREAD * max(1, int(sum(client.nthreads().values())))

    def _drive(self, client: Client, unit_ids: list[str]) -> Iterator[Event]:
        todo = iter(unit_ids)
        completed = as_completed(loop=client.loop)
        window = self._window(client)
        no_worker_since: float | None = None

        def top_up() -> None:
            batch = list(islice(todo, max(0, window - len(self.in_flight))))
            if not batch:
                return
            # One batch, in one task group ("unit", whatever the ids look like): a group
            # larger than twice the cluster's threads is queued on the scheduler, so a worker
            # holds only what it runs, and a worker that dies takes no waiting unit with it.
            keys = [
                f"unit-{self.submitted + n}-{self.run_token}-{unit_id}"
                for n, unit_id in enumerate(batch)
            ]
            futures: list[Future[TaskResult]] = client.map(
                run_unit,
                [self.plugin_name] * len(batch),
                [self.started_topic] * len(batch),
                batch,
                key=keys,
                pure=False,
                retries=0,
            )
            self.submitted += len(batch)
            for future, unit_id in zip(futures, batch, strict=True):
                self.in_flight[future] = unit_id
                watch(future)

        def watch(future: Future[TaskResult]) -> None:
            future.add_done_callback(lambda _: self.notices.put(None))
            completed.add(future)

        top_up()
        while self.in_flight:
            yield from self._started()
            try:
                self.notices.get(timeout=POLL_SECONDS)
            except queue.Empty:
                # Nothing finished for a while: look at the running units and the cluster.
                yield from self._time_out(client)
                if client.nthreads():
                    no_worker_since = None
                    window = self._window(client)
                    top_up()
                else:
                    no_worker_since = no_worker_since or time.monotonic()
                    if time.monotonic() - no_worker_since > NO_WORKER_SECONDS:
                        raise PoolError(
                            f"the Dask cluster has had no worker for {NO_WORKER_SECONDS:g} s"
                        ) from None
                continue
            future = next(completed)
            unit_id = self.in_flight.get(future)
            if unit_id is None:  # timed out: already reported
                continue
            if future.status in ("lost", "pending"):
                # It finished, but its result was lost with its worker before it was fetched:
                # Dask computes it again (the unit runs again; its output is replaced
                # atomically). Its START stays the one already logged.
                self.restarted.add(unit_id)
                watch(future)
                continue
            del self.in_flight[future]
            yield from self._started(also=unit_id)
            yield from self._finished(future, unit_id, self.running.pop(unit_id, None))
            top_up()

    def _started(self, also: str | None = None) -> Iterator[Event]:
        """Started events for the units whose start was announced so far."""
        waiting = set(self.in_flight.values())
        while True:
            try:
                message = self.starts.get_nowait()
            except queue.Empty:
                return
            unit_id = str(message["unit"])
            if unit_id in self.restarted and unit_id in self.running:
                self.restarted.discard(unit_id)
                self.running[unit_id] = (str(message["address"]), float(message["at"]))
                continue
            if unit_id in self.running or (unit_id != also and unit_id not in waiting):
                continue
            self.running[unit_id] = (str(message["address"]), float(message["at"]))
            yield Started(unit_id, int(message["pid"]), float(message["at"]))

    def _finished(
        self, future: Future[TaskResult], unit_id: str, start: tuple[str, float] | None
    ) -> Iterator[Event]:
        """The events of a finished task: its start (if not seen yet), logs and outcome."""
        self.restarted.discard(unit_id)
        if future.status == "finished":
            try:
                # Fetched from the worker; if that worker is lost meanwhile, Dask computes
                # the unit again and this waits for it.
                result = future.result()
            except Exception as lost:  # noqa: UW302 - the recomputation failed: report it
                yield from self._failed(unit_id, start, lost)
                return
            if result.setup_error is not None:
                raise PoolError(f"setup() failed in a Dask worker: {result.setup_error}")
            assert result.outcome is not None
            if start is None:
                yield Started(unit_id, result.pid, result.outcome.started)
            for level, message, created in result.logs:
                yield UserLog(level, unit_id, message, created)
            yield result.outcome
            return
        # The task itself failed: its worker died (every time), or the cluster dropped it.
        error: BaseException | None
        try:
            error = future.exception()
        except BaseException as cancelled:  # noqa: UW302 - a cancelled future raises here
            error = cancelled
        yield from self._failed(unit_id, start, error)

    def _failed(
        self, unit_id: str, start: tuple[str, float] | None, exc: BaseException | None
    ) -> Iterator[Event]:
        """The events of a unit whose task failed at the Dask level (not inside process)."""
        now = time.time()
        began = start[1] if start else now
        if start is None:
            yield Started(unit_id, 0, now)
        if exc is None:
            error, message = "TaskLost", "Dask reported neither a result nor an error"
        elif isinstance(exc, KilledWorker):
            error, message = "WorkerDied", f"every Dask worker that ran it died: {exc}"
        else:
            error, message = describe(exc)
        yield Outcome(unit_id, False, began, now - began, error=error, message=message)

    def _time_out(self, client: Client) -> Iterator[Event]:
        """Fail the units running past ``--timeout`` and restart their Dask workers."""
        limit = self.settings.timeout
        if not limit:
            return
        now = time.time()
        for future, unit_id in list(self.in_flight.items()):
            start = self.running.get(unit_id)
            if start is None or now - start[1] <= limit:
                continue
            address, began = start
            del self.in_flight[future]
            del self.running[unit_id]
            future.cancel()
            # A thread cannot be stopped: the worker process is restarted by its nanny.
            with suppress(Exception):  # noqa: UW302 - the unit is failed either way
                client.restart_workers([address], timeout=CLOSE_TIMEOUT, raise_for_error=False)
            yield Outcome(
                unit_id,
                False,
                began,
                now - began,
                error="Timeout",
                message=f"timed out after {limit:g} s; its Dask worker was restarted",
            )
