"""What the logs say, as plain data: runs, unit attempts, ETA readings, failures, counts.

Built in one pass over each run's ``events.jsonl`` and ``failures.jsonl``; nothing here knows
about pictures or HTML. A unit attempt is one START followed by its END or FAIL; one whose END
or FAIL never came is *in flight* (the run is still going, or was stopped under it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..failures import FAILURES_FILE
from ..lastrun import SETTINGS_FILE
from .source import StateSource

#: Fields every RUN line has; the others (parameters, code version, host...) are shown as given.
RUN_BASICS = frozenset(
    {
        "ts",
        "level",
        "event",
        "unit",
        "run",
        "units",
        "skipped",
        "todo",
        "workers",
        "backend",
        "start",
        "output",
        "shard",
    }
)
#: The names a RUN record may give its parameters and its code version under.
PARAMETER_KEYS = ("params", "parameters")
CODE_KEYS = ("code", "code_version", "version", "commit")
#: Where a run's folder records what made its outputs: parameter values, VCS commit and whether
#: the tree was dirty, a hash of the job's source.
PROVENANCE_FILE = "provenance.json"


def seconds_of(stamp: str) -> float:
    """A log timestamp as seconds since the epoch."""
    return datetime.fromisoformat(stamp).timestamp()


def eta_seconds(text: object) -> float | None:
    """``H:MM:SS`` as seconds; None for ``?`` or anything else."""
    if not isinstance(text, str):
        return None
    parts = text.split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    hours, minutes, seconds = map(int, parts)
    return hours * 3600.0 + minutes * 60.0 + seconds


@dataclass(slots=True)
class Attempt:
    """One unit attempt: a bar on the timeline."""

    unit: str
    run: int
    worker: str
    start: float
    end: float
    #: ``done``, ``failed``, or ``in flight`` (no END or FAIL in the log).
    outcome: str
    seconds: float | None = None
    output: str | None = None
    steps: dict[str, float] | None = None
    cause: str | None = None


@dataclass(slots=True)
class Failure:
    """A failed attempt with what ``failures.jsonl`` recorded about it."""

    unit: str
    run: int
    at: float
    cause: str
    message: str
    traceback: str


@dataclass
class Run:
    """One run folder."""

    name: str
    index: int
    #: ``I/N`` for a shard, None for a run over every unit.
    shard: str | None
    host: str | None
    started: float
    #: The last line's time: the run's end, or the moment of the snapshot for a running one.
    last: float
    header: dict[str, Any] = field(default_factory=dict)
    closing: dict[str, Any] | None = None
    #: ``ended``, ``stopped``, ``interrupted``, ``running`` or ``killed`` (no summary, lock free).
    state: str = "ended"
    stopped: str | None = None
    done: int = 0
    failed: int = 0
    in_flight: int = 0
    #: (time of an END/FAIL line, the end it predicted), for the ETA over time.
    eta: list[tuple[float, float]] = field(default_factory=list)
    #: A stale lock taken over at the start: the run before it was killed.
    took_over: str | None = None
    #: What the run was about (job, unit source, input, output), where its folder records it.
    recorded: dict[str, Any] = field(default_factory=dict)
    #: What made its outputs (parameters, code version), where its folder records it.
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def units(self) -> int:
        return int(self.header.get("units") or 0)

    @property
    def skipped(self) -> int:
        return int(self.header.get("skipped") or 0)

    @property
    def todo(self) -> int:
        return int(self.header.get("todo") or 0)

    @property
    def pending(self) -> int:
        return max(self.units - self.skipped - self.done - self.failed, 0)

    @property
    def group(self) -> str:
        """The timeline's row group: the shard, and the host where the log names one."""
        shard = f"shard {self.shard}" if self.shard else "all units"
        return f"{shard} on {self.host}" if self.host else shard

    @property
    def parameters(self) -> object:
        """The run's parameter values: from its provenance record, else its RUN line."""
        if "params" in self.provenance:
            return self.provenance["params"]
        return next((self.header[key] for key in PARAMETER_KEYS if key in self.header), None)

    @property
    def code(self) -> object:
        """The code version: the provenance record's commit (or source hash), else the RUN
        line's."""
        commit, source = self.provenance.get("commit"), self.provenance.get("code_hash")
        if isinstance(commit, str) and commit:
            return commit[:12] + (" (uncommitted changes)" if self.provenance.get("dirty") else "")
        if isinstance(source, str) and source:
            return f"source {source[:12]}"
        return next((self.header[key] for key in CODE_KEYS if key in self.header), None)

    @property
    def extra(self) -> dict[str, Any]:
        """What the RUN line records beyond the basics and the parameters and code version."""
        named = set(RUN_BASICS) | set(PARAMETER_KEYS) | set(CODE_KEYS) | {"host"}
        extra = {key: value for key, value in self.header.items() if key not in named}
        about = {key: value for key, value in self.recorded.items() if key in ("job", "input")}
        return {**about, **extra}

    @property
    def interrupted(self) -> bool:
        return self.state in ("interrupted", "stopped", "killed")


