"""``--retries`` against a real S3 endpoint (moto's server) that throttles (503 SlowDown) and
resets connections (a TCP RST, ``s3server.reset``): a unit whose download or upload meets
such a fault fails, is tried again after the backoff, and ends done; a unit whose requests
keep being reset fails after its last attempt, its failure record counting them; a malformed
input fails at once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from .conftest import DATA, cli
from .faultkit import events, run_dir_of
from .s3server import BUCKET, Recorder, serving

#: botocore's own attempts per request, kept to one so that the faults reach the runner.
SDK_ATTEMPTS = 1
#: The default of ``--retries``: 3 attempts in all, each round of retries costs new workers.
RETRIES = 2
#: Faults injected per key: at least the requests of one attempt (s3fs tries a request once
#: more itself on a reset: 2 requests per attempt), so the first attempt fails; at most the
#: attempts allowed (RETRIES + 1) less one, so the unit ends done.
FAULTS = 2
#: A key whose every request is reset: its unit fails after 1 + RETRIES attempts.
FOREVER = 1000
PREFIX = f"{BUCKET}/retries"
#: unit -> (method, key under PREFIX, fault, times)
INJECTED = {
    "tile_003": ("PUT", "out/tile_003.json", "slowdown", FAULTS),
    "tile_005": ("GET", "inputs/tile_005.csv", "reset", FAULTS),
    "tile_009": ("PUT", "out/tile_009.json", "reset", FAULTS),
    "tile_010": ("GET", "inputs/tile_010.csv", "reset", FOREVER),
}


@pytest.fixture
def s3_server() -> Iterator[Recorder]:
    with serving() as recorder:
        yield recorder


def test_throttled_and_reset_requests_are_retried(
    workdir: Path, s3_server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(SDK_ATTEMPTS))
    fsspec.filesystem("s3").put(str(DATA / "inputs") + "/", f"{PREFIX}/inputs/", recursive=True)
    for method, key, fault, times in INJECTED.values():
        s3_server.inject(method, f"{PREFIX}/{key}", fault, times)
    where = ["--input", f"s3://{PREFIX}/inputs", "--output", f"s3://{PREFIX}/out"]
    retry = ["--retries", str(RETRIES), "--retry-backoff", "0.001"]
    result = cli("run", *where, "--workers", "2", *retry, cwd=workdir)
    assert result.returncode == 1, result.stderr
    assert "10 done, 0 skipped (already done), 2 failed, 0 pending" in result.stdout
    assert "units tried again after a transient failure: 4" in result.stdout
    run_dir = run_dir_of(workdir, result.stdout)
    records = events(run_dir)
    starts = Counter(r["unit"] for r in records if r["event"] == "START")
    assert starts["tile_007"] == 1  # a ValueError is never tried again
    assert starts["tile_010"] == 1 + RETRIES  # reset every time: every attempt is used
    later = [r for r in records if r["event"] == "FAIL" and r.get("retry") == "later"]
    first = {r["unit"]: r for r in later if r["attempt"] == 1}
    assert set(first) == set(INJECTED)
    assert "SlowDown" in first["tile_003"]["error"] or "[Errno 16]" in first["tile_003"]["error"]
    for unit in ("tile_005", "tile_009", "tile_010"):  # botocore's name for a reset connection
        assert "EndpointConnectionError" in first[unit]["error"], first[unit]
    ends = {r["unit"]: r for r in records if r["event"] == "END"}
    for unit in ("tile_003", "tile_005", "tile_009"):
        # How many attempts a unit needs depends on the requests of one (the HTTP client's).
        assert ends[unit]["attempt"] == starts[unit] >= 2, unit
        started = [r for r in records if r["unit"] == unit and r["event"] == "START"]
        assert [r.get("attempt", 1) for r in started] == list(range(1, starts[unit] + 1))
    retries = [r for r in records if r["event"] == "RETRY"]
    assert retries[0]["units"] == len(INJECTED) and retries[0]["attempt"] == 2
    assert [r["attempt"] for r in retries] == list(range(2, RETRIES + 2))  # then tile_010 only
    assert not any(s3_server.faults[k] for k in s3_server.faults if "tile_010" not in k[1])
    log = (run_dir / "run.log").read_text(encoding="utf-8")
    assert "FAIL  tile_005" in log and "attempt=1 retry=later" in log
    assert f"attempt={1 + RETRIES}" in log

    failures = {}
    for line in (run_dir / "failures.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        failures[record["unit"]] = record
    assert set(failures) == {"tile_007", "tile_010"}
    assert failures["tile_007"]["attempts"] == 1 and failures["tile_007"]["error"] == "ValueError"
    assert failures["tile_010"]["attempts"] == 1 + RETRIES
    assert failures["tile_010"]["error"] == "EndpointConnectionError"
    names = fsspec.filesystem("s3").ls(f"{PREFIX}/out", refresh=True)
    assert len(names) == 10
    view = json.loads(cli("status", "--json", cwd=workdir).stdout)
    assert (view["done"], view["failed"]) == (10, 2)
    assert view["causes"] == {"ValueError": 1, "EndpointConnectionError": 1}
