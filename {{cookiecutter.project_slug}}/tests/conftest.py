"""Shared fixtures: a private working directory with the runner tests' own job and data.

The runner's behaviour tests never use ``process.py`` or ``example/`` (which you replace with
your work): they run ``tests/tile_job.py`` over ``tests/data``. Only ``tests/test_process.py``
tests your ``process()``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import TOOL_TABLE, Settings

# A suite started in the background by a shell without job control (`cmd &` in a script,
# nohup) inherits SIGINT ignored, and so would every command it starts: Python then installs
# no KeyboardInterrupt, and the tests of Ctrl-C would wait on a command that cannot hear it.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: The runner tests' data: 12 CSV tiles (tile_007 malformed on purpose), a calibration file
#: and the units list.
DATA = Path(__file__).resolve().parent / "data"
#: The runner tests' job (``tests/tile_job.py``).
JOB = "tests.tile_job"


def make_workdir(root: Path) -> Path:
    """Lay out ``root`` like a project: the test data in ``example/`` and a ``pyproject.toml``
    whose settings run the test job on it."""
    shutil.copytree(DATA, root / "example")
    (root / "pyproject.toml").write_text(
        f"[tool.{TOOL_TABLE}]\n"
        'input = "example/inputs"\n'
        'output = "output"\n'
        'state = "runs"\n'
        'units_file = "example/units.txt"\n'
        f'job = "{JOB}"\n',
        encoding="utf-8",
    )
    return root


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory with a copy of the test data and settings that run the test job."""
    make_workdir(tmp_path)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def settings(root: Path, **changes: object) -> Settings:
    """Settings of the test job on the data copied into ``root``, without the progress bar."""
    base = Settings(
        input=str(root / "example" / "inputs"),
        output=str(root / "output"),
        state=str(root / "runs"),
        units_file=str(root / "example" / "units.txt"),
        job=JOB,
        workers=2,
        progress=False,
    )
    return base.replace(**changes)


def cli_environment() -> dict[str, str]:
    """The environment of a command-line subprocess: the ``tests`` package is importable."""
    path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the project's command line in a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_environment(),
        check=False,
    )