@dataclass
class Totals:
    """Where a shard (or the whole job) stands after its latest run."""

    name: str
    units: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0
    runs: int = 0

    def add(self, other: Totals) -> None:
        self.units += other.units
        self.done += other.done
        self.skipped += other.skipped
        self.failed += other.failed
        self.pending += other.pending
        self.runs += other.runs


@dataclass
class Model:
    """Every run of a state location, read at one moment."""

    location: str
    runs: list[Run]
    attempts: list[Attempt]
    failures: list[Failure]
    #: The moment the logs were read (the end of the timeline for units still in flight).
    read_at: float

    @property
    def running(self) -> list[Run]:
        return [run for run in self.runs if run.state == "running"]

    def finished(self) -> list[Attempt]:
        return [attempt for attempt in self.attempts if attempt.outcome != "in flight"]

    def causes(self) -> Counter[str]:
        return Counter(failure.cause for failure in self.failures)

    def totals(self) -> tuple[list[Totals], Totals]:
        """Per shard and in total: units done, skipped, failed and pending as of the latest
        run of each shard. A run over fewer units than the shard's earlier ones (``retry``)
        updates the units it ran; a run over all of them starts the count afresh."""
        by_group: dict[str, list[Run]] = {}
        for run in self.runs:
            by_group.setdefault(run.shard or "-", []).append(run)
        per_shard: list[Totals] = []
        outcomes: dict[int, dict[str, str]] = {}
        for attempt in self.attempts:
            if attempt.outcome != "in flight":
                outcomes.setdefault(attempt.run, {})[attempt.unit] = attempt.outcome
        for shard, runs in sorted(by_group.items()):
            totals = Totals("no shard (all units)" if shard == "-" else f"shard {shard}")
            failed: set[str] = set()
            for run in runs:
                latest = outcomes.get(run.index, {})
                newly_done = [unit for unit, outcome in latest.items() if outcome == "done"]
                if run.units >= totals.units:
                    totals.units = run.units
                    totals.skipped = run.skipped
                    totals.done = run.skipped + len(newly_done)
                    failed = set()
                else:
                    totals.done += len([unit for unit in newly_done if unit in failed])
                failed = (failed - set(newly_done)) | {
                    unit for unit, outcome in latest.items() if outcome == "failed"
                }
                totals.runs += 1
            totals.failed = len(failed)
            totals.pending = max(totals.units - totals.done - totals.failed, 0)
            per_shard.append(totals)
        overall = Totals("all shards" if len(per_shard) > 1 else "total")
        for totals in per_shard:
            overall.add(totals)
        return per_shard, overall


def _lock_name(shard: str | None) -> str:
    if not shard:
        return "run.lock"
    index, count = shard.split("/")
    return f"run-shard{index}of{count}.lock"


