"""The units on a Dask cluster: ``run --backend dask``.

Without ``--scheduler`` it starts a ``LocalCluster`` of ``--workers`` worker processes on this
machine, one thread each; with ``--scheduler ADDRESS`` it joins an existing cluster (``dask
scheduler`` and ``dask worker`` on your servers, dask-jobqueue, Kubernetes, ...).

A task is one unit (see ``dask_tasks.py``). The Dask worker runs it through the same
``Worker.attempt`` as the local pool: the unit writes its own output to the shared storage and
only the small ``Outcome`` record comes back, never the data. Units are submitted in a bounded
window of a few tasks per worker thread, topped up as tasks complete: a million units never
become a million futures at once. This module only executes: it yields the same events as the
local pool (``events.py``), so the runner writes the same log, failure records, retry list and
progress bar whichever backend ran the units.

Each unit's ``process()`` runs once, unless its worker died while running it; then Dask runs it
again (up to its ``allowed-failures``) and each attempt has its own START line.
"""

from __future__ import annotations

import logging
import queue
import time
from asyncio import CancelledError
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from itertools import islice
from pathlib import Path
from typing import Any
from uuid import uuid4

from distributed import Client, Future, KilledWorker, LocalCluster

from .dask_tasks import (
    FINISHED,
    STARTED,
    RunPlugin,
    TaskResult,
    result_of,
    run_unit,
    topic_of,
)
from .dask_workers import check_workers
from .events import WAITING, Event, Outcome, PoolError, Started, UserLog
from .settings import Settings
from .worker import Job, describe

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
        self.topic = topic_of(self.plugin_name)
        #: Task key -> (future, unit) of the units submitted and not yet reported.
        self.in_flight: dict[str, tuple[Future[TaskResult], str]] = {}
        #: unit -> (Dask worker address, start time) of the units seen starting.
        self.running: dict[str, tuple[str, float]] = {}
        #: What happens, in order: ("event", message) from the workers (through the client's
        #: event thread), ("done", key) when a task's future completes.
        self.inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        #: Task keys released on their FINISHED event (their futures no longer matter).
        self.released: set[str] = set()
        #: How many units were submitted so far (a unit's number is part of its task key).
        self.submitted = 0

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

    def _heard(self, event: tuple[float, dict[str, Any]]) -> None:
        """On the client's event thread: a task's news. A finished unit's task is released
        here and now, not when the runner gets to it, so that a worker dying meanwhile does
        not make Dask compute the unit again."""
        message = event[1]
        if message.get("kind") == FINISHED:
            entry = self.in_flight.get(str(message["key"]))
            if entry is not None:
                self.released.add(str(message["key"]))
                entry[0].release()
        self.inbox.put(("event", message))

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
            client.subscribe_topic(self.topic, self._heard)
            try:
                yield from self._drive(client, unit_ids)
            finally:
                client.unsubscribe_topic(self.topic)
                with suppress(Exception):  # noqa: UW302 - best effort: the cluster may be gone
                    client.cancel([future for future, _ in self.in_flight.values()], force=True)
                    client.unregister_worker_plugin(self.plugin_name)

    def _window(self, client: Client) -> int:
        """How many tasks to keep in flight: a few per worker thread of the cluster now."""
        return TASKS_PER_THREAD * max(1, int(sum(client.nthreads().values())))

    def _watch(self, key: str, future: Future[TaskResult]) -> None:
        future.add_done_callback(lambda _: self.inbox.put(("done", key)))

    def _drive(self, client: Client, unit_ids: list[str]) -> Iterator[Event]:
        todo = iter(unit_ids)
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
                [self.topic] * len(batch),
                batch,
                key=keys,
                pure=False,
                retries=0,
            )
            self.submitted += len(batch)
            for key, future, unit_id in zip(keys, futures, batch, strict=True):
                self.in_flight[key] = (future, unit_id)
                self._watch(key, future)

        top_up()
        while self.in_flight:
            try:
                kind, news = self.inbox.get(timeout=POLL_SECONDS)
            except queue.Empty:
                yield WAITING
                # Nothing happened for a while: look at the running units and the cluster.
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
            if kind == "event":
                yield from self._news(news)
            else:
                yield from self._done(str(news))
            top_up()

    def _news(self, message: dict[str, Any]) -> Iterator[Event]:
        """A unit started (each attempt gets a START), or finished."""
        key, unit_id = str(message["key"]), str(message["unit"])
        if message["kind"] == STARTED:
            if key in self.in_flight:
                self.running[unit_id] = (str(message["address"]), float(message["at"]))
                yield Started(unit_id, int(message["pid"]), float(message["at"]))
            return
        if key in self.in_flight:
            del self.in_flight[key]
            yield from self._report(unit_id, result_of(message))

    def _report(self, unit_id: str, result: TaskResult) -> Iterator[Event]:
        if result.setup_error is not None:
            raise PoolError(f"setup() failed in a Dask worker: {result.setup_error}")
        assert result.outcome is not None
        if self.running.pop(unit_id, None) is None:
            yield Started(unit_id, result.pid, result.outcome.started)
        for level, message, created in result.logs:
            yield UserLog(level, unit_id, message, created)
        yield result.outcome

    def _done(self, key: str) -> Iterator[Event]:
        """A task's future completed; its unit was not reported from the events yet."""
        entry = self.in_flight.get(key)
        if entry is None or key in self.released:  # reported (or about to be), or timed out
            return
        future, unit_id = entry
        if future.status in ("lost", "pending"):
            # Its worker died: Dask runs it again (the next attempt logs its own START).
            self._watch(key, future)
            return
        if future.status == "finished":
            try:
                result = future.result()
            except (Exception, CancelledError) as lost:  # noqa: UW302 - reported below
                if key in self.released:  # released meanwhile: its FINISHED event follows
                    return
                if key in self.in_flight:
                    del self.in_flight[key]
                    yield from self._failed(unit_id, lost)
                return
            if key in self.in_flight:  # its FINISHED event may have come meanwhile
                del self.in_flight[key]
                yield from self._report(unit_id, result)
            return
        # The task itself failed: its worker died (every time), or the cluster dropped it.
        del self.in_flight[key]
        error: BaseException | None
        try:
            error = future.exception()
        except BaseException as cancelled:  # noqa: UW302 - a cancelled future raises here
            error = cancelled
        yield from self._failed(unit_id, error)

    def _failed(self, unit_id: str, exc: BaseException | None) -> Iterator[Event]:
        """The events of a unit whose task failed at the Dask level (not inside process)."""
        start = self.running.pop(unit_id, None)
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
        for key, (future, unit_id) in list(self.in_flight.items()):
            start = self.running.get(unit_id)
            if start is None or now - start[1] <= limit:
                continue
            address, began = start
            del self.in_flight[key]
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
