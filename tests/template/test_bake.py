"""Bake every option combination; the projects must be complete, clean and working."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from .conftest import CONVERTED_IN_FULL, Baked, Combo, collects_every_module, mypy_cache

#: Files every project has, relative to its root; {pkg} is the package name.
COMMON = {
    ".cruft.json",
    ".github/dependabot.yml",
    ".github/workflows/ci.yml",
    "MANIFEST.in",
    "docs/index.md",
    "noxfile.py",
    ".gitignore",
    ".pre-commit-config.yaml",
    "README.md",
    "pyproject.toml",
    "example/units.txt",
    "example/inputs/calibration.json",
    "docs/report-example.png",
    *(f"example/inputs/tile_{n:03d}.csv" for n in range(12)),
    # The runner tests' own data, a copy of the example's: the example can go, they stay.
    "tests/data/units.txt",
    "tests/data/inputs/calibration.json",
    *(f"tests/data/inputs/tile_{n:03d}.csv" for n in range(12)),
    *(
        f"src/{{pkg}}/{name}"
        for name in (
            "__init__.py",
            "__main__.py",
            "py.typed",
            "board.py",
            "checkpoint.py",
            "children.py",
            "cli.py",
            "dispatch.py",
            "errors.py",
            "events.py",
            "failures.py",
            "gather.py",
            "lastrun.py",
            "inputs.py",
            "legacy/__init__.py",
            "lock.py",
            "log.py",
            "normal_path.py",
            "outputs.py",
            "params.py",
            "pool.py",
            "process.py",
            "progress_bar.py",
            "provenance.py",
            "retries.py",
            "retrying.py",
            "runner.py",
            "settings.py",
            "start_method.py",
            "status.py",
            "storage.py",
            "supervisor.py",
            "transient.py",
            "unitlist.py",
            "testing.py",
            "units.py",
            "watchdog.py",
            "worker.py",
            "worker_loop.py",
            "worker_slot.py",
            *(f"report/{name}.py" for name in ("__init__", "source", "model", "figures", "page")),
        )
    ),
    *(
        f"tests/{name}"
        for name in (
            "__init__.py",
            "conftest.py",
            "fault_jobs.py",
            "faultkit.py",
            "test_anywhere.py",
            "test_board.py",
            "test_checkpoint.py",
            "test_child_processes.py",
            "test_cli.py",
            "test_faults.py",
            "test_hangs.py",
            "test_interrupts.py",
            "test_log.py",
            "test_normal_path.py",
            "test_report.py",
            "report_jobs.py",
            "test_log_faults.py",
            "test_params.py",
            "test_shapes.py",
            "shape_jobs.py",
            "test_gather.py",
            "gather_jobs.py",
            "test_provenance.py",
            "test_process.py",
            "test_shards.py",
            "test_start_methods.py",
            "test_retries.py",
            "test_status.py",
            "test_units.py",
            "test_user_code_errors.py",
            "tile_job.py",
        )
    ),
}
JINJA = re.compile(r"\{\{\s*cookiecutter|\{%|%\}|\{#")


def expected_tree(combo: Combo) -> set[str]:
    files = {path.format(pkg=combo.package) for path in COMMON}
    if combo.license != "Proprietary":
        files.add("LICENSE")
    if combo.scale_out == "dask":
        files |= {
            f"src/{combo.package}/dask_backend.py",
            f"src/{combo.package}/dask_tasks.py",
            f"src/{combo.package}/dask_workers.py",
            "tests/test_dask_backend.py",
        }
        if combo.storage == "local":
            files.add("tests/test_dask_workers.py")
    if combo.scale_out == "slurm":
        files |= {"slurm/array.sbatch", "tests/test_slurm.py"}
        if combo.storage == "local":
            files |= {"tests/slurmcluster.py", "tests/test_slurm_cluster.py"}
    if combo.storage == "s3":
        files |= {"tests/test_s3.py", "tests/s3server.py"}
        if combo.scale_out == "none":
            files.add("tests/test_store_stops.py")
            files.add("tests/test_retries_s3.py")
    return files


def tree(root: Path) -> set[str]:
    # Caches are not skipped: the bake must leave none (this test runs first for each bake).
    skip = {"__pycache__", "output", "runs"}
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file()
        and not skip.intersection(path.relative_to(root).parts)
        and ".egg-info" not in path.as_posix()
    }


def test_generated_tree_is_exact(baked: Baked) -> None:
    assert tree(baked.root) == expected_tree(baked.combo)


def test_no_template_markers_are_left(baked: Baked) -> None:
    for relative in sorted(tree(baked.root)):
        if relative.endswith(".png"):  # copied without rendering; any bytes may occur
            continue
        text = (baked.root / relative).read_text(encoding="utf-8", errors="replace")
        marker = JINJA.search(text)
        assert marker is None, f"{relative}: {marker.group()!r} left over"


def test_no_file_links_to_a_unitwise_repository_that_does_not_exist(baked: Baked) -> None:
    """unitwise-lint is required by name (the dev extra) and run from the environment (CI,
    pre-commit): no baked file names a repository, tag or URL of this project."""
    link = re.compile(r"(https?://|git\+)\S*unitwise", re.IGNORECASE)
    for relative in sorted(tree(baked.root)):
        text = (baked.root / relative).read_text(encoding="utf-8", errors="replace")
        assert link.search(text) is None, f"{relative}: {link.search(text)}"
    pyproject = (baked.root / "pyproject.toml").read_text()
    assert '"unitwise-lint>=' in pyproject and '"pre-commit>=' in pyproject


def test_answers_file_lets_cruft_update_the_project(baked: Baked) -> None:
    answers = json.loads((baked.root / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert answers["project_slug"] == baked.combo.slug
    assert answers["storage"] == baked.combo.storage
    assert answers["scale_out"] == baked.combo.scale_out
    assert "_template" in answers and "_commit" in answers
    assert not any(key in answers for key in ("_output_dir", "_repo_dir"))


def test_options_not_chosen_leave_no_trace(baked: Baked) -> None:
    source = "\n".join(path.read_text() for path in (baked.root / "src").rglob("*.py"))
    pyproject = (baked.root / "pyproject.toml").read_text()
    assert ("dask" in source) == (baked.combo.scale_out == "dask")
    assert ("fsspec" in source) == (baked.combo.storage == "s3")
    assert ("s3fs" in pyproject) == (baked.combo.storage == "s3")
    assert ("distributed" in pyproject) == (baked.combo.scale_out == "dask")
    assert f'requires-python = ">={baked.combo.python_version}"' in pyproject


def test_the_projects_own_test_suite_passes(baked: Baked) -> None:
    scope: list[str] = []
    if baked.combo.slug == CONVERTED_IN_FULL:  # its runner tests run after the conversion
        collects_every_module(baked)
        scope = ["tests/test_process.py"]
    result = baked.run(baked.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *scope)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout)


def test_ruff_is_clean(baked: Baked) -> None:
    result = baked.run(baked.python, "-m", "ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean(baked: Baked) -> None:
    result = baked.run(baked.python, "-m", "ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean(baked: Baked, tmp_path_factory: pytest.TempPathFactory) -> None:
    result = baked.run(baked.python, "-m", "mypy", "--cache-dir", mypy_cache(tmp_path_factory))
    assert result.returncode == 0, result.stdout + result.stderr


def test_unitwise_lint_is_clean_on_the_project(baked: Baked) -> None:
    result = baked.run(baked.python, "-m", "unitwise_lint", "check", "src")
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_runs_the_example_end_to_end(baked: Baked, tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(baked.root / "example", work / "example")
    shutil.copy(baked.root / "pyproject.toml", work / "pyproject.toml")
    command = baked.python.parent / baked.combo.slug

    first = baked.run(command, "run", "--no-progress", cwd=work)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "11 done, 0 skipped (already done), 1 failed" in first.stdout
    assert len(list((work / "output").iterdir())) == 11

    again = baked.run(command, "run", "--no-progress", cwd=work)
    assert again.returncode == 1
    assert "0 done, 11 skipped (already done), 1 failed" in again.stdout

    failed = baked.run(command, "failed", "--ids", cwd=work)
    assert failed.stdout == "tile_007\n"

    tile = work / "example" / "inputs" / "tile_007.csv"
    tile.write_text(tile.read_text().replace("n/a", "1.0"))
    retry = baked.run(command, "retry", "--no-progress", cwd=work)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "1 done" in retry.stdout
    status = baked.run(command, "status", cwd=work)
    assert "done:    12" in status.stdout and "failed:  0" in status.stdout
    # The production checklist on the example: one output per done unit, and a START for
    # every END or FAIL in each (complete) run's log.
    assert len(list((work / "output").iterdir())) == 12
    for log in (work / "runs").glob("*/run.log"):
        events = [line.split()[2] for line in log.read_text().splitlines()]
        assert events.count("START") == events.count("END") + events.count("FAIL") > 0


def test_built_in_settings_are_the_pyprojects(baked: Baked) -> None:
    """A folder with only example/ (no pyproject) runs what the pyproject describes."""
    script = (
        "from pathlib import Path\n"
        f"from {baked.combo.package}.settings import Settings, from_file\n"
        "table = from_file(Path('pyproject.toml'), required=True)\n"
        "table.pop('param_values', None)\n"
        "defaults = Settings()\n"
        "assert table and {k: getattr(defaults, k) for k in table} == table, (table, defaults)\n"
    )
    result = baked.run(baked.python, "-c", script)
    assert result.returncode == 0, result.stderr
