"""A job with a folder output, for the output-shape tests (``--job tests.shape_jobs``).

Each unit ``<language>/<repository>`` reads ``<language>/<repository>.txt`` and the optional
``<language>/<repository>.notes``; it writes a table and a plot into its folder, skips itself
when the data says ``empty``, and fails half-way when it says ``boom``. Its ``gather`` hook
combines the tables.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from {{ cookiecutter.package_name }}.gather import Done
from {{ cookiecutter.package_name }}.units import Unit
from {{ cookiecutter.package_name }}.worker import Job

OUTPUT_SHAPE = "folder"
OUTPUT_SUFFIX = ""


@dataclass(frozen=True)
class Params:
    column: str = "data"


def process(unit: Unit[None]) -> None:
    data = unit.input(f"{unit.id}.txt").read_text(encoding="utf-8").strip()
    if data == "empty":
        unit.skip("no data for this repository")
        return
    table = f"unit,{unit.params.column}\n{unit.id},{data}\n"
    (unit.output / "table.csv").write_text(table, encoding="utf-8")
    if data == "boom":
        raise RuntimeError(f"{unit.id}: boom after one file")
    notes = unit.optional_input(f"{unit.id}.notes")
    plots = unit.output / "plots"
    plots.mkdir()
    text = notes.read_text(encoding="utf-8") if notes is not None else "no notes"
    (plots / "plot.txt").write_text(text, encoding="utf-8")


def gather(units: Iterator[Done], into: Path) -> None:
    """Every folder's table, header once; with ``SHAPES_GATHER_BLOCK`` set, it writes the
    first table, says so on stderr and waits (for the interruption test)."""
    with into.open("wb") as out:
        for index, unit in enumerate(units):
            header, _, rows = unit.read_bytes("table.csv").partition(b"\n")
            out.write((header + b"\n" if index == 0 else b"") + rows)
            if os.environ.get("SHAPES_GATHER_BLOCK"):
                out.flush()
                sys.stderr.write("gather hook: blocking\n")
                sys.stderr.flush()
                time.sleep(120)


def process_file(unit: Unit[None]) -> None:
    """The same units with one file each (another ``OUTPUT_SHAPE``), or skipped."""
    data = unit.input(f"{unit.id}.txt").read_text(encoding="utf-8").strip()
    if data == "empty":
        unit.skip("no data for this repository")
        return
    unit.output.write_text(f"{unit.id},{data}\n", encoding="utf-8")


#: ``--job tests.shape_jobs:FILE``: the shape-switching test's second shape.
FILE = Job(process_file, lambda settings: None, OUTPUT_SUFFIX)
