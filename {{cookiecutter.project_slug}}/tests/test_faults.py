"""The runner under real faults: killed and hung workers, failing writes, bad input, a second
run, memory, a crowded log. Every test runs the real command line in a subprocess, with real
worker processes, signals and files; the misbehaving jobs are in ``fault_jobs.py``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import process, runner
from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.events import Event
from {{ cookiecutter.package_name }}.lock import RunLock
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.worker import Job, Worker, load_job

from . import fault_jobs
from .conftest import settings
from .faultkit import (
    COMMAND,
    alive,
    assert_each_worker_in_time_order,
    children,
    cli,
    command,
    environment,
    events,
    files,
    job_args,
    run_dir_of,
    run_dirs,
    visible,
    wait_for,
    write_units,
)


def test_a_killed_worker_fails_only_its_unit_and_retry_redoes_it(tmp_path: Path) -> None:
    ids = write_units(
        tmp_path, ["ok-0", "kill-1", *(f"ok-{n}" for n in range(1, 13)), "bad-1", "bad-2"]
    )
    # --retries 0: the killed unit stays failed (a retry would redo it: test_retries.py)
    args = job_args("FAULTY", "--workers", "2", "--chunksize", "1", "--retries", "0")
    first = cli("run", *args, cwd=tmp_path, env=environment(FAULT_SLEEP="0.05"))
    assert first.returncode == 1, first.stderr
    assert "13 done, 0 skipped (already done), 3 failed, 0 pending" in first.stdout
    assert "2 failed with ValueError" in first.stdout
    assert "1 failed with WorkerDied" in first.stdout
    assert f"retry the failed units with: {COMMAND} retry" in first.stdout
    fail_lines = [line for line in first.stderr.splitlines() if " FAIL " in line]
    [killed] = [line for line in fail_lines if "kill-1" in line]
    assert "worker died: signal 9" in killed
    outputs = visible(tmp_path / "out")
    assert set(outputs) == {f"{u}.out" for u in ids if u.startswith("ok-")}
    assert all(data == fault_jobs.expected_output(name[:-4]) for name, data in outputs.items())
    # The killed worker was replaced: the units after it ran in other processes.
    records = events(run_dir_of(tmp_path, first.stdout))
    [killed_pid] = [r["worker"] for r in records if r["event"] == "START" and r["unit"] == "kill-1"]
    assert not alive([killed_pid])
    assert len({r["worker"] for r in records if r["event"] == "START"}) >= 3

    status = cli("status", *job_args("FAULTY")[:-1], cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "failed:  3" in status.stdout
    assert "13 done, 0 skipped (already done), 3 failed, 0 pending" in status.stdout
    assert "2 failed with ValueError" in status.stdout
    assert "1 failed with WorkerDied" in status.stdout
    assert f"retry the failed units with: {COMMAND} retry" in status.stdout

    failed = cli("failed", "--ids", *job_args("FAULTY")[:-1], cwd=tmp_path)
    assert sorted(failed.stdout.splitlines()) == ["bad-1", "bad-2", "kill-1"]
    (tmp_path / "units.txt").write_text("".join(f"{u}\n" for u in ids if not u.startswith("bad")))
    retry = cli("retry", *job_args("FAULTY"), cwd=tmp_path)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "retrying 1 failed units" in retry.stdout
    assert "1 done, 0 skipped (already done), 0 failed, 0 pending" in retry.stdout
    assert (tmp_path / "out" / "kill-1.out").read_bytes() == fault_jobs.expected_output("kill-1")


def test_a_hung_unit_times_out_and_its_worker_is_replaced(tmp_path: Path) -> None:
    write_units(tmp_path, ["hang-1", *(f"ok-{n}" for n in range(20))])
    args = job_args("FAULTY", "--workers", "2", "--chunksize", "1", "--timeout", "1")
    result = cli("run", *args, cwd=tmp_path, env=environment(FAULT_SLEEP="0.15"))
    assert result.returncode == 1, result.stderr
    assert "20 done, 0 skipped (already done), 1 failed, 0 pending" in result.stdout
    assert "1 failed with Timeout" in result.stdout
    [line] = [line for line in result.stderr.splitlines() if " FAIL " in line]
    assert "hang-1" in line and "timed out after 1 s; its worker was replaced" in line
    records = events(run_dir_of(tmp_path, result.stdout))
    workers = [r["worker"] for r in records if r["event"] == "START"]
    hung = workers[[r["unit"] for r in records if r["event"] == "START"].index("hang-1")]
    assert workers.count(hung) == 1 and not alive([hung])
    assert len(set(workers)) == 3  # the two first workers and the hung one's replacement
    assert len(visible(tmp_path / "out")) == 20


def test_a_failing_write_leaves_nothing_visible_and_names_unit_and_cause(tmp_path: Path) -> None:
    write_units(tmp_path, ["ok-0", "big-1", "ok-2", "ok-3"])
    env = environment(FAULT_FSIZE_LIMIT=str(64 * 1024))
    result = cli("run", *job_args("FAULTY", "--workers", "2"), cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    assert "3 done, 0 skipped (already done), 1 failed, 0 pending" in result.stdout
    [line] = [line for line in result.stderr.splitlines() if " FAIL " in line]
    assert " big-1 " in line and "OSError [Errno 27]" in line and "File too large" in line
    assert set(files(tmp_path / "out")) == {"ok-0.out", "ok-2.out", "ok-3.out"}
    [record] = [
        json.loads(line)
        for run in run_dirs(tmp_path / "runs")
        for line in (run / "failures.jsonl").read_text().splitlines()
    ]
    assert record["unit"] == "big-1" and record["error"] == "OSError [Errno 27]"
    assert "File too large" in record["message"] and "Traceback" in record["traceback"]


def test_the_same_failure_n_times_in_a_row_stops_the_run_early(tmp_path: Path) -> None:
    """A full disk fails every unit the same way: stop after N, not after hours."""
    ids = write_units(tmp_path, [f"big-{n}" for n in range(40)])
    env = environment(FAULT_FSIZE_LIMIT=str(64 * 1024))
    args = job_args("FAULTY", "--workers", "2", "--max-consecutive-failures", "3")
    result = cli("run", *args, cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "0 done, 0 skipped (already done), 3 failed, 37 pending" in result.stdout
    assert (
        "stopped early: 3 units in a row failed with OSError [Errno 27] (last: big-"
        in result.stdout
    )
    assert "fix the cause, then run again" in result.stdout
    assert len(run_dirs(tmp_path / "runs")) == 1
    assert visible(tmp_path / "out") == {}
    # Once the cause is fixed (no size limit), the same command does every unit.
    again = cli("run", *args, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "40 done, 0 skipped (already done), 0 failed, 0 pending" in again.stdout
    assert set(files(tmp_path / "out")) == {f"{u}.out" for u in ids}  # no staged leftovers
    assert all(len(data) == fault_jobs.BIG_BYTES for data in files(tmp_path / "out").values())


def test_setup_runs_once_per_worker_and_workers_are_recycled(tmp_path: Path) -> None:
    ids = write_units(tmp_path, [f"u-{n}" for n in range(40)])
    args = job_args("COUNTING", "--workers", "2", "--chunksize", "1", "--max-tasks-per-worker", "5")
    result = cli("run", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    setups = Counter((tmp_path / "inputs" / fault_jobs.SETUP_LOG).read_text().split())
    per_worker = Counter(
        str(json.loads((tmp_path / "out" / f"{u}.out").read_text())["pid"]) for u in ids
    )
    assert set(setups.values()) == {1}  # once per worker process ...
    assert set(per_worker) <= set(setups)  # ... including every worker that did units
    assert max(per_worker.values()) <= 5  # recycled after 5 units
    assert len(per_worker) >= 8
    assert len(setups) < len(ids)  # not once per unit


def test_a_leaking_worker_is_recycled_at_the_memory_ceiling(tmp_path: Path) -> None:
    ids = write_units(tmp_path, [f"u-{n}" for n in range(24)])
    ceiling = 150  # MiB: a worker starts well below it, 24 leaks of 16 MiB go far above
    args = job_args("LEAKY", "--workers", "2", "--chunksize", "1")
    result = cli("run", *args, "--max-worker-memory-mb", str(ceiling), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    reports = [json.loads((tmp_path / "out" / f"{u}.out").read_text()) for u in ids]
    assert max(r["rss_mb"] for r in reports) < ceiling + 2 * fault_jobs.LEAK_MB
    assert len({r["pid"] for r in reports}) > 2  # the leaking workers were replaced


PEAK_RSS_SCRIPT = """
import resource, sys
from {package}.cli import main
code = main(sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("PEAK", peak * (1 if sys.platform == "darwin" else 1024))
sys.exit(code)
"""


def peak_rss_of_run(root: Path, count: int) -> int:
    """The main process's peak resident memory, in bytes, over a run of ``count`` units whose
    workers are recycled every 100 units (as in a long run)."""
    root.mkdir()
    (root / "inputs").mkdir()
    args = job_args("TRIVIAL", "--workers", "2", "--units-function", "tests.fault_jobs:many_units")
    args.remove("--units-file")
    args.remove("units.txt")
    script = PEAK_RSS_SCRIPT.format(package=command()[2])
    result = subprocess.run(
        [command()[0], "-c", script, "run", *args, "--max-tasks-per-worker", "100"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env=environment(FAULT_UNITS=str(count)),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{count} done, 0 skipped (already done), 0 failed, 0 pending" in result.stdout
    assert len(visible(root / "out")) == count
    shutil.rmtree(root)  # tens of thousands of files: do not leave them to pytest's cleanup
    return int(result.stdout.split("PEAK ")[1].split()[0])


def test_the_main_process_memory_does_not_grow_with_the_number_of_units(tmp_path: Path) -> None:
    """Measured: +6.7 MiB from 1,000 to 20,000 units (the ids, the done set from the output
    listing); a main process that kept each unit's events would grow by 16.3 MiB."""
    small = peak_rss_of_run(tmp_path / "small", 1_000)
    large = peak_rss_of_run(tmp_path / "large", 20_000)
    assert large - small < 11 * 2**20, (small, large)


BAD_UNIT_LISTS = [
    ("a\nb\na\n", 3, "duplicate unit id 'a' (first at units.txt:1)"),
    ("a\n\nb\n", 2, "blank line"),
    ("a\n../escape\n", 2, "has a segment '..' that starts with '.'"),
    ("/etc/passwd\n", 1, "starts with '/'"),
    ("a\nnul\x00byte\n", 2, "contains '\\x00'"),
    ("a\nCON\n", 2, "reserved file name"),
    ("aux.txt\n", 1, "reserved file name"),
    ("..\n", 1, "starts with '.'"),
]


def test_bad_unit_lists_are_rejected_before_anything_is_created(tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    for text, line, reason in BAD_UNIT_LISTS:
        (tmp_path / "units.txt").write_text(text)
        result = cli("run", *job_args("FAULTY"), cwd=tmp_path)
        assert result.returncode == 2, (text, result.stderr)
        assert result.stderr.startswith(f"{COMMAND}: error: units.txt:{line}: "), text
        assert reason in result.stderr, (text, result.stderr)
        assert result.stderr.count("\n") == 1 and result.stdout == "", text
        assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists(), text


def test_a_missing_or_unreadable_input_fails_that_unit_alone(workdir: Path) -> None:
    inputs = workdir / "example" / "inputs"
    (inputs / "tile_dir.csv").mkdir()
    (inputs / "tile_bin.csv").write_bytes(b"value\n\xff\xfe\n")
    tiles = [f"tile_{n:03d}" for n in range(12) if n != 7]
    (workdir / "units.txt").write_text("\n".join([*tiles, "tile_404", "tile_dir", "tile_bin"]))
    result = cli("run", "--units-file", "units.txt", "--no-progress", cwd=workdir)
    assert result.returncode == 1, result.stderr
    assert "11 done, 0 skipped (already done), 3 failed, 0 pending" in result.stdout
    fails = {line.split()[3]: line for line in result.stderr.splitlines() if " FAIL " in line}
    assert set(fails) == {"tile_404", "tile_dir", "tile_bin"}
    assert "FileNotFoundError" in fails["tile_404"] and "tile_404.csv" in fails["tile_404"]
    assert "IsADirectoryError" in fails["tile_dir"] and "tile_dir.csv" in fails["tile_dir"]
    assert "UnicodeDecodeError" in fails["tile_bin"]
    listed = cli("failed", "--units-file", "units.txt", cwd=workdir).stdout
    assert "tile_404\tFileNotFoundError [Errno 2]: [Errno 2] No such file" in listed


def lock_holder(lock: Path) -> object:
    try:
        return json.loads(lock.read_text() or "{}").get("pid")
    except (OSError, ValueError):
        return None


def test_a_second_run_refuses_and_a_dead_runs_lock_is_taken_over(tmp_path: Path) -> None:
    ids = write_units(tmp_path, [f"ok-{n}" for n in range(30)])
    env = environment(FAULT_SLEEP="0.5")
    first = subprocess.Popen(
        command("run", *job_args("FAULTY", "--workers", "2")),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lock = Path("runs", "run.lock")  # named as configured: --state runs
        wait_for(
            lambda: lock_holder(tmp_path / lock) == first.pid, 30, "the first run to take the lock"
        )
        wait_for(lambda: len(children(first.pid)) == 2, 30, "the first run's workers")
        workers = children(first.pid)
        second = cli("run", *job_args("FAULTY"), cwd=tmp_path, env=env)
        assert second.returncode == 2
        assert second.stderr.startswith(
            f"{COMMAND}: error: another run holds the lock {lock} (pid {first.pid} on "
        )
        assert second.stderr.count("\n") == 1
        assert len(run_dirs(tmp_path / "runs")) == 1
        first.send_signal(signal.SIGKILL)  # the OOM killer picks the main process
        first.wait(timeout=10)
    finally:
        first.kill()
        first.wait(timeout=10)
    status = cli("status", *job_args("FAULTY")[:-1], cwd=tmp_path)
    assert "(ended)" in status.stdout  # nobody holds the lock any more
    # Where it ran, from the lock it left: which server to look at.
    ran = f"(pid {first.pid} on {socket.gethostname()})"
    assert f"no summary: the run {ran} was killed before it could write one" in status.stdout
    third = cli("run", *job_args("FAULTY", "--workers", "2"), cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    message = f"took over the stale lock {lock} of pid {first.pid} on "
    assert message in third.stderr
    log = (run_dir_of(tmp_path, third.stdout) / "run.log").read_text()
    assert " WARN  LOCK " in log and message in log
    assert visible(tmp_path / "out") == {f"{u}.out": fault_jobs.expected_output(u) for u in ids}
    # The dead run's workers did not outlive it by more than the unit they were running.
    wait_for(lambda: not alive(workers), 5, "the dead run's workers to end")


def test_a_forked_worker_does_not_keep_the_lock_of_a_dead_run(tmp_path: Path) -> None:
    """The kernel frees an flock when its last descriptor closes; a worker must not hold one."""
    path = tmp_path / "run.lock"
    held = RunLock(path).__enter__()
    ready, started = os.pipe()
    child = os.fork()
    if child == 0:  # a worker that outlives the main process
        os.write(started, b"!")
        time.sleep(30)
        os._exit(0)
    try:
        assert os.read(ready, 1) == b"!"
        os.close(held.fd)  # the main process dies without unlocking
        with RunLock(path) as again:
            assert again.stale is not None and f"pid {os.getpid()} on" in again.stale
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        os.close(ready)
        os.close(started)


def test_the_log_stays_well_formed_with_many_workers(tmp_path: Path) -> None:
    count = 5000
    ids = write_units(tmp_path, [f"unit-{n:05d}" for n in range(1, count + 1)])
    result = cli("run", *job_args("CHATTY", "--workers", "8"), cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    failing = {u for u in ids if int(u.split("-")[1]) % 250 == 0}
    assert f"{count - len(failing)} done, 0 skipped (already done), {len(failing)} failed" in (
        result.stdout
    )
    [run_dir] = run_dirs(tmp_path / "runs")
    records = events(run_dir)  # every line parses
    human = (run_dir / "run.log").read_text(encoding="utf-8").splitlines()
    assert len(human) == len(records)
    assert all(line[:4].isdigit() and line[23:29] == "+00:00" for line in human)
    kinds = Counter(r["event"] for r in records)
    assert kinds == {
        "RUN": 1,
        "START": count,
        "END": count - len(failing),
        "FAIL": len(failing),
        "LOG": 2 * count,
        "SUMMARY": 1,
    }
    per_unit = Counter((r["unit"], r["event"]) for r in records)
    for unit_id in ids:
        assert per_unit[unit_id, "START"] == 1
        finished = (per_unit[unit_id, "END"], per_unit[unit_id, "FAIL"])
        assert finished == ((0, 1) if unit_id in failing else (1, 0)), unit_id
    for record in records:
        if record["event"] == "LOG":  # attributed to the unit that logged it
            assert record["unit"] in record["message"], record
    starts = {r["unit"]: r["ts"] for r in records if r["event"] == "START"}
    for record in records:
        if record["event"] in ("END", "FAIL"):
            assert record["ts"] >= starts[record["unit"]]
    in_order: dict[str, list[str]] = {unit_id: [] for unit_id in ids}
    for record in records:
        if record["unit"] in in_order:
            in_order[record["unit"]].append(record["event"])
    for unit_id, sequence in in_order.items():  # START first, then its LOG lines, then the end
        assert sequence[0] == "START" and sequence[-1] in ("END", "FAIL"), (unit_id, sequence)
    assert_each_worker_in_time_order(records)


def test_a_backend_that_ends_early_is_a_stopped_run_not_a_complete_one(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner's own accounting (the pool is replaced here, and only here): units that a
    backend never reported are pending, and the run says it stopped, so it exits 1."""

    def half(job: Job[Any], config: Settings, unit_ids: Iterable[str]) -> Iterator[Event]:
        worker = Worker(job, config)
        ids = list(unit_ids)
        for unit_id in ids[: len(ids) // 2]:
            yield worker.attempt(unit_id)
        worker.close()

    monkeypatch.setattr(runner, "_backend", half)
    summary = runner.run(settings(workdir))
    assert (summary.done, summary.failed, summary.pending) == (6, 0, 6)
    assert summary.stopped == (
        "the backend ended with 6 units neither done nor failed; run again to do them"
    )


def test_the_job_setting_names_a_module_or_a_job(tmp_path: Path) -> None:
    default = load_job(Settings().job)
    assert default.process is process.process and default.suffix == process.OUTPUT_SUFFIX
    assert load_job("tests.fault_jobs:FAULTY") is fault_jobs.FAULTY
    with pytest.raises(UserError, match=r"job 'no\.such\.module' cannot be loaded"):
        load_job("no.such.module")
    with pytest.raises(UserError, match=r"job 'tests\.fault_jobs:SUFFIX' is neither a module"):
        load_job("tests.fault_jobs:SUFFIX")
    # In pyproject.toml, like every setting; a bad one is a one-line error before any work.
    write_units(tmp_path, ["ok-1"])
    table = "[tool.{{ cookiecutter.package_name }}]\n"
    (tmp_path / "pyproject.toml").write_text(table + 'job = "tests.fault_jobs:FAULTY"\n')
    args = job_args("FAULTY")[2:]  # no --job: it comes from the file
    assert cli("run", *args, cwd=tmp_path).returncode == 0
    assert (tmp_path / "out" / "ok-1.out").read_bytes() == fault_jobs.expected_output("ok-1")
    (tmp_path / "pyproject.toml").write_text(table + 'job = "tests.fault_jobs:nothing"\n')
    wrong = cli("run", *args, cwd=tmp_path)
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1
    assert "job 'tests.fault_jobs:nothing' cannot be loaded" in wrong.stderr
