"""``run --backend dask`` checks up front that every Dask worker can import the job: a worker
that cannot is one line naming it (exit status 2), not one failure per unit. Tried on an
external cluster (``dask scheduler`` and ``dask worker`` started as their own processes, in
an environment without the job) and on the LocalCluster the command line starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .faultkit import cli, environment, job_args, write_units


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def outside_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a scheduler with one worker started from a folder that is not the
    project's, without its PYTHONPATH: the project is installed there, its tests are not."""
    folder = tmp_path_factory.mktemp("dask-elsewhere")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    address_file = folder / "scheduler.json"
    options = ["--port", "0", "--no-dashboard", "--scheduler-file", str(address_file)]
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", *options],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists():
            assert scheduler.poll() is None, "dask scheduler ended"
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written in one go; read it once complete
        address = str(json.loads(address_file.read_text())["address"])
        options = ["--nworkers", "1", "--nthreads", "1", "--no-dashboard"]
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, *options],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        yield address
    finally:
        if worker is not None:
            _stop(worker)
        _stop(scheduler)


def test_a_worker_that_cannot_import_the_job_is_one_line(
    tmp_path: Path, outside_scheduler: str
) -> None:
    write_units(tmp_path, [f"ok-{n}" for n in range(6)])
    args = job_args("FAULTY", "--backend", "dask", "--scheduler", outside_scheduler)
    result = cli("run", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    [error] = [line for line in result.stderr.splitlines() if "error:" in line]
    assert error.startswith(
        "{{ cookiecutter.project_slug }}: error: Dask worker tcp://"
    ) and "cannot import 'tests.fault_jobs': ModuleNotFoundError: No module named 'tests'" in error
    assert " FAIL " not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_job_module_only_this_process_has_is_one_line_on_a_local_cluster(
    tmp_path: Path,
) -> None:
    write_units(tmp_path, [f"ok-{n}" for n in range(4)])
    # A job module that exists only for the process that started the run: it removes its
    # own file as it is imported there, so the LocalCluster's new worker processes lack it.
    (tmp_path / "vanishing_job.py").write_text(
        "import os\n\nfrom tests.fault_jobs import FAULTY\n\nos.remove(__file__)\nJOB = FAULTY\n"
    )
    args = job_args("FAULTY", "--backend", "dask", "--workers", "1")
    args[args.index("tests.fault_jobs:FAULTY")] = "vanishing_job:JOB"
    env = environment(PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    result = cli("run", *args, cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot import 'vanishing_job': ModuleNotFoundError" in result.stderr
    assert " FAIL " not in result.stderr
