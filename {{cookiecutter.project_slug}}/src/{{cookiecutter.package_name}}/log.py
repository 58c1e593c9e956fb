"""The run's log: a human log (``run.log``) and a machine log (``events.jsonl``).

Only the main process writes them, so lines never interleave: workers send their events
through a pipe. Every line starts with an ISO-8601 UTC timestamp. Each unit gets exactly one
START line and then exactly one END or FAIL line per attempt, so that::

    grep -c ' END ' run.log            # units done in this run
    grep ' FAIL ' run.log | awk '{print $4}'   # the ids that failed

The human line format (documented in README.md) is::

    <timestamp> <LEVEL> <EVENT> <unit or -> key=value ...
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any, TextIO

#: The step timings of the unit running in this process (set by the worker around a unit).
STEPS: ContextVar[dict[str, float] | None] = ContextVar("STEPS", default=None)
#: How long a line may wait in the buffer while lines keep coming, in seconds. When they stop,
#: the backend says so (a ``Waiting`` event) and the runner flushes at once.
FLUSH_SECONDS = 0.5
#: How often the ETA is recomputed, in seconds (it changes slowly; lines come by thousands).
ETA_SECONDS = 0.1
#: A value of a human line is quoted when it holds one of these.
_NEEDS_QUOTES = re.compile(r"[\s\"'=]")
_needs_quotes = _NEEDS_QUOTES.search
#: Field names as JSON strings (a handful of names, written on every line).
_KEYS: dict[str, str] = {}
#: JSON without escaping non-ASCII, built once (``json.dumps`` with options builds one a call).
_JSON = json.JSONEncoder(ensure_ascii=False)
#: A string as a JSON string, non-ASCII kept (the C helper behind ``_JSON``).
_quoted: Callable[[str], str] = json.encoder.encode_basestring
#: Human and JSON lines to be written together (see ``RunLog.committed``).
Lines = tuple[list[str], list[str]]
#: A JSON line's first and last characters.
_OPEN, _CLOSE = "{", "}\n"
#: What a line may not hold as it is: lone surrogates (Python's stand-ins for bytes that are
#: not UTF-8, as in file names), which cannot be written as UTF-8, and the line separators
#: that ``str.splitlines`` splits on (the JSON encoder escapes the other control characters).
_UNWRITABLE = re.compile("[\x85\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def safe_line(line: str) -> str:
    """``line`` with what cannot be written as one line of UTF-8 escaped JSON-style
    (``\\udcff``): valid inside a JSON string, readable in the human log. ASCII lines,
    nearly all of them, are returned at once (``isascii`` is a flag check)."""
    return line if line.isascii() else _UNWRITABLE.sub(_escape, line)


@contextmanager
def step(name: str) -> Iterator[None]:
    """Time a step of a unit: ``with step("load"): ...``.

    The timings appear on the unit's END line and ``status`` lists the slowest steps, so a
    user sees where a unit's time goes. Repeated steps add up.
    """
    started = time.perf_counter()
    try:
        yield
    finally:
        steps = STEPS.get()
        if steps is not None:
            steps[name] = steps.get(name, 0.0) + time.perf_counter() - started


@functools.lru_cache(maxsize=4)
def _utc_second(whole: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


#: The end of a timestamp for each millisecond: ``.123+00:00``.
_MILLIS = tuple(f".{millis:03d}+00:00" for millis in range(1000))


def timestamp(seconds: float | None = None) -> str:
    """ISO-8601 in UTC with milliseconds, e.g. ``2026-11-24T19:40:00.123+00:00``.

    Two lines are written per unit and thousands share a second, so the second's text is
    cached and the milliseconds are looked up.
    """
    whole, millis = divmod(int((time.time() if seconds is None else seconds) * 1000), 1000)
    return _utc_second(whole) + _MILLIS[millis]


def duration(seconds: float) -> str:
    """``H:MM:SS`` for an ETA or an elapsed time."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _value(value: object) -> str:
    """A value of a human line: quoted JSON-style when it has spaces, quotes or newlines."""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, dict):  # step timings; the step names are the user's, any text
        text = ",".join(f"{key}:{seconds:.4f}" for key, seconds in value.items()) or "-"
    else:
        text = value if isinstance(value, str) else str(value)
    if not text or _NEEDS_QUOTES.search(text):
        return _quoted(text)
    return text


def _json_value(value: object) -> str:
    """``value`` as ``json.dumps(value, ensure_ascii=False)`` writes it. Strings and numbers,
    nearly every value, skip the encoder: its set-up costs more than a whole log line."""
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)
    if isinstance(value, float) and math.isfinite(value):
        return float.__repr__(value)
    return _JSON.encode(value)


