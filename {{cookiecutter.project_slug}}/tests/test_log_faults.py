"""The logs and the unit list through the real command line: whatever a unit's messages,
paths or step names hold, every line of ``run.log``, ``events.jsonl`` and ``failures.jsonl`` is
one line of UTF-8 that parses; lines are on disk while units run, each worker's in time order;
a unit list is split at newlines only."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from .fault_jobs import SEPARATORS, UNDECODABLE
from .faultkit import (
    COMMAND,
    assert_each_worker_in_time_order,
    children,
    cli,
    command,
    environment,
    events,
    job_args,
    run_dir_of,
    run_dirs,
    visible,
    wait_for,
    write_units,
)


def lines_of(path: Path) -> list[str]:
    """The lines of a log, which must be UTF-8 and break at ``\\n`` only (``splitlines``,
    which Python users reach for, must see the same lines)."""
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\n"), path
    lines = text[:-1].split("\n")
    assert text.splitlines() == lines, path
    return lines


def test_text_that_is_not_utf8_or_breaks_lines_is_logged_escaped(tmp_path: Path) -> None:
    write_units(tmp_path, ["ok-1", "raise-1", "log-1", "step-1", "ok-2"])
    output = f"out_{UNDECODABLE}"  # a folder whose name is not UTF-8: in every END line
    where = job_args("UNDECODABLE_TEXT", "--output", output)
    result = cli("run", *where, "--workers", "2", cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "4 done, 0 skipped (already done), 1 failed, 0 pending" in result.stdout
    run_dir = run_dir_of(tmp_path, result.stdout)
    human = lines_of(run_dir / "run.log")
    records = [json.loads(line) for line in lines_of(run_dir / "events.jsonl")]
    assert len(human) == len(records)
    assert [line.split()[3] for line in human if " FAIL " in line] == ["raise-1"]
    message = f"cannot decode {UNDECODABLE}{SEPARATORS}"
    [fail] = [r for r in records if r["event"] == "FAIL"]
    assert fail["error"] == f"ValueError: {message}"  # escaped on disk, the same text back
    logged = [r for r in records if r["event"] == "LOG" and r["unit"] == "log-1"]
    assert [r["message"] for r in logged] == [
        f"skipping {UNDECODABLE}{SEPARATORS}",
        "a level name with a space and a newline",
    ]
    assert logged[1]["level"] == "MY_LEVEL_"
    ends = {r["unit"]: r for r in records if r["event"] == "END"}
    assert ends["ok-1"]["output"] == str(tmp_path / output / "ok-1.out")
    assert list(ends["step-1"]["steps"]) == [f"read {UNDECODABLE}\n"]
    [failure] = [json.loads(line) for line in lines_of(run_dir / "failures.jsonl")]
    assert (failure["unit"], failure["message"]) == ("raise-1", message)
    assert message in failure["traceback"]
    assert set(visible(tmp_path / output)) == {f"{u}.out" for u in ("ok-1", "log-1", "step-1", "ok-2")}

    where.remove("--no-progress")  # an option of run only
    listed = cli("failed", *where, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    # The first line of the message (up to the first line break), the surrogate escaped.
    assert "raise-1\tValueError: cannot decode tile_\\udcff.csv\t(run " in listed.stdout
    status = cli("status", *where, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "failed:  1" in status.stdout and "1 failed with ValueError" in status.stdout


def test_an_input_file_name_that_is_not_utf8_is_a_one_line_error(tmp_path: Path) -> None:
    write_units(tmp_path, [])
    (tmp_path / "inputs" / "tile_1.csv").write_text("1\n")
    (tmp_path / "inputs" / UNDECODABLE).write_text("1\n")
    args = [a for a in job_args("UNDECODABLE_TEXT") if a not in ("--units-file", "units.txt")]
    result = cli("run", *args, "--units-glob", "*.csv", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"{COMMAND}: error: ") and result.stderr.count("\n") == 1
    assert "unit id 'tile_\\udcff' is not valid UTF-8" in result.stderr
    assert str(tmp_path / "inputs" / "tile_\\udcff.csv") in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("a\fb\n", 1, "contains '\\x0c'"),
        ("a\n\x0bb\n", 2, "contains '\\x0b'"),
        ("a\x1cb\n", 1, "contains '\\x1c'"),
        ("a\x85b\n", 1, "contains '\\x85'"),
        ("a\x9bb\n", 1, "contains '\\x9b'"),
        ("a\rb\n", 1, "contains '\\r'"),
        # Split at U+2028 too, the comment would be two lines and every later number wrong.
        ("# caf\u2028e\na\nb c\n", 3, "contains ' '"),
        ("a\nb\u2029c\n", 2, "contains '\\u2029'"),
    ],
)
def test_unit_lists_split_at_newlines_only(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    (tmp_path / "inputs").mkdir()
    (tmp_path / "units.txt").write_text(text, encoding="utf-8", newline="")
    result = cli("run", *job_args("FAULTY"), cwd=tmp_path)
    assert result.returncode == 2, (text, result.stderr)
    assert result.stderr.startswith(f"{COMMAND}: error: units.txt:{line}: unit id "), text
    assert reason in result.stderr and result.stderr.count("\n") == 1, (text, result.stderr)
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists(), text


def test_a_units_file_from_windows_is_read_as_written(tmp_path: Path) -> None:
    """CRLF line ends and a byte-order mark are not part of any id."""
    (tmp_path / "inputs").mkdir()
    (tmp_path / "units.txt").write_text("\ufeffa\r\n# b\r\nc\r\n", encoding="utf-8", newline="")
    result = cli("run", *job_args("FAULTY"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(visible(tmp_path / "out")) == {"a.out", "c.out"}
    assert {r["unit"] for r in events(run_dir_of(tmp_path, result.stdout))} >= {"a", "c"}


def test_lines_reach_the_disk_while_a_unit_hangs_and_in_order(tmp_path: Path) -> None:
    """A hung unit right after quick ones, all in one chunk of one worker: while it hangs,
    the quick units' END lines and then its START line (naming the worker, for py-spy) are
    on disk, in both logs, without waiting for the run to end."""
    quick = [f"ok-{n}" for n in range(40)]
    write_units(tmp_path, [*quick, "hang-1"])
    args = job_args("FAULTY", "--workers", "1", "--chunksize", str(len(quick) + 1))
    run = subprocess.Popen(
        command("run", *args),
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def hang_started() -> bool:
            logs = list((tmp_path / "runs").glob("*/run.log"))
            return bool(logs) and " START hang-1 " in logs[0].read_text(encoding="utf-8")

        wait_for(hang_started, 60, "the hung unit's START line on disk")
        [run_dir] = run_dirs(tmp_path / "runs")
        human = lines_of(run_dir / "run.log")
        records = events(run_dir)  # the machine log is on disk too, as far
        assert [line.split()[2:4] for line in human] == [[r["event"], r["unit"] or "-"] for r in records]
        assert [(r["event"], r["unit"]) for r in records[1:]] == [
            *((event, unit) for unit in quick for event in ("START", "END")),
            ("START", "hang-1"),
        ]
        assert_each_worker_in_time_order(records)
        assert records[-1]["worker"] in children(run.pid)  # the worker, alive, to inspect
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=30)
    assert run.returncode == 128 + signal.SIGTERM
