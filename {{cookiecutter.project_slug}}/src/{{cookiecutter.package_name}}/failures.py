"""Failure records and the retry list.

Each run appends one JSON record per failed unit to ``<state>/<run>/failures.jsonl`` (unit,
error type, message, traceback) as it happens. The retry list is derived, not kept: the units
whose latest failure is not followed by an output. It is written to ``<state>/failed.txt``,
one id per line, at the end of every run (and by the ``failed`` command).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

from .events import Outcome
from .log import read_events, safe_line, timestamp

FAILURES_FILE = "failures.jsonl"
RETRY_LIST = "failed.txt"


class FailureLog:
    """Appends the failure records of one run, flushed one by one so none is lost."""

    def __init__(self, run_dir: Path, run_id: str) -> None:
        self.run_id = run_id
        self.path = run_dir / FAILURES_FILE
        self._handle: TextIO | None = None

    def add(self, outcome: Outcome, attempts: int = 1) -> None:
        if self._handle is None:
            self._handle = self.path.open("a", encoding="utf-8")
        record = {
            "ts": timestamp(),
            "run": self.run_id,
            "unit": outcome.unit,
            "error": outcome.error,
            "message": outcome.message,
            "traceback": outcome.traceback,
            "attempts": attempts,
        }
        self._handle.write(safe_line(json.dumps(record, ensure_ascii=False)) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def run_dirs(state: Path) -> list[Path]:
    """The run folders of ``state``, oldest first (their names start with a UTC timestamp)."""
    if not state.is_dir():
        return []
    return sorted(path for path in state.iterdir() if path.is_dir() and path.name[:1].isdigit())


def latest_failures(state: Path) -> dict[str, dict[str, Any]]:
    """The latest failure record of every unit that ever failed."""
    latest: dict[str, dict[str, Any]] = {}
    for run_dir in run_dirs(state):
        for record in read_events(run_dir / FAILURES_FILE):
            latest[record["unit"]] = record
    return latest


def retry_list(state: Path, done: set[str]) -> dict[str, dict[str, Any]]:
    """The failed units that have no output yet, with their latest failure record."""
    return {unit: record for unit, record in latest_failures(state).items() if unit not in done}


def write_ids(path: Path, ids: list[str]) -> None:
    """Write one id per line, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.part-{os.getpid()}")
    staged.write_text("".join(f"{unit_id}\n" for unit_id in ids), encoding="utf-8")
    os.replace(staged, path)
