"""Shared fixtures: a private copy of the example project to run against."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT_ROOT / "example"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory with a copy of the example data and the project's settings."""
    shutil.copytree(EXAMPLE, tmp_path / "example")
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def settings(root: Path, **changes: object) -> Settings:
    """Settings for the example copied into ``root``, without the progress bar."""
    base = Settings(
        input=str(root / "example" / "inputs"),
        output=str(root / "output"),
        state=str(root / "runs"),
        units_file=str(root / "example" / "units.txt"),
        workers=2,
        progress=False,
    )
    return base.replace(**changes)


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the project's command line in a real subprocess."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
