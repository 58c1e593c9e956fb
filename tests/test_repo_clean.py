"""The repository itself (linter, tests, benchmarks) is ruff- and mypy-clean, and clean under
its own linter, so CI holds it to the standard it holds the generated projects to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The repository's own code (the template and its hooks are checked baked, per option set).
CODE = ["linter", "tests", "bench"]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "--no-cache", *CODE],
        ["ruff", "format", "--check", "--no-cache", *CODE],
        ["mypy", "--no-incremental"],
        ["unitwise_lint", "linter", "bench"],
    ],
    ids=["ruff-check", "ruff-format", "mypy", "unitwise-lint"],
)
def test_repository_is_clean(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
