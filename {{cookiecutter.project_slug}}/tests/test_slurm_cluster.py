"""``slurm/array.sbatch`` on a real single-node SLURM cluster started by the test
(``slurmcluster.py``): the request is checked against the partition, runner options pass
through, and a task stopped by the pre-limit signal requeues itself, so the array finishes
without being resubmitted and ends COMPLETED."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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


def test_a_task_stopped_before_its_limit_requeues_itself_and_the_array_completes(
    slurm: Cluster, tmp_path: Path
) -> None:
    ids = write_units(tmp_path, [f"ok-{n:02d}" for n in range(15)])
    (tmp_path / "slurm" / "logs").mkdir(parents=True)
    env = {
        **environment(FAULT_SLEEP="1"),
        **slurm.env,
        # The project's command, as in its virtualenv; sbatch passes the environment on.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "VENV": str(tmp_path / "no-venv"),
    }
    options = ["--job", "tests.fault_jobs:FAULTY", "--units-file", "units.txt"]
    options += ["--input", "inputs", "--output", "out", "--state", "runs"]
    # One task at a time (%1): the array's order is then fixed - task 0 runs first.
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

    # Task 0 is stopped as the pre-limit signal would stop it, once it has done some units.
    first = [u for u in ids if in_shard(u, Shard(0, TASKS))]
    assert len(first) >= 2
    wait(lambda: any(f"{u}.out" in visible(tmp_path / "out") for u in first), "task 0", slurm)
    try:
        signal = slurm.run("scancel", "--signal=USR1", "--batch", f"{job}_0", timeout=15)
        assert signal.returncode == 0, signal.stderr
    except subprocess.TimeoutExpired:
        pass  # scancel retries while the task it signalled is being requeued: checked below
    # SLURM holds a requeued task about two minutes; the test does not wait for that.
    wait(lambda: slurm.job(f"{job}_0").get("Restarts") == "1", "the requeue", slurm)
    wait(lambda: slurm.job(f"{job}_0")["JobState"] != "RUNNING", "the stop", slurm)
    slurm.run("scontrol", "update", f"JobId={job}_0", "StartTime=now")

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
    logs = tmp_path / "slurm" / "logs"
    [task_log] = [p for p in logs.iterdir() if p.name.endswith(f"-{job}_0.out")]
    text = task_log.read_text()
    assert "(start 1): run --shard 0/3 --workers 1 --job tests.fault_jobs:FAULTY" in text
    assert "stopped before the time limit; requeueing it (requeue 1 of 3)" in text
    assert "(start 2): run --shard 0/3" in text  # the same log, appended to
    runs = sorted(p for p in (tmp_path / "runs").iterdir() if p.name.endswith("-shard0of3"))
    assert len(runs) == 2
    stopped = json.loads((runs[0] / "summary.json").read_text())
    assert stopped["stopped"] == "interrupted by SIGTERM"

    status = cli("status", "--json", cwd=tmp_path)
    view = json.loads(status.stdout)
    assert (view["done"], view["failed"], view["pending"]) == (len(ids), 0, 0)
    assert [row["state"] for row in view["shards"]] == ["ended"] * TASKS

