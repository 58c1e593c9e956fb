"""One contender of ``bench_cost.py``, run as a fresh process so its whole process tree can be
measured by ``wait4``: ``python bench/_contenders.py NAME UNITS_FILE OUTPUT_FOLDER SPIN_MS``.

Every contender does the same work per unit as the runner's job in ``_cost_job.py``: spin
``SPIN_MS`` of CPU, then commit one empty output file atomically (written under a temporary
name, renamed into place), with ``WORKERS`` worker processes.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from functools import partial

WORKERS = 2


def spin(seconds: float) -> None:
    """Burn ``seconds`` of this process's CPU time (not wall time: on a busy machine a unit
    must cost the same CPU whoever else runs)."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def commit(folder: str, spin_s: float, unit: str) -> str:
    """One unit: the CPU work, then an empty output committed atomically."""
    if spin_s:
        spin(spin_s)
    target = f"{folder}/{unit}.out"
    staged = f"{folder}/.{unit}.out.part"
    with open(staged, "wb"):
        pass
    os.replace(staged, target)
    return target


def chunksize(count: int) -> int:
    """What a careful user passes to a bare pool: a few chunks per worker, 64 at the most."""
    return max(1, min(64, count // (WORKERS * 8)))


def executor(work: Callable[[str], str], units: list[str]) -> None:
    with ProcessPoolExecutor(WORKERS) as pool:
        for _ in pool.map(work, units, chunksize=chunksize(len(units))):
            pass


def pool(work: Callable[[str], str], units: list[str]) -> None:
    import multiprocess

    with multiprocess.Pool(WORKERS) as bare:
        for _ in bare.imap_unordered(work, units, chunksize=chunksize(len(units))):
            pass


def joblib_parallel(work: Callable[[str], str], units: list[str]) -> None:
    import joblib

    joblib.Parallel(n_jobs=WORKERS, batch_size="auto")(joblib.delayed(work)(u) for u in units)


def mpire_pool(work: Callable[[str], str], units: list[str]) -> None:
    from mpire.pool import WorkerPool

    with WorkerPool(n_jobs=WORKERS) as bare:
        for _ in bare.imap_unordered(work, units, chunk_size=chunksize(len(units))):
            pass


CONTENDERS: dict[str, Callable[[Callable[[str], str], list[str]], None]] = {
    "ProcessPoolExecutor": executor,
    "multiprocess.Pool": pool,
    "joblib": joblib_parallel,
    "mpire": mpire_pool,
}


def read_units(path: str) -> Iterable[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle if line.strip()]


def main() -> None:
    name, units_file, folder, spin_ms = sys.argv[1:5]
    os.makedirs(folder, exist_ok=True)
    units = list(read_units(units_file))
    CONTENDERS[name](partial(commit, folder, float(spin_ms) / 1000), units)


if __name__ == "__main__":
    main()
