"""Projects whose minimum Python is newer than the one running the tests cannot be installed
here, but their code must still be clean for that target: ruff's pyupgrade rules, its
formatter and mypy all change with the target version."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import TEMPLATE, Combo, bake, mypy_cache

#: Minimum versions the template offers (cookiecutter.json's _supported_pythons).
TARGETS = ["3.12", "3.13", "3.14"]


@pytest.mark.parametrize("version", TARGETS)
@pytest.mark.parametrize(("storage", "scale_out"), [("local", "slurm"), ("s3", "dask")])
def test_newer_targets_are_ruff_and_mypy_clean(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    version: str,
    storage: str,
    scale_out: str,
) -> None:
    root = bake(Combo(storage, scale_out, version, "MIT"), tmp_path)
    pyproject = (root / "pyproject.toml").read_text()
    assert "target-version" not in pyproject  # ruff reads requires-python
    assert f'requires-python = ">={version}"' in pyproject
    assert f'python_version = "{version}"' in pyproject
    for command in (
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."],
        [sys.executable, "-m", "mypy", "--cache-dir", str(mypy_cache(tmp_path_factory)), "src"],
    ):
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def newer_python() -> tuple[str, str] | None:
    """The newest ``python3.N`` newer than the running one that can make virtual
    environments (on PATH, or installed by pyenv), with its version; None if there is none."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in range(14, sys.version_info.minor, -1):
        name = f"python3.{minor}"
        candidates = [shutil.which(name), *sorted(map(str, pyenv.glob(f"3.{minor}.*/bin/{name}")))]
        for executable in filter(None, candidates):
            probe = subprocess.run(
                [executable, "-c", "import ensurepip, venv"], capture_output=True, check=False
            )
            if probe.returncode == 0:
                return executable, f"3.{minor}"
    return None


NEWER = newer_python()


@pytest.mark.skipif(NEWER is None, reason="no Python newer than the running one on PATH")
def test_a_newer_target_installs_and_passes_its_own_suite_on_that_python(tmp_path: Path) -> None:
    """Lint-only is not enough where the newer Python is at hand: install a project that
    requires it, with its real dependencies from the index, and run its own tests there. One
    combination, S3 and Dask: the most dependencies to resolve for a new Python (a local
    project's are a subset)."""
    assert NEWER is not None
    executable, version = NEWER
    root = bake(Combo("s3", "dask", version, "MIT"), tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # The dev extra requires unitwise-lint, which this checkout provides (nothing is published).
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-e", TEMPLATE, "-e", f"{root}[dev]"],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    # The dev extra puts the checklist's tools on PATH.
    for tool in ("unitwise-lint", "pre-commit"):
        found = subprocess.run(
            [str(venv / "bin" / tool), "--version"], capture_output=True, text=True, check=False
        )
        assert found.returncode == 0 and found.stdout.strip(), (tool, found.stderr)
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
