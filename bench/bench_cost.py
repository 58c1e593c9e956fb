"""The runner's cost per unit against bare pools, and its limits at millions of units.

    python bench/bench_cost.py [--quick | --smoke] [--rounds 3] [--json bench/results/cost.json]

Wall time on a shared 2-core machine swings 2-5x, so the figure that matters is CPU: every
contender runs as a fresh process, the rounds are interleaved (A B C D E, A B C D E, ...), and
the CPU of the whole process tree comes from the kernel (``wait4`` on the contender, then every
orphaned descendant reaped by this process as a sub-reaper, summed from ``RUSAGE_CHILDREN``).
The table reports the minimum and the median of the rounds, and the machine's load before each.

Cases, outputs on tmpfs (``/dev/shm``) so that the file system's cost stays small and equal:

- trivial units: one empty output per unit, committed atomically (temporary name, rename);
  each round also runs every contender over a thousandth of the units, for its start-up CPU
  and the CPU per unit net of it;
- 5 ms units: 5 ms of CPU, then the same commit;
- many units: planning 10,000,000 ids from a units file (time to the first START line, peak
  memory of the run), and a resume over 1,000,000 done outputs.

The runner (a baked project's command line, START/END logged, checkpoint listing, atomic
commit) against a bare ``concurrent.futures.ProcessPoolExecutor``, a bare ``multiprocess.Pool``,
joblib and mpire doing the same per-unit work (``_contenders.py``, ``_cost_job.py``).
"""

from __future__ import annotations

import argparse
import compileall
import ctypes
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from _baked import WORKERS, bake
from _report import machine, print_table, save

BENCH = Path(__file__).resolve().parent
TMPFS = Path("/dev/shm")
RUNNER = "unitwise"
BARE = ["ProcessPoolExecutor", "multiprocess.Pool", "joblib", "mpire"]
PR_SET_CHILD_SUBREAPER = 36
#: A prime that spreads the ids of a shuffled units file (see ``Bench.units_file``).
SPREAD = 1_000_003


@dataclass
class Measure:
    """One contender's run: wall seconds, CPU seconds of its whole tree, peak RSS, load."""

    wall: float
    user: float
    system: float
    max_rss_mb: float
    main_peak_mb: float
    worker_peak_mb: float
    load: float
    exit: int

    @property
    def cpu(self) -> float:
        return self.user + self.system


def become_subreaper() -> None:
    """Adopt the orphans of contenders (a pool's workers outliving their parent), so that their
    CPU is counted too."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans(deadline: float = 30.0) -> None:
    """Wait for every remaining descendant (adopted orphans), ``deadline`` seconds at most."""
    end = time.monotonic() + deadline
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > end:
                raise RuntimeError("a contender left processes running")
            time.sleep(0.01)


def peak_of(pid: int) -> float:
    """The peak resident memory (VmHWM) of process ``pid`` so far, in MiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (workers, a fork server and its children)."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def measure(command: list[str], env: dict[str, str], log: Path, reap: bool = True) -> Measure:
    """Run ``command`` as a fresh process and measure its whole tree.

    ``wait4``'s peak RSS counts the memory of this process at the fork (Linux records the
    pre-``exec`` image's peak), so the main process's peak and its workers' are read from
    their VmHWM while they run instead, every 20 ms. ``reap``: wait for the orphans this
    process adopted as a sub-reaper (see ``become_subreaper``) before reading the CPU.
    """
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    peak = worker_peak = 0.0
    with log.open("wb") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, peak_of(child.pid))
            worker_peak = max([worker_peak, *map(peak_of, descendants(child.pid))])
            time.sleep(0.02)
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if reap:
        reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Measure(
        wall=wall,
        user=after.ru_utime - before.ru_utime,
        system=after.ru_stime - before.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
        main_peak_mb=peak,
        worker_peak_mb=worker_peak,
        load=load,
        exit=child.returncode,
    )


def runner_command(package: str, units: Path, output: Path, state: Path, *extra: str) -> list[str]:
    """A baked project's ``run`` of ``_cost_job`` over ``units`` (its folder as the input)."""
    return [
        sys.executable,
        "-m",
        package,
        "run",
        "--job",
        "_cost_job",
        "--units-file",
        str(units),
        "--input",
        str(units.parent),
        "--output",
        str(output),
        "--state",
        str(state),
        "--workers",
        str(WORKERS),
        "--no-progress",
        *extra,
    ]


