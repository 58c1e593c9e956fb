"""The command line: ``run``, ``status``, ``failed``, ``retry`` and ``report``.

Exit status: 0 every unit done, 1 some units failed or the run stopped early, 2 bad input or
configuration (one ``error:`` line, no traceback), 128 + signal number when interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from . import __version__, checkpoint, lastrun, params, retrying, settings
from . import gather as harvest
from . import status as status_view
from .errors import UserError
from .failures import RETRY_LIST, retry_list, write_ids
from .runner import COMMAND, Interrupted, retry_command, run, where_options
from .settings import Settings, Shard
from .storage import open_store
from .worker import load_job


def echo(line: str = "") -> None:
    """Write a line of the command's own output to stdout."""
    sys.stdout.write(line + "\n")


def _common(parser: argparse.ArgumentParser, *, several_states: bool = False) -> None:
    """Options that say where things are; every command takes them."""
    where = parser.add_argument_group("where things are (default: [tool] table of pyproject.toml)")
    where.add_argument("--config", type=Path, help="read settings from this TOML file")
    where.add_argument("--input", help="input folder{% if cookiecutter.storage == 's3' %} or URL (s3://bucket/prefix){% endif %}")
    where.add_argument("--output", help="output folder{% if cookiecutter.storage == 's3' %} or URL{% endif %}: one file per unit")
    if several_states:
        where.add_argument(
            "--state",
            action="append",
            help="local folder for logs, failure records and the lock (repeat: shards' folders)",
        )
    else:
        where.add_argument("--state", help="local folder for logs, failure records and the lock")
    source = where.add_mutually_exclusive_group()
    source.add_argument("--units-file", help="file with one unit id per line")
    source.add_argument("--units-glob", help="units are the input files matching this pattern")
    source.add_argument("--units-function", help="module:function returning the unit ids")
    where.add_argument("--shard", type=Shard.parse, help="only shard I of N (0-based), e.g. 0/4")
    where.add_argument(
        "--job", help="the code to run: module (with process/setup) or module:Job attribute"
    )
    parser.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="set a field of process.py's Params (repeatable; wins over [tool...params])",
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
{%- if cookiecutter.storage == "s3" %}
    how.add_argument(
        "--storage-timeout",
        type=float,
        help="seconds a storage request may wait to connect or for an answer (default: 30)",
    )
{%- endif %}
    how.add_argument(
        "--max-consecutive-failures",
        type=int,
        help="stop after N units in a row fail with the same cause (0: never)",
    )
    how.add_argument(
        "--retries",
        type=int,
        help="try a unit again up to N times when its failure is transient (default: 2)",
    )
    how.add_argument(
        "--retry-backoff",
        type=float,
        metavar="SECONDS",
        help="wait before the first retry, doubled for each next one (default: 1)",
    )
    how.add_argument("--limit", type=int, help="do at most N pending units (a trial run)")
    how.add_argument("--overwrite", action="store_true", default=None, help="redo done units")
    how.add_argument(
        "--rerun-stale",
        action="store_true",
        default=None,
        help="redo the done units made with other parameters or code (see status)",
    )
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


class _Parser(argparse.ArgumentParser):
    """Reads the project's summary from its installed metadata only to print the help:
    ``importlib.metadata`` costs every command ~0.1 s of start-up."""

    def format_help(self) -> str:
        if self.description is None:
            from importlib import metadata

            try:
                self.description = metadata.metadata(COMMAND)["Summary"]
            except metadata.PackageNotFoundError:
                self.description = ""
        return super().format_help()


