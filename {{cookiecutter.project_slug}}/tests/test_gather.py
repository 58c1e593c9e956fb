"""``gather``: every done unit's output combined into one file, through the real command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT
from .conftest import cli as example_cli
from .faultkit import cli, command, environment, start, wait_for


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_json_outputs_become_json_lines_with_a_manifest(workdir: Path) -> None:
    assert example_cli("run", "--no-progress", cwd=workdir).returncode == 1  # tile_007 fails
    refused = example_cli("gather", cwd=workdir)
    assert refused.returncode == 2
    assert "gather: 0 units pending and 1 failed (first: tile_007)" in refused.stderr
    assert "--allow-partial" in refused.stderr
    result = workdir / "output-gathered.jsonl"
    assert not result.exists()

    partial = example_cli("gather", "--allow-partial", "--no-progress", cwd=workdir)
    assert partial.returncode == 0, partial.stderr
    records = [json.loads(line) for line in lines(result)]
    assert [r["unit"] for r in records] == [f"tile_{n:03d}" for n in range(12) if n != 7]
    assert records[0] == json.loads((workdir / "output" / "tile_000.json").read_text())
    head, *manifest = map(json.loads, lines(workdir / "output-gathered.jsonl.manifest.jsonl"))
    assert head["units"] == 11 and head["result"] == "output-gathered.jsonl"
    assert [u["unit"] for u in manifest] == [r["unit"] for r in records]
    first = manifest[0]
    stat = (workdir / "output" / "tile_000.json").stat()
    assert (first["size"], first["stamp"]) == (stat.st_size, str(stat.st_mtime_ns))
    [log] = (workdir / "runs").glob("gather-*/run.log")
    events = [line.split()[2] for line in lines(log)]
    assert events == ["START", "END"]
    assert "output=output-gathered.jsonl" in lines(log)[-1]
    assert " END " in partial.stderr and "duration=" in partial.stderr

    before = result.stat().st_mtime_ns
    again = example_cli("gather", "--allow-partial", cwd=workdir)
    assert "gather: up to date (11 units)" in again.stderr
    assert result.stat().st_mtime_ns == before

    csv = workdir / "example" / "inputs" / "tile_007.csv"
    csv.write_text(csv.read_text().replace("n/a", "99.5"))
    retried = example_cli("retry", "--no-progress", cwd=workdir)
    assert retried.returncode == 0
    complete = example_cli("gather", "--no-progress", cwd=workdir)
    assert complete.returncode == 0, complete.stderr
    assert "appended" not in complete.stderr  # tile_007 goes in the middle: a rebuild
    assert [json.loads(line)["unit"] for line in lines(result)] == [
        f"tile_{n:03d}" for n in range(12)
    ]
    # The README's "last run's log" command still names the retry's log after a gather.
    [command] = set(re.findall(r"log=\$\((.+?)\)run\.log", (PROJECT_ROOT / "README.md").read_text()))
    last = subprocess.run(["sh", "-c", command], cwd=workdir, capture_output=True, text=True)
    assert f"log: {last.stdout.strip()}run.log" in retried.stdout


def write_outputs(root: Path, outputs: dict[str, str]) -> None:
    (root / "units.txt").write_text("".join(f"{unit_id}\n" for unit_id in outputs))
    for unit_id, text in outputs.items():
        path = root / "out" / f"{unit_id}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


CSV_ARGS = (
    "gather",
    "--job",
    "tests.gather_jobs:CSV",
    "--units-file",
    "units.txt",
    "--input",
    ".",
    "--output",
    "out",
    "--state",
    "runs",
    "--to",
    "all.csv",
    "--no-progress",
)


def test_csv_outputs_share_one_header_and_a_different_one_is_named(tmp_path: Path) -> None:
    write_outputs(tmp_path, {"b": "x,y\n3,4\n", "a": "x,y\n1,2", "nested/c": "x,y\n5,6\n"})
    done = cli(*CSV_ARGS, cwd=tmp_path, env=environment())
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "all.csv").read_text() == "x,y\n3,4\n1,2\n5,6\n"  # the units' order

    (tmp_path / "out" / "a.csv").write_text("x,z\n7,8\n")
    different = cli(*CSV_ARGS, cwd=tmp_path, env=environment())
    assert different.returncode == 2
    assert "gather: unit a's CSV header 'x,z' differs from unit b's 'x,y'" in different.stderr
    assert (tmp_path / "all.csv").read_text() == "x,y\n3,4\n1,2\n5,6\n"  # the previous result
    left = ["all.csv", "all.csv.manifest.jsonl", "out", "runs", "units.txt"]
    assert sorted(os.listdir(tmp_path)) == left  # no staged file left behind


def gather_log(stderr: str) -> str:
    """The END line a gather echoed."""
    [end] = [line for line in stderr.splitlines() if " END " in line]
    return end


def test_units_added_at_the_end_are_appended_and_anything_else_rebuilds(tmp_path: Path) -> None:
    write_outputs(tmp_path, {"b": "x,y\n3,4\n", "a": "x,y\n1,2\n"})
    first = cli(*CSV_ARGS, cwd=tmp_path, env=environment())
    assert first.returncode == 0, first.stderr
    result = tmp_path / "all.csv"

    write_outputs(tmp_path, {"b": "x,y\n3,4\n", "a": "x,y\n1,2\n", "c": "x,y\n5,6\n"})
    (tmp_path / "out" / "b.csv").touch()  # the same bytes, but not the same stamp...
    rebuilt = cli(*CSV_ARGS, cwd=tmp_path, env=environment())
    assert "appended=" not in gather_log(rebuilt.stderr)  # ...so it rebuilds
    assert result.read_text() == "x,y\n3,4\n1,2\n5,6\n"
    # A second name for this result's file: it keeps its inode (a replaced file's inode
    # number is free for reuse) and shows whether the append wrote into it.
    before = tmp_path / "result-before-append"
    os.link(result, before)

    (tmp_path / "units.txt").write_text("b\na\nc\nd\n")
    (tmp_path / "out" / "d.csv").write_text("x,y\n7,8\n")
    appended = cli(*CSV_ARGS, cwd=tmp_path, env=environment())
    assert appended.returncode == 0, appended.stderr
    assert "units=4 appended=1" in gather_log(appended.stderr)
    assert result.read_text() == "x,y\n3,4\n1,2\n5,6\n7,8\n"
    # A staged copy renamed into place: the previous file is another one, untouched.
    assert not result.samefile(before)
    assert before.read_text() == "x,y\n3,4\n1,2\n5,6\n"
    whole = cli(*CSV_ARGS[:-2], "full.csv", "--no-progress", cwd=tmp_path, env=environment())
    assert whole.returncode == 0, whole.stderr
    assert (tmp_path / "full.csv").read_bytes() == result.read_bytes()
    manifests = [tmp_path / "all.csv.manifest.jsonl", tmp_path / "full.csv.manifest.jsonl"]
    (_, *appended_lines), (_, *whole_lines) = (lines(path) for path in manifests)
    assert appended_lines == whole_lines

    manifest = tmp_path / "all.csv.manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"unit": "a"', '"unit": "A"'))
    (tmp_path / "units.txt").write_text("b\na\nc\nd\ne\n")
    (tmp_path / "out" / "e.csv").write_text("x,y\n9,9\n")
    edited = cli(*CSV_ARGS, cwd=tmp_path, env=environment())  # a manifest edited by hand
    assert edited.returncode == 0, edited.stderr
    assert "appended" not in gather_log(edited.stderr)  # is not trusted: a rebuild
    assert '"unit": "a"' in manifest.read_text()

    (tmp_path / "units.txt").write_text("b\na\nc\nd\ne\nf\n")
    (tmp_path / "out" / "f.csv").write_text("x,z\n9,9\n")
    different = cli(*CSV_ARGS, cwd=tmp_path, env=environment())
    assert "unit f's CSV header 'x,z' differs from unit b's 'x,y'" in different.stderr
    assert result.read_text() == "x,y\n3,4\n1,2\n5,6\n7,8\n9,9\n"  # the previous result


def test_ctrl_c_while_appending_keeps_the_previous_result(tmp_path: Path) -> None:
    write_outputs(tmp_path, {"a": "x,y\n1,2\n"})
    assert cli(*CSV_ARGS, cwd=tmp_path, env=environment()).returncode == 0
    result, manifest = tmp_path / "all.csv", tmp_path / "all.csv.manifest.jsonl"
    previous = (result.read_bytes(), manifest.read_bytes())
    (tmp_path / "units.txt").write_text("a\nb\n")
    os.mkfifo(tmp_path / "out" / "b.csv")  # reading it blocks: the gather stops mid-append
    process = start(*CSV_ARGS, cwd=tmp_path, env=environment())
    try:

        def copied() -> bool:
            for staged in tmp_path.glob(".all.csv.part-*"):
                try:
                    if staged.read_bytes() == previous[0]:
                        return True
                except FileNotFoundError:
                    continue
            return False

        wait_for(copied, 60, "the previous result copied into the staged file")
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, rest
    assert (result.read_bytes(), manifest.read_bytes()) == previous
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []


def test_parquet_outputs_become_one_parquet_file(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    (tmp_path / "units.txt").write_text("a\nb\n")
    (tmp_path / "out").mkdir()
    for unit_id, values in {"a": [1, 2], "b": [3]}.items():
        pq.write_table(pa.table({"v": values}), tmp_path / "out" / f"{unit_id}.parquet")
    args = [arg for arg in CSV_ARGS if arg not in ("tests.gather_jobs:CSV", "all.csv")]
    args[args.index("--job") + 1 : args.index("--job") + 1] = ["tests.gather_jobs:PARQUET"]
    args[args.index("--to") + 1 : args.index("--to") + 1] = ["all.parquet"]
    done = cli(*args, cwd=tmp_path, env=environment())
    assert done.returncode == 0, done.stderr
    assert pq.read_table(tmp_path / "all.parquet").column("v").to_pylist() == [1, 2, 3]


def test_a_user_hook_gathers_folders_and_ctrl_c_keeps_the_previous_result(
    tmp_path: Path,
) -> None:
    inputs = tmp_path / "inputs"
    for name, value in {"a": "1", "b": "2", "c": "3"}.items():
        (inputs / name).mkdir(parents=True)
        (inputs / name / "data.txt").write_text(value)
    where = ["--job", "tests.shape_jobs", "--units-glob", "*/data.txt", "--input", "inputs"]
    where += ["--output", "out", "--state", "runs"]
    run = cli("run", "--no-progress", *where, cwd=tmp_path, env=environment())
    assert run.returncode == 0, run.stderr
    hooked = cli(
        "gather", "--no-progress", *where, "--to", "tables.csv", cwd=tmp_path, env=environment()
    )
    assert hooked.returncode == 0, hooked.stderr
    result = tmp_path / "tables.csv"
    previous = result.read_bytes()
    assert previous == b"unit,data\na/data,1\nb/data,2\nc/data,3\n"

    rerun = ["run", "--no-progress", "--overwrite", *where]
    assert cli(*rerun, cwd=tmp_path, env=environment()).returncode == 0
    process = subprocess.Popen(
        command("gather", "--no-progress", *where, "--to", "tables.csv"),
        cwd=tmp_path,
        env=environment(SHAPES_GATHER_BLOCK="1"),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if "gather hook: blocking" in line:
                break
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, rest
    assert result.read_bytes() == previous
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []
    [log] = [p for p in (tmp_path / "runs").glob("gather-*/run.log") if "STOP" in p.read_text()]
    assert "reason=KeyboardInterrupt" in log.read_text()
{%- if cookiecutter.storage == "s3" %}


def test_gather_on_s3_is_one_listing_and_one_get_per_output(tmp_path: Path) -> None:
    import fsspec

    from .s3server import BUCKET, seed, serving

    with serving() as server:
        fs = fsspec.filesystem("s3")
        prefix = f"{BUCKET}/gather"
        ids = [f"g/u{n:03d}" for n in range(30)]
        for unit_id in ids:
            seed(f"{prefix}/out", [f"{unit_id}.json"], json.dumps({"id": unit_id}).encode())
        (tmp_path / "units.txt").write_text("".join(f"{unit_id}\n" for unit_id in ids))
        args = ["--job", "tests.gather_jobs:JSON", "--units-file", "units.txt"]
        args += ["--input", ".", "--output", f"s3://{prefix}/out", "--state", "runs"]
        server.clear()
        done = cli("gather", "--no-progress", *args, cwd=tmp_path, env=environment())
        assert done.returncode == 0, done.stderr
        methods = [method for method, path, _ in server.requests if "/out/" in path]
        assert methods == ["GET"] * len(ids), server.requests  # one GET each, no HEAD
        # ONE listing of the outputs (another, of the manifest's name, looks for a previous one)
        assert len([r for r in server.lists() if "prefix=gather%2Fout%2F" in r[2]]) == 1
        result = fs.cat_file(f"{prefix}/out-gathered.jsonl").decode().splitlines()
        assert [json.loads(line)["id"] for line in result] == ids
        manifest = fs.cat_file(f"{prefix}/out-gathered.jsonl.manifest.jsonl").splitlines()
        etag = fs.info(f"{prefix}/out/g/u000.json")["ETag"]
        assert json.loads(manifest[1]) == {"unit": "g/u000", "size": 16, "stamp": etag}

        again = cli("gather", "--no-progress", *args, cwd=tmp_path, env=environment())
        assert "up to date (30 units)" in again.stderr

        seed(f"{prefix}/out", ["g/u999.json"], b'{"id": "g/u999"}')
        (tmp_path / "units.txt").write_text("".join(f"{unit_id}\n" for unit_id in ids) + "g/u999\n")
        more = cli("gather", "--no-progress", *args, cwd=tmp_path, env=environment())
        assert more.returncode == 0, more.stderr
        assert "units=31" in more.stderr and "appended" not in more.stderr  # objects: rebuilt
        result = fs.cat_file(f"{prefix}/out-gathered.jsonl").decode().splitlines()
        assert [json.loads(line)["id"] for line in result] == [*ids, "g/u999"]

        # Outputs on object storage, the result in a local file: appended.
        local = ["gather", "--no-progress", *args, "--to", "all.jsonl"]
        assert cli(*local, cwd=tmp_path, env=environment()).returncode == 0
        seed(f"{prefix}/out", ["g/v000.json"], b'{"id": "g/v000"}')
        with (tmp_path / "units.txt").open("a") as units:
            units.write("g/v000\n")
        server.clear()
        appended = cli(*local, cwd=tmp_path, env=environment())
        assert "units=32 appended=1" in appended.stderr, appended.stderr
        gets = [path for method, path, _ in server.requests if method == "GET" and "/out/" in path]
        assert gets == [f"/{prefix}/out/g/v000.json"], gets  # only the new output is read
        result = (tmp_path / "all.jsonl").read_text().splitlines()
        assert [json.loads(line)["id"] for line in result] == [*ids, "g/u999", "g/v000"]
{%- endif %}
