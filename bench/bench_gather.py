"""Harvest and provenance: ``gather`` over many small JSON outputs, and a resume that checks
every done output's provenance.

    python bench/bench_gather.py [--quick | --smoke] [--json bench/results/gather.json]

1. ``gather`` of 1,000 and of 100,000 small JSON outputs into one JSON Lines file, each in a
   fresh process of a baked project (its peak RSS: ``VmHWM``, not ``ru_maxrss``, which on
   Linux keeps the forking parent's peak across ``exec``), against a bare Python loop
   doing the same work: read every file in id order, ``json.loads``, ``json.dumps`` one line,
   write one file. Then 1% more outputs, added at the end of the units: the gather appends
   them to a copy of its previous result (the bare loop redoes everything; both files are
   checked equal).
2. The same gather on object storage (moto's S3 server on 127.0.0.1, the baked project's
   ``tests/s3server.py``), counting the requests the server receives: one listing (per 1,000
   objects) plus one GET per output, and no HEAD. S3 reads go through HTTP one by one, so it
   runs on 2,000 outputs (``--smoke``: 100).
3. ``run --rerun-stale`` over 100,000 done outputs whose provenance is recorded: the resume
   lists the outputs once and reads the project's records; nothing is redone.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _baked import bake
from _report import print_table, save

#: Ends both children: their own peak memory, in MiB.
PEAK = """
def peak_mib() -> float:
    # VmHWM: this process's own peak (ru_maxrss keeps the forking parent's across exec).
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

GATHER_CHILD = """
import json, resource, sys, time
from {package}.gather import gather
from {package}.settings import Settings
from {package}.worker import Job
from {package}.units import Unit

def never(unit: Unit[None]) -> None:
    raise AssertionError

settings = Settings(input=sys.argv[1], output=sys.argv[2], state=sys.argv[3],
                    units_file=sys.argv[4], progress=False)
started = time.perf_counter()
result = gather(settings, Job(never, lambda s: None, ".json"), target=sys.argv[5])
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "units": result.units, "appended": result.appended,
                  "peak_mib": peak_mib()}}))
"""

BARE_CHILD = """
import json, os, resource, sys, time
started = time.perf_counter()
folder = sys.argv[1]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as handle:
            value = json.loads(handle.read())
        out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\\n")
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mib": peak_mib()}))
"""


