"""A store that stops answering mid-run: moto's server in a process of its own, SIGSTOPped
(the connection stays open and nothing answers, as with a hung server or a cut network)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT
from .faultkit import environment, job_args, start, write_units
from .s3server import BUCKET, _environment


@pytest.fixture
def endpoint() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The URL of a moto server running in its own process (with bucket ``BUCKET``)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.s3server"],
        cwd=PROJECT_ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    with server.stdout:  # closed with the server: an open pipe is a ResourceWarning (an error)
        try:
            yield server.stdout.readline().strip(), server
        finally:
            server.send_signal(signal.SIGCONT)
            server.kill()
            server.wait(timeout=30)


def test_a_store_that_stops_answering_fails_units_and_the_run_stops(
    tmp_path: Path, endpoint: tuple[str, subprocess.Popen[str]]
) -> None:
    url, server = endpoint
    # One attempt per request (botocore's AWS_MAX_ATTEMPTS): each upload fails in a second.
    env = environment(FAULT_SLEEP="0.2", AWS_MAX_ATTEMPTS="1")
    for name, value in _environment(url).items():
        env.pop(name, None)
        if value is not None:
            env[name] = value
    write_units(tmp_path, [f"ok-{n}" for n in range(20)])
    args = job_args("FAULTY", "--workers", "2", "--output", f"s3://{BUCKET}/out")
    args += ["--storage-timeout", "0.5", "--max-consecutive-failures", "3"]
    run = start("run", *args, cwd=tmp_path, env=env)
    try:
        assert run.stderr is not None
        before = []
        for line in iter(run.stderr.readline, ""):
            if " RUN " in line:
                break
            before.append(line)
        else:
            pytest.fail(f"the run never started: {''.join(before)}")
        server.send_signal(signal.SIGSTOP)  # the listing is done; the units' uploads hang
        stdout, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 1, stdout + stderr
    [stopped] = [line for line in stdout.splitlines() if line.startswith("stopped early:")]
    assert "3 units in a row failed with" in stopped, stopped
    assert "timeout" in stopped.lower() and url in stopped, stopped
