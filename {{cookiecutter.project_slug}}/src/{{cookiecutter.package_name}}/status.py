"""One view of a whole job, however many shards run it: what ``status`` shows.

The truth about a unit is in two places: its output (done) and the failure records (failed);
everything else is pending. How the job is going is in the runs' logs: each shard's latest
run says whether it is running, how fast, and when it last wrote a line. A state folder
shared by the shards (or several given) holds all of it, so the view is built from files
alone, and ``status --watch`` reads only what the logs gained since its last look.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import lastrun, outputs, params, provenance, units
from .failures import latest_failures, run_dirs
from .lock import holder, is_held
from .log import duration
from .runner import Summary, lock_path
from .settings import Settings, Shard
from .storage import open_store
from .worker import load_job

#: A running shard that wrote no log line for this long is reported as silent (seconds).
SILENT_AFTER = 600.0
_SHARD_IN_NAME = re.compile(r"-shard(\d+)of(\d+)$")


def _seconds(ts: str) -> float:
    return datetime.fromisoformat(ts).timestamp()


class RunLog:
    """What one run's ``events.jsonl`` says so far, read incrementally: each ``update`` reads
    only the complete lines added since the last one."""

    def __init__(self, run_dir: Path, *, steps: bool = False) -> None:
        self.run_dir = run_dir
        #: Whether to collect the step timings (parsing every END line: the newest run only).
        self.with_steps = steps
        self.offset = 0
        self.started: float | None = None
        self.todo = 0
        self.done = 0
        self.failed = 0
        self.last_at: float | None = None
        self.last_line = ""
        self.steps: dict[str, list[float]] = {}

    @property
    def finished(self) -> int:
        return self.done + self.failed

    def update(self) -> None:
        try:
            with (self.run_dir / "events.jsonl").open("rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return
        complete = data.rfind(b"\n") + 1  # a line still being written is read next time
        self.offset += complete
        lines = data[:complete]
        if not lines:
            return
        # Counted in the bytes rather than parsed, line by line (a million lines are seconds
        # of json.loads): the log's writer puts these fields, and a quote inside a value is
        # escaped, so no message can fake them.
        self.done += lines.count(b'"event": "END"')
        self.failed += lines.count(b'"event": "FAIL"') - lines.count(b'"retry": "later"')
        for line in lines.splitlines():
            if b'"event": "RUN"' in line or (self.with_steps and b'"steps": {' in line):
                self._parse(line)
        last = self._load(lines[lines.rfind(b"\n", 0, len(lines) - 1) + 1 :])
        if last is not None:
            self.last_at = _seconds(last["ts"])
            self.last_line = f"{last['event']} {last.get('unit') or '-'}"

    @staticmethod
    def _load(line: bytes) -> dict[str, Any] | None:
        try:
            record = json.loads(line)
        except ValueError:
            return None
        return record if isinstance(record, dict) and "ts" in record else None

    def _parse(self, line: bytes) -> None:
        record = self._load(line)
        if record is None:
            return
        if record.get("event") == "RUN":
            self.started = _seconds(record["ts"])
            self.todo = int(record.get("todo") or 0)
        for name, seconds in (record.get("steps") or {}).items():
            self.steps.setdefault(name, []).append(float(seconds))


def summary_of(run_dir: Path) -> dict[str, Any] | None:
    """The summary a run wrote when it ended, or None (still running, or killed)."""
    try:
        record = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def summary_lines(run_dir: Path) -> list[str]:
    """The end-of-run summary of a run that ended, as the run printed it (without its log)."""
    record = summary_of(run_dir) or {}
    try:
        known = {name: record[name] for name in Summary.__dataclass_fields__ if name in record}
        return Summary(**known).lines()[:-1]
    except TypeError:  # not a summary of this version
        return []


def shard_of(run_dir: Path) -> str | None:
    """The shard (``I/N``) a run processed, or None for an unsharded run."""
    recorded = lastrun.read(run_dir)
    if recorded is not None:
        return recorded["shard"] or None
    match = _SHARD_IN_NAME.search(run_dir.name)
    return f"{match[1]}/{match[2]}" if match else None


@dataclass
class ShardView:
    """One shard (or the whole job when it is not sharded)."""

    shard: str
    units: int
    done: int
    failed: int
    pending: int
    #: not started | running | silent | ended | stopped | killed
    state: str = "not started"
    run: str | None = None
    #: Units finished by the latest run so far, of the ones it set out to do.
    run_finished: int = 0
    run_todo: int = 0
    rate: float = 0.0
    eta_seconds: float | None = None
    last_line_seconds_ago: float | None = None
    last_line: str = ""
    stopped: str | None = None
    log: str | None = None
    #: Where its latest run runs (running, silent) or ran (killed): pid, host, SLURM job.
    where: str | None = None


@dataclass
class JobView:
    """The whole job: totals, per-shard rows, what needs an operator's eye."""

    units: int
    done: int
    failed: int
    pending: int
    causes: dict[str, int]
    shards: list[ShardView]
    rate: float = 0.0
    eta_seconds: float | None = None
    running: int = 0
    problems: list[str] = field(default_factory=list)
    last_run: str | None = None
    #: The latest run's own summary, when the job is not sharded and the run ended.
    summary: list[str] = field(default_factory=list)
    steps: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Of ``done``: the units with no output on purpose (``unit.skip``).
    skipped: int = 0
    #: Of ``done``: the outputs made with other parameters or code than now.
    stale: int = 0

    def as_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


