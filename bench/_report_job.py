"""The job of ``bench_report.py``: three timed steps per unit, and failures with two causes
(every 500th unit a ValueError, every 777th a KeyError), so every part of the report is drawn.
It runs in the project ``bench_report.py`` bakes, whose package is ``PACKAGE``."""

from __future__ import annotations

import importlib
from typing import Any

PACKAGE = "unitwise_report_bench"
OUTPUT_SUFFIX = ".out"
step = importlib.import_module(f"{PACKAGE}.log").step


def process(unit: Any) -> None:
    number = int(unit.id[1:])
    with step("read"):
        if number % 500 == 499:
            raise ValueError(f"{unit.id}: a value is not a number")
    with step("compute"):
        if number % 777 == 776:
            raise KeyError(unit.id)
    with step("write"):
        unit.output.write_bytes(b"")
