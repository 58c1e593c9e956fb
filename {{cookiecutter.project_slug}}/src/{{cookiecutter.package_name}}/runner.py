"""One run: lock, plan (units minus the done ones), execute on a backend, record everything.

The backends only execute; everything a user relies on - the log lines, the progress bar, the
failure records, the retry list, the early stop, the summary - happens here, once, so it
behaves the same whichever backend ran the units.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from shlex import quote
from types import FrameType
from typing import Any

from . import checkpoint, lastrun, params, progress_bar, provenance, units
from .events import WAITING, Committed, Event, Outcome, PoolError, Started, UserLog, Waiting
from .failures import RETRY_LIST, FailureLog, latest_failures, retry_list, write_ids
from .inputs import Inputs
from .lock import RunLock
from .log import Lines, Progress, RunLog, duration, timestamp
from .outputs import check_layout
from .pool import LocalPool
from .retries import Retries
from .settings import Settings
from .start_method import default_start_method
from .storage import StoreUnreachable, open_store
from .unitlist import UnitList
from .worker import Job, Worker, load_job

COMMAND = "{{ cookiecutter.project_slug }}"


class Interrupted(Exception):
    """The run was asked to stop by a signal (SIGINT or SIGTERM)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        #: What the run did before it stopped (None if it stopped before it began).
        self.summary: Summary | None = None


@dataclass
class Summary:
    """What a run did; written to ``<state>/<run>/summary.json`` and shown at the end."""

    run: str
    units: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    pending: int = 0
    #: Units tried again after a transient failure (``--retries``), done or failed since.
    retried: int = 0
    seconds: float = 0.0
    causes: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None
    retry: str | None = None
    log: str = ""
    params: dict[str, object] = field(default_factory=dict)
    #: Of ``done``, the units that chose to write no output (``unit.skip``).
    skipped_by_choice: int = 0
    #: Units of this run that failed in an earlier run and are still in the retry list.
    waiting: int = 0

    @property
    def throughput(self) -> float:
        finished = self.done + self.failed
        return finished / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        """The human summary printed at the end of a run."""
        lines = [
            f"run {self.run}: {self.done} done, {self.skipped} skipped (already done), "
            f"{self.failed} failed, {self.pending} pending, in {duration(self.seconds)} "
            f"({self.throughput:.1f} units/s)"
        ]
        if self.skipped_by_choice:
            lines.append(
                f"  of the done units, {self.skipped_by_choice} have no output on purpose "
                "(unit.skip: see their END lines' skipped=)"
            )
        if self.stopped:
            lines.append(f"stopped early: {self.stopped}")
        if self.retried:
            lines.append(f"units tried again after a transient failure: {self.retried}")
        for cause, count in sorted(self.causes.items(), key=lambda item: -item[1]):
            lines.append(f"  {count} failed with {cause}")
        if self.params:
            lines.append(f"params: {params.describe_values(self.params)}")
        if self.retry and self.failed:
            lines.append(f"retry the failed units with: {self.retry}")
        elif self.retry and self.waiting:
            units, are = ("unit", "is") if self.waiting == 1 else ("units", "are")
            lines.append(
                f"{self.waiting} {units} that failed in an earlier run {are} still in the "
                f"retry list; retry with: {self.retry}"
            )
        lines.append(f"log: {self.log}")
        return lines


def new_run_id(settings: Settings) -> str:
    """A sortable, unique run name: UTC time, process id and shard."""
    now = time.time()  # one reading, so the second and its milliseconds agree
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    millis = int(now * 1000) % 1000
    shard = f"-shard{settings.shard.index}of{settings.shard.count}" if settings.shard else ""
    return f"{stamp}.{millis:03d}Z-{os.getpid()}{shard}"


def lock_path(settings: Settings) -> Path:
    shard = f"-shard{settings.shard.index}of{settings.shard.count}" if settings.shard else ""
    return Path(settings.state) / f"run{shard}.lock"


def where_options(states: Iterable[str], config_file: Path | None = None) -> str:
    """What a command printed as a hint must repeat to answer for the same job: ``--config``
    (a second stage's file: its job and parameters) and `` --state X`` for each state folder,
    unless that is the default one alone."""
    folders = list(states)
    where = f" --config {quote(str(config_file))}" if config_file else ""
    if folders != [Settings.state]:
        where += "".join(f" --state {quote(folder)}" for folder in folders)
    return where


