"""Resume on object storage: requests a resume makes against S3, against one check per unit.

    python bench/bench_s3.py [--quick | --smoke] [--sample 2000] [--json bench/results/s3.json]

A project baked with ``storage=s3`` resumes a run whose 100,000 outputs all exist already, on
a real S3 endpoint: moto's server on 127.0.0.1, through s3fs and botocore over HTTP, behind a
wrapper that counts the requests it receives (the baked project's own ``tests/s3server.py``).
The contender is what a script without a done set does: one existence check (``fs.exists``)
per unit, on a fresh s3fs instance so that no cached listing answers for it. It is timed on
``--sample`` units (at most a tenth of them) and scaled to the whole run (its request count per
unit is measured, and is constant); 100,000 sequential checks would take minutes here.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import fsspec
from _baked import bake, timed_run
from _report import machine, print_table, save

SUFFIX = ".json"


def load_server(root: Path) -> ModuleType:
    """The baked project's S3 test server module (it is a test helper, not part of the package)."""
    spec = importlib.util.spec_from_file_location("s3server", root / "tests" / "s3server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["s3server"] = module
    spec.loader.exec_module(module)
    return module


def checks(prefix: str, sample: int) -> float:
    """Seconds for ``sample`` sequential existence checks on a fresh, uncached s3fs."""
    fs = fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False)
    started = time.perf_counter()
    for i in range(sample):
        if not fs.exists(f"{prefix}/u{i:07d}{SUFFIX}"):
            raise SystemExit(f"bench_s3: seeded output u{i:07d}{SUFFIX} is missing")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10x fewer units")
    size.add_argument("--smoke", action="store_true", help="100x fewer (does it run at all?)")
    parser.add_argument("--sample", type=int, default=2000, help="units the contender checks")
    parser.add_argument("--json", type=Path, default=Path("bench/results/s3.json"))
    args = parser.parse_args()
    count = 100_000 // (100 if args.smoke else 10 if args.quick else 1)
    sample = min(args.sample, max(1, count // 10))
    root, package = bake("Unitwise S3 Bench", storage="s3")
    server = load_server(root)
    work = Path(tempfile.mkdtemp(prefix="unitwise-bench-s3-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    with server.serving() as recorder:
        prefix = f"{server.BUCKET}/outputs"
        started = time.perf_counter()
        server.seed(prefix, (f"u{i:07d}{SUFFIX}" for i in range(count)))
        seeding = time.perf_counter() - started

        recorder.clear()
        ours, summary = timed_run(package, work, count, output=f"s3://{prefix}")
        if (summary.skipped, summary.done, summary.failed) != (count, 0, 0):
            raise SystemExit(f"bench_s3: the resume did not skip every unit: {summary}")
        our_requests = len(recorder.requests)
        our_lists = len(recorder.lists())
        our_objects = len(recorder.object_requests())
        our_server = recorder.busy

        recorder.clear()
        per_sample = checks(prefix, sample)
        their_requests_sample = len(recorder.requests)
        their_server = recorder.busy
    per_unit_requests = their_requests_sample / sample
    theirs = per_sample / sample * count
    theirs_requests = round(per_unit_requests * count)
    results: dict[str, Any] = {
        "machine": machine(),
        "units": count,
        "seed_seconds_in_process": seeding,
        "unitwise": {
            "seconds": ours,
            "server_seconds": our_server,
            "requests": our_requests,
            "list_requests": our_lists,
            "object_requests": our_objects,
        },
        "one_check_per_unit": {
            "sample": sample,
            "sample_seconds": per_sample,
            "sample_requests": their_requests_sample,
            "sample_server_seconds": their_server,
            "requests_per_unit": per_unit_requests,
            "scaled_seconds": theirs,
            "scaled_requests": theirs_requests,
        },
        "ratio_requests": theirs_requests / max(our_requests, 1),
        "ratio_seconds": theirs / ours,
    }
    theirs_server = their_server / sample * count
    rows = [
        ("contender", "requests", "seconds", "of which in the server"),
        (
            f"unitwise resume ({our_lists} list, {our_objects} per-object)",
            f"{our_requests:,}",
            f"{ours:.2f}",
            f"{our_server:.2f}",
        ),
        (
            f"one fs.exists per unit (timed on {sample:,}, scaled)",
            f"{theirs_requests:,}",
            f"{theirs:.1f}",
            f"{theirs_server:.1f}",
        ),
        (
            "ratio",
            f"x{results['ratio_requests']:,.0f} fewer",
            f"x{results['ratio_seconds']:,.1f} faster",
            "",
        ),
    ]
    print(f"resume over {count:,} done outputs on S3 (moto server, s3fs over HTTP)")
    print_table(rows)
    save(args.json, results)


if __name__ == "__main__":
    main()
