"""The command line: ``run``, ``status``, ``failed`` and ``retry``.

Exit status: 0 every unit done, 1 some units failed or the run stopped early, 2 bad input or
configuration (one ``error:`` line, no traceback), 128 + signal number when interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from . import __version__, checkpoint, settings, units
from .errors import UserError
from .failures import RETRY_LIST, retry_list, run_dirs, write_ids
from .lock import is_held
from .log import duration, read_events
from .runner import COMMAND, Interrupted, Summary, lock_path, run
from .settings import Settings, Shard
from .storage import open_store
from .worker import load_job


def echo(line: str = "") -> None:
    """Write a line of the command's own output to stdout."""
    sys.stdout.write(line + "\n")


def _common(parser: argparse.ArgumentParser) -> None:
    """Options that say where things are; every command takes them."""
    where = parser.add_argument_group("where things are (default: [tool] table of pyproject.toml)")
    where.add_argument("--config", type=Path, help="read settings from this TOML file")
    where.add_argument("--input", help="input folder{% if cookiecutter.storage == 's3' %} or URL (s3://bucket/prefix){% endif %}")
    where.add_argument("--output", help="output folder{% if cookiecutter.storage == 's3' %} or URL{% endif %}: one file per unit")
    where.add_argument("--state", help="local folder for logs, failure records and the lock")
    source = where.add_mutually_exclusive_group()
    source.add_argument("--units-file", help="file with one unit id per line")
    source.add_argument("--units-glob", help="units are the input files matching this pattern")
    source.add_argument("--units-function", help="module:function returning the unit ids")
    where.add_argument("--shard", type=Shard.parse, help="only shard I of N (0-based), e.g. 0/4")
    where.add_argument(
        "--job", help="the code to run: module (with process/setup) or module:Job attribute"
    )


def _execution(parser: argparse.ArgumentParser) -> None:
    """Options of ``run`` and ``retry``."""
    how = parser.add_argument_group("how to run")
    how.add_argument("--workers", type=int, help="worker processes (default: CPU count)")
    how.add_argument("--chunksize", type=int, help="units sent to a worker at a time (0: auto)")
    how.add_argument("--max-tasks-per-worker", type=int, help="recycle a worker after N units")
    how.add_argument(
        "--max-worker-memory-mb", type=int, help="recycle a worker above this memory (MiB)"
    )
    how.add_argument("--timeout", type=float, help="fail a unit after this many seconds")
    how.add_argument(
        "--max-consecutive-failures",
        type=int,
        help="stop after N units in a row fail with the same cause (0: never)",
    )
    how.add_argument("--limit", type=int, help="do at most N pending units (a trial run)")
    how.add_argument("--overwrite", action="store_true", default=None, help="redo done units")
    how.add_argument(
        "--fail-fast",
        action="store_true",
        default=None,
        help="stop at the first failure and show its traceback",
    )
    how.add_argument(
        "--debug",
        action="store_true",
        default=None,
        help="run serially in this process, exceptions not caught (breakpoints work)",
    )
    how.add_argument(
        "--no-progress", dest="progress", action="store_false", default=None, help="no bar"
    )
    how.add_argument(
        "--start-method",
        choices=["fork", "spawn", "forkserver"],
        help="how worker processes start (default: fork on Linux unless the main process "
        "runs threads, then forkserver; spawn elsewhere)",
    )
{%- if cookiecutter.scale_out == "dask" %}
    how.add_argument("--backend", choices=settings.BACKENDS, help="where the units run")
    how.add_argument("--scheduler", help="address of an existing Dask scheduler")
{%- endif %}


def parser() -> argparse.ArgumentParser:
    try:
        description = metadata.metadata(COMMAND)["Summary"]
    except metadata.PackageNotFoundError:
        description = None
    main_parser = argparse.ArgumentParser(prog=COMMAND, description=description)
    main_parser.add_argument("--version", action="version", version=__version__)
    commands = main_parser.add_subparsers(dest="command", required=True)
    for name, summary in [
        ("run", "process every pending unit"),
        ("retry", "process only the units that failed and have no output"),
    ]:
        command = commands.add_parser(name, help=summary, description=summary)
        _common(command)
        _execution(command)
    status = commands.add_parser("status", help="done, failed and pending counts, ETA, steps")
    _common(status)
    failed = commands.add_parser("failed", help="the retry list with an error per unit")
    _common(failed)
    failed.add_argument("--ids", action="store_true", help="print only the ids")
    return main_parser


def _settings(arguments: argparse.Namespace) -> Settings:
    overrides = {
        name: value
        for name, value in vars(arguments).items()
        if name in settings.FIELDS and value is not None
    }
    return settings.load(arguments.config, overrides)


def _run(config: Settings, unit_ids: list[str] | None) -> int:
    summary = run(config, unit_ids=unit_ids)
    for line in summary.lines():
        echo(line)
    return 1 if summary.failed or summary.stopped else 0


