"""The independent process: the one module you edit.

``process`` receives ONE unit, reads only that unit's input, writes only that unit's output
and shares nothing with other units, so any number of them can run at once, anywhere, and a
re-run skips the ones whose output exists. ``setup`` loads what every unit needs to read but
never changes, once per worker process - not as a module-level global (copied into every
worker, loaded at import) and not once per unit (slow).

The example: each unit is a tile, a CSV of pixel values; its output is a JSON summary of the
calibrated values. One example tile holds a malformed value on purpose, to show that one bad
unit fails alone and lands in the retry list.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

from . import transient
from .inputs import Inputs
from .log import step
from .settings import Settings
from .units import Unit

#: A unit's output is ``<output>/<unit id><OUTPUT_SUFFIX>``: it exists if and only if the unit
#: is done.
OUTPUT_SUFFIX = ".json"
#: ``"file"``: ``unit.output`` is one file; ``"folder"``: a folder to write several files into
#: (complete once ``_SUCCESS`` is in it). A unit with nothing to write calls ``unit.skip(why)``.
OUTPUT_SHAPE = "file"


@dataclass(frozen=True)
class Params:
    """The run's parameters: defaults here, overridden by ``[tool.{{ cookiecutter.package_name }}.params]`` in
    pyproject.toml and then by ``--param KEY=VALUE``. Changing one makes existing outputs stale."""

    #: Decimal places of the mean and standard deviation.
    decimals: int = 6


@dataclass(frozen=True)
class Resources:
    """Read-only things every unit needs, loaded once per worker by ``setup``."""

    gain: float
    offset: float


def setup(settings: Settings) -> Resources:
    """Load the calibration once per worker process. ``Inputs`` reads below the input
    location, a local folder or a URL alike (``Path(settings.input)`` would not)."""
    calibration = json.loads(Inputs(settings.input).read_text("calibration.json"))
    return Resources(gain=float(calibration["gain"]), offset=float(calibration["offset"]))


def read_values(path: Path) -> list[float]:
    """The ``value`` column of a tile; a value that is not a number names its line."""
    values: list[float] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                values.append(float(row["value"]))
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path.name} line {line}: value {row.get('value')!r} is not a number"
                ) from None
    return values


def summarise(
    unit_id: str, values: list[float], resources: Resources, params: Params
) -> dict[str, object]:
    """The calibrated statistics of one tile."""
    calibrated = [resources.gain * value + resources.offset for value in values]
    mean = math.fsum(calibrated) / len(calibrated)
    variance = math.fsum((value - mean) ** 2 for value in calibrated) / len(calibrated)
    return {
        "unit": unit_id,
        "pixels": len(calibrated),
        "mean": round(mean, params.decimals),
        "std": round(math.sqrt(variance), params.decimals),
        "min": min(calibrated),
        "max": max(calibrated),
    }


def is_transient(error: BaseException) -> bool:
    """Whether a failure of ``process`` is worth another attempt (``--retries N``, 2 by
    default, with exponential backoff): connection errors, storage timeouts and throttling,
    never an error about the data such as the ``ValueError`` of a malformed tile. The default
    classification and its lists are in ``transient.py``; add your libraries' own transient
    errors here, e.g. ``isinstance(error, requests.ConnectionError)``."""
    return transient.default(error)


def process(unit: Unit[Resources]) -> None:
    """Summarise one tile: read its CSV, calibrate, write its JSON."""
    with step("read"):
        values = read_values(unit.input(f"{unit.id}.csv"))
    with step("compute"):
        summary = summarise(unit.id, values, unit.resources, unit.params)
    with step("write"):
        unit.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