def retry_command(
    settings: Settings, states: Iterable[str] = (), config_file: Path | None = None
) -> str:
    """The command that retries the failed units of ``settings``' shard, as it must be typed
    (``states``: the state folders, by default the setting's)."""
    where = where_options(list(states) or [settings.state], config_file)
    return f"{COMMAND} retry{where}" + (f" --shard {settings.shard}" if settings.shard else "")


class _Recorder:
    """Turns backend events into log lines, failure records, progress and stop decisions."""

    def __init__(
        self,
        settings: Settings,
        log: RunLog,
        failures: FailureLog,
        total: int,
        ledger: provenance.Ledger,
    ):
        self.settings = settings
        self.ledger = ledger
        self.log = log
        self.failures = failures
        self.progress = Progress(total)
        self.causes: Counter[str] = Counter()
        self.by_choice = 0
        self.streak: tuple[str, int] = ("", 0)
        self.stopped: str | None = None
        self.first_failure: Outcome | None = None
        self.retries = Retries(settings)
        #: The attempt the backend is making now (1, then 2, ... for the units retried).
        self.attempt = 1
        #: Units finished in this attempt's pass, and those waiting for another attempt.
        self.round_finished = 0
        self.waiting: list[str] = []
        self.retried = 0
        self.bar = progress_bar.bar(total, settings.progress, dynamic_ncols=True)

    def handle(self, event: Event) -> None:
        if isinstance(event, Committed):
            self.committed(event)
        elif isinstance(event, Started):
            attempt = self.attempt if self.attempt > 1 else None
            self.log.write("START", event.unit, at=event.at, worker=event.worker, attempt=attempt)
        elif isinstance(event, UserLog):
            self.log.write("LOG", event.unit, level=event.level, at=event.at, message=event.message)
        elif isinstance(event, Waiting):
            self.log.flush()
        else:
            self.finished(event)

    def committed(self, event: Committed) -> None:
        """Units that committed an output: the same lines and records as ``finished`` gives
        them, written a batch at a time (a trivial unit costs the main process microseconds)."""
        progress = self.progress
        log = self.log
        fast = self.attempt == 1  # later attempts' lines say which attempt: ``write`` does it
        lines: Lines = ([], [])
        ids: list[str] = []
        # Each unit's START is logged here (worker), unless it was from the board (0).
        worker = event.worker
        workers = (
            [worker] * len(event.units)
            if event.announced is None
            else [0 if announced else worker for announced in event.announced]
        )
        of_total = f"/{progress.total}"
        eta = progress.eta()  # one reading for the batch: its lines take microseconds
        units = zip(event.units, workers, strict=True)
        try:
            for (unit, started, seconds, ended, output), logged_by in units:
                number = progress.done + progress.failed + 1
                progress_text = f"{number}{of_total}"
                if fast and log.committed(
                    lines, unit, logged_by, started, ended, seconds, output, progress_text, eta
                ):
                    progress.done += 1
                    ids.append(unit)
                    continue
                log.write_lines(lines)  # the lines of the units before it go first
                self._write_ids(ids)
                if logged_by:
                    self.handle(Started(unit, worker, started))
                self.finished(Outcome(unit, True, started, seconds, output, ended=ended))
        finally:  # also when a signal interrupts the batch: what is counted is written
            log.write_lines(lines)
            self._write_ids(ids)
        self.streak = ("", 0)
        log.maybe_flush()

    def _write_ids(self, ids: list[str]) -> None:
        """Record units done by ``committed``: the ledger, the counts, the bar."""
        if ids:
            self.ledger.add_many(ids)
            self.round_finished += len(ids)
            self.bar.update(len(ids))
            ids.clear()

    def finished(self, outcome: Outcome) -> None:
        progress = self.progress
        # Stamped when the unit ended, not when its record arrived (workers send records in
        # batches): read per worker, the log is in time order.
        ended = outcome.end
        self.round_finished += 1
        attempt = self.attempt if self.attempt > 1 else None
        later = not outcome.ok and self.retries.wanted(outcome, self.attempt)
        if later:  # not a unit finished: an attempt, the unit goes again (--retries)
            self.waiting.append(outcome.unit)
        elif outcome.ok:
            progress.done += 1
            self.ledger.add(outcome.unit)
            self.by_choice += outcome.skipped is not None
            self.streak = ("", 0)
            self.log.write(
                "END",
                outcome.unit,
                at=ended,
                seconds=outcome.seconds,
                output=outcome.output,
                skipped=outcome.skipped,
                steps=outcome.steps or None,
                progress=f"{progress.finished}/{progress.total}",
                eta=progress.eta(),
                attempt=attempt,
            )
        else:
            progress.failed += 1
            self.causes[outcome.cause] += 1
            self.failures.add(outcome, attempts=self.attempt)
            self.first_failure = self.first_failure or outcome
        if not outcome.ok:
            self.log.write(
                "FAIL",
                outcome.unit,
                level="WARN" if later else "ERROR",
                at=ended,
                echo=True,
                seconds=outcome.seconds,
                error=f"{outcome.error}: {outcome.message}",
                progress=None if later else f"{progress.finished}/{progress.total}",
                eta=None if later else progress.eta(),
                attempt=self.attempt if later else attempt,
                retry="later" if later else None,
            )
            self._count(outcome)
        if not later:
            self.bar.update(1)

    def _count(self, outcome: Outcome) -> None:
        """The circuit breaker counts units, not attempts: a unit counts at its first."""
        if self.attempt == 1:
            cause, count = self.streak
            self.streak = (outcome.cause, count + 1 if cause == outcome.cause else 1)
        limit = self.settings.max_consecutive_failures
        if self.settings.fail_fast:
            self.stopped = f"--fail-fast: unit {outcome.unit} failed"
        elif limit and self.streak[1] >= limit:
            self.stopped = (
                f"{limit} units in a row failed with {outcome.cause} (last: {outcome.unit}: "
                f"{outcome.message}); fix the cause, then run again"
            )

    def next_attempt(self) -> UnitList:
        """The units waiting for another attempt, after the backoff (logged as RETRY)."""
        batch, self.waiting = self.waiting, []
        self.attempt += 1
        self.round_finished = 0
        if self.attempt == 2:
            self.retried = len(batch)
        wait = self.retries.delay(self.attempt)
        self.log.write("RETRY", level="WARN", echo=True, units=len(batch), attempt=self.attempt, wait=wait)
        self.log.flush()
        time.sleep(wait)
        return UnitList.of(batch)

    def echo(self, line: str) -> None:
        self.bar.write(line, file=sys.stderr)


