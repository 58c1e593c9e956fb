"""What a unit starts ends with the unit: when it returns or raises, when it times out, and
when the run is interrupted; the log names what was ended."""

from __future__ import annotations

import signal
from pathlib import Path

from .faultkit import alive, cli, events, job_args, run_dir_of, start, wait_for, write_units


def started_by(root: Path, unit: str) -> list[int]:
    return [int(pid) for pid in (root / "inputs" / f"{unit}.pids").read_text().split()]


def test_processes_a_unit_leaves_behind_end_with_it(tmp_path: Path) -> None:
    write_units(tmp_path, ["child-1", "childhang-2", "ok-3", "ok-4"])
    args = job_args("FAULTY", "--workers", "2", "--timeout", "3")
    result = cli("run", *args, cwd=tmp_path)
    assert "2 done, 0 skipped (already done), 2 failed, 0 pending" in result.stdout, (
        result.stdout + result.stderr
    )
    raised, hung = started_by(tmp_path, "child-1"), started_by(tmp_path, "childhang-2")
    assert alive(raised + hung) == []
    records = events(run_dir_of(tmp_path, result.stdout))
    [ended] = [r for r in records if r["event"] == "LOG" and r["unit"] == "child-1"]
    assert ended["level"] == "WARNING" and ended["message"].startswith(
        "ended 2 process(es) the unit left running:"
    )
    assert f"{raised[0]} (sleep 1000)" in ended["message"]
    assert f"{raised[1]} (sleep 1001)" in ended["message"]
    [timed_out] = [r for r in records if r["event"] == "FAIL" and r["unit"] == "childhang-2"]
    assert "timed out after 3 s" in timed_out["error"]
    assert "2 process(es) it had started were killed" in timed_out["error"]


def test_processes_of_a_running_unit_end_with_an_interrupted_run(tmp_path: Path) -> None:
    write_units(tmp_path, ["childhang-1"])
    pids = tmp_path / "inputs" / "childhang-1.pids"
    run = start("run", *job_args("FAULTY", "--workers", "1"), cwd=tmp_path)
    try:
        wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2, 60, "the unit")
    finally:
        run.send_signal(signal.SIGTERM)
        stdout, stderr = run.communicate(timeout=60)
    assert "interrupted by SIGTERM" in stdout + stderr, stdout + stderr
    assert alive(started_by(tmp_path, "childhang-1")) == []