def parser() -> argparse.ArgumentParser:
    main_parser = _Parser(prog=COMMAND)
    main_parser.add_argument("--version", action="version", version=__version__)
    commands = main_parser.add_subparsers(dest="command", required=True)
    for name, summary in [
        ("run", "process every pending unit"),
        ("retry", "process only the units that failed and have no output"),
    ]:
        command = commands.add_parser(name, help=summary, description=summary)
        _common(command, several_states=name == "retry")
        _execution(command)
    status = commands.add_parser("status", help="done, failed and pending counts, ETA, steps")
    _common(status, several_states=True)
    status.add_argument(
        "--watch",
        nargs="?",
        type=float,
        const=5.0,
        metavar="SECONDS",
        help="refresh every SECONDS (default 5) until the job is finished or Ctrl-C",
    )
    status.add_argument("--json", action="store_true", help="print the view as JSON")
    status.add_argument(
        "--silent-after",
        type=float,
        default=status_view.SILENT_AFTER,
        metavar="SECONDS",
        help="a running shard with no log line for this long is reported (default: %(default)s)",
    )
    gather = commands.add_parser(
        "gather", help="combine every done unit's output into one dataset"
    )
    _common(gather)
    gather.add_argument("--to", help="the combined file (default: <output>-gathered<suffix>)")
    gather.add_argument(
        "--allow-partial",
        action="store_true",
        help="gather even while units are pending or failed",
    )
    gather.add_argument(
        "--no-progress", dest="progress", action="store_false", default=None, help="no bar"
    )
    failed = commands.add_parser("failed", help="the retry list with an error per unit")
    _common(failed, several_states=True)
    failed.add_argument("--ids", action="store_true", help="print only the ids")
    report = commands.add_parser(
        "report", help="an HTML page and PNG figures of every run: timeline, ETA, failures"
    )
    _common(report)
    report.add_argument(
        "--out", type=Path, help="folder for report.html and the PNGs (default: <state>/report)"
    )
    return main_parser


def _settings(arguments: argparse.Namespace) -> Settings:
    overrides = {
        name: value
        for name, value in vars(arguments).items()
        if name in settings.FIELDS and value is not None
    }
    if isinstance(overrides.get("state"), list):  # status and failed take several
        overrides["state"] = overrides["state"][0]
    if arguments.param:
        overrides["param_values"] = params.parse_assignments(arguments.param)
    config = settings.load(arguments.config, overrides)
    if arguments.command == "run":
        settings.check_located(arguments.config, config)
        return config
    # status, failed and retry answer for the last run, not for the defaults.
    config, said = lastrun.for_last_run(config, overrides, _states(arguments, config))
    if arguments.command in ("retry", "status", "failed"):  # they read the units or outputs
        settings.check_located(arguments.config, config)
    if said:
        sys.stderr.write(f"{COMMAND}: {said}\n")
    return config


def _states(arguments: argparse.Namespace, config: Settings) -> list[Path]:
    """The state folders a command reads: every ``--state`` given, else the setting."""
    given = arguments.state if isinstance(arguments.state, list) else None
    return [Path(state) for state in given or [config.state]]


def _ran(states: list[Path]) -> list[Path]:
    """``states``, each the folder of a shard that ran: a typo among several would silently
    leave its shard's failures out of ``failed`` and ``retry``. (``status`` shows such a shard
    as not started.)"""
    missing = [folder for folder in states if len(states) > 1 and not folder.is_dir()]
    if missing:
        raise UserError(f"--state {missing[0]}: no such state folder (give each shard's once)")
    return states


def _run(config: Settings, unit_ids: list[str] | None, config_file: Path | None) -> int:
    summary = run(config, unit_ids=unit_ids, config_file=config_file)
    for line in summary.lines():
        echo(line)
    return 1 if summary.failed or summary.stopped else 0


def _retry(
    config: Settings, states: list[Path], shard_given: bool, config_file: Path | None
) -> int:
    """Retry the failed units; without ``--shard`` after a sharded job, every shard's. Shards
    with state folders of their own (``--state`` repeated): each folder's, in that folder."""
    several = len(states) > 1
    planned: list[tuple[Settings, list[tuple[Shard | None, list[str]]]]] = []
    for folder in states:
        here = config.replace(state=str(folder)) if several else config
        count = None if shard_given else retrying.shard_count([folder])
        if shards := retrying.plan(here, count):
            retrying.check_not_running(here, shards)
            planned.append((here, shards))
    if not planned:
        echo("nothing to retry: no unit failed without having an output since")
        return 0
    code = 0
    for here, shards in planned:
        for shard, todo in shards:
            where = (f" of shard {shard}" if shard is not None else "") + (f" in {here.state}" if several else "")
            echo(f"retrying {len(todo)} failed units{where}")
            code = max(code, _run(here.replace(shard=shard), todo, config_file))
    return code


