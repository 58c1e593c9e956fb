"""Tests of YOUR ``process()``, on a unit or two, without the runner: the one test module
that is about ``process.py`` and ``example/``. When you replace the example with your work,
adapt it: point ``INPUTS`` at a small sample of your inputs (a folder in ``tests/``), and check
what your units produce. Every other test checks the runner with its own job and data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.process import process
from {{ cookiecutter.package_name }}.testing import unit_for_test

from .conftest import PROJECT_ROOT

#: A few inputs your process() can run on.
INPUTS = PROJECT_ROOT / "example" / "inputs"


def test_a_unit_writes_its_output(tmp_path: Path) -> None:
    unit = unit_for_test("tile_000", inputs=INPUTS, output=tmp_path)
    process(unit)
    summary = json.loads(unit.output.read_text(encoding="utf-8"))
    assert summary["unit"] == "tile_000"
    assert summary["pixels"] == 40
    assert summary["min"] <= summary["mean"] <= summary["max"]


def test_a_bad_unit_raises_an_error_that_names_it(tmp_path: Path) -> None:
    unit = unit_for_test("tile_007", inputs=INPUTS, output=tmp_path)
    with pytest.raises(ValueError, match=r"tile_007\.csv line 19: value 'n/a' is not a number"):
        process(unit)
