"""``slurm/array.sbatch`` on a real single-node SLURM cluster started by the test
(``slurmcluster.py``): the request is checked against the partition, runner options pass
through, and a task that SLURM signals before its time limit stops, requeues itself, and
the array finishes without being resubmitted and ends COMPLETED."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import Shard
from {{ cookiecutter.package_name }}.units import in_shard

from . import fault_jobs
from .conftest import PROJECT_ROOT
from .faultkit import cli, environment, visible, write_units
from .slurmcluster import Cluster, cluster

SCRIPT = PROJECT_ROOT / "slurm" / "array.sbatch"
TASKS = 3


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("slurm")) as started:
        yield started


def wait(predicate: Callable[[], bool], what: str, slurm: Cluster, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            queue = slurm.run("squeue", "-o", "%i %t %r").stdout
            pytest.fail(f"timed out waiting for {what}\n{queue}\n{slurm.logs()}")
        time.sleep(0.5)


def test_check_names_a_request_the_partition_cannot_meet(slurm: Cluster) -> None:
    too_big = slurm.run("bash", str(SCRIPT), "check")  # the script asks for 4 CPUs
    cpus = int(slurm.run("sinfo", "-h", "-o", "%c").stdout.strip().rstrip("+"))
    if cpus >= 4:
        too_big = slurm.run("bash", str(SCRIPT), "check", f"--cpus-per-task={cpus + 1}")
    assert too_big.returncode == 1, too_big.stdout + too_big.stderr
    assert f"the largest node of partition debug has {cpus} CPUs" in too_big.stderr
    assert "PENDING" in too_big.stderr
    fits = slurm.run("bash", str(SCRIPT), "check", "--cpus-per-task", "1", "--time", "1:00:00")
    assert fits.returncode == 0, fits.stderr
    assert "the request fits partition debug" in fits.stdout


def test_a_task_near_its_time_limit_requeues_itself_and_the_array_completes(
    slurm: Cluster, tmp_path: Path
) -> None:
    """SLURM itself sends the pre-limit signal (``--signal=B:USR1@120``): once task 0 is busy
    with a unit that waits (``hold-*``), the test shortens the task's time limit to 2 minutes,
    so the 120 s warning is due at once. slurmctld checks time limits every 30 s (a constant
    of SLURM, PERIODIC_TIMEOUT), so the signal comes within 30 s and the task ends well before
    its limit: nothing depends on how fast the machine is. The requeued task gets a long
    limit back, so that it is not warned again however long it takes, and SLURM's requeue
    hold (about 150 s) is cut short."""
    held = next(f"hold-{n}" for n in count() if in_shard(f"hold-{n}", Shard(0, TASKS)))
    ids = write_units(tmp_path, [held, *(f"ok-{n:02d}" for n in range(12))])
    (tmp_path / "slurm" / "logs").mkdir(parents=True)
    env = {
        **slurm.env,
        **environment(),
        # The project's command, as in its virtualenv; sbatch passes the environment on.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "VENV": str(tmp_path / "no-venv"),
    }
    options = ["--job", "tests.fault_jobs:HELD", "--units-file", "units.txt"]
    options += ["--input", "inputs", "--output", "out", "--state", "runs"]
    # One task at a time (%1): task 0 runs first.
    array = f"--array=0-{TASKS - 1}%1"
    submit = subprocess.run(
        ["sbatch", "--parsable", array, "--cpus-per-task=1", str(SCRIPT), "run", *options],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert submit.returncode == 0, submit.stderr
    job = submit.stdout.strip().split(";")[0]

    written = tmp_path / "inputs" / f"{held}.written"
    live = ("PENDING", "CONFIGURING", "RUNNING")
    wait(
        lambda: written.exists() or slurm.job(f"{job}_0")["JobState"] not in live,
        "task 0's unit",
        slurm,
    )
    logs = tmp_path / "slurm" / "logs"
    assert written.exists(), "\n".join(p.read_text() for p in logs.iterdir())
    # status says where a running shard runs: its SLURM task, for scontrol or scancel.
    [row] = json.loads(cli("status", "--json", "--shard", "0/3", cwd=tmp_path).stdout)["shards"]
    assert row["state"] == "running" and row["where"].endswith(f", SLURM job {job}_0"), row
    shorten = slurm.run("scontrol", "update", f"JobId={job}_0", "TimeLimit=2")
    assert shorten.returncode == 0, shorten.stderr
    wait(lambda: slurm.job(f"{job}_0").get("Restarts") == "1", "the signal and requeue", slurm)
    # Pending again once the requeue is through (the hold is set then: only then cut it).
    wait(lambda: slurm.job(f"{job}_0")["JobState"] == "PENDING", "the requeue", slurm)
    (tmp_path / "inputs" / "release").touch()  # the rerun's unit ends at once
    again = slurm.run("scontrol", "update", f"JobId={job}_0", "TimeLimit=60", "StartTime=now")
    assert again.returncode == 0, again.stderr

    def finished() -> bool:
        states = [slurm.job(f"{job}_{index}")["JobState"] for index in range(TASKS)]
        return all(state not in ("PENDING", "RUNNING", "REQUEUED", "COMPLETING") for state in states)

    wait(finished, "the array to finish", slurm)
    for index in range(TASKS):
        task = slurm.job(f"{job}_{index}")
        assert (task["JobState"], task["ExitCode"]) == ("COMPLETED", "0:0"), task
    assert slurm.job(f"{job}_0")["Restarts"] == "1"

    outputs = visible(tmp_path / "out")
    assert outputs == {f"{u}.out": fault_jobs.expected_output(u) for u in ids}
    [task_log] = [p for p in logs.iterdir() if p.name.endswith(f"-{job}_0.out")]
    text = task_log.read_text()
    assert "(start 1): run --shard 0/3 --workers 1 --job tests.fault_jobs:HELD" in text
    assert "stopped before the time limit; requeueing it (requeue 1 of 3)" in text
    assert "(start 2): run --shard 0/3" in text  # the same log, appended to
    runs = sorted(p for p in (tmp_path / "runs").iterdir() if p.name.endswith("-shard0of3"))
    assert len(runs) == 2
    stopped = json.loads((runs[0] / "summary.json").read_text())
    assert stopped["stopped"] == "interrupted by SIGTERM"
    assert stopped["pending"] >= 1  # the held unit, in flight: done by the rerun

    status = cli("status", "--json", cwd=tmp_path)
    view = json.loads(status.stdout)
    assert (view["done"], view["failed"], view["pending"]) == (len(ids), 0, 0)
    assert [row["state"] for row in view["shards"]] == ["ended"] * TASKS