def _retry(config: Settings) -> int:
    ids = units.load(config)
    outputs = open_store(config.output)
    done = checkpoint.done_ids(outputs, load_job(config.job).suffix)
    failed = retry_list(Path(config.state), done)
    todo = [unit_id for unit_id in ids if unit_id in failed]
    if not todo:
        echo("nothing to retry: no unit failed without having an output since")
        return 0
    echo(f"retrying {len(todo)} failed units")
    return _run(config, todo)


def _failed(config: Settings, ids_only: bool) -> int:
    state = Path(config.state)
    done = checkpoint.done_ids(open_store(config.output), load_job(config.job).suffix)
    failed = retry_list(state, done)
    write_ids(state / RETRY_LIST, list(failed))
    for unit_id, record in failed.items():
        if ids_only:
            echo(unit_id)
        else:
            message = str(record.get("message", "")).splitlines()[0:1] or [""]
            echo(f"{unit_id}\t{record.get('error')}: {message[0]}\t(run {record.get('run')})")
    if not ids_only:
        echo(f"{len(failed)} failed units; retry list: {state / RETRY_LIST}")
        if failed:
            echo(f"details: {state}/<run>/failures.jsonl; retry with: {COMMAND} retry")
    return 0


def _status(config: Settings) -> int:
    ids = units.load(config)
    done = checkpoint.done_ids(open_store(config.output), load_job(config.job).suffix)
    done_count = sum(1 for unit_id in ids if unit_id in done)
    failed = retry_list(Path(config.state), done)
    failed_count = sum(1 for unit_id in ids if unit_id in failed)
    pending = len(ids) - done_count - failed_count
    causes = Counter(
        str(record.get("error")) for unit_id, record in failed.items() if unit_id in ids
    )
    grouped = ", ".join(f"{count} {cause}" for cause, count in causes.most_common())
    echo(f"units:   {len(ids)}")
    echo(f"done:    {done_count}")
    echo(
        f"failed:  {failed_count}"
        + (f"  ({grouped}; list them: {COMMAND} failed)" if failed_count else "")
    )
    echo(f"pending: {pending}")
    runs = run_dirs(Path(config.state))
    if not runs:
        echo("last run: none yet")
        return 0
    last = runs[-1]
    finished = 0
    first_ts = last_ts = ""
    steps: dict[str, list[float]] = {}
    for record in read_events(last / "events.jsonl"):
        first_ts = first_ts or record["ts"]
        last_ts = record["ts"]
        if record["event"] in ("END", "FAIL"):
            finished += 1
            for name, seconds in (record.get("steps") or {}).items():
                steps.setdefault(name, []).append(seconds)
    elapsed = _seconds_between(first_ts, last_ts)
    rate = finished / elapsed if elapsed > 0 else 0.0
    running = is_held(lock_path(config))
    echo(
        f"last run: {last.name} ({'running' if running else 'ended'}), "
        f"{finished} units finished in {duration(elapsed)} ({rate:.1f} units/s)"
    )
    summary = _summary_lines(last)
    if summary:
        for line in summary:
            echo(f"  {line}")
    elif not running:
        echo("  no summary: the run was killed before it could write one; run again to resume")
    todo = pending + failed_count
    echo("eta:     " + (duration(todo / rate) if rate > 0 and todo else "-") + " at that rate")
    if steps:
        echo("slowest steps of the last run (mean / total seconds):")
        ranked = sorted(steps.items(), key=lambda item: -sum(item[1]))
        for name, values in ranked[:5]:
            echo(f"  {name:<12} {statistics.fmean(values):10.4f} {sum(values):10.2f}")
    echo(f"log:     {last / 'run.log'}")
    return 0


def _summary_lines(run_dir: Path) -> list[str]:
    """The end-of-run summary of a run that ended (without its log line), else nothing."""
    try:
        record = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        known = {name: record[name] for name in Summary.__dataclass_fields__ if name in record}
        return Summary(**known).lines()[:-1]
    except (OSError, ValueError, TypeError, KeyError):
        return []


def _seconds_between(first: str, last: str) -> float:
    from datetime import datetime

    if not first or not last:
        return 0.0
    return (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()


def main(argv: Sequence[str] | None = None) -> int:
    # What the commands print can hold any text of a unit's failure (a file name that is not
    # UTF-8, say): escape what the terminal cannot show rather than die on it, as stderr does.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    arguments = parser().parse_args(argv)
    try:
        config = _settings(arguments)
        if arguments.command == "run":
            return _run(config, None)
        if arguments.command == "retry":
            return _retry(config)
        if arguments.command == "failed":
            return _failed(config, arguments.ids)
        return _status(config)
    except UserError as exc:
        sys.stderr.write(f"{COMMAND}: error: {exc}\n")
        return 2
    except Interrupted as exc:
        for line in exc.summary.lines() if exc.summary else []:
            echo(line)
        sys.stderr.write(f"{COMMAND}: interrupted by {exc}; run again to resume\n")
        return 128 + exc.signum
    except KeyboardInterrupt:  # Ctrl-C before a run began or outside one
        sys.stderr.write(f"{COMMAND}: interrupted by SIGINT; run again to resume\n")
        return 128 + signal.SIGINT