def make_outputs(folder: Path, count: int, start: int = 0) -> Path:
    """``count`` small JSON outputs (numbered from ``start``) and the units file naming all."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        record = {"unit": f"u{i:07d}", "value": i, "mean": i / 7}
        (folder / f"u{i:07d}.json").write_text(json.dumps(record))  # noqa: UW202 - fixtures, made fresh
    units = folder.parent / "units.txt"
    units.write_text("".join(f"u{i:07d}\n" for i in range(start + count)))
    return units


def child(code: str, args: list[str], root: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    result = subprocess.run(
        [sys.executable, "-c", PEAK + code, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench_gather: child failed:\n{result.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def local_gather(root: Path, package: str, work: Path, count: int) -> dict[str, Any]:
    case = work / f"local-{count}"
    units = make_outputs(case / "out", count)
    args = [str(case), str(case / "out"), str(case / "runs"), str(units)]
    ours = child(GATHER_CHILD.format(package=package), [*args, str(case / "all.jsonl")], root)
    bare = child(BARE_CHILD, [str(case / "out"), str(case / "bare.jsonl")], root)
    if ours["units"] != count:
        raise SystemExit(f"bench_gather: gathered {ours['units']} of {count}")
    if (case / "all.jsonl").read_bytes() != (case / "bare.jsonl").read_bytes():
        raise SystemExit("bench_gather: gather and the bare loop wrote different files")
    added = max(1, count // 100)
    make_outputs(case / "out", added, start=count)
    more = child(GATHER_CHILD.format(package=package), [*args, str(case / "all.jsonl")], root)
    bare_more = child(BARE_CHILD, [str(case / "out"), str(case / "bare.jsonl")], root)
    if more["appended"] != added or more["units"] != count + added:
        raise SystemExit(f"bench_gather: appended {more['appended']} of {added}")
    if (case / "all.jsonl").read_bytes() != (case / "bare.jsonl").read_bytes():
        raise SystemExit("bench_gather: the appended result differs from the bare loop's")
    shutil.rmtree(case)
    return {
        "units": count,
        "seconds": ours["seconds"],
        "peak_mib": ours["peak_mib"],
        "bare_seconds": bare["seconds"],
        "bare_peak_mib": bare["peak_mib"],
        "ratio_vs_bare": ours["seconds"] / bare["seconds"],
        "appended": added,
        "append_seconds": more["seconds"],
        "append_peak_mib": more["peak_mib"],
        "bare_seconds_after": bare_more["seconds"],
    }


def s3_gather(root: Path, package: Any, work: Path, count: int) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("s3server", root / "tests" / "s3server.py")
    assert spec is not None and spec.loader is not None
    server = importlib.util.module_from_spec(spec)
    sys.modules["s3server"] = server
    spec.loader.exec_module(server)
    gather = importlib.import_module(f"{package.__name__}.gather")
    settings_module = importlib.import_module(f"{package.__name__}.settings")
    worker = importlib.import_module(f"{package.__name__}.worker")
    units = work / "s3-units.txt"
    units.write_text("".join(f"u{i:07d}\n" for i in range(count)))
    with server.serving() as recorder:
        prefix = f"{server.BUCKET}/gather"
        for i in range(count):
            server.seed(f"{prefix}/out", [f"u{i:07d}.json"], json.dumps({"value": i}).encode())
        settings = settings_module.Settings(
            input=str(work),
            output=f"s3://{prefix}/out",
            state=str(work / "s3-runs"),
            units_file=str(units),
            progress=False,
        )
        job = worker.Job(lambda unit: None, lambda s: None, ".json")
        recorder.clear()
        started = time.perf_counter()
        result = gather.gather(settings, job, target=f"s3://{prefix}/all.jsonl")
        seconds = time.perf_counter() - started
        on_outputs = [r for r in recorder.requests if "/gather/out/" in r[1]]
        listings = [r for r in recorder.lists() if "prefix=gather%2Fout%2F" in r[2]]
        return {
            "units": result.units,
            "seconds": seconds,
            "list_requests": len(listings),
            "get_requests": sum(1 for r in on_outputs if r[0] == "GET"),
            "head_requests": sum(1 for r in on_outputs if r[0] == "HEAD"),
            "other_requests": sum(1 for r in on_outputs if r[0] not in ("GET", "HEAD")),
        }


def resume_with_provenance(package: Any, work: Path, count: int) -> dict[str, Any]:
    """A run over ``count`` units whose outputs exist and whose provenance a previous run
    recorded, with ``--rerun-stale``: nothing is stale, nothing is redone."""
    runner = importlib.import_module(f"{package.__name__}.runner")
    settings_module = importlib.import_module(f"{package.__name__}.settings")
    params = importlib.import_module(f"{package.__name__}.params")
    provenance = importlib.import_module(f"{package.__name__}.provenance")
    worker = importlib.import_module(f"{package.__name__}.worker")
    case = work / "resume"
    units = make_outputs(case / "out", count)
    settings = settings_module.Settings(
        input=str(case),
        output=str(case / "out"),
        state=str(case / "runs"),
        units_file=str(units),
        workers=2,
        progress=False,
        rerun_stale=True,
    )
    job = worker.default_job()
    bound = params.bind(settings, job.params)
    record = provenance.describe(job.process, bound.params, "20000101T000000.000Z-1")
    ledger = provenance.Ledger(case / "runs" / "20000101T000000.000Z-1", record)
    for i in range(count):
        ledger.add(f"u{i:07d}")
    ledger.close()
    started = time.perf_counter()
    summary = runner.run(settings, echo=lambda line: None)
    seconds = time.perf_counter() - started
    if (summary.skipped, summary.done, summary.failed) != (count, 0, 0):
        raise SystemExit(f"bench_gather: the resume redid units: {summary}")
    return {"units": count, "seconds": seconds, "skipped": summary.skipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10x fewer units")
    size.add_argument("--smoke", action="store_true", help="100x fewer (does it run at all?)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/gather.json"))
    args = parser.parse_args()
    scale = 100 if args.smoke else 10 if args.quick else 1
    small, large, s3_count = 1_000 // scale, 100_000 // scale, 2_000 // scale
    root, package = bake("Unitwise Gather Bench", storage="s3")
    work = Path(tempfile.mkdtemp(prefix="unitwise-bench-gather-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)

    local = {str(n): local_gather(root, package.__name__, work, n) for n in (small, large)}
    s3 = s3_gather(root, package, work, s3_count)
    resume = resume_with_provenance(package, work, large)

    rows = [["case", "units", "seconds", "peak RSS MiB", "bare loop s", "x bare"]]
    appends = [["append to the result", "units + added", "seconds", "peak RSS MiB", "bare loop s"]]
    for count, row in local.items():
        rows.append(
            [
                "gather, local",
                count,
                f"{row['seconds']:.2f}",
                f"{row['peak_mib']:.1f}",
                f"{row['bare_seconds']:.2f}",
                f"{row['ratio_vs_bare']:.2f}",
            ]
        )
        appends.append(
            [
                "gather, local, appending",
                f"{count} + {row['appended']}",
                f"{row['append_seconds']:.2f}",
                f"{row['append_peak_mib']:.1f}",
                f"{row['bare_seconds_after']:.2f}",
            ]
        )
    print_table(rows)
    print()
    print_table(appends)
    print(
        f"\ngather on S3, {s3['units']} outputs: {s3['seconds']:.2f} s, "
        f"{s3['list_requests']} list, {s3['get_requests']} GET, {s3['head_requests']} HEAD, "
        f"{s3['other_requests']} other requests on the outputs"
    )
    print(
        f"resume with --rerun-stale over {resume['units']} done outputs with provenance: "
        f"{resume['seconds']:.2f} s"
    )
    save(
        args.json,
        {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "local": local,
            "s3": s3,
            "resume": resume,
        },
    )


if __name__ == "__main__":
    main()
