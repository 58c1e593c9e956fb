"""The log: timestamps on every line, one START and one END or FAIL per unit, parseable."""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import runner
from {{ cookiecutter.package_name }}.log import Lines, RunLog, step
from {{ cookiecutter.package_name }}.units import Unit
from {{ cookiecutter.package_name }}.worker import Job, Worker

from .conftest import settings

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 ")


def events(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_unit_has_one_start_and_one_end_or_fail(workdir: Path) -> None:
    summary = runner.run(settings(workdir))
    run_dir = Path(summary.log).parent
    human = (run_dir / "run.log").read_text(encoding="utf-8").splitlines()
    assert human and all(TIMESTAMP.match(line) for line in human)
    records = events(run_dir)
    starts = Counter(r["unit"] for r in records if r["event"] == "START")
    ends = Counter(r["unit"] for r in records if r["event"] in ("END", "FAIL"))
    assert set(starts.values()) == {1} and set(ends.values()) == {1}
    assert starts.keys() == ends.keys() and len(starts) == 12
    fails = [r for r in records if r["event"] == "FAIL"]
    assert [r["unit"] for r in fails] == ["tile_007"]
    # The documented grep recipes answer "how many done, which failed".
    assert sum(" END " in line for line in human) == 11
    failed_ids = [line.split()[3] for line in human if " FAIL " in line]
    assert failed_ids == ["tile_007"]


def test_end_lines_carry_duration_output_steps_and_eta(workdir: Path) -> None:
    summary = runner.run(settings(workdir))
    for record in events(Path(summary.log).parent):
        if record["event"] == "END":
            assert isinstance(record["seconds"], float)
            output = Path(str(record["output"]))
            assert output.is_absolute() and output.is_file()
            assert output.name == f"{record['unit']}.json"
            assert set(record["steps"]) == {"read", "compute", "write"}
            assert re.fullmatch(r"\d+:\d\d:\d\d|\?", str(record["eta"]))


def chatty(unit: Unit[None]) -> None:
    with step("talk"):
        logging.getLogger("user.code").warning("working on %s", unit.id)
    unit.output.write_text(unit.id)


def test_user_logging_in_workers_reaches_the_run_log(workdir: Path) -> None:
    job = Job(chatty, lambda config: None, ".txt")
    summary = runner.run(settings(workdir), job=job)
    assert summary.done == 12
    records = events(Path(summary.log).parent)
    logged = {r["unit"]: r["message"] for r in records if r["event"] == "LOG"}
    assert logged == {f"tile_{n:03d}": f"working on tile_{n:03d}" for n in range(12)}
    assert all(r["level"] == "WARNING" for r in records if r["event"] == "LOG")


def test_a_units_end_is_stamped_after_its_own_log_lines(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker preempted between reading the wall clock and the duration clock as a unit
    began made ``started + seconds`` fall before the unit's own log lines: its END line came
    before its LOG line (a CI failure under load). The preemption, made certain here."""
    logged: list[float] = []

    def logs(unit: Unit[None]) -> None:
        logged.append(time.time())
        unit.output.write_text(unit.id)

    (workdir / "output").mkdir()
    worker = Worker(Job(logs, lambda config: None, ".txt"), settings(workdir))
    clock = time.perf_counter
    preempted: list[bool] = []

    def late_clock() -> float:
        if not preempted:  # the duration clock's first reading: after a preemption
            preempted.append(True)
            time.sleep(0.5)
        return clock()

    monkeypatch.setattr(time, "perf_counter", late_clock)
    outcome = worker.attempt("tile_000")
    monkeypatch.undo()
    assert outcome.ok and preempted
    assert outcome.started <= logged[0] <= outcome.end


@pytest.mark.parametrize(
    ("unit", "output"),
    [
        ("tile_0001", "/data/out/tile_0001.out"),
        ("a/b", "/data/out/a/b.out"),  # a hierarchical id
        ("tile_0001", "/data/my out/tile_0001.out"),  # a space: quoted in the human line
        ("tile_é", "/data/out/tile_é.out"),  # not ASCII
        ("tile_\udcff", "/data/out/tile_\udcff.out"),  # a file name that is not UTF-8
        ("tile_0001", 'C:\\out\\"q".out'),  # quotes and backslashes
    ],
)
@pytest.mark.parametrize("announced", [False, True])
def test_lines_written_in_batches_are_the_lines_write_makes(
    tmp_path: Path, unit: str, output: str, announced: bool
) -> None:
    """The runner writes most units' START and END lines a batch at a time (``committed``):
    they must be the very bytes ``write`` makes, or ``committed`` must leave them to it."""
    at, ended, seconds = 1_764_000_000.123456, 1_764_000_000.9, 0.000123456
    fast, generic = RunLog(tmp_path / "fast", "run-1"), RunLog(tmp_path / "generic", "run-1")
    lines: Lines = ([], [])
    taken = fast.committed(
        lines, unit, 0 if announced else 4321, at, ended, seconds, output, "3/10", "0:00:07"
    )
    fast.write_lines(lines)
    if not announced:
        generic.write("START", unit, at=at, worker=4321)
    generic.write(
        "END", unit, at=ended, seconds=seconds, output=output, progress="3/10", eta="0:00:07"
    )
    fast.close()
    generic.close()
    for name in ("run.log", "events.jsonl"):
        made = (tmp_path / "fast" / name).read_bytes()
        assert made == ((tmp_path / "generic" / name).read_bytes() if taken else b"")
    # What needs no escaping or quoting takes the fast path.
    assert taken == (
        unit.isascii() and output.isascii() and " " not in output and '"' not in output
    )


def test_a_batch_of_units_gets_each_its_own_timestamps(tmp_path: Path) -> None:
    """``committed`` remembers the last millisecond's text: units ending in the same
    millisecond, the next one, and the next second must each get their own, as ``write``
    gives them."""
    fast, generic = RunLog(tmp_path / "fast", "run-1"), RunLog(tmp_path / "generic", "run-1")
    lines: Lines = ([], [])
    base = 1_764_000_000.0
    ends = [base + 0.9991, base + 0.9993, base + 0.9999, base + 1.0, base + 1.0004, base + 61.5]
    for number, ended in enumerate(ends, 1):
        unit, output, started = f"u{number}", f"/out/u{number}.out", ended - 0.0002
        assert fast.committed(
            lines, unit, 77, started, ended, 0.0002, output, f"{number}/6", "0:00:01"
        )
        generic.write("START", unit, at=started, worker=77)
        generic.write(
            "END", unit, at=ended, seconds=0.0002, output=output, progress=f"{number}/6",
            eta="0:00:01",
        )
    fast.write_lines(lines)
    fast.close()
    generic.close()
    for name in ("run.log", "events.jsonl"):
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "generic" / name).read_bytes()
    stamps = (tmp_path / "fast" / "run.log").read_text(encoding="utf-8").split("\n")
    millis = {int(at * 1000) for ended in ends for at in (ended - 0.0002, ended)}
    assert len({line.split()[0] for line in stamps if line}) == len(millis) > 4
