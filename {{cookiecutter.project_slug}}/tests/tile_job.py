"""The runner tests' own job, over the runner tests' own data (``tests/data``: 12 CSV tiles,
``tile_007`` malformed on purpose, and a calibration file read once per worker).

The runner's behaviour tests run this job, never ``process.py`` or ``example/``: replacing
the example with your work leaves them meaningful and green.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from {{ cookiecutter.package_name }}.inputs import Inputs
from {{ cookiecutter.package_name }}.log import step
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.units import Unit

OUTPUT_SUFFIX = ".json"

#: (gain, offset) of the calibration.
Calibration = tuple[float, float]


@dataclass(frozen=True)
class Params:
    """The run's parameters (``--param decimals=N``, ``[tool.<package>.params]``)."""

    decimals: int = 6


def setup(settings: Settings) -> Calibration:
    calibration = json.loads(Inputs(settings.input).read_text("calibration.json"))
    return float(calibration["gain"]), float(calibration["offset"])


def process(unit: Unit[Calibration]) -> None:
    gain, offset = unit.resources
    with step("read"):
        path = unit.input(f"{unit.id}.csv")
        rows = path.read_text(encoding="utf-8").splitlines()[1:]
    with step("compute"):
        values = []
        for line, row in enumerate(rows, start=2):
            text = row.partition(",")[2]
            try:
                values.append(gain * float(text) + offset)
            except ValueError:
                raise ValueError(f"{path.name} line {line}: value {text!r} is not a number") from None
        mean = math.fsum(values) / len(values)
    with step("write"):
        decimals = unit.params.decimals
        summary = {"unit": unit.id, "pixels": len(values), "mean": round(mean, decimals)}
        unit.output.write_text(json.dumps(summary) + "\n", encoding="utf-8")
