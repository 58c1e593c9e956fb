"""Ctrl-C and SIGTERM at random moments: every interrupted run stops promptly, ends its
workers, records how far it got, and leaves nothing half-written that counts as done; running
again resumes, and the outputs end up byte for byte those of a run that was never interrupted.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from {{ cookiecutter.package_name }}.supervisor import GRACE_SECONDS

from . import fault_jobs
from .faultkit import (
    alive,
    children,
    cli,
    command,
    environment,
    events,
    files,
    job_args,
    run_dir_of,
    visible,
    wait_for,
    write_units,
)

UNITS = 300
WORKERS = 2
#: Seconds per unit: the run lasts a few seconds, so interrupts land in the middle of it.
UNIT_SECONDS = "0.02"
INTERRUPTS = 4
SEED = 20261124
#: A stop must take a few seconds at most; this only keeps a hung run from hanging the test.
STOP_TIMEOUT = 30


#: How a run gets stopped: Ctrl-C in a terminal signals the whole process group; ``kill``,
#: systemd or a container stop signal the main process; SLURM at a time limit signals the group.
WAYS = [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)]


def interrupt_once(
    root: Path, signum: int, group: bool, delay: float, *extra: str
) -> tuple[float, str, str, set[int]]:
    """Start a run (with ``extra`` options), wait until it has written an output and then
    ``delay`` seconds, send ``signum`` (to the process group or to the main process only) and
    wait for the run to end; returns the stop latency, stdout, stderr and the pids of the
    workers it had."""
    before = len(visible(root / "out"))
    run = subprocess.Popen(
        command("run", *job_args("FAULTY", "--workers", str(WORKERS), *extra)),
        cwd=root,
        env=environment(FAULT_SLEEP=UNIT_SECONDS),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a job in a terminal
    )
    try:
        wait_for(lambda: len(visible(root / "out")) > before, 60, "the run to make progress")
        time.sleep(delay)
        workers = set(children(run.pid))
        sent = time.monotonic()
        if group:
            os.killpg(run.pid, signum)
        else:
            run.send_signal(signum)
        stdout, stderr = run.communicate(timeout=STOP_TIMEOUT)
        latency = time.monotonic() - sent
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode == 128 + signum, stderr[-3000:]
    return latency, stdout, stderr, workers


def test_interrupted_runs_resume_to_the_outputs_of_an_uninterrupted_run(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    ids = [f"ok-{n:04d}" for n in range(UNITS)]
    clean, work = tmp_path / "clean", tmp_path / "work"
    for root in (clean, work):
        root.mkdir()
        write_units(root, ids)
    expected = {f"{unit_id}.out": fault_jobs.expected_output(unit_id) for unit_id in ids}
    env = environment(FAULT_SLEEP=UNIT_SECONDS)
    uninterrupted = cli("run", *job_args("FAULTY", "--workers", str(WORKERS)), cwd=clean, env=env)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]
    assert files(clean / "out") == expected

    for number in range(INTERRUPTS):
        signum, group = WAYS[number % len(WAYS)]
        name = signal.Signals(signum).name
        latency, stdout, stderr, workers = interrupt_once(
            work, signum, group, rng.uniform(0, 0.5)
        )
        # Workers end as soon as they are told (SIGTERM), not at the pool's kill fallback.
        assert latency < GRACE_SECONDS, f"interrupt {number} ({name}) took {latency:.1f} s"
        assert stderr.endswith(f"interrupted by {name}; run again to resume\n")
        assert f"stopped early: interrupted by {name}" in stdout

        run_dir = run_dir_of(work, stdout)
        records = events(run_dir)  # every line parses
        summary = records[-1]
        assert summary["event"] == "SUMMARY" and summary["stopped"] == f"interrupted by {name}"
        assert summary["failed"] == 0  # an interrupt is not a unit failure, nor a worker death
        assert summary["done"] + summary["skipped"] + summary["pending"] == UNITS
        last_line = (run_dir / "run.log").read_text(encoding="utf-8").splitlines()[-1]
        assert f" SUMMARY - done={summary['done']} " in last_line
        assert f" pending={summary['pending']} " in last_line
        kinds = Counter((r["event"], r["unit"]) for r in records)
        assert max(kinds.values()) == 1  # at most one START and one END per unit
        started = {r["unit"] for r in records if r["event"] == "START"}
        ended = {r["unit"] for r in records if r["event"] == "END"}
        assert ended <= started and len(started - ended) <= WORKERS

        # No worker survives the run that started it.
        workers |= {r["worker"] for r in records if r["event"] == "START"}
        assert alive(workers) == []
        # Nothing half-written counts as done: every visible output is complete.
        outputs = visible(work / "out")
        assert all(outputs[name] == expected[name] for name in outputs)
        # The log accounts for what is on disk: workers end when the run stops, so at most
        # the unit or two each was finishing got done without the log seeing it.
        unlogged = len(outputs) - summary["skipped"] - summary["done"]
        assert 0 <= unlogged <= 4 * WORKERS, f"{unlogged} outputs the log does not count"
        assert len(outputs) < UNITS, "the run ended before it could be interrupted"

    # Running again resumes, and the result is exactly that of the uninterrupted run.
    before = len(visible(work / "out"))
    resumed = cli("run", *job_args("FAULTY", "--workers", str(WORKERS)), cwd=work, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"{UNITS - before} done, {before} skipped (already done), 0 failed, 0 pending" in (
        resumed.stdout
    )
    assert files(work / "out") == expected  # byte for byte, and no staged leftovers