class RunLog:
    """Writes both logs of one run; the only writer, in the main process."""

    def __init__(self, folder: Path, run_id: str, echo: Callable[[str], None] | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.run_id = run_id
        self.human_path = folder / "run.log"
        self.machine_path = folder / "events.jsonl"
        self._human: TextIO = self.human_path.open("a", encoding="utf-8")
        self._machine: TextIO = self.machine_path.open("a", encoding="utf-8")
        self._run_json = _quoted(run_id)
        self.echo = echo
        self._flushed = time.monotonic()
        self._followers: list[IO[str]] = []
        self._stamped = (-1, "")

    def write(
        self,
        event: str,
        unit: str | None = None,
        *,
        level: str = "INFO",
        at: float | None = None,
        echo: bool = False,
        **fields: Any,
    ) -> None:
        """One event: one human line and one JSON line."""
        when = timestamp(at)
        line = f"{when} {level:<5} {event:<5} {unit or '-'}"
        # The JSON line is assembled here rather than by json.dumps (same output, a third of
        # the cost): the main process writes two lines per unit and can be the bottleneck.
        record = "{" + (
            f'"ts": "{when}", "level": {_quoted(level)}, "event": {_quoted(event)}, '
            f'"unit": {"null" if unit is None else _quoted(unit)}, "run": {self._run_json}'
        )
        for key, value in fields.items():
            if value is None:
                continue
            # Plain strings and ints, most values, are written here without the helpers'
            # type tests (the same text): two lines per unit, ~30% of their cost.
            kind = type(value)
            if kind is str:
                human = value if value and not _needs_quotes(value) else _quoted(value)
                machine = _quoted(value)
            elif kind is int:
                human = machine = int.__repr__(value)
            else:
                human, machine = _value(value), _json_value(value)
            key_json = _KEYS.get(key) or _KEYS.setdefault(key, _quoted(key))
            line += f" {key}={human}"
            record += f", {key_json}: {machine}"
        line = safe_line(line)
        self._human.write(line + "\n")
        self._machine.write(safe_line(record) + "}\n")
        if echo and self.echo is not None:
            self.echo(line)
        if level != "INFO":
            self.flush()
        else:
            self.maybe_flush()

    def committed(
        self,
        lines: Lines,
        unit: str,
        worker: int,
        started: float,
        ended: float,
        seconds: float,
        output: str,
        progress: str,
        eta: str,
    ) -> bool:
        """Add to ``lines`` the START (unless ``worker`` is 0: logged already) and END lines
        of a unit that committed ``output``, byte for byte as ``write`` writes them, in a
        fraction of the time: the main process writes them for every unit, a batch at a time
        (``write_lines``). False, adding nothing, for what needs quoting or escaping: ``write``
        does that."""
        if not (unit.isascii() and output.isascii()) or not output or _needs_quotes(output):
            return False
        ts = self._stamp(ended)
        unit_json, run = _quoted(unit), self._run_json
        human, machine = lines
        # One f-string a line: concatenation would copy each line's text once per piece.
        # (JSON's braces come from _OPEN and _CLOSE: doubled, they would be template syntax.)
        if worker:
            start = self._stamp(started)
            human.append(f"{start} INFO  START {unit} worker={worker}\n")
            machine.append(
                f'{_OPEN}"ts": "{start}", "level": "INFO", "event": "START", "unit": {unit_json}, '
                f'"run": {run}, "worker": {worker}{_CLOSE}'
            )
        human.append(
            f"{ts} INFO  END   {unit} seconds={seconds:.4f} output={output} "
            f"progress={progress} eta={eta}\n"
        )
        machine.append(
            f'{_OPEN}"ts": "{ts}", "level": "INFO", "event": "END", "unit": {unit_json}, '
            f'"run": {run}, "seconds": {seconds!r}, "output": {_quoted(output)}, '
            f'"progress": "{progress}", "eta": "{eta}"{_CLOSE}'
        )
        return True

    def _stamp(self, seconds: float) -> str:
        """``timestamp(seconds)``, remembering the last: a trivial unit's START and END, and
        the next units', share their millisecond."""
        millis = int(seconds * 1000)
        if millis != self._stamped[0]:
            self._stamped = (millis, timestamp(seconds))
        return self._stamped[1]

    def write_lines(self, lines: Lines) -> None:
        """Write (and empty) what ``committed`` added to ``lines``."""
        human, machine = lines
        if human:
            self._human.write("".join(human))
            self._machine.write("".join(machine))
            human.clear()
            machine.clear()

    def follow(self, handle: IO[str]) -> None:
        """Flush ``handle`` whenever the log is flushed (a file that must be as current)."""
        self._followers.append(handle)

    def flush(self) -> None:
        self._human.flush()
        self._machine.flush()
        for handle in self._followers:
            handle.flush()
        self._flushed = time.monotonic()

    def maybe_flush(self) -> None:
        """Flush if the oldest unflushed line may have waited FLUSH_SECONDS."""
        if time.monotonic() - self._flushed > FLUSH_SECONDS:
            self.flush()

    def close(self) -> None:
        self._human.close()
        self._machine.close()


class Progress:
    """Counts of this run and an ETA from the units finished so far."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self._eta = ("?", self.started - ETA_SECONDS)

    @property
    def finished(self) -> int:
        return self.done + self.failed

    def rate(self) -> float:
        """Units finished per second in this run."""
        elapsed = time.monotonic() - self.started
        return self.finished / elapsed if elapsed > 0 else 0.0

    def eta(self) -> str:
        """``H:MM:SS`` left at the rate so far (recomputed at most every ETA_SECONDS)."""
        text, when = self._eta
        now = time.monotonic()
        if now - when >= ETA_SECONDS:
            rate = self.rate()
            text = duration((self.total - self.finished) / rate) if rate > 0 else "?"
            self._eta = (text, now)
        return text


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a machine log; a line cut short by a crash is skipped."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


class ForwardingHandler(logging.Handler):
    """Sends the user's own ``logging`` records of a unit to the run log's writer."""

    def __init__(self, send: Callable[[tuple[str, str, str, float]], None]) -> None:
        super().__init__()
        self._send = send
        self.unit = "-"

    def emit(self, record: logging.LogRecord) -> None:
        level = record.levelname  # a custom level name could hold spaces: one word, always
        if not level.isalnum():
            level = re.sub(r"\W", "_", level) or "_"
        try:
            self._send((level, self.unit, self.format(record), record.created))
        except Exception:  # noqa: UW302 - logging must never kill a unit
            self.handleError(record)