class Survey:
    """Builds the JobView of the job recorded in ``states``; keep one to ``look`` again
    (``status --watch``): logs are then read only from where the last look stopped."""

    def __init__(
        self,
        settings: Settings,
        states: list[Path],
        *,
        shard: Shard | None = None,
        silent_after: float = SILENT_AFTER,
    ) -> None:
        self.settings = settings
        self.states = states
        self.shard = shard
        self.silent_after = silent_after
        job = load_job(settings.job)
        self.suffix, self.shape = job.suffix, job.shape
        #: What outputs made now would be stamped with (the --param given count).
        self.stamp = provenance.current_stamp(job.process, params.bind(settings, job.params).params)
        self.ids = units.load(settings.replace(shard=None))
        self._logs: dict[Path, RunLog] = {}
        #: The ids of each shard, by shard count.
        self._shards: dict[int, list[list[str]]] = {}

    def _log(self, run_dir: Path, *, steps: bool = False) -> RunLog:
        if run_dir not in self._logs:
            self._logs[run_dir] = RunLog(run_dir, steps=steps)
        log = self._logs[run_dir]
        log.update()
        return log

    def _latest_runs(self) -> dict[str | None, tuple[Path, Path]]:
        """Each shard's latest run and its state folder (key None: unsharded runs)."""
        latest: dict[str | None, tuple[Path, Path]] = {}
        for state in self.states:
            for run_dir in run_dirs(state):
                key = shard_of(run_dir)
                if key not in latest or latest[key][0].name < run_dir.name:
                    latest[key] = (run_dir, state)
        return latest

    def _shard_keys(self, latest: dict[str | None, tuple[Path, Path]]) -> list[str | None]:
        if self.shard is not None:
            return [str(self.shard)]
        if not latest:
            return [None]
        newest = max(latest.items(), key=lambda item: item[1][0].name)[0]
        if newest is None:
            return [None]
        count = Shard.parse(newest).count
        return [f"{index}/{count}" for index in range(count)]

    def _failures(self) -> dict[str, dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for state in self.states:
            for unit, record in latest_failures(state).items():
                if unit not in merged or str(merged[unit].get("ts")) < str(record.get("ts")):
                    merged[unit] = record
        return merged

    def look(self) -> JobView:
        now = time.time()
        listing = outputs.list_units(open_store(self.settings.output), self.suffix, self.shape)
        done_ids = listing.done
        failures = {u: r for u, r in self._failures().items() if u not in done_ids}
        latest = self._latest_runs()
        newest = max((pair[0] for pair in latest.values()), key=lambda p: p.name, default=None)
        if newest is not None:  # its END lines are parsed for the step timings
            self._log(newest, steps=True)
        rows = [
            self._row(key, latest.get(key), done_ids, failures, now)
            for key in self._shard_keys(latest)
        ]
        in_view = set(self.ids) if self.shard is None else set(self._ids_of(str(self.shard)))
        causes = Counter(str(r.get("error")) for u, r in failures.items() if u in in_view)
        running = [row for row in rows if row.state in ("running", "silent")]
        rate = sum(row.rate for row in (running or rows))
        view = JobView(
            units=sum(row.units for row in rows),
            done=sum(row.done for row in rows),
            failed=sum(row.failed for row in rows),
            pending=sum(row.pending for row in rows),
            causes=dict(causes.most_common()),
            shards=rows,
            rate=rate,
            running=len(running),
        )
        view.skipped = len(listing.skipped & in_view)
        made = provenance.runs(*self.states)
        view.stale = len(provenance.stale(done_ids & in_view, made, self.stamp))
        if rate > 0 and view.pending:
            view.eta_seconds = view.pending / rate
        view.problems = list(self._problems(rows))
        if newest is not None:
            view.last_run = str(newest)
            if len(rows) == 1 and rows[0].state in ("ended", "stopped"):
                view.summary = summary_lines(newest)
            steps = self._log(newest).steps
            view.steps = {
                name: {"mean": math.fsum(values) / len(values), "total": sum(values)}
                for name, values in steps.items()
            }
        return view

    def _ids_of(self, key: str | None) -> Collection[str]:
        if key is None:
            return self.ids
        shard = Shard.parse(key)
        if shard.count not in self._shards:  # one hash per id, once: not once per shard
            members: list[list[str]] = [[] for _ in range(shard.count)]
            for unit_id in self.ids:
                members[units.shard_index(unit_id, shard.count)].append(unit_id)
            self._shards[shard.count] = members
        return self._shards[shard.count][shard.index]

    def _row(
        self,
        key: str | None,
        latest: tuple[Path, Path] | None,
        done_ids: set[str],
        failures: dict[str, dict[str, Any]],
        now: float,
    ) -> ShardView:
        ids = self._ids_of(key)
        done = sum(1 for unit_id in ids if unit_id in done_ids)
        failed = sum(1 for unit_id in ids if unit_id in failures)
        row = ShardView(key or "all", len(ids), done, failed, len(ids) - done - failed)
        if latest is None:
            return row
        run_dir, state = latest
        log = self._log(run_dir)
        summary = summary_of(run_dir)
        row.run = run_dir.name
        row.log = str(run_dir / "run.log")
        row.run_finished, row.run_todo = log.finished, log.todo
        row.last_line = log.last_line
        if log.last_at is not None:
            row.last_line_seconds_ago = max(0.0, now - log.last_at)
        shard = Shard.parse(key) if key else None
        lock = lock_path(self.settings.replace(state=str(state), shard=shard))
        if is_held(lock):
            row.where = holder(lock)
            row.state = "running"
            elapsed = now - log.started if log.started else 0.0
            row.rate = log.finished / elapsed if elapsed > 0 else 0.0
            if row.rate > 0:
                row.eta_seconds = max(0, log.todo - log.finished) / row.rate
            if (row.last_line_seconds_ago or 0.0) > self.silent_after:
                row.state = "silent"
        elif summary is None:
            row.state = "killed"
            row.where = holder(lock)
            row.stopped = "killed before it could write a summary" + (
                f" (it ran as {row.where})" if row.where else ""
            )
        else:
            seconds = float(summary.get("seconds") or 0.0)
            row.rate = log.finished / seconds if seconds > 0 else 0.0
            row.stopped = summary.get("stopped")
            row.state = "stopped" if row.stopped else "ended"
        return row

    def _problems(self, rows: Iterable[ShardView]) -> Iterable[str]:
        for row in rows:
            name = "the run" if row.shard == "all" else f"shard {row.shard}"
            if row.state == "silent":
                yield (
                    f"{name} is silent{f' ({row.where})' if row.where else ''}: no log line for "
                    f"{duration(row.last_line_seconds_ago or 0.0)} (last: {row.last_line}); "
                    f"see {row.log}"
                )
            elif row.state in ("stopped", "killed") and row.pending:
                yield f"{name} stopped with {row.pending} units pending: {row.stopped}"
            elif row.state == "not started" and row.pending:
                yield f"{name} has not started: {row.pending} units pending"


def render(view: JobView, command: str, where: str = "") -> list[str]:
    """The human view: totals, one row per shard, problems, the last run's slowest steps
    (``where``: the ``--state`` options the hints must repeat)."""
    lines = [
        f"units:   {view.units}",
        f"done:    {view.done - view.skipped}",
        f"failed:  {view.failed}"
        + (
            f"  ({', '.join(f'{n} {cause}' for cause, n in view.causes.items())}; "
            f"list them: {command} failed{where})"
            if view.failed
            else ""
        ),
        f"pending: {view.pending}",
        f"skipped: {view.skipped}" + ("  (no output on purpose: unit.skip)" if view.skipped else ""),
        f"stale:   {view.stale}"
        + (
            f"  (made with other parameters or code; redo them: {command} run --rerun-stale)"
            if view.stale
            else ""
        ),
        f"rate:    {view.rate:.1f} units/s"
        + (
            f" ({view.running} running {'shard' if view.running == 1 else 'shards'})"
            if view.running
            else " (last runs)"
        ),
        "eta:     " + (duration(view.eta_seconds) if view.eta_seconds is not None else "-"),
    ]
    sharded = len(view.shards) > 1 or view.shards[0].shard != "all"
    if sharded:
        lines.append(
            f"{'shard':<7} {'units':>6} {'done':>6} {'failed':>6} {'pending':>7} "
            f"{'state':<11} {'run':>13} {'units/s':>8} {'last line':>9}"
        )
        for row in view.shards:
            ago = duration(row.last_line_seconds_ago) if row.last_line_seconds_ago else "-"
            progress = f"{row.run_finished}/{row.run_todo}" if row.run else "-"
            lines.append(
                f"{row.shard:<7} {row.units:>6} {row.done:>6} {row.failed:>6} {row.pending:>7} "
                f"{row.state:<11} {progress:>13} {row.rate:>8.1f} {ago:>9}"
            )
    for problem in view.problems:
        lines.append(f"attention: {problem}")
    if not sharded:
        row = view.shards[0]
        if row.run is None:
            lines.append("last run: none yet")
        else:
            going = "running" if row.state in ("running", "silent") else "ended"
            lines.append(
                f"last run: {row.run} ({going}), {row.run_finished} of {row.run_todo} units "
                f"finished ({row.rate:.1f} units/s)"
            )
            lines.extend(f"  {line}" for line in view.summary)
            if row.state == "killed":
                ran = f" ({row.where})" if row.where else ""
                lines.append(
                    f"  no summary: the run{ran} was killed before it could write one; "
                    "run again to resume"
                )
    if view.steps:
        lines.append("slowest steps of the last run (mean / total seconds):")
        ranked = sorted(view.steps.items(), key=lambda item: -item[1]["total"])
        for name, numbers in ranked[:5]:
            lines.append(f"  {name:<12} {numbers['mean']:10.4f} {numbers['total']:10.2f}")
    if view.last_run:
        lines.append(f"log:     {Path(view.last_run) / 'run.log'}")
    return lines
