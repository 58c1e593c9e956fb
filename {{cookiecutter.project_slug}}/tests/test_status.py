"""``status``, ``failed`` and ``retry`` answer for the last run, and ``status`` sees every
shard of a job at once - while it runs, from its logs - through the real command line."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

from {{ cookiecutter.package_name }}.settings import Shard
from {{ cookiecutter.package_name }}.units import in_shard

from .conftest import cli
from .faultkit import cli as fault_cli
from .faultkit import command, environment, job_args, wait_for, write_units


def test_status_failed_and_retry_answer_for_the_last_run_not_the_defaults(workdir: Path) -> None:
    subset = ["tile_001", "tile_005", "tile_007", "tile_010"]
    (workdir / "subset.txt").write_text("".join(f"{u}\n" for u in subset))
    run = cli("run", "--units-file", "subset.txt", "--output", "elsewhere", "--no-progress", cwd=workdir)
    assert run.returncode == 1, run.stderr
    [settings_file] = list((workdir / "runs").glob("*/settings.json"))
    recorded = json.loads(settings_file.read_text())
    assert recorded["output"] == str(workdir / "elsewhere")
    assert recorded["units_file"] == str(workdir / "subset.txt")

    status = cli("status", cwd=workdir)
    assert status.returncode == 0, status.stderr
    assert "units:   4" in status.stdout and "done:    3" in status.stdout
    assert "failed:  1" in status.stdout and "pending: 0" in status.stdout
    assert "answering for the last run" in status.stderr
    assert f"output={workdir / 'elsewhere'}" in status.stderr
    assert cli("failed", "--ids", cwd=workdir).stdout == "tile_007\n"

    # An option given wins, and its difference from the run's is said in one line.
    other = cli("status", "--output", "output", cwd=workdir)
    assert "done:    0" in other.stdout and "pending: 3" in other.stdout
    [said] = [line for line in other.stderr.splitlines() if "differs" in line]
    assert f"--output {workdir / 'output'} differs from the last run" in said
    assert f"(output={workdir / 'elsewhere'}); using what was given" in said

    csv = workdir / "example" / "inputs" / "tile_007.csv"
    csv.write_text(csv.read_text().replace("n/a", "99.5"))
    retry = cli("retry", "--no-progress", cwd=workdir)
    assert retry.returncode == 0, retry.stderr
    assert "retrying 1 failed units" in retry.stdout
    assert (workdir / "elsewhere" / "tile_007.json").is_file()
    assert not (workdir / "output").exists()
    assert "failed:  0" in cli("status", cwd=workdir).stdout


def status_json(cwd: Path, *args: str) -> dict[str, Any]:
    result = fault_cli("status", "--json", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    view: dict[str, Any] = json.loads(result.stdout)
    return view


def test_status_is_one_view_of_every_shard(tmp_path: Path) -> None:
    ids = write_units(tmp_path, [*(f"ok-{n}" for n in range(12)), "bad-1", "bad-2"])
    for index in (0, 2):  # shard 1 of 3 never starts
        result = fault_cli("run", *job_args("FAULTY", "--shard", f"{index}/3"), cwd=tmp_path)
        assert result.returncode in (0, 1), result.stderr
    shards = [Shard(index, 3) for index in range(3)]
    members = [[u for u in ids if in_shard(u, shard)] for shard in shards]

    view = status_json(tmp_path)  # the job, the units and the output are the last run's
    assert [row["shard"] for row in view["shards"]] == ["0/3", "1/3", "2/3"]
    assert [row["units"] for row in view["shards"]] == [len(m) for m in members]
    assert [row["state"] for row in view["shards"]] == ["ended", "not started", "ended"]
    ran = members[0] + members[2]
    bad = [u for u in ran if u.startswith("bad")]
    assert view["units"] == len(ids)
    assert view["done"] == len(ran) - len(bad) == len(list((tmp_path / "out").iterdir()))
    assert view["failed"] == len(bad)
    assert view["pending"] == len(members[1]) == view["shards"][1]["pending"]
    assert view["causes"] == ({"ValueError": len(bad)} if bad else {})
    assert view["problems"] == [f"shard 1/3 has not started: {len(members[1])} units pending"]

    text = fault_cli("status", cwd=tmp_path).stdout
    assert f"attention: shard 1/3 has not started: {len(members[1])} units pending" in text
    assert any(line.split()[:2] == ["1/3", str(len(members[1]))] for line in text.splitlines())
    # One shard alone, when asked.
    one = status_json(tmp_path, "--shard", "2/3")
    assert [row["shard"] for row in one["shards"]] == ["2/3"] and one["units"] == len(members[2])


def test_status_during_a_run_shows_its_progress_then_silence_then_the_stop(
    tmp_path: Path,
) -> None:
    write_units(tmp_path, [*(f"ok-{n}" for n in range(4)), "hang-0"])
    args = job_args("FAULTY", "--workers", "1", "--chunksize", "1")
    running = subprocess.Popen(
        command("run", *args),
        cwd=tmp_path,
        env=environment(FAULT_SLEEP="0.4"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def row(*extra: str) -> dict[str, Any]:
            shards: list[dict[str, Any]] = status_json(tmp_path, *extra)["shards"]
            return shards[0]

        # status answers for the last run once there is one (before, it has the defaults).
        wait_for(lambda: any((tmp_path / "runs").glob("*/settings.json")), 60, "the run")
        wait_for(
            lambda: row()["state"] == "running" and row()["run_finished"] >= 2,
            60,
            "status to show the run's progress while it runs",
        )
        live = row()
        assert live["run_todo"] == 5 and live["rate"] > 0
        wait_for(
            lambda: row("--silent-after", "1")["state"] == "silent",
            60,
            "status to report the hung run as silent",
        )
        silent = fault_cli("status", "--silent-after", "1", cwd=tmp_path).stdout
        where = f"(pid {running.pid} on {socket.gethostname()})"  # which server to look at
        assert f"attention: the run is silent {where}: no log line for" in silent
        running.send_signal(signal.SIGTERM)
        assert running.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        running.kill()
        running.communicate()
    stopped = row()
    assert stopped["state"] == "stopped" and stopped["stopped"] == "interrupted by SIGTERM"
    assert stopped["pending"] == 1 and stopped["done"] == 4


def test_status_watch_follows_the_job_until_it_is_finished(workdir: Path) -> None:
    watch = subprocess.Popen(
        command("status", "--watch", "0.2"),
        cwd=workdir,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watch.stdout is not None
        first: list[str] = []  # the first view, before any shard runs
        while not first or first[-1] != "last run: none yet\n":
            first.append(watch.stdout.readline())
            assert first[-1], "status --watch ended before its first view"
        for index in range(3):
            result = cli("run", "--shard", f"{index}/3", "--no-progress", cwd=workdir)
            assert result.returncode in (0, 1), result.stderr
        out, err = watch.communicate(timeout=60)
    finally:
        watch.kill()
    assert watch.returncode == 0, err
    frames = ("".join(first) + out).split("units:   12\n")[1:]
    assert len(frames) >= 2
    assert frames[0].startswith("done:    0\n")  # before any shard ran
    assert frames[-1].startswith("done:    11\nfailed:  1")
    assert "pending: 0" in frames[-1]
