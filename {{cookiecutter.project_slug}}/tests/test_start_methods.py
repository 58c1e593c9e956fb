"""How workers start: ``fork`` while the main process runs no other thread, ``forkserver`` once
one does (a fork copies the locks other threads hold), ``spawn`` where there is no fork; and
the runner keeps its promises whichever way its workers start.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.supervisor import GRACE_SECONDS

from . import fault_jobs
from .faultkit import (
    alive,
    children,
    cli,
    command,
    environment,
    events,
    job_args,
    run_dir_of,
    visible,
    wait_for,
    write_units,
)
from .test_interrupts import UNITS, interrupt_once

METHODS = ["fork", "forkserver", "spawn"]

CHOICE = """
import threading
from {{ cookiecutter.package_name }}.start_method import default_start_method
from {{ cookiecutter.package_name }}.progress_bar import shown

bar = shown(2, disable=True)  # what a run on a terminal makes
print(threading.active_count(), default_start_method())
done = threading.Event()
thread = threading.Thread(target=done.wait)
thread.start()
print(threading.active_count(), default_start_method())
done.set()
thread.join()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is the default on Linux")
def test_workers_fork_unless_the_main_process_runs_a_thread() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHOICE], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # The progress bar starts no thread (tqdm's monitor would, even for a hidden bar).
    assert result.stdout.splitlines() == ["1 fork", "2 forkserver"]


#: Python 3.12+ warns of a fork while another thread runs (hidden by default; this shows it
#: on stderr); earlier versions do not check, and there the start method shows in the log.
SHOW_FORK_WARNINGS = "always:This process:DeprecationWarning"
FORK_WARNING = "is multi-threaded, use of fork() may lead to deadlocks"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is the default on Linux")
def test_a_thread_in_the_main_process_makes_workers_come_from_a_fork_server(
    tmp_path: Path,
) -> None:
    ids = write_units(tmp_path, [f"ok-{n}" for n in range(8)])
    args = job_args("FAULTY", "--workers", "2")
    args[args.index("--units-file") : args.index("--units-file") + 2] = [
        "--units-function",
        "tests.fault_jobs:units_with_a_thread",
    ]
    env = environment(PYTHONWARNINGS=SHOW_FORK_WARNINGS)
    result = cli("run", *args, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert FORK_WARNING not in result.stderr
    assert " backend=local start=forkserver " in result.stderr
    expected = {f"{unit_id}.out": fault_jobs.expected_output(unit_id) for unit_id in ids}
    assert visible(tmp_path / "out") == expected


@pytest.mark.parametrize("method", METHODS)
def test_every_start_method_blames_a_dead_worker_and_finishes_the_rest(
    tmp_path: Path, method: str
) -> None:
    ids = write_units(tmp_path, ["kill-1", *(f"ok-{n}" for n in range(12))])
    # --retries 0: the killed unit stays failed (a retry would redo it: test_retries.py)
    args = job_args("FAULTY", "--workers", "2", "--start-method", method, "--retries", "0")
    first = cli("run", *args, cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    assert "12 done, 0 skipped (already done), 1 failed, 0 pending" in first.stdout
    assert "1 failed with WorkerDied" in first.stdout
    [header] = [r for r in events(run_dir_of(tmp_path, first.stdout)) if r["event"] == "RUN"]
    assert header["start"] == method
    retry = cli("retry", *args, cwd=tmp_path)
    assert retry.returncode == 0, retry.stderr
    expected = {f"{unit_id}.out": fault_jobs.expected_output(unit_id) for unit_id in ids}
    assert visible(tmp_path / "out") == expected


@pytest.mark.parametrize("method", METHODS)
def test_workers_end_with_a_killed_main_process(tmp_path: Path, method: str) -> None:
    """Whether a worker's parent is the main process (fork, spawn) or the fork server."""
    write_units(tmp_path, [f"ok-{n}" for n in range(40)])
    run = subprocess.Popen(
        command("run", *job_args("FAULTY", "--workers", "2", "--start-method", method)),
        cwd=tmp_path,
        env=environment(FAULT_SLEEP="0.5"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(visible(tmp_path / "out")) >= 2, 60, "the run to make progress")
        descendants = children(run.pid)
        assert descendants
        run.send_signal(signal.SIGKILL)  # the OOM killer picks the main process
        run.wait(timeout=10)
    finally:
        run.kill()
        run.wait(timeout=10)
    # None outlives it by more than the unit it was running.
    wait_for(lambda: not alive(descendants), 5, f"the {method} workers to end")


@pytest.mark.parametrize(
    ("signum", "group"), [(signal.SIGINT, True), (signal.SIGTERM, True), (signal.SIGTERM, False)]
)
def test_a_run_with_a_fork_server_stops_cleanly_when_interrupted(
    tmp_path: Path, signum: int, group: bool
) -> None:
    """The fork server shares the run's process group: Ctrl-C and SLURM's SIGTERM reach it
    too, and neither it nor a worker may outlive the run, nor turn the stop into failures."""
    write_units(tmp_path, [f"ok-{n:04d}" for n in range(UNITS)])
    latency, stdout, _, processes = interrupt_once(
        tmp_path, signum, group, 0.2, "--start-method", "forkserver"
    )
    name = signal.Signals(signum).name
    assert latency < GRACE_SECONDS, f"{name} took {latency:.1f} s"
    summary = events(run_dir_of(tmp_path, stdout))[-1]
    assert summary["stopped"] == f"interrupted by {name}" and summary["failed"] == 0
    assert summary["pending"] > 0
    # The workers end before the run does; the fork server ends when it sees the run gone.
    wait_for(lambda: not alive(processes), 5, "the workers and the fork server to end")
    outputs = visible(tmp_path / "out")
    assert all(data == fault_jobs.expected_output(file[:-4]) for file, data in outputs.items())
