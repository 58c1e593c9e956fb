"""``--retries`` against a real S3 endpoint (moto's server) that throttles (503 SlowDown): the
unit whose upload is throttled fails once, is tried again after the backoff, and ends done; a
malformed input still fails at once. (``Recorder.inject`` can also drop connections.)"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from .conftest import DATA, cli
from .faultkit import events, run_dir_of
from .s3server import BUCKET, Recorder, serving

#: botocore's own attempts per request, kept to one so that the faults reach the runner.
SDK_ATTEMPTS = 1
#: Faults injected per key: more than the requests of one attempt (s3fs may retry too), so
#: the first attempt fails; fewer than the attempts allowed (RETRIES), so the unit ends done.
FAULTS = 8
RETRIES = 8


@pytest.fixture
def s3_server() -> Iterator[Recorder]:
    with serving() as recorder:
        yield recorder


def test_throttled_uploads_are_retried(
    workdir: Path, s3_server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(SDK_ATTEMPTS))
    prefix = f"{BUCKET}/retries"
    fsspec.filesystem("s3").put(str(DATA / "inputs") + "/", f"{prefix}/inputs/", recursive=True)
    s3_server.inject("PUT", f"{prefix}/out/tile_003.json", "slowdown", FAULTS)
    where = ["--input", f"s3://{prefix}/inputs", "--output", f"s3://{prefix}/out"]
    retry = ["--retries", str(RETRIES), "--retry-backoff", "0.01"]
    result = cli("run", *where, "--workers", "2", *retry, cwd=workdir)
    assert result.returncode == 1, result.stderr  # tile_007's bad value: not transient
    assert "11 done, 0 skipped (already done), 1 failed, 0 pending" in result.stdout
    assert "units tried again after a transient failure: 1" in result.stdout
    records = events(run_dir_of(workdir, result.stdout))
    starts = Counter(r["unit"] for r in records if r["event"] == "START")
    assert starts["tile_007"] == 1  # a ValueError is never tried again
    first: dict[str, Any] = {}
    for record in records:
        if record["event"] == "FAIL" and record.get("retry") == "later":
            first.setdefault(record["unit"], record)
    assert set(first) == {"tile_003"}
    assert "SlowDown" in first["tile_003"]["error"] or "[Errno 16]" in first["tile_003"]["error"]
    ends = {r["unit"]: r for r in records if r["event"] == "END"}
    for unit in ("tile_003",):  # how many attempts depends on the SDK's own retries
        assert ends[unit]["attempt"] == starts[unit] >= 2  # depends on the HTTP client
    retries = [r for r in records if r["event"] == "RETRY"]
    assert retries[0]["units"] == 1 and retries[0]["attempt"] == 2
    assert not any(s3_server.faults.values())  # every injected fault was met
    names = fsspec.filesystem("s3").ls(f"{prefix}/out", refresh=True)
    assert len(names) == 11
    view = json.loads(cli("status", "--json", cwd=workdir).stdout)
    assert (view["done"], view["failed"], view["causes"]) == (11, 1, {"ValueError": 1})
