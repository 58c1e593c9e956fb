"""Packages are complete and honest: built for real (``python -m build``), checked as PyPI would
(twine, check-wheel-contents), unpacked in a fresh folder and tested there; the baked version
comes from git; the wheel installed elsewhere tells the user where to go."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from .conftest import TEMPLATE, Baked, Combo, bake, fresh_environment
from .template_copy import git

BIN = Path(sys.executable).parent


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    return done.stdout


def build(source: Path, outdir: Path, *kinds: str) -> list[Path]:
    """Build without isolation: offline, with the test environment's setuptools(-scm)."""
    run(
        sys.executable,
        "-m",
        "build",
        *kinds,
        "--no-isolation",
        "--outdir",
        outdir,
        source,
        cwd=source,
    )
    return sorted(outdir.iterdir())


def unpack(sdist: Path, destination: Path) -> Path:
    with tarfile.open(sdist) as archive:
        archive.extractall(destination, filter="data")
    (root,) = destination.iterdir()
    return root


def install(python: Path, target: str | Path, *options: str) -> None:
    run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
        "--no-build-isolation", *options, target, cwd=Path.cwd(),
    )  # fmt: skip


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Combo, Path, list[Path]]:
    """A project committed and tagged v1.2.3 in git, then built: (combo, project, dist files)."""
    combo = Combo("s3", "slurm", "3.10", "MIT")  # the most test helpers: s3server, slurm, faults
    base = tmp_path_factory.mktemp("release")
    root = bake(combo, base)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "baked")
    git(root, "tag", "v1.2.3")
    return combo, root, build(root, base / "dist", "--sdist", "--wheel")


def test_baked_packages_take_the_git_version_and_pass_twine_and_wheel_checks(
    released: tuple[Combo, Path, list[Path]],
) -> None:
    combo, _, dist = released
    assert [path.name for path in dist] == [
        f"{combo.package}-1.2.3-py3-none-any.whl",
        f"{combo.package}-1.2.3.tar.gz",
    ]
    run(BIN / "twine", "check", "--strict", *dist, cwd=dist[0].parent)
    run(BIN / "check-wheel-contents", dist[0], cwd=dist[0].parent)


#: The sdist's tests that read what the sdist must carry: the example, the runner tests' data
#: and job, the fault jobs and the moto and SLURM helpers (the whole suite runs on the bakes).
SDIST_TESTS = [
    "tests/test_process.py",
    "tests/test_cli.py",
    "tests/test_s3.py",
    "tests/test_slurm.py",
    "tests/test_faults.py::test_a_killed_worker_fails_only_its_unit_and_retry_redoes_it",
]


def test_baked_sdist_unpacked_elsewhere_installs_and_passes_its_own_tests(
    released: tuple[Combo, Path, list[Path]], tmp_path: Path
) -> None:
    combo, _, dist = released
    root = unpack(dist[1], tmp_path / "unpacked")
    for needed in ("tests/faultkit.py", "tests/s3server.py", "example/units.txt", "docs"):
        assert (root / needed).exists(), needed
    python = fresh_environment(tmp_path / "venv")
    install(python, root)  # no git here: the version comes from the sdist's PKG-INFO
    version = run(
        python,
        "-c",
        f"import importlib.metadata as m; print(m.version({combo.slug!r}))",
        cwd=tmp_path,
    )
    assert version.strip() == "1.2.3"
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    # The tests run against the installed package, from the unpacked folder: every module
    # collects, and those that read the sdist's data and helpers pass.
    pytest: list[str | Path] = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    collected = run(*pytest, "--co", cwd=root, env=env)
    modules = {line.split("::")[0] for line in collected.splitlines() if "::" in line}
    assert modules == {f"tests/{path.name}" for path in (root / "tests").glob("test_*.py")}
    output = run(*pytest, "-x", *SDIST_TESTS, cwd=root, env=env)
    assert " passed" in output and "failed" not in output


def test_the_installed_wheel_run_from_another_folder_says_where_to_go(
    released: tuple[Combo, Path, list[Path]], tmp_path: Path
) -> None:
    combo, _, dist = released
    python = fresh_environment(tmp_path / "venv")
    install(python, dist[0])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in ("run", "status", "failed"):
        done = subprocess.run(
            [python.parent / combo.slug, command], cwd=elsewhere, capture_output=True, text=True,
            check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "cd to the project folder" in done.stderr and "--config" in done.stderr
        assert list(elsewhere.iterdir()) == []


def test_a_bake_outside_git_installs_with_the_fallback_version(baked: Baked) -> None:
    show = baked.run(
        baked.python,
        "-c",
        f"import importlib.metadata as m; print(m.version({baked.combo.slug!r}))",
    )
    assert show.returncode == 0, show.stderr
    assert show.stdout.strip() == "0.1.0"


def test_root_sdist_holds_the_template_and_every_test_and_its_linter_tests_pass_there(
    tmp_path: Path,
) -> None:
    (sdist,) = build(TEMPLATE, tmp_path / "dist", "--sdist")
    root = unpack(sdist, tmp_path / "unpacked")
    tracked = set(
        git(TEMPLATE, "ls-files", "tests", "hooks", "{{cookiecutter.project_slug}}").split("\n")
    )
    missing = sorted(name for name in tracked if name and not (root / name).exists())
    assert missing == []
    for needed in ("LICENSE", "cookiecutter.json", "copier.yml", "README.md"):
        assert (root / needed).is_file(), needed
    env = {**os.environ, "PYTHONPATH": str(root / "linter")}
    collected = run(
        sys.executable,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        cwd=root,
        env=env,
    )
    # Every module imports (run() requires exit 0: a collection error would be exit 2).
    modules = {line.split("::")[0] for line in collected.splitlines() if "::" in line}
    assert modules >= {name for name in tracked if name.startswith("tests/") and "/test_" in name}
    output = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/linter",
        cwd=root,
        env=env,
    )
    assert " passed" in output
