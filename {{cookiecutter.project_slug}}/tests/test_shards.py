"""``--shard I/N`` on the command line: N disjoint slices that together are one whole run."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

from .conftest import EXAMPLE, PROJECT_ROOT, cli

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
    every = [u for u in (EXAMPLE / "units.txt").read_text().splitlines() if u[:1] != "#"]
    assert started_units(workdir / "runs") == Counter(every)  # each unit once, in one shard
    assert len(list((workdir / "runs").glob(f"*-shard*of{SHARDS}"))) == SHARDS

    whole = workdir / "whole"
    whole.mkdir()
    shutil.copytree(EXAMPLE, whole / "example")
    shutil.copy(PROJECT_ROOT / "pyproject.toml", whole / "pyproject.toml")
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