def _serial(job: Job[Any], settings: Settings, unit_ids: Iterable[str]) -> Iterator[Event]:
    """``--debug``: every unit in this process, exceptions not caught, so breakpoints work."""
    worker = Worker(job, settings)
    try:
        for unit_id in unit_ids:
            yield Started(unit_id, os.getpid(), time.time())
            yield WAITING  # the START line on disk before the unit runs, however long
            yield worker.attempt(unit_id, capture=False)
    finally:
        worker.close()


def _backend(job: Job[Any], settings: Settings, unit_ids: UnitList) -> Iterator[Event]:
    if settings.debug:
        return _serial(job, settings, unit_ids)
{%- if cookiecutter.scale_out == "dask" %}
    if settings.backend == "dask":
        from .dask_backend import DaskBackend

        return DaskBackend(job, settings).events(unit_ids)
{%- endif %}
    return LocalPool(job, settings).events(unit_ids)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def run(
    settings: Settings,
    *,
    job: Job[Any] | None = None,
    unit_ids: list[str] | None = None,
    echo: Callable[[str], None] | None = None,
    config_file: Path | None = None,
) -> Summary:
    """Run every pending unit (or only ``unit_ids``); returns the summary (``config_file``:
    the ``--config`` its retry command must repeat).

    Raises UserError for bad input before any work starts, and Interrupted (after recording
    everything) when a signal stops the run.
    """
    job = job or load_job(settings.job)
    settings = params.bind(settings, job.params)
    state = Path(settings.state)
    # Bad unit ids are rejected before anything is created, the lock and state folder included.
    ids = units.load(settings) if unit_ids is None else UnitList.of(unit_ids)
    check_layout(ids, job.suffix)
    with RunLock(lock_path(settings)) as lock:
        outputs = open_store(settings.output{% if cookiecutter.storage == "s3" %}, settings.storage_timeout{% endif %})
        done = set() if settings.overwrite else checkpoint.done_ids(outputs, job.suffix, job.shape)
        stale: set[str] = set()
        if settings.rerun_stale and done:
            now = provenance.current_stamp(job.process, settings.params)
            stale = provenance.stale(done, provenance.runs(state), now)
            done -= stale
        todo = checkpoint.pending(ids, done)
        skipped = len(ids) - len(todo)
        if settings.limit:
            todo = todo.head(settings.limit)
        if todo:  # a resume with nothing to do needs no inputs (nor a request for them)
            Inputs(settings.input).check()
        outputs.prepare()
        run_id = new_run_id(settings)
        log = RunLog(state / run_id, run_id)
        lastrun.record(state / run_id, settings)  # what status, failed and retry answer for
        failures = FailureLog(state / run_id, run_id)
        ledger = provenance.Ledger(
            state / run_id, provenance.describe(job.process, settings.params, run_id)
        )
        log.follow(ledger.file)  # as current as the log's END lines
        recorder = _Recorder(settings, log, failures, len(todo), ledger)
        log.echo = echo or recorder.echo
        summary = Summary(
            run_id,
            len(ids),
            skipped=skipped,
            log=str(log.human_path),
            params=params.as_dict(settings.params),
        )
        local_pool = settings.backend == "local" and not settings.debug
        if local_pool and not settings.start_method:
            # Chosen last, once the listing and the progress bar could have started a thread.
            settings = settings.replace(start_method=default_start_method())
        if lock.stale:
            log.write("LOCK", level="WARN", echo=True, message=lock.stale)
        log.write(
            "RUN",
            echo=True,
            units=len(ids),
            skipped=skipped,
            todo=len(todo),
            workers=1 if settings.debug else settings.workers,
            backend="debug" if settings.debug else settings.backend,
            start=settings.start_method if local_pool else None,
            output=outputs.url(""),
            shard=str(settings.shard) if settings.shard else None,
            params=params.describe(settings.params),
            stale=len(stale) if settings.rerun_stale else None,
        )
        previous = {
            signum: signal.signal(signum, _raise_interrupted) for signum in (signal.SIGTERM,)
        }
        started = time.monotonic()
        interrupted: Interrupted | None = None
        events = _backend(job, settings, todo)
        try:
            batch = todo
            while True:
                for event in events:
                    recorder.handle(event)
                    if recorder.stopped:
                        break
                else:  # a backend that ends early must not pass for a complete run
                    if (lost := len(batch) - recorder.round_finished) > 0:
                        recorder.stopped = (
                            f"the backend ended with {lost} units neither done nor failed; "
                            "run again to do them"
                        )
                if recorder.stopped or not recorder.waiting:
                    break
                batch = recorder.next_attempt()  # --retries: the transient failures again
                events = _backend(job, settings, batch)
        except KeyboardInterrupt:
            interrupted = Interrupted(signal.SIGINT)
        except Interrupted as exc:
            interrupted = exc
        except PoolError as exc:
            recorder.stopped = str(exc)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            recorder.bar.close()
            summary.seconds = time.monotonic() - started
            summary.done = recorder.progress.done
            summary.skipped_by_choice = recorder.by_choice
            summary.failed = recorder.progress.failed
            summary.pending = len(ids) - skipped - summary.done - summary.failed
            summary.causes = dict(recorder.causes)
            summary.retried = recorder.retried
            summary.stopped = recorder.stopped or (
                f"interrupted by {interrupted}" if interrupted else None
            )
            # The retry list needs the outputs as they are now; if this run wrote none, the
            # listing made at the start still says it (a resume costs ONE listing, not two).
            written = settings.overwrite or recorder.progress.done
            try:
                done_now = (
                    checkpoint.done_ids(outputs, job.suffix, job.shape, among=set(latest_failures(state)))
                    if written
                    else done
                )
            except StoreUnreachable as exc:  # it went away during the run: use what we had
                log.write("STORE", level="WARN", echo=True, message=str(exc))
                done_now = done
            failed_now = retry_list(state, done_now)
            wanted = set(failed_now)
            in_run = {u for u in ids if u in wanted} if wanted else wanted
            write_ids(state / run_id / RETRY_LIST, [u for u in failed_now if u in in_run])
            write_ids(state / RETRY_LIST, list(failed_now))
            # The hint is about this run's units: not other shards', nor units left the job.
            summary.retry = retry_command(settings, config_file=config_file) if in_run else None
            summary.waiting = sum(failed_now[u].get("run") != run_id for u in in_run)
            log.write(
                "SUMMARY",
                level="WARN" if summary.failed or summary.stopped else "INFO",
                done=summary.done,
                skipped=summary.skipped,
                failed=summary.failed,
                pending=summary.pending,
                seconds=summary.seconds,
                stopped=summary.stopped,
                retry=summary.retry,
            )
            (state / run_id / "summary.json").write_text(
                json.dumps({**asdict(summary), "ended": timestamp()}, indent=2) + "\n"
            )
            log.close()
            failures.close()
            ledger.close()
        if settings.fail_fast and recorder.first_failure is not None:
            sys.stderr.write(recorder.first_failure.traceback or "")
        if interrupted is not None:
            interrupted.summary = summary
            raise interrupted
        return summary
