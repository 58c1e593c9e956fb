"""The runner's job in ``bench_cost.py``: the same per-unit work as ``_contenders.commit``
(``UNITWISE_BENCH_SPIN_MS`` of CPU, then one empty output, which the runner commits
atomically). It opens ``unit.output`` as the contenders open their path; ``write_bytes`` would
add pathlib's own ~5 µs per call, a cost of the user's choice of API, not of the runner."""

from __future__ import annotations

import os
import time
from typing import Any

OUTPUT_SUFFIX = ".out"
SPIN_S = float(os.environ.get("UNITWISE_BENCH_SPIN_MS", "0")) / 1000


def process(unit: Any) -> None:
    if SPIN_S:
        end = time.process_time() + SPIN_S
        while time.process_time() < end:
            pass
    with open(unit.output, "wb"):  # what the contenders do with their path
        pass
