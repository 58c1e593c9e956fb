"""unitwise-lint against the bare libcst parse and other linters, on the standard library.

    python bench/bench_linter.py [--quick | --smoke] [--json bench/results/linter.json]

The corpus is every ``.py`` file of the running Python's standard library, tests excluded.
Every contender runs in its own subprocess, in the same run, on the same files; the table
reports each one's wall time and its ratio to the bare parse (the floor for any libcst-based
tool). Linters that are not installed are reported as such (``pip install fixit pylint flake8
flake8-bugbear`` to include them).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import save

TEST_PARTS = {"test", "tests", "idle_test", "unittest", "__pycache__", "site-packages"}


def corpus(every: int) -> list[Path]:
    """The standard library's own ``.py`` files, tests excluded."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        path
        for path in root.rglob("*.py")
        if not TEST_PARTS.intersection(path.relative_to(root).parts)
        and not path.name.startswith("test_")
    )
    return files[::every]


PARSE_ONLY = """
import sys, time, libcst
paths = sys.argv[1:]
sources = []
for path in paths:
    with open(path, "rb") as handle:
        sources.append(handle.read())
started, cpu = time.perf_counter(), time.process_time()
failed = 0
for source in sources:
    try:
        libcst.parse_module(source)
    except Exception:
        failed += 1
print(time.perf_counter() - started, time.process_time() - cpu, failed)
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, int, str, float]:
    """Wall seconds, exit status, the last line of output and the CPU seconds of a command
    (its worker processes included). On a shared machine, CPU time is the fair measure."""
    started, cpu = time.perf_counter(), _children_cpu()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    tail = (result.stdout.strip().splitlines() or [""])[-1][:80]
    return seconds, result.returncode, tail, _children_cpu() - cpu


def installed(module: str) -> bool:
    return (
        subprocess.run(
            [sys.executable, "-c", f"import {module}"], capture_output=True, check=False
        ).returncode
        == 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="every tenth file only")
    size.add_argument("--smoke", action="store_true", help="every 50th (does it run at all?)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/linter.json"))
    parser.add_argument(
        "--only-unitwise", action="store_true", help="skip the other linters (Fixit takes minutes)"
    )
    args = parser.parse_args()
    files = corpus(50 if args.smoke else 10 if args.quick else 1)
    work = Path(tempfile.mkdtemp(prefix="unitwise-bench-lint-"))
    # Copies, so that every tool sees ordinary project files (Fixit skips files inside an
    # installed Python), with their folders kept so that same-named modules stay apart.
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    copies = []
    for path in files:
        copy = work / "corpus" / path.relative_to(stdlib)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        copies.append(copy)
    names = [str(path) for path in copies]
    jobs = os.cpu_count() or 1
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": jobs,
        },
        "files": len(files),
        "lines": sum(path.read_bytes().count(b"\n") for path in files),
    }
    rows: dict[str, dict[str, Any]] = {}

    out = subprocess.run(
        [sys.executable, "-c", PARSE_ONLY, *names], capture_output=True, text=True, check=True
    ).stdout.split()
    parse, parse_cpu = float(out[0]), float(out[1])
    rows["libcst.parse_module (1 process)"] = {
        "seconds": parse,
        "cpu_seconds": parse_cpu,
        "note": f"{out[2]} unparsable",
    }

    lint = [sys.executable, "-m", "unitwise_lint", "check", "--select", "ALL", "--statistics"]
    cache = work / "cache"
    for label, extra in [
        ("unitwise-lint --jobs 1", ["--jobs", "1", "--no-cache"]),
        (f"unitwise-lint --jobs {jobs}", ["--jobs", str(jobs), "--no-cache"]),
    ]:
        seconds, status, tail, cpu = timed([*lint, *extra, *names], work)
        rows[label] = {"seconds": seconds, "cpu_seconds": cpu, "exit": status, "note": tail}
    env_cache = ["--cache-dir", str(cache)]
    timed([*lint, "--jobs", str(jobs), *env_cache, *names], work)  # fill the cache
    seconds, status, tail, cpu = timed([*lint, "--jobs", str(jobs), *env_cache, *names], work)
    rows["unitwise-lint, second run (cache)"] = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "exit": status,
    }

    if args.only_unitwise:
        pass
    elif installed("fixit"):
        seconds, status, tail, cpu = timed([sys.executable, "-m", "fixit", "lint", *names], work)
        rows["fixit lint (default rules)"] = {"seconds": seconds, "exit": status}
    else:
        rows["fixit lint (default rules)"] = {"seconds": None, "note": "not installed"}
    if args.only_unitwise:
        pass
    elif installed("pylint"):
        command = [
            sys.executable,
            "-m",
            "pylint",
            "--disable=all",
            "--enable=W0702,W0718,W0603",
            f"--jobs={jobs}",
            *names,
        ]
        seconds, status, tail, cpu = timed(command, work)
        rows["pylint W0702,W0718,W0603"] = {"seconds": seconds, "exit": status}
    else:
        rows["pylint W0702,W0718,W0603"] = {"seconds": None, "note": "not installed"}
    if args.only_unitwise:
        pass
    elif installed("flake8"):
        command = [sys.executable, "-m", "flake8", "--select=E722,B001", f"--jobs={jobs}", *names]
        seconds, status, tail, cpu = timed(command, work)
        rows["flake8 E722,B001"] = {"seconds": seconds, "exit": status}
    else:
        rows["flake8 E722,B001"] = {"seconds": None, "note": "not installed"}

    print(f"{results['files']} files, {results['lines']:,} lines of the standard library")
    print(f"{'contender':<40} {'seconds':>9} {'x parse':>8} {'CPU s':>8} {'CPU x parse':>11}")
    for label, row in rows.items():
        seconds = row["seconds"]
        if seconds is None:
            print(f"{label:<40} {'-':>9} {'-':>8}  {row.get('note', '')}")
            continue
        row["ratio_to_parse"] = seconds / parse
        cpu_cells = f"{'-':>8} {'-':>11}"
        if row.get("cpu_seconds") is not None:
            row["cpu_ratio_to_parse"] = row["cpu_seconds"] / parse_cpu
            cpu_cells = f"{row['cpu_seconds']:8.2f} {row['cpu_ratio_to_parse']:11.2f}"
        print(
            f"{label:<40} {seconds:9.2f} {seconds / parse:8.2f} {cpu_cells}  {row.get('note', '')}"
        )
    results["contenders"] = rows
    save(args.json, results)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