def _failed(
    config: Settings, states: list[Path], ids_only: bool, config_file: Path | None
) -> int:
    state = Path(config.state)
    job = load_job(config.job)
    done = checkpoint.done_ids(open_store(config.output), job.suffix, job.shape)
    failed: dict[str, dict[str, object]] = {}
    owner: dict[str, Path] = {}
    for folder in states:  # the latest record of a unit wins, whichever shard's folder
        for unit_id, record in retry_list(folder, done).items():
            if str(record.get("ts")) >= str(failed.get(unit_id, {}).get("ts", "")):
                failed[unit_id], owner[unit_id] = record, folder
    for folder in states:  # each folder's own list; a look where nothing ran creates nothing
        if folder.is_dir():
            write_ids(folder / RETRY_LIST, [u for u in failed if owner[u] == folder])
    for unit_id, record in failed.items():
        if ids_only:
            echo(unit_id)
        else:
            message = str(record.get("message", "")).splitlines()[0:1] or [""]
            echo(f"{unit_id}\t{record.get('error')}: {message[0]}\t(run {record.get('run')})")
    if not ids_only:
        lists = ", ".join(str(folder / RETRY_LIST) for folder in states)
        echo(f"{len(failed)} failed units; retry list{'s' if len(states) > 1 else ''}: {lists}")
        causes = Counter(str(record.get("error")) for record in failed.values())
        if len(causes) > 1:
            echo("by cause: " + ", ".join(f"{n} {cause}" for cause, n in causes.most_common()))
        if failed:
            folders = [str(folder) for folder in states]
            again = retry_command(config.replace(shard=None), folders, config_file)
            where = state if len(states) == 1 else "<state>"
            echo(f"details: {where}/<run>/failures.jsonl; retry with: {again}")
    return 0


#: Whether ``program`` exits without the interpreter's teardown (see there).
_EXIT_AT_ONCE: set[str] = set()


def _gather(config: Settings, arguments: argparse.Namespace) -> int:
    job = load_job(config.job)
    try:
        harvest.gather(
            params.bind(config, job.params),
            job,
            target=arguments.to,
            allow_partial=arguments.allow_partial,
            echo=_echo_stderr,
        )
    finally:
        if "pyarrow" in sys.modules:
            _EXIT_AT_ONCE.add("pyarrow")
    return 0


def _echo_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")


def _status(config: Settings, arguments: argparse.Namespace) -> int:
    states = _states(arguments, config)
    survey = status_view.Survey(config, states, shard=config.shard, silent_after=arguments.silent_after)
    where = where_options((str(folder) for folder in states), arguments.config)
    if arguments.watch is None:
        view = survey.look()
        echo(view.as_json() if arguments.json else "\n".join(status_view.render(view, COMMAND, where)))
        return 0
    in_place = sys.stdout.isatty() and not arguments.json
    try:
        while True:
            view = survey.look()
            text = view.as_json() if arguments.json else "\n".join(status_view.render(view, COMMAND, where))
            sys.stdout.write(("\x1b[H\x1b[J" if in_place else "") + text + "\n")
            sys.stdout.flush()
            if not view.running and not view.pending:
                return 0  # the job is finished: every unit done or failed, no shard running
            time.sleep(arguments.watch)
    except KeyboardInterrupt:
        return 0


def _report(config: Settings, out: Path | None) -> int:
    from .report import write

    local = "://" not in config.state or config.state.startswith("file://")
    folder = out or (Path(config.state.removeprefix("file://")) if local else Path()) / "report"
    written = write(config.state, folder, f"{COMMAND} report", "pip install -e '.[report]'")
    echo(f"report: {written.html} ({len(written.pngs)} figures beside it)")
    return 0


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
            return _run(config, None, arguments.config)
        if arguments.command == "retry":
            states = _ran(_states(arguments, config))
            return _retry(config, states, arguments.shard is not None, arguments.config)
        if arguments.command == "failed":
            return _failed(config, _ran(_states(arguments, config)), arguments.ids, arguments.config)
        if arguments.command == "report":
            return _report(config, arguments.out)
        if arguments.command == "gather":
            return _gather(config, arguments)
        return _status(config, arguments)
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


def program() -> None:
    """The command line as a program (``python -m`` and the console script): ``main``, then
    exit with its status. After a gather that loaded pyarrow (Parquet) it exits at once,
    without the interpreter's teardown, where pyarrow's threads can abort the process
    ("terminate called without an active exception", status 134) after the work is done and
    committed: 1 exit in 60 on a busy machine (apache/arrow#34314)."""
    code = main()
    if _EXIT_AT_ONCE:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
