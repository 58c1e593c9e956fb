"""No unit waits behind a busy worker while another worker is idle."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from .faultkit import command, environment, job_args, visible, wait_for, write_units


def test_units_queued_behind_a_hung_unit_go_to_an_idle_worker(tmp_path: Path) -> None:
    # No --timeout: the hung unit keeps its worker for good. Every other unit must still be
    # done by the other worker, including the one first handed to the hung unit's worker.
    healthy = [f"ok-{n}" for n in range(6)]
    write_units(tmp_path, ["hang-1", *healthy])
    run = subprocess.Popen(
        command("run", *job_args("FAULTY", "--workers", "2")),
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: len(visible(tmp_path / "out")) == len(healthy),
            60,
            "every healthy unit to be done beside the hung one",
        )
    finally:
        run.send_signal(signal.SIGTERM)
        stdout, stderr = run.communicate(timeout=60)
    assert sorted(visible(tmp_path / "out")) == sorted(f"{unit}.out" for unit in healthy)
    assert "6 done, 0 skipped (already done), 0 failed, 1 pending" in stdout, stdout + stderr
