"""Object storage against a real S3 endpoint: moto's server on 127.0.0.1, over HTTP.

Nothing is mocked in this process: the code under test talks to the server (tests/s3server.py)
through s3fs and botocore exactly as it would to AWS, and request counts are measured where
they are paid: at the server.
"""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from {{ cookiecutter.package_name }} import checkpoint, runner
from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.inputs import Inputs
from {{ cookiecutter.package_name }}.log import read_events
from {{ cookiecutter.package_name }}.storage import FsspecStore, open_store
from {{ cookiecutter.package_name }}.units import Unit
from {{ cookiecutter.package_name }}.worker import Job, Worker

from . import faultkit
from .conftest import DATA, cli, settings
from .faultkit import COMMAND, environment
from .s3server import BUCKET, KEY_ID, SECRET, Recorder, seed, serving


@pytest.fixture(scope="module")
def s3_server() -> Iterator[Recorder]:
    """moto's S3 server on a free port of 127.0.0.1, and the environment pointing at it."""
    with serving() as recorder:
        yield recorder


@pytest.fixture
def s3(s3_server: Recorder, request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    """The filesystem and a fresh ``s3://`` prefix for one test (the server forgets them)."""
    s3_server.clear()
    yield fsspec.filesystem("s3"), f"{BUCKET}/{request.node.name}"


def test_run_resume_and_retry_with_s3_input_and_output(workdir: Path, s3: tuple[Any, str]) -> None:
    fs, prefix = s3
    fs.put(str(DATA / "inputs") + "/", f"{prefix}/inputs/", recursive=True)
    where = ["--input", f"s3://{prefix}/inputs", "--output", f"s3://{prefix}/outputs"]

    first = cli("run", *where, "--workers", "2", "--no-progress", cwd=workdir)
    assert first.returncode == 1, first.stderr
    assert "11 done, 0 skipped (already done), 1 failed, 0 pending" in first.stdout
    assert "ValueError: tile_007.csv line 19: value 'n/a' is not a number" in first.stderr
    names = sorted(path.rsplit("/", 1)[-1] for path in fs.ls(f"{prefix}/outputs", refresh=True))
    assert names == [f"tile_{n:03d}.json" for n in range(12) if n != 7]
    [run_dir] = [path for path in (workdir / "runs").iterdir() if path.is_dir()]
    records = list(read_events(run_dir / "events.jsonl"))
    # The listing started fsspec's event-loop thread: workers come from a fork server.
    [header] = [r for r in records if r["event"] == "RUN"]
    assert header["start"] == "forkserver"
    ends = [r for r in records if r["event"] == "END"]
    assert len(ends) == 11
    for record in ends:  # every output in the log is the full URL, usable as it is
        assert record["output"] == f"s3://{prefix}/outputs/{record['unit']}.json"
        with fsspec.open(record["output"], "rt") as handle:
            assert json.load(handle)["unit"] == record["unit"]

    second = cli("run", *where, "--no-progress", cwd=workdir)
    assert "0 done, 11 skipped (already done), 1 failed, 0 pending" in second.stdout

    fixed = (DATA / "inputs" / "tile_007.csv").read_text().replace("n/a", "99.5")
    fs.pipe_file(f"{prefix}/inputs/tile_007.csv", fixed.encode())
    retry = cli("retry", *where, "--no-progress", cwd=workdir)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "1 done, 0 skipped (already done), 0 failed, 0 pending" in retry.stdout
    assert len(fs.ls(f"{prefix}/outputs", refresh=True)) == 12

    for path in (workdir / "runs").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert SECRET not in text and KEY_ID not in text, path


def half_then_raise(unit: Unit[None]) -> None:
    with unit.output.open("wb") as handle:
        handle.write(b"partial")
        handle.flush()
        raise OSError(28, "No space left on device")


def no_setup(config: object) -> None:
    return None


def test_a_unit_that_raises_while_writing_leaves_no_object(
    workdir: Path, s3_server: Recorder, s3: tuple[Any, str]
) -> None:
    fs, prefix = s3
    # The trap this avoids: an fsspec file opened for writing commits on leaving the block,
    # even by an exception, so the partial object would count as done.
    with pytest.raises(OSError), fs.open(f"{prefix}/trap/tile_000.json", "wb") as handle:
        handle.write(b"partial")
        raise OSError(28, "No space left on device")
    assert fs.cat(f"{prefix}/trap/tile_000.json") == b"partial"

    config = settings(workdir, output=f"s3://{prefix}/outputs")
    worker = Worker(Job(half_then_raise, no_setup, ".json"), config)
    try:
        outcome = worker.attempt("tile_000")
    finally:
        worker.close()
    assert not outcome.ok and outcome.error == "OSError [Errno 28]"
    assert not fs.exists(f"{prefix}/outputs/tile_000.json")
    assert checkpoint.done_ids(open_store(config.output), ".json") == set()
    # Staged locally, the failed output never even started an upload.
    assert [r for r in s3_server.requests if r[0] in ("PUT", "POST") and "/outputs/" in r[1]] == []


def test_the_done_set_is_one_fresh_paginated_listing(
    s3_server: Recorder, s3: tuple[Any, str]
) -> None:
    _, prefix = s3
    ids = [f"u{n:05d}" for n in range(2500)]
    seed(prefix, [f"{unit_id}.json" for unit_id in ids[:100]])
    store = FsspecStore(f"s3://{prefix}")
    assert checkpoint.done_ids(store, ".json") == set(ids[:100])
    # More outputs appear (other workers, other shards): the next listing is not stale.
    seed(prefix, [f"{unit_id}.json" for unit_id in ids[100:]])
    seed(prefix, ["notes.txt", "sub/u99999.json"])  # an id with a hierarchy counts
    s3_server.clear()
    assert checkpoint.done_ids(store, ".json") == {*ids, "sub/u99999"}
    assert len(s3_server.lists()) == math.ceil(2502 / 1000)
    assert s3_server.requests == s3_server.lists()


def test_a_resume_costs_one_list_request_per_1000_outputs_and_none_per_unit(
    workdir: Path, s3_server: Recorder, s3: tuple[Any, str]
) -> None:
    _, prefix = s3
    count = 2500
    ids = [f"u{n:05d}" for n in range(count)]
    units_file = workdir / "many.txt"
    units_file.write_text("".join(f"{unit_id}\n" for unit_id in ids))
    config = settings(
        workdir,
        input=f"s3://{prefix}/inputs",
        output=f"s3://{prefix}/outputs",
        units_file=str(units_file),
    )
    seed(f"{prefix}/outputs", [f"{unit_id}.json" for unit_id in ids])
    s3_server.clear()
    summary = runner.run(config)
    assert (summary.skipped, summary.done, summary.failed) == (count, 0, 0)
    lists = s3_server.lists()
    assert len(lists) == math.ceil(count / 1000)  # 3 requests, where a HEAD per unit is 2,500
    assert s3_server.object_requests() == []
    assert s3_server.requests == lists


def test_a_url_with_a_password_is_refused() -> None:
    with pytest.raises(UserError, match="password"):
        open_store("ftp://user:hunter2@example.org/data")


def test_an_unreachable_store_is_one_line_naming_it_and_exit_2(
    workdir: Path, s3_server: Recorder
) -> None:
    """Bad environment, not failed units: no traceback, status 2, nothing created."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound and never listening: connections are refused
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
        output = f"s3://{BUCKET}/outputs"
        where = {"--output": output}
        glob = {"--output": "local", "--input": f"s3://{BUCKET}/in", "--units-glob": "*.csv"}
        for command, options, attempts in [
            ("run", where, None),  # the project's own retry settings (a few seconds)
            ("status", where, "1"),  # one attempt each for the rest, to keep the test short
            ("failed", where, "1"),
            ("run", glob, "1"),
        ]:
            env = environment(AWS_ENDPOINT_URL=endpoint, **({"AWS_MAX_ATTEMPTS": attempts} if attempts else {}))
            args = [text for option in options.items() for text in option]
            result = faultkit.cli(command, *args, cwd=workdir, env=env)
            location = options.get("--input", output)
            assert result.returncode == 2, (command, result.stderr[-2000:])
            assert result.stderr.startswith(f"{COMMAND}: error: cannot use {location}: "), command
            assert f'Could not connect to the endpoint URL: "{endpoint}/' in result.stderr
            assert result.stderr.count("\n") == 1 and result.stdout == "", command
    runs = workdir / "runs"
    assert not runs.exists() or not [path for path in runs.iterdir() if path.is_dir()]


def test_inputs_open_and_find_files_below_an_s3_prefix(s3: tuple[Any, str]) -> None:
    fs, prefix = s3
    fs.pipe_file(f"{prefix}/in/day1/a.jsonl", b'{"x": 1}\n')
    fs.pipe_file(f"{prefix}/in/lookup.json", b'{"a": 1}')
    inputs = Inputs(f"s3://{prefix}/in")
    inputs.check()
    assert inputs.find("*/*.jsonl") == ["day1/a.jsonl"]
    assert inputs.read_text("lookup.json") == '{"a": 1}'
    with inputs.open("day1/a.jsonl") as handle:
        assert handle.read() == b'{"x": 1}\n'
    with pytest.raises(UserError, match=f"input location s3://{prefix}/nowhere does not exist"):
        Inputs(f"s3://{prefix}/nowhere").check()
