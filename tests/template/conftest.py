"""Baking and installing projects once per option combination.

Every baked project gets a fresh virtual environment of its own, without pip and without
copies of the dependencies: a ``.pth`` file adds the test environment's site-packages (which
hold every dependency of every option) visible, and the project itself is installed with
``--no-deps``. That is seconds per bake instead of minutes, and projects never see each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Combo:
    """One option combination, with a project name of its own."""

    storage: str
    scale_out: str
    python_version: str
    license: str

    @property
    def project_name(self) -> str:
        return f"Bake {self.storage} {self.scale_out}"

    @property
    def slug(self) -> str:
        return f"bake-{self.storage}-{self.scale_out}"

    @property
    def package(self) -> str:
        return self.slug.replace("-", "_")

    def context(self) -> dict[str, str]:
        return {
            "project_name": self.project_name,
            "storage": self.storage,
            "scale_out": self.scale_out,
            "python_version": self.python_version,
            "license": self.license,
        }


#: The running interpreter: a baked project must accept it as its minimum to be installed.
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
NEWEST_INSTALLABLE = min("3.11", RUNNING, key=lambda v: tuple(map(int, v.split("."))))

#: Every storage x scale-out pair; minimum Pythons and licenses vary across them. (Newer
#: minimums than the running Python are checked by ruff and mypy only: test_targets.py.)
COMBOS = [
    Combo("local", "none", "3.10", "MIT"),
    Combo("local", "dask", NEWEST_INSTALLABLE, "Apache-2.0"),
    Combo("local", "slurm", "3.10", "BSD-3-Clause"),
    Combo("s3", "none", NEWEST_INSTALLABLE, "Proprietary"),
    Combo("s3", "dask", "3.10", "MIT"),
    Combo("s3", "slurm", NEWEST_INSTALLABLE, "MIT"),
]


#: The combination whose runner tests run on its *converted* project (test_conversion.py) and
#: not also on the pristine bake: it has every optional test module (S3, SLURM). The runner's
#: tests never use ``process.py`` or ``example/``, so each combination's suite runs in full
#: once - on the pristine bake elsewhere - and both sides run ``tests/test_process.py``.
CONVERTED_IN_FULL = "bake-s3-slurm"


def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for every bake, conversion and target of a worker: mypy checks each entry
    by its file's hash, so only what differs is checked again (a conversion's mypy takes
    seconds instead of ~30 s), and entries of other Python targets are kept apart."""
    return tmp_path_factory.getbasetemp() / "mypy-cache"


def collects_every_module(project: Baked) -> None:
    """Every ``tests/test_*.py`` module of the project is collected (imports, fixtures)."""
    collected = project.run(project.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--co")
    assert collected.returncode == 0, collected.stdout[-4000:] + collected.stderr[-2000:]
    modules = {line.split("::")[0] for line in collected.stdout.splitlines() if "::" in line}
    written = {str(path.relative_to(project.root)) for path in project.root.glob("tests/test_*.py")}
    assert modules == written, written ^ modules


@dataclass(frozen=True)
class Baked:
    combo: Combo
    root: Path
    python: Path

    def run(
        self, *args: str | Path, timeout: float = 600, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command with the project's environment first on PATH."""
        env = {**os.environ, "PATH": f"{self.python.parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop("PYTHONPATH", None)
        return subprocess.run(
            [str(arg) for arg in args],
            cwd=cwd or self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )


def bake(combo: Combo, output_dir: Path) -> Path:
    return Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context=combo.context(), output_dir=str(output_dir)
        )
    )


def fresh_environment(path: Path) -> Path:
    """A new virtual environment that sees the test environment's packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    shared = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    # addsitedir (not a bare path) so that the shared environment's own .pth files, such as
    # the editable install of unitwise-lint, are processed too.
    lines = [f"import site; site.addsitedir({path!r})" for path in shared]
    Path(purelib, "_shared_test_env.pth").write_text("\n".join(lines) + "\n")
    return python


@pytest.fixture(scope="session", params=COMBOS, ids=lambda combo: combo.slug)
def baked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Baked:
    """A baked project installed (``--no-deps``) into a fresh environment of its own."""
    combo: Combo = request.param
    base = tmp_path_factory.mktemp(combo.slug)
    root = bake(combo, base)
    return Baked(combo, root, install(root, base / "venv"))


def install(root: Path, venv: Path) -> Path:
    """The project in ``root`` installed (``--no-deps``, editable) into a fresh environment
    at ``venv``; returns its Python."""
    python = fresh_environment(venv)
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-e",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    return python
