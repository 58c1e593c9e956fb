"""Runner throughput, resume time and memory, against a bare ``multiprocess.Pool``.

    python bench/bench_runner.py [--quick | --smoke] [--json bench/results/runner.json]

Every contender runs in the same process tree on the same machine, and the table reports
ratios, so the numbers stay meaningful on a noisy machine. The runner does full per-unit work:
START and END log lines (human and JSON), an atomic output file per unit, error capture; the
bare pool only computes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import multiprocess
from _baked import WORKERS, bake, timed_run
from _report import machine, print_table, save
from bench_cost import measure, runner_command

#: Where the trivial units also run, to show the runner without the disk's cost.
TMPFS = Path("/dev/shm")


def spin(seconds: float) -> None:
    """Burn CPU for ``seconds`` (not sleep: the point is CPU-bound units)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def bare_trivial(index: int) -> int:
    return index


def bare_cpu(index: int) -> int:
    spin(0.005)
    return index


def bare_write(target: str) -> str:
    """The file-system floor of a trivial unit: create one empty output file, nothing else."""
    with open(target, "wb"):
        pass
    return target


def bare_commit(target: str) -> str:
    """The floor of an atomic commit: an empty file created under a temporary name, renamed."""
    staged = f"{target}.part"
    with open(staged, "wb"):
        pass
    os.replace(staged, target)
    return target


def bare_pool_writing(folder: Path, count: int, atomic: bool = False) -> float:
    """Seconds for a bare pool to create ``count`` empty files (``atomic``: and rename each)."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with multiprocess.Pool(WORKERS) as pool:
        chunksize = max(1, min(64, count // (WORKERS * 8)))
        targets = (str(folder / f"u{i:07d}.out") for i in range(count))
        write = bare_commit if atomic else bare_write
        for _ in pool.imap_unordered(write, targets, chunksize=chunksize):
            pass
    return time.perf_counter() - started


def bare_pool(function: Callable[[int], int], count: int) -> float:
    started = time.perf_counter()
    with multiprocess.Pool(WORKERS) as pool:
        chunksize = max(1, min(64, count // (WORKERS * 8)))
        for _ in pool.imap_unordered(function, range(count), chunksize=chunksize):
            pass
    return time.perf_counter() - started


def joblib_run(function: Callable[[int], int], count: int) -> float | None:
    try:
        import joblib
    except ImportError:
        return None
    started = time.perf_counter()
    joblib.Parallel(n_jobs=WORKERS, batch_size="auto")(
        joblib.delayed(function)(i) for i in range(count)
    )
    return time.perf_counter() - started


def _timed_run(
    package: Any, work: Path, count: int, process: Callable[[Any], None]
) -> tuple[float, Any]:
    """Wall seconds and summary of one run of the baked runner with ``process`` as the job."""
    worker = importlib.import_module(f"{package.__name__}.worker")
    return timed_run(package, work, count, job=worker.Job(process, no_setup, ".out"))


def ours(package: Any, work: Path, count: int, cpu: bool) -> tuple[float, dict[str, Any]]:
    """Run ``count`` units with the baked runner; returns wall seconds and the summary."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    seconds, summary = _timed_run(package, work, count, cpu_process if cpu else trivial_process)
    assert summary.done == count, summary
    return seconds, {"done": summary.done, "log": summary.log}


def trivial_process(unit: Any) -> None:
    unit.output.write_bytes(b"")


def cpu_process(unit: Any) -> None:
    spin(0.005)
    unit.output.write_bytes(b"")


def no_setup(settings: Any) -> None:
    return None


def resume(package: Any, work: Path, count: int) -> float:
    """Seconds for a run over units that are all done already (work must hold a full run)."""
    seconds, summary = _timed_run(package, work, count, trivial_process)
    assert summary.done == 0 and summary.skipped > 0, summary
    return seconds


