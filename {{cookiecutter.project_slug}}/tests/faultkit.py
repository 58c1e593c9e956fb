"""Helpers of the fault tests: run the real command line in subprocesses, read what it left."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest

from .conftest import cli_environment

PACKAGE = "{{ cookiecutter.package_name }}"
COMMAND = "{{ cookiecutter.project_slug }}"


def environment(**extra: str) -> dict[str, str]:
    """The environment of a command-line subprocess: ``tests.fault_jobs`` is importable."""
    return {**cli_environment(), **extra}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", PACKAGE, *args]


def job_args(job: str, *extra: str) -> list[str]:
    """Options of a run of ``tests.fault_jobs:<job>`` over ``units.txt`` in the cwd."""
    return [
        "--job",
        f"tests.fault_jobs:{job}",
        "--units-file",
        "units.txt",
        "--input",
        "inputs",
        "--output",
        "out",
        "--state",
        "runs",
        "--no-progress",
        *extra,
    ]


def cli(
    *args: str, cwd: Path, timeout: float = 90, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command line to the end (killed and failed after ``timeout`` seconds)."""
    return subprocess.run(
        command(*args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or environment(),
        check=False,
    )


def start(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start the command line in the background, its output captured as text."""
    return subprocess.Popen(
        command(*args),
        cwd=cwd,
        env=env or environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def write_units(root: Path, ids: Iterable[str]) -> list[str]:
    """``units.txt`` and an empty ``inputs`` folder in ``root``; returns the ids."""
    ids = list(ids)
    (root / "units.txt").write_text("".join(f"{unit_id}\n" for unit_id in ids))
    (root / "inputs").mkdir(exist_ok=True)
    return ids


def run_dirs(state: Path) -> list[Path]:
    return sorted(path for path in state.iterdir() if path.is_dir()) if state.is_dir() else []


def run_dir_of(root: Path, stdout: str) -> Path:
    """The folder of the run whose summary is ``stdout``, from its ``log:`` line: run names
    sort by wall-clock time, which a clock step can reorder, so tests never take the last."""
    [log] = [line[len("log: ") :] for line in stdout.splitlines() if line.startswith("log: ")]
    return (root / log).parent


def events(run_dir: Path) -> list[dict[str, Any]]:
    """Every record of a machine log; a line that does not parse fails the test."""
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def files(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (hidden ones included) and its bytes."""
    if not folder.is_dir():
        return {}
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def visible(folder: Path) -> dict[str, bytes]:
    """The files that count as outputs (the hidden, staged ones never do) and their bytes.
    Safe while a run goes on: staged files come and go, committed ones stay."""
    if not folder.is_dir():
        return {}
    names = [path for path in folder.iterdir() if not path.name.startswith(".")]
    return {path.name: path.read_bytes() for path in names}


def alive(pids: Iterable[int]) -> list[int]:
    """The processes among ``pids`` that still run (a zombie has ended)."""
    running = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                running.append(pid)
        except psutil.NoSuchProcess:
            continue
    return running


def children(pid: int) -> list[int]:
    """The pids of the worker processes (every descendant) of ``pid``."""
    try:
        return [int(child.pid) for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def assert_each_worker_in_time_order(records: list[dict[str, Any]]) -> None:
    """Read per worker (a unit's lines belong to the worker its START names), the log is in
    time order: one unit at a time - its START, its LOG lines, its END or FAIL - and the
    timestamps never go back."""
    worker_of = {r["unit"]: r["worker"] for r in records if r["event"] == "START"}
    per_worker: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        if record["unit"] in worker_of:
            per_worker.setdefault(worker_of[record["unit"]], []).append(record)
    for worker, lines in per_worker.items():
        stamps = [r["ts"] for r in lines]
        assert stamps == sorted(stamps), worker
        running = None
        for record in lines:
            if record["event"] == "START":
                assert running is None, (worker, running, record)
                running = record["unit"]
            else:
                assert record["unit"] == running, (worker, running, record)
                if record["event"] in ("END", "FAIL"):
                    running = None
