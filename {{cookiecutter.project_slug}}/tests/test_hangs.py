"""What hangs does not hold up the run: no unit waits behind a busy worker while another
worker is idle, and ``--timeout`` bounds ``setup()``."""

from __future__ import annotations

import signal
from pathlib import Path

from .faultkit import cli, job_args, start, visible, wait_for, write_units


def test_units_queued_behind_a_hung_unit_go_to_an_idle_worker(tmp_path: Path) -> None:
    # No --timeout: the hung unit keeps its worker for good. Every other unit must still be
    # done by the other worker, including the one first handed to the hung unit's worker.
    healthy = [f"ok-{n}" for n in range(6)]
    write_units(tmp_path, ["hang-1", *healthy])
    run = start("run", *job_args("FAULTY", "--workers", "2"), cwd=tmp_path)
    try:

        def healthy_ones_logged() -> bool:
            # Their END lines (on disk while the run goes on), not their files: an output is in
            # place a moment before the run has its record, and a stopped run counts records.
            logs = list((tmp_path / "runs").glob("*/run.log"))
            return bool(logs) and logs[0].read_text(encoding="utf-8").count(" END ") == len(healthy)

        wait_for(healthy_ones_logged, 60, "every healthy unit to be done beside the hung one")
    finally:
        run.send_signal(signal.SIGTERM)
        stdout, stderr = run.communicate(timeout=60)
    assert sorted(visible(tmp_path / "out")) == sorted(f"{unit}.out" for unit in healthy)
    assert "6 done, 0 skipped (already done), 0 failed, 1 pending" in stdout, stdout + stderr


def test_a_setup_that_hangs_is_bounded_by_the_timeout(tmp_path: Path) -> None:
    # Two units for two workers: the first worker is handed both, the second none.
    write_units(tmp_path, ["ok-0", "ok-1"])
    args = job_args("HANGING_SETUP", "--workers", "2", "--timeout", "1")
    result = cli("run", *args, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 done, 0 skipped (already done), 0 failed, 2 pending" in result.stdout
    assert (
        "stopped early: 3 workers in a row died before finishing any unit "
        "(last: setup() did not finish within 1 s (--timeout))"
    ) in result.stdout