def memory(root: Path, count: int) -> dict[str, float]:
    """Peak RSS of the main process and of the largest worker of a fresh runner process over
    ``count`` trivial units, from their own VmHWM (measured in this process, the benchmark's
    own imports would hide the runner's growth)."""
    work = Path(tempfile.mkdtemp(prefix="unitwise-bench-mem-"))
    units = work / "units.txt"
    units.write_text("".join(f"u{i:07d}\n" for i in range(count)))
    package = root.name.replace("-", "_")
    command = runner_command(package, units, work / "out", work / "runs")
    bench = str(Path(__file__).resolve().parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([bench, str(root / "src")])}
    run = measure(command, env, work / "run.out", reap=False)
    shutil.rmtree(work, ignore_errors=True)
    if run.exit != 0:
        raise RuntimeError(f"the runner exited {run.exit} over {count} units")
    return {"parent_mb": run.main_peak_mb, "worker_mb": run.worker_peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10x fewer units")
    size.add_argument("--smoke", action="store_true", help="100x fewer (does it run at all?)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/runner.json"))
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where outputs go (default: a temp folder)"
    )
    args = parser.parse_args()
    scale = 100 if args.smoke else 10 if args.quick else 1
    root, package = bake("Unitwise Bench Project")
    work = Path(tempfile.mkdtemp(prefix="unitwise-bench-work-", dir=args.workdir))
    results: dict[str, Any] = {"machine": machine(workers=WORKERS)}
    rows: list[tuple[str, str, str, str]] = []

    trivial = 100_000 // scale
    bare = bare_pool(bare_trivial, trivial)
    lib = joblib_run(bare_trivial, trivial)
    results["trivial"] = {"units": trivial, "bare_pool_s": bare, "joblib_s": lib}
    places = [("disk", work)]
    if TMPFS.is_dir() and TMPFS not in work.parents:
        places.append(("tmpfs", Path(tempfile.mkdtemp(prefix="unitwise-bench-", dir=TMPFS))))
    for label, folder in places:
        # Floors: what a bare pool pays to create one empty file per unit, and to commit one
        # atomically (create + rename, as the runner does), measured before and after the
        # runner: a virtual disk's speed drifts by 2x within minutes.
        create = bare_pool_writing(folder / "create", trivial)
        before = bare_pool_writing(folder / "commit-before", trivial, atomic=True)
        mine, _ = ours(package, folder / "trivial", trivial, cpu=False)
        after = bare_pool_writing(folder / "commit-after", trivial, atomic=True)
        floor = (before + after) / 2
        results["trivial"][label] = {
            "folder": str(folder),
            "bare_pool_create_s": create,
            "bare_pool_commit_before_s": before,
            "bare_pool_commit_after_s": after,
            "unitwise_s": mine,
            "unitwise_units_per_s": trivial / mine,
            "ratio_vs_bare": mine / bare,
            "ratio_vs_commit_floor": mine / floor,
        }
        rows.append(
            (
                f"{trivial:,} trivial units, outputs on {label}",
                f"{bare:.2f} s",
                f"{mine:.2f} s",
                f"{trivial / mine:,.0f} units/s (target >= 20,000); x{mine / bare:.1f} bare",
            )
        )
        rows.append(
            (
                f"  bare Pool, one empty file per unit, on {label}",
                f"{create:.2f} s",
                "-",
                f"{trivial / create:,.0f} files/s",
            )
        )
        rows.append(
            (
                f"  bare Pool, create + rename per unit, on {label}",
                f"{before:.2f} / {after:.2f} s",
                "-",
                f"before / after: {trivial / before:,.0f} / {trivial / after:,.0f} files/s; "
                f"unitwise x{mine / floor:.1f}",
            )
        )
    cpu = 10_000 // scale
    bare = bare_pool(bare_cpu, cpu)
    lib = joblib_run(bare_cpu, cpu)
    results["cpu_5ms"] = {"units": cpu, "bare_pool_s": bare, "joblib_s": lib}
    for label, folder in places:
        mine, _ = ours(package, folder / "cpu", cpu, cpu=True)
        results["cpu_5ms"][label] = {"unitwise_s": mine, "ratio_vs_bare": mine / bare}
        rows.append(
            (
                f"{cpu:,} units of 5 ms CPU, outputs on {label}",
                f"{bare:.2f} s",
                f"{mine:.2f} s",
                f"x{mine / bare:.2f} bare (target <= 1.10)",
            )
        )
    for _, folder in places[1:]:
        shutil.rmtree(folder, ignore_errors=True)

    seconds = resume(package, work / "trivial", trivial)
    results["resume"] = {"units": trivial, "seconds": seconds}
    rows.append((f"resume over {trivial:,} done units", "-", f"{seconds:.2f} s", "target < 2 s"))

    few, many = min(1_000, 100_000 // scale // 5), 100_000 // scale
    small, large = memory(root, few), memory(root, many)
    results["memory"] = {str(few): small, str(many): large}
    rows.append(
        (
            f"peak RSS parent {few:,} / {many:,} units",
            "-",
            f"{small['parent_mb']:.0f} / {large['parent_mb']:.0f} MiB",
            "target: flat",
        )
    )
    rows.append(
        (
            f"peak RSS worker {few:,} / {many:,} units",
            "-",
            f"{small['worker_mb']:.0f} / {large['worker_mb']:.0f} MiB",
            "target: flat",
        )
    )

    print_table([("case", "bare Pool", "unitwise", "result"), *rows])
    save(args.json, results)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
