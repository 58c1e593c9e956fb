"""The Dask backend on a real cluster of worker processes (``distributed.LocalCluster``).

One cluster serves the whole module (``--scheduler`` joins it, as on a real cluster); one test
lets the command line start its own LocalCluster (``--backend dask --workers 2``).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import Client, LocalCluster, get_client, get_worker

from {{ cookiecutter.package_name }} import runner
from {{ cookiecutter.package_name }}.dask_backend import DaskBackend
from {{ cookiecutter.package_name }}.dask_tasks import topic_of
from {{ cookiecutter.package_name }}.events import Outcome, Started
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.units import Unit
from {{ cookiecutter.package_name }}.worker import Job

from . import fault_jobs
from .conftest import cli, settings
from .faultkit import cli as fault_cli
from .faultkit import events as fault_events
from .faultkit import job_args, run_dir_of, visible, write_units

WORKERS = 2
CLOSE_TIMEOUT = 60


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a LocalCluster of two single-threaded worker processes."""
    cluster = LocalCluster(
        n_workers=WORKERS,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close(timeout=CLOSE_TIMEOUT)


def worker_pids(address: str) -> set[int]:
    with Client(address, timeout=CLOSE_TIMEOUT, set_as_default=False) as client:
        return set(client.run(os.getpid).values())


def records(run_dir: Path) -> list[dict[str, Any]]:
    text = (run_dir / "events.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def run_dirs(workdir: Path) -> list[Path]:
    return sorted(path for path in (workdir / "runs").iterdir() if path.is_dir())


def test_life_cycle_on_an_existing_cluster(workdir: Path, scheduler: str) -> None:
    dask = ["--backend", "dask", "--scheduler", scheduler, "--no-progress"]
    pids = worker_pids(scheduler)
    first = cli("run", *dask, cwd=workdir)
    assert first.returncode == 1, first.stderr
    assert "11 done, 0 skipped (already done), 1 failed, 0 pending" in first.stdout
    assert "FAIL  tile_007" in first.stderr
    assert "ValueError: tile_007.csv line 19: value 'n/a' is not a number" in first.stderr
    # Relative paths of the settings were resolved here, not in the workers' directory.
    outputs = sorted(path.name for path in (workdir / "output").iterdir())
    assert outputs == [f"tile_{n:03d}.json" for n in range(12) if n != 7]
    [run_dir] = run_dirs(workdir)
    events = records(run_dir)
    starts = Counter(r["unit"] for r in events if r["event"] == "START")
    ends = Counter(r["unit"] for r in events if r["event"] in ("END", "FAIL"))
    assert len(starts) == 12 and set(starts.values()) == {1} and starts == ends
    assert {r["worker"] for r in events if r["event"] == "START"} <= pids
    assert all(
        r["output"] == str(workdir / "output" / f"{r['unit']}.json")
        for r in events
        if r["event"] == "END"
    )

    second = cli("run", *dask, cwd=workdir)
    assert "0 done, 11 skipped (already done), 1 failed, 0 pending" in second.stdout

    failed = cli("failed", "--ids", cwd=workdir)
    assert failed.stdout == "tile_007\n"
    csv = workdir / "example" / "inputs" / "tile_007.csv"
    csv.write_text(csv.read_text().replace("n/a", "99.5"))
    retry = cli("retry", *dask, cwd=workdir)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "1 done, 0 skipped (already done), 0 failed, 0 pending" in retry.stdout
    assert json.loads((workdir / "output" / "tile_007.json").read_text())["pixels"] == 40
    assert cli("failed", "--ids", cwd=workdir).stdout == ""


def test_the_command_line_starts_a_local_cluster(workdir: Path) -> None:
    result = cli("run", "--backend", "dask", "--workers", "2", "--limit", "4", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "4 done, 0 skipped (already done), 0 failed, 8 pending" in result.stdout
    [run_dir] = run_dirs(workdir)
    events = records(run_dir)
    main_pid = int(run_dir.name.rsplit("-", 1)[1])
    workers = {r["worker"] for r in events if r["event"] == "START"}
    assert workers and main_pid not in workers and len(workers) <= 2
    [cluster] = [r["message"] for r in events if r["event"] == "LOG"]
    assert cluster.startswith("dask scheduler tcp://127.0.0.1:") and "2 workers" in cluster


def counted_setup(config: Settings) -> str:
    """Leaves one file per call, so the test can count the calls across processes."""
    folder = Path(config.state) / "setups"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{os.getpid()}-{uuid.uuid4().hex}").touch()
    return "loaded"


def chatty(unit: Unit[str]) -> None:
    logging.getLogger("user.code").info("working on %s with %s", unit.id, unit.resources)
    unit.output.write_text(unit.id)


def test_setup_runs_once_per_worker_and_user_logs_reach_the_run_log(
    workdir: Path, scheduler: str
) -> None:
    config = settings(workdir, backend="dask", scheduler=scheduler)
    summary = runner.run(config, job=Job(chatty, counted_setup, ".txt"))
    assert (summary.done, summary.failed) == (12, 0)
    events = records(Path(summary.log).parent)
    workers = {r["worker"] for r in events if r["event"] == "START"}
    setups = [path.name for path in (workdir / "runs" / "setups").iterdir()]
    assert len(setups) == len(workers) <= WORKERS  # not one per unit
    assert {int(name.split("-")[0]) for name in setups} == workers
    logged = {r["unit"]: r["message"] for r in events if r["event"] == "LOG" and r["unit"] != "-"}
    assert logged == {f"tile_{n:03d}": f"working on tile_{n:03d} with loaded" for n in range(12)}


def failing_setup(config: Settings) -> None:
    raise RuntimeError("calibration server unreachable")


def test_a_failing_setup_stops_the_run(workdir: Path, scheduler: str) -> None:
    config = settings(workdir, backend="dask", scheduler=scheduler)
    summary = runner.run(config, job=Job(chatty, failing_setup, ".txt"))
    assert summary.done == 0
    assert summary.stopped is not None
    assert "setup() failed in a Dask worker: RuntimeError: calibration server unreachable" in (
        summary.stopped
    )


def slow_on_tile_003(unit: Unit[None]) -> None:
    if unit.id == "tile_003":
        time.sleep(120)
    unit.output.write_text(unit.id)


def no_setup(config: Settings) -> None:
    return None


def test_a_unit_past_the_timeout_fails_and_its_worker_is_restarted(
    workdir: Path, scheduler: str
) -> None:
    config = settings(workdir, backend="dask", scheduler=scheduler, timeout=2.0)
    summary = runner.run(config, job=Job(slow_on_tile_003, no_setup, ".txt"))
    assert (summary.done, summary.failed) == (11, 1)
    assert summary.causes == {"Timeout": 1}
    assert not (workdir / "output" / "tile_003.txt").exists()
    with Client(scheduler, timeout=CLOSE_TIMEOUT, set_as_default=False) as client:
        # The restarted worker comes back (in its own time on a busy machine).
        client.wait_for_workers(WORKERS, timeout=CLOSE_TIMEOUT)
    assert len(worker_pids(scheduler)) == WORKERS


def test_a_scheduler_without_the_dask_backend_is_a_user_error(workdir: Path) -> None:
    result = cli("run", "--scheduler", "tcp://127.0.0.1:1", cwd=workdir)
    assert result.returncode == 2
    assert "used only by the dask backend (--backend dask)" in result.stderr
    assert not (workdir / "output").exists()


@pytest.fixture(scope="module")
def strict_scheduler() -> Iterator[str]:
    """A cluster where a task whose worker dies is not run again (allowed-failures 0), and
    where a worker holds only the task it runs (saturation 1.0), so a death hits one unit."""
    strict = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(strict):
        cluster = LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close(timeout=CLOSE_TIMEOUT)


def attempts_folder(config: Settings) -> Path:
    folder = Path(config.state) / "attempts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def dies_on_tile_005(unit: Unit[Path]) -> None:
    (unit.resources / f"{unit.id}-{uuid.uuid4().hex}").touch()  # one file per attempt
    if unit.id == "tile_005":
        os._exit(1)  # as if the OOM killer took the worker
    unit.output.write_text(unit.id)


def test_a_unit_that_kills_its_worker_fails_alone_as_worker_died(
    workdir: Path, strict_scheduler: str
) -> None:
    # retries=0: the unit stays failed (a retry would run it again: test_retries.py)
    config = settings(workdir, backend="dask", scheduler=strict_scheduler, retries=0)
    summary = runner.run(config, job=Job(dies_on_tile_005, attempts_folder, ".txt"))
    assert (summary.done, summary.failed) == (11, 1)
    assert summary.causes == {"WorkerDied": 1}
    failures = (Path(summary.log).parent / "failures.jsonl").read_text().splitlines()
    [failure] = [json.loads(line) for line in failures]
    assert failure["unit"] == "tile_005" and "died" in failure["message"]
    assert not (workdir / "output" / "tile_005.txt").exists()
    events = records(Path(summary.log).parent)
    starts = Counter(r["unit"] for r in events if r["event"] == "START")
    ends = Counter(r["unit"] for r in events if r["event"] in ("END", "FAIL"))
    assert len(starts) == 12 and set(starts.values()) == {1} and starts == ends


def dies_on_tile_005_once_its_worker_holds_no_result(unit: Unit[Path]) -> None:
    """As ``dies_on_tile_005``, but tile_005 first waits (a while at most) until the cluster
    has let go of the results its worker holds: until the client released them."""
    if unit.id == "tile_005":
        deadline = time.monotonic() + 20
        while get_worker().data and time.monotonic() < deadline:
            time.sleep(0.02)
    dies_on_tile_005(unit)


def test_a_dead_worker_runs_no_finished_unit_again(workdir: Path, strict_scheduler: str) -> None:
    config = settings(workdir, backend="dask", scheduler=strict_scheduler)
    with Client(strict_scheduler, timeout=CLOSE_TIMEOUT, set_as_default=False) as client:
        client.wait_for_workers(WORKERS, timeout=CLOSE_TIMEOUT)  # one may still be restarting
    # tile_005 fourth: inside the first window of tasks, and after at least one other unit on
    # the worker it kills.
    ids = ["tile_000", "tile_001", "tile_002", "tile_005"]
    ids += [f"tile_{n:03d}" for n in range(12) if f"tile_{n:03d}" not in ids]
    attempts = workdir / "runs" / "attempts"
    (workdir / "output").mkdir()  # what the runner's outputs.prepare() does
    job = Job(dies_on_tile_005_once_its_worker_holds_no_result, attempts_folder, ".txt")
    starts: list[str] = []
    outcomes: list[Outcome] = []
    for event in DaskBackend(job, config).events(ids):
        if isinstance(event, Started):
            if not starts:
                # A busy consumer: it takes no event until tile_005 has killed its worker. The
                # units that worker finished before must not run again all the same.
                deadline = time.monotonic() + CLOSE_TIMEOUT
                while not list(attempts.glob("tile_005-*")):
                    assert time.monotonic() < deadline, "tile_005 never started"
                    time.sleep(0.05)
            starts.append(event.unit)
        elif isinstance(event, Outcome):
            outcomes.append(event)
    assert sorted(starts) == sorted(ids) and sorted(o.unit for o in outcomes) == sorted(ids)
    failed = [(o.unit, o.error) for o in outcomes if not o.ok]
    assert failed == [("tile_005", "WorkerDied")], [o for o in outcomes if not o.ok]
    ran = Counter(path.name.split("-")[0] for path in attempts.iterdir())
    assert ran == Counter(ids)  # once each
    assert sorted(path.name for path in (workdir / "output").iterdir()) == sorted(
        f"{unit_id}.txt" for unit_id in ids if unit_id != "tile_005"
    )


def kill_once_its_start_is_known(unit: Unit[Path]) -> None:
    """``fault_jobs.faulty``, but a ``kill-*`` unit kills its worker only once the scheduler
    has the unit's START (an attempt whose worker dies before it could tell anyone that it
    began cannot be logged)."""
    if unit.id.startswith("kill-") and not (unit.resources / f"{unit.id}.killed").exists():
        [plugin] = [name for name in get_worker().plugins if name.startswith("unit-run-")]
        client = get_client()
        deadline = time.monotonic() + CLOSE_TIMEOUT
        while not any(e[1]["unit"] == unit.id for e in client.get_events(topic_of(plugin))):
            assert time.monotonic() < deadline, "the START never reached the scheduler"
            time.sleep(0.02)
    fault_jobs.faulty(unit)


KILL_ONCE = Job(kill_once_its_start_is_known, fault_jobs.setup, fault_jobs.SUFFIX)


def test_a_unit_run_again_after_its_worker_died_logs_each_attempt(
    tmp_path: Path, scheduler: str
) -> None:
    # kill-1 SIGKILLs its Dask worker the first time; Dask runs it again on another worker.
    healthy = [f"ok-{n}" for n in range(5)]
    write_units(tmp_path, ["kill-1", *healthy])
    args = job_args("FAULTY", "--backend", "dask", "--scheduler", scheduler)
    args += ["--job", "tests.test_dask_backend:KILL_ONCE"]  # the last --job counts
    result = fault_cli("run", *args, cwd=tmp_path, timeout=CLOSE_TIMEOUT * 2)
    assert "6 done, 0 skipped (already done), 0 failed, 0 pending" in result.stdout, (
        result.stdout + result.stderr
    )
    records = fault_events(run_dir_of(tmp_path, result.stdout))
    starts = [r for r in records if r["event"] == "START" and r["unit"] == "kill-1"]
    assert len(starts) == 2 and starts[0]["worker"] != starts[1]["worker"]
    ends = Counter(r["unit"] for r in records if r["event"] in ("END", "FAIL"))
    assert ends == Counter(["kill-1", *healthy])
    assert sorted(visible(tmp_path / "out")) == sorted(f"{u}.out" for u in ["kill-1", *healthy])
