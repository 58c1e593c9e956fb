"""Projects whose minimum Python is newer than the one running the tests cannot be installed
here, but their code must still be clean for that target: ruff's pyupgrade rules, its
formatter and mypy all change with the target version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Combo, bake

#: Minimum versions the template offers (cookiecutter.json's _supported_pythons).
TARGETS = ["3.12", "3.13", "3.14"]


@pytest.mark.parametrize("version", TARGETS)
@pytest.mark.parametrize(("storage", "scale_out"), [("local", "slurm"), ("s3", "dask")])
def test_newer_targets_are_ruff_and_mypy_clean(
    tmp_path: Path, version: str, storage: str, scale_out: str
) -> None:
    root = bake(Combo(storage, scale_out, version, "MIT"), tmp_path)
    pyproject = (root / "pyproject.toml").read_text()
    assert f'target-version = "py{version.replace(".", "")}"' in pyproject
    assert f'python_version = "{version}"' in pyproject
    for command in (
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."],
        [sys.executable, "-m", "mypy", "--no-incremental", "src"],
    ):
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
