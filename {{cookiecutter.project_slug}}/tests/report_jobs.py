"""A job for ``test_report.py``: timed steps, a slow unit, failures with different causes, and
units that wait at a gate so that a run can be caught in the middle.

A unit's id says what it does:

- ``slow-*``: spends ``SLOW_SECONDS`` in its ``compute`` step (the slowest unit);
- ``bad-*``: raises ``ValueError`` in ``read``;
- ``gone-*``: reads an input that does not exist (``FileNotFoundError [Errno 2]``);
- ``hold-*``: when ``REPORT_GATE`` names a file, waits until it exists, so a run stays in the
  middle; else like the others;
- anything else: ``read``, ``compute`` and ``write`` steps, a few milliseconds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from {{ cookiecutter.package_name }}.log import step
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.units import Unit
from {{ cookiecutter.package_name }}.worker import Job

SLOW_SECONDS = 0.3


def setup(settings: Settings) -> None:
    return None


def gated(unit: Unit[None]) -> None:
    kind = unit.id.split("-", 1)[0]
    with step("read"):
        if kind == "bad":
            raise ValueError(f"{unit.id}: a value is not a number")
        if kind == "gone":
            unit.input(f"{unit.id}.csv").read_bytes()
    gate = os.environ.get("REPORT_GATE")
    if kind == "hold" and gate:
        while not Path(gate).exists():
            time.sleep(0.05)
    with step("compute"):
        time.sleep(SLOW_SECONDS if kind == "slow" else 0.005)
    with step("write"):
        unit.output.write_text(unit.id, encoding="utf-8")


GATED = Job(gated, setup, ".txt")