def compile_all(source: Path) -> None:
    """Write the byte-code of ``source`` (a folder, recursively, or a file)."""
    if source.is_dir():
        compileall.compile_dir(source, quiet=1)
    else:
        compileall.compile_file(source, quiet=1)


class Bench:
    """The baked project and the folders every contender works in."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.root, package = bake("Unitwise Cost Bench")
        self.package = package.__name__
        # Byte-code compiled once, as ``pip install`` does: with PYTHONDONTWRITEBYTECODE set
        # (as on some machines and in containers) every run would compile the project's
        # modules from source again, ~70 ms of CPU that no installed project pays. The
        # contenders' modules (the standard library's, the venv's) are compiled already.
        for source in (self.root / "src", BENCH / "_cost_job.py"):
            compile_all(source)
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(BENCH), str(self.root / "src")]),
            "PYTHONUNBUFFERED": "1",
        }

    def units_file(self, name: str, count: int, shuffled: bool = False) -> Path:
        """``count`` ids ``u00000000``, ``u00000001``, ... in ascending order, or ``shuffled``
        (a fixed permutation: i -> i * a prime mod ``count``, so no id repeats)."""
        path = self.work / f"{name}.txt"
        spread = SPREAD if shuffled and count % SPREAD else 1
        with path.open("w", encoding="utf-8") as handle:
            step = 100_000
            for start in range(0, count, step):
                end = min(count, start + step)
                handle.write("".join(f"u{i * spread % count:08d}\n" for i in range(start, end)))
        return path

    def runner_command(self, units: Path, output: Path, state: Path, *extra: str) -> list[str]:
        return runner_command(self.package, units, output, state, *extra)

    def run(self, contender: str, units: Path, count: int, spin_ms: float) -> Measure:
        output, state = self.work / "out", self.work / "state"
        for folder in (output, state):
            shutil.rmtree(folder, ignore_errors=True)
        env = {**self.env, "UNITWISE_BENCH_SPIN_MS": str(spin_ms)}
        if contender == RUNNER:
            command = self.runner_command(units, output, state)
        else:
            command = [
                sys.executable,
                str(BENCH / "_contenders.py"),
                contender,
                str(units),
                str(output),
                str(spin_ms),
            ]
        result = measure(command, env, self.work / "contender.log")
        made = sum(1 for _ in os.scandir(output)) if output.is_dir() else 0
        if result.exit != 0 or made != count:
            log = (self.work / "contender.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{contender}: exit {result.exit}, {made}/{count} outputs\n{log}")
        return result


def summarise(runs: list[Measure], count: int) -> dict[str, Any]:
    walls, cpus = [r.wall for r in runs], [r.cpu for r in runs]
    return {
        "rounds": [asdict(r) for r in runs],
        "wall_min_s": min(walls),
        "wall_median_s": statistics.median(walls),
        "cpu_min_s": min(cpus),
        "cpu_median_s": statistics.median(cpus),
        "cpu_us_per_unit_min": min(cpus) / count * 1e6,
        "cpu_us_per_unit_median": statistics.median(cpus) / count * 1e6,
        "load_min": min(r.load for r in runs),
        "load_max": max(r.load for r in runs),
    }


def per_unit_case(
    bench: Bench,
    name: str,
    count: int,
    spin_ms: float,
    rounds: int,
    bare: list[str],
    startup_units: int = 0,
) -> dict[str, Any]:
    """Every contender over the same ``count`` units, interleaved, ``rounds`` times. With
    ``startup_units``, each round also runs every contender over that few units: their CPU is
    the contender's start-up (the interpreter, its imports, its workers), which the CPU per
    unit *net of start-up* leaves out: the cost of one more unit."""
    units = bench.units_file(name, count)
    few = bench.units_file(f"{name}-startup", startup_units) if startup_units else None
    runs: dict[str, list[Measure]] = {c: [] for c in [RUNNER, *bare]}
    starts: dict[str, list[Measure]] = {c: [] for c in runs}
    for _ in range(rounds):
        for contender in runs:
            runs[contender].append(bench.run(contender, units, count, spin_ms))
            if few is not None:
                starts[contender].append(bench.run(contender, few, startup_units, spin_ms))
    case: dict[str, Any] = {"units": count, "spin_ms": spin_ms}
    for contender, measured in runs.items():
        case[contender] = summarise(measured, count)
        if few is not None:
            startup = statistics.median(r.cpu for r in starts[contender])
            case[contender]["startup_cpu_median_s"] = startup
            case[contender]["net_cpu_us_per_unit_median"] = (
                (case[contender]["cpu_median_s"] - startup) / (count - startup_units) * 1e6
            )
    return case


def first_start(state: Path) -> float:
    """The epoch time of the first START line of the run in ``state``."""
    for events in state.rglob("events.jsonl"):
        with events.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("event") == "START":
                    return datetime.fromisoformat(record["ts"]).timestamp()
    raise RuntimeError(f"no START line under {state}")


def planned(bench: Bench, plan: int, shuffled: bool) -> tuple[float, Measure]:
    """A run of ``plan`` ids limited to its first 2,000: seconds to the first START, and the
    whole run's measure (its main-process peak is the planning's)."""
    units = bench.units_file("many", plan, shuffled)
    output, state = bench.work / "many-out", bench.work / "many-state"
    launched = time.time()
    started = measure(
        bench.runner_command(units, output, state, "--limit", "2000"),
        bench.env,
        bench.work / "many.log",
    )
    if started.exit != 0:
        raise RuntimeError((bench.work / "many.log").read_text(errors="replace")[-2000:])
    to_first = first_start(state) - launched
    units.unlink()
    shutil.rmtree(output)
    shutil.rmtree(state)
    return to_first, started


def many_units(bench: Bench, plan: int, resume: int) -> dict[str, Any]:
    """Planning ``plan`` ids, ascending and shuffled (time to the first START, peak RSS of the
    run), and a resume over ``resume`` done outputs (the whole run plans, finds everything
    done, and ends)."""
    to_first, started = planned(bench, plan, False)
    to_first_shuffled, started_shuffled = planned(bench, plan, True)
    output, state = bench.work / "many-out", bench.work / "many-state"

    units = bench.units_file("resume", resume)
    output.mkdir()
    for i in range(resume):
        with open(f"{output}/u{i:08d}.out", "wb"):
            pass
    resumed = measure(
        bench.runner_command(units, output, state), bench.env, bench.work / "resume.log"
    )
    if resumed.exit != 0:
        raise RuntimeError((bench.work / "resume.log").read_text(errors="replace")[-2000:])
    shutil.rmtree(output)
    return {
        "plan_units": plan,
        "plan_first_start_s": to_first,
        "plan_run": asdict(started),
        "plan_shuffled_first_start_s": to_first_shuffled,
        "plan_shuffled_run": asdict(started_shuffled),
        "resume_units": resume,
        "resume_s": resumed.wall,
        "resume_run": asdict(resumed),
    }


CASES = ("trivial", "cpu_5ms", "many")


def ratio(case: dict[str, Any], against: str, key: str) -> float:
    return float(case[RUNNER][key] / case[against][key])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="5-10x fewer units")
    size.add_argument("--smoke", action="store_true", help="does it run at all? (tiny)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (>= 1)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/cost.json"))
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help=f"comma-separated, among {', '.join(CASES)} (default: all)",
    )
    parser.add_argument(
        "--contenders",
        default=",".join(BARE),
        help=f"the bare pools beside unitwise, among {', '.join(BARE)} (default: all; the "
        "goals need ProcessPoolExecutor and multiprocess.Pool)",
    )
    args = parser.parse_args()
    cases = args.cases.split(",")
    bare = args.contenders.split(",")
    if not set(bare) <= set(BARE):
        parser.error(f"--contenders: unknown {sorted(set(bare) - set(BARE))}")
    if not set(cases) <= set(CASES):
        parser.error(f"--cases: unknown {sorted(set(cases) - set(CASES))}")
    trivial, cpu, plan, resume = (
        (500, 40, 50_000, 5_000)
        if args.smoke
        else (20_000, 2_000, 1_000_000, 100_000)
        if args.quick
        else (100_000, 10_000, 10_000_000, 1_000_000)
    )
    become_subreaper()
    base = TMPFS if TMPFS.is_dir() else None
    work = Path(tempfile.mkdtemp(prefix="unitwise-cost-", dir=base))
    try:
        bench = Bench(work)
        results: dict[str, Any] = {
            "machine": machine(workers=WORKERS, outputs_on=str(work)),
            "rounds": args.rounds,
        }
        if "trivial" in cases:
            results["trivial"] = per_unit_case(
                bench,
                "trivial",
                trivial,
                0,
                args.rounds,
                bare,
                startup_units=max(10, trivial // 1000),
            )
        if "cpu_5ms" in cases:
            results["cpu_5ms"] = per_unit_case(bench, "cpu", cpu, 5, args.rounds, bare)
        if "many" in cases:
            results["many"] = many_units(bench, plan, resume)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows: list[tuple[str, ...]] = [
        ("case", "contender", "wall min / median", "CPU us/unit min / median", "load")
    ]
    startup_rows: list[tuple[str, ...]] = [
        ("case", "contender", "start-up CPU (median)", "CPU us/unit net of start-up (median)")
    ]
    for key, label in (("trivial", "trivial units"), ("cpu_5ms", "5 ms units")):
        if key not in results:
            continue
        case = results[key]
        for contender in [RUNNER, *bare]:
            row = case[contender]
            rows.append(
                (
                    f"{case['units']:,} {label}",
                    contender,
                    f"{row['wall_min_s']:.2f} / {row['wall_median_s']:.2f} s",
                    f"{row['cpu_us_per_unit_min']:,.0f} / {row['cpu_us_per_unit_median']:,.0f}",
                    f"{row['load_min']:.1f}-{row['load_max']:.1f}",
                )
            )
            if "startup_cpu_median_s" in row:
                startup_rows.append(
                    (
                        f"{case['units']:,} {label}",
                        contender,
                        f"{row['startup_cpu_median_s'] * 1000:.0f} ms",
                        f"{row['net_cpu_us_per_unit_median']:.1f}",
                    )
                )
    print_table(rows)
    if len(startup_rows) > 1:
        print()
        print_table(startup_rows)

    goals = []
    if "ProcessPoolExecutor" in results.get("trivial", {}):
        trivial_case = results["trivial"]
        goals += [
            (
                "1 trivial: CPU vs ProcessPoolExecutor (median)",
                ratio(trivial_case, "ProcessPoolExecutor", "cpu_median_s"),
                1.3,
            ),
            (
                "1 trivial: CPU net of start-up vs ProcessPoolExecutor (median)",
                ratio(trivial_case, "ProcessPoolExecutor", "net_cpu_us_per_unit_median"),
                1.3,
            ),
            (
                "1 trivial: wall vs ProcessPoolExecutor (min)",
                ratio(trivial_case, "ProcessPoolExecutor", "wall_min_s"),
                1.3,
            ),
        ]
    if "multiprocess.Pool" in results.get("cpu_5ms", {}):
        goals.append(
            (
                "2 5 ms units: CPU vs multiprocess.Pool (median)",
                ratio(results["cpu_5ms"], "multiprocess.Pool", "cpu_median_s"),
                1.05,
            )
        )
    if "many" in results:
        many, plan_label = results["many"], f"{results['many']['plan_units']:,} ids"
        goals += [
            (f"3 first START of {plan_label}, ascending (s)", many["plan_first_start_s"], 10.0),
            (
                f"3 first START of {plan_label}, shuffled (s)",
                many["plan_shuffled_first_start_s"],
                10.0,
            ),
            (
                f"3 main process peak RSS, run of {plan_label} (MiB)",
                max(many["plan_run"]["main_peak_mb"], many["plan_shuffled_run"]["main_peak_mb"]),
                500.0,
            ),
            (f"3 resume over {many['resume_units']:,} done outputs (s)", many["resume_s"], 3.0),
        ]
    results["goals"] = {
        name: {"value": value, "target": target, "met": value <= target}
        for name, value, target in goals
    }
    print()
    print_table(
        [("goal", "measured", "target", "met")]
        + [
            (name, f"{value:.2f}", f"<= {target}", "yes" if value <= target else "NO")
            for name, value, target in goals
        ]
    )
    save(args.json, results)


if __name__ == "__main__":
    main()
