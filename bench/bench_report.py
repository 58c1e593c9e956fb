"""The report over a big run: seconds to read the logs and draw the page, and its size.

    python bench/bench_report.py [--quick | --smoke] [--json bench/results/report.json]

A project baked with the defaults runs 100,000 units (three timed steps each, 0.3% failing
with two causes) with its real runner on 2 workers, then its ``report`` reads that run's logs
and writes the page and the figures, in this process: the seconds to import matplotlib, to
read the logs into the report's model, and to draw and write everything are measured apart.
The page must stay small whatever the number of units (the timeline merges bars beyond a
bound and says so), so its size is reported with the number of bars drawn.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _baked import WORKERS, bake, timed_run
from _report import machine, print_table, save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10x fewer units")
    size.add_argument("--smoke", action="store_true", help="100x fewer (does it run at all?)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/report.json"))
    args = parser.parse_args()
    count = 100_000 // (100 if args.smoke else 10 if args.quick else 1)
    root, package = bake("Unitwise Report Bench")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _report_job

    worker = importlib.import_module(f"{package.__name__}.worker")
    job = worker.Job(_report_job.process, lambda settings: None, _report_job.OUTPUT_SUFFIX)
    work = Path(tempfile.mkdtemp(prefix="unitwise-bench-report-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    (work / "in").mkdir()
    run_seconds, summary = timed_run(package, work, count, job=job)
    expected_failures = sum(1 for i in range(count) if i % 500 == 499 or i % 777 == 776)
    if (summary.done + summary.failed, summary.failed) != (count, expected_failures):
        raise SystemExit(f"bench_report: the run did not do what it should: {summary}")

    started, cpu = time.perf_counter(), time.process_time()
    importlib.import_module("matplotlib.figure")
    import_seconds = time.perf_counter() - started
    import_cpu = time.process_time() - cpu
    report = importlib.import_module(f"{package.__name__}.report")
    model_module = importlib.import_module(f"{package.__name__}.report.model")
    source_module = importlib.import_module(f"{package.__name__}.report.source")
    started, cpu = time.perf_counter(), time.process_time()
    model = model_module.read(source_module.StateSource(str(work / "runs")), time.time())
    read_seconds = time.perf_counter() - started
    read_cpu = time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    written = report.write(str(work / "runs"), work / "report", "bench", "-")
    write_seconds = time.perf_counter() - started
    write_cpu = time.process_time() - cpu
    if len(model.attempts) != count or len(model.failures) != expected_failures:
        raise SystemExit("bench_report: the report's model does not count every unit")
    html = written.html.read_text(encoding="utf-8")
    merged = "drawn as one bar" in html
    html_bytes = written.html.stat().st_size
    png_bytes = sum(path.stat().st_size for path in written.pngs)
    results: dict[str, Any] = {
        "machine": machine(),
        "units": count,
        "workers": WORKERS,
        "failures": expected_failures,
        "run_seconds": run_seconds,
        "import_matplotlib_seconds": import_seconds,
        "import_matplotlib_cpu_seconds": import_cpu,
        "read_seconds": read_seconds,
        "read_cpu_seconds": read_cpu,
        "write_seconds": write_seconds,
        "write_cpu_seconds": write_cpu,
        "html_bytes": html_bytes,
        "png_bytes": png_bytes,
        "figures": len(written.pngs),
        "timeline_merged": merged,
    }
    print(f"report of one run of {count:,} units ({expected_failures:,} failed), {root.name}")
    print_table(
        [
            ["step", "wall s", "CPU s", "what"],
            ["import matplotlib", f"{import_seconds:.2f}", f"{import_cpu:.2f}", "once a command"],
            ["read logs", f"{read_seconds:.2f}", f"{read_cpu:.2f}", "both logs -> model"],
            ["read, draw, write", f"{write_seconds:.2f}", f"{write_cpu:.2f}", "PNGs and page"],
            ["page size", f"{html_bytes / 2**20:.2f} MiB", "", "timeline merged" if merged else ""],
        ]
    )
    save(args.json, results)


if __name__ == "__main__":
    main()
