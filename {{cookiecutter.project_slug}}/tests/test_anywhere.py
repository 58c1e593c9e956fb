"""Run from any folder: outside the project the commands say where to go and create nothing;
the built-in defaults are the example's layout, so a folder with only it behaves the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import DATA, JOB, cli


@pytest.mark.parametrize("command", ["run", "retry", "status", "failed"])
def test_outside_the_project_a_command_says_where_to_go_and_creates_nothing(
    tmp_path: Path, command: str
) -> None:
    result = cli(command, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert f"no pyproject.toml in {tmp_path}" in result.stderr
    assert "cd to the project folder" in result.stderr and "--input FOLDER" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_folder_with_only_the_example_has_its_12_units_and_looking_creates_nothing(
    tmp_path: Path,
) -> None:
    shutil.copytree(DATA, tmp_path / "example")  # laid out as the baked example/
    status = cli("status", "--job", JOB, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "units:   12\n" in status.stdout  # not calibration.json as a 13th
    failed = cli("failed", "--job", JOB, cwd=tmp_path)
    assert failed.returncode == 0, failed.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["example"]