def _read_run(
    source: StateSource, name: str, index: int, attempts: list[Attempt]
) -> tuple[Run, dict[str, Attempt]] | None:
    """One run's events; returns the run and its failed attempts by unit (to join with the
    failure records), or None for a folder with no readable RUN line."""
    run: Run | None = None
    open_starts: dict[str, tuple[float, str]] = {}
    failed_by_unit: dict[str, Attempt] = {}
    took_over: str | None = None
    last = 0.0
    for record in source.records(name, "events.jsonl"):
        event = record.get("event")
        stamp = record.get("ts")
        if not isinstance(stamp, str):
            continue
        try:
            at = seconds_of(stamp)
        except ValueError:
            continue
        last = max(last, at)
        unit = record.get("unit")
        if event == "START" and isinstance(unit, str):
            open_starts[unit] = (at, str(record.get("worker", "?")))
        elif event in ("END", "FAIL") and isinstance(unit, str) and run is not None:
            seconds = record.get("seconds")
            took = float(seconds) if isinstance(seconds, int | float) else 0.0
            begun, worker = open_starts.pop(unit, (at - took, "?"))
            ok = event == "END"
            error = record.get("error")
            attempt = Attempt(
                unit,
                index,
                worker,
                begun,
                begun + took if took else at,
                "done" if ok else "failed",
                took,
                record.get("output") if ok else None,
                record.get("steps") if ok and isinstance(record.get("steps"), dict) else None,
                None if ok else str(error).split(": ", 1)[0] if error else "unknown",
            )
            attempts.append(attempt)
            if ok:
                run.done += 1
            else:
                run.failed += 1
                failed_by_unit[unit] = attempt
            left = eta_seconds(record.get("eta"))
            if left is not None:
                run.eta.append((at, at + left))
        elif event == "RUN" and run is None:
            shard = record.get("shard")
            host = record.get("host")
            run = Run(
                name,
                index,
                shard if isinstance(shard, str) else None,
                host if isinstance(host, str) else None,
                at,
                at,
                header={k: v for k, v in record.items() if k not in ("ts", "level", "event")},
            )
        elif event == "SUMMARY" and run is not None:
            run.closing = record
        elif event == "LOCK":  # written before the RUN line
            took_over = str(record.get("message", "a stale lock"))
    if run is None:
        return None
    run.last = last
    run.took_over = took_over
    for unit, (begun, worker) in open_starts.items():
        attempts.append(Attempt(unit, index, worker, begun, last, "in flight"))
        run.in_flight += 1
    return run, failed_by_unit


def _settle(run: Run, source: StateSource, latest_of_shard: bool) -> None:
    """Whether the run ended, stopped early, was interrupted, is running or was killed."""
    closing = run.closing
    if closing is not None:
        run.stopped = closing.get("stopped") if isinstance(closing.get("stopped"), str) else None
        if run.stopped is None:
            run.state = "ended"
        else:
            run.state = "interrupted" if run.stopped.startswith("interrupted") else "stopped"
        return
    held = source.running(_lock_name(run.shard)) if latest_of_shard else False
    if held is None:
        run.state = "running"
        run.stopped = "no summary yet: still running, or killed"
    elif held:
        run.state = "running"
    else:
        run.state = "killed"
        run.stopped = "killed: no summary was written (the main process died)"


def read(source: StateSource, read_at: float) -> Model:
    """Every run of ``source``, oldest first."""
    runs: list[Run] = []
    attempts: list[Attempt] = []
    failures: list[Failure] = []
    for name in source.runs():
        result = _read_run(source, name, len(runs), attempts)
        if result is None:
            continue
        run, failed_by_unit = result
        run.recorded = source.document(name, SETTINGS_FILE) or {}
        run.provenance = source.document(name, PROVENANCE_FILE) or {}
        runs.append(run)
        for record in source.records(name, FAILURES_FILE):
            unit = record.get("unit")
            if not isinstance(unit, str):
                continue
            stamp = record.get("ts")
            try:
                at = seconds_of(stamp) if isinstance(stamp, str) else run.last
            except ValueError:
                at = run.last
            cause = str(record.get("error") or "unknown")
            attempt = failed_by_unit.get(unit)
            if attempt is not None:
                attempt.cause = cause
                at = attempt.end
            failures.append(
                Failure(
                    unit,
                    run.index,
                    at,
                    cause,
                    str(record.get("message") or ""),
                    str(record.get("traceback") or ""),
                )
            )
    latest: dict[str | None, int] = {}
    for run in runs:
        latest[run.shard] = run.index
    for run in runs:
        _settle(run, source, latest[run.shard] == run.index)
    return Model(source.location, runs, attempts, failures, read_at)
