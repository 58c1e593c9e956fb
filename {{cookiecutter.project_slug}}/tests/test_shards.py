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

from {{ cookiecutter.package_name }}.settings import Shard
from {{ cookiecutter.package_name }}.storage import STALE_STAGED_SECONDS, process_space
from {{ cookiecutter.package_name }}.units import in_shard

from . import faultkit
from .conftest import DATA, cli, make_workdir
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
    codes = []
    for index in range(SHARDS):
        result = cli("run", "--shard", f"{index}/{SHARDS}", "--workers", "2", cwd=workdir)
        assert result.returncode in (0, 1), result.stderr
        assert f"shard={index}/{SHARDS}" in result.stderr
        codes.append(result.returncode)
    assert sorted(codes) == [0] * (SHARDS - 1) + [1]  # only tile_007's shard has a failure
    every = [u for u in (DATA / "units.txt").read_text().splitlines() if u[:1] != "#"]
    assert started_units(workdir / "runs") == Counter(every)  # each unit once, in one shard
    assert len(list((workdir / "runs").glob(f"*-shard*of{SHARDS}"))) == SHARDS

    whole = workdir / "whole"
    make_workdir(whole)
    assert cli("run", "--workers", "2", cwd=whole).returncode == 1
    assert outputs(workdir / "output") == outputs(whole / "output")
    assert len(outputs(whole / "output")) == 11

    # A shard's retry redoes only that shard's failed units.
    csv = workdir / "example" / "inputs" / "tile_007.csv"
    csv.write_text(csv.read_text().replace("n/a", "99.5"))
    retried = [cli("retry", "--shard", f"{i}/{SHARDS}", cwd=workdir) for i in range(SHARDS)]
    assert all(result.returncode == 0 for result in retried)
    assert sum("retrying 1 failed units" in result.stdout for result in retried) == 1
    assert sum("nothing to retry" in result.stdout for result in retried) == SHARDS - 1
    assert (workdir / "output" / "tile_007.json").is_file()


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
