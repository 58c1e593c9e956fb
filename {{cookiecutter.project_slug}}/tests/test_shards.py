"""``--shard I/N`` on the command line: N disjoint slices that together are one whole run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from itertools import count
from pathlib import Path

from {{ cookiecutter.package_name }} import units
from {{ cookiecutter.package_name }}.lock import RunLock
from {{ cookiecutter.package_name }}.runner import lock_path
from {{ cookiecutter.package_name }}.settings import Shard
from {{ cookiecutter.package_name }}.storage import STALE_STAGED_SECONDS, process_space
from {{ cookiecutter.package_name }}.units import in_shard

from . import faultkit
from .conftest import DATA, cli, make_workdir, settings
from .fault_jobs import expected_output
from .faultkit import command, environment, job_args, visible, wait_for, write_units

SHARDS = 3


def started_units(state: Path) -> Counter[str]:
    """How often each unit started, over every run recorded in ``state``."""
    counts: Counter[str] = Counter()
    for events in state.glob("*/events.jsonl"):
        for line in events.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["event"] == "START":
                counts[record["unit"]] += 1
    return counts


def outputs(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_shards_cover_every_unit_once_and_equal_one_unsharded_run(workdir: Path) -> None:
    every = [u for u in (DATA / "units.txt").read_text().splitlines() if u[:1] != "#"]
    bad_shard = units.shard_index("tile_007", SHARDS)  # tile_007 is malformed
    # A second malformed tile, in another shard: failures in two shards.
    other = next(u for u in every if units.shard_index(u, SHARDS) != bad_shard)
    broken = (DATA / "inputs" / "tile_007.csv").read_text()
    whole = workdir / "whole"
    make_workdir(whole)
    for root in (workdir, whole):
        (root / "example" / "inputs" / f"{other}.csv").write_text(broken)
    codes = []
    for index in range(SHARDS):
        result = cli("run", "--shard", f"{index}/{SHARDS}", "--workers", "2", cwd=workdir)
        assert result.returncode in (0, 1), result.stderr
        assert f"shard={index}/{SHARDS}" in result.stderr
        codes.append(result.returncode)
    assert sorted(codes) == [0] * (SHARDS - 2) + [1, 1]  # the two shards with a failure
    assert started_units(workdir / "runs") == Counter(every)  # each unit once, in one shard
    assert len(list((workdir / "runs").glob(f"*-shard*of{SHARDS}"))) == SHARDS

    assert cli("run", "--workers", "2", cwd=whole).returncode == 1
    assert outputs(workdir / "output") == outputs(whole / "output")
    assert len(outputs(whole / "output")) == 10

    # failed and retry with no options answer for every shard of the job, not the last one.
    assert sorted(cli("failed", "--ids", cwd=workdir).stdout.split()) == sorted(
        ["tile_007", other]
    )
    for name in ("tile_007", other):  # fixed
        csv = workdir / "example" / "inputs" / f"{name}.csv"
        csv.write_text(csv.read_text().replace("n/a", "99.5"))
    # A shard still running keeps its failures: nothing starts, one line names it.
    lock = lock_path(settings(workdir, shard=Shard(bad_shard, SHARDS)))
    with RunLock(lock):
        held = cli("retry", cwd=workdir)
    assert held.returncode == 2, held.stdout + held.stderr
    where = lock.relative_to(workdir)
    assert f"error: shard {bad_shard}/{SHARDS} (lock {where}) is still running" in held.stderr
    assert not (workdir / "output" / "tile_007.json").exists()

    retried = cli("retry", cwd=workdir)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    said = sorted(line for line in retried.stdout.splitlines() if line.startswith("retrying"))
    shards = sorted(units.shard_index(u, SHARDS) for u in ("tile_007", other))
    assert said == [f"retrying 1 failed units of shard {i}/{SHARDS}" for i in shards]
    assert (workdir / "output" / "tile_007.json").is_file()
    assert (workdir / "output" / f"{other}.json").is_file()
    for index in shards:  # each shard's retry is that shard's run
        assert len(list((workdir / "runs").glob(f"*-shard{index}of{SHARDS}"))) == 2
    view = json.loads(cli("status", "--json", cwd=workdir).stdout)
    assert (view["done"], view["failed"], view["pending"]) == (12, 0, 0)
    assert [row["shard"] for row in view["shards"]] == [f"{i}/{SHARDS}" for i in range(SHARDS)]
    # A shard's retry redoes only that shard's failed units: none are left.
    again = cli("retry", "--shard", f"{bad_shard}/{SHARDS}", cwd=workdir)
    assert again.returncode == 0 and "nothing to retry" in again.stdout


def test_shards_with_state_folders_of_their_own_are_retried_together(workdir: Path) -> None:
    """Shards whose servers each keep their own state folder: ``failed``, ``status`` and
    ``retry`` take ``--state`` once per folder, and every hint they print names the folders,
    so that it works as printed."""
    every = [u for u in (DATA / "units.txt").read_text().splitlines() if u[:1] != "#"]
    bad_shard = units.shard_index("tile_007", 2)  # tile_007 is malformed
    other = next(u for u in every if units.shard_index(u, 2) != bad_shard)
    inputs = workdir / "example" / "inputs"
    (inputs / f"{other}.csv").write_text((inputs / "tile_007.csv").read_text())
    for index in range(2):
        result = cli("run", "--shard", f"{index}/2", "--state", f"runs-{index}", cwd=workdir)
        assert result.returncode == 1, result.stdout + result.stderr
        retry = f"{{ cookiecutter.project_slug }} retry --state runs-{index} --shard {index}/2"
        assert f"retry the failed units with: {retry}\n" in result.stdout
    states = ["--state", "runs-0", "--state", "runs-1"]
    failed = cli("failed", *states, cwd=workdir)
    listed = [line.split("\t")[0] for line in failed.stdout.splitlines() if "\t" in line]
    assert sorted(listed) == sorted(["tile_007", other])
    for index, name in ((bad_shard, "tile_007"), (1 - bad_shard, other)):  # each its own list
        assert (workdir / f"runs-{index}" / "failed.txt").read_text() == f"{name}\n"
    retry = "{{ cookiecutter.project_slug }} retry --state runs-0 --state runs-1"
    assert f"retry with: {retry}\n" in failed.stdout
    status = cli("status", *states, cwd=workdir)
    assert "failed:  2" in status.stdout
    typo = cli("retry", *states, "--state", "runs-9", cwd=workdir)
    assert typo.returncode == 2 and typo.stdout == ""
    assert "error: --state runs-9: no such state folder" in typo.stderr
    listing = "{{ cookiecutter.project_slug }} failed --state runs-0 --state runs-1"
    assert f"list them: {listing})" in status.stdout

    for name in ("tile_007", other):  # fixed
        csv = inputs / f"{name}.csv"
        csv.write_text(csv.read_text().replace("n/a", "99.5"))
    retried = cli("retry", *states, "--no-progress", cwd=workdir)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    said = [line for line in retried.stdout.splitlines() if line.startswith("retrying")]
    assert said == [f"retrying 1 failed units of shard {i}/2 in runs-{i}" for i in range(2)]
    for index in range(2):  # each shard's retry is a run of that shard, in its own folder
        assert len(list((workdir / f"runs-{index}").glob(f"*-shard{index}of2"))) == 2
    assert (workdir / "output" / "tile_007.json").is_file()
    assert (workdir / "output" / f"{other}.json").is_file()
    assert cli("failed", "--ids", *states, cwd=workdir).stdout == ""


def first_id(prefix: str, shard: Shard) -> str:
    """The first id ``<prefix>-<n>`` that falls in ``shard``."""
    return next(f"{prefix}-{n}" for n in count() if in_shard(f"{prefix}-{n}", shard))


def test_shards_sharing_an_output_folder_keep_each_others_units_in_flight(
    tmp_path: Path,
) -> None:
    """A run deletes only the staged files of processes that are gone: shard 0's unit, staged
    and still running, survives shard 1's start; a dead process's leftovers do not."""
    held, quick = first_id("hold", Shard(0, 2)), first_id("ok", Shard(1, 2))
    write_units(tmp_path, [held, quick])
    out = tmp_path / "out"
    out.mkdir()
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()
    dead = out / f".gone.out.part-{process_space()}-{ended.pid}-0"
    far = out / ".far.out.part-0badf00d-1-0"  # another machine's: its process cannot be asked
    old = out / ".old.out.part-0badf00d-2-0"
    for path in (dead, far, old):
        path.write_text("half")
    os.utime(old, (time.time() - STALE_STAGED_SECONDS - 60,) * 2)
    first = subprocess.Popen(
        command("run", *job_args("HELD", "--shard", "0/2")),
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: (tmp_path / "inputs" / f"{held}.written").exists(), 60, "shard 0's unit")
        second = faultkit.cli("run", *job_args("HELD", "--shard", "1/2"), cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert not dead.exists() and not old.exists() and far.exists()
        (tmp_path / "inputs" / "release").touch()
        stdout, stderr = first.communicate(timeout=60)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 0, stderr
    assert "1 done, 0 skipped (already done), 0 failed" in stdout
    assert visible(out) == {f"{u}.out": expected_output(u) for u in (held, quick)}
