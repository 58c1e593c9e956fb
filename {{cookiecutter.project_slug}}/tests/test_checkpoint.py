"""The checkpoint: done iff the output exists, found in one listing; commits are atomic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import checkpoint, runner
from {{ cookiecutter.package_name }}.storage import LocalStore, process_space
from {{ cookiecutter.package_name }}.units import Unit
from {{ cookiecutter.package_name }}.worker import Job, Worker

from .conftest import cli, settings


def test_done_set_ignores_staged_and_foreign_files(tmp_path: Path) -> None:
    for name in ("a.json", "b.json", ".c.json.part-1-ab", "notes.txt", ".hidden.json"):
        (tmp_path / name).write_text("{}")
    assert checkpoint.done_ids(LocalStore(str(tmp_path)), ".json") == {"a", "b"}


def test_done_set_is_one_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(str(tmp_path))
    for n in range(50):
        (tmp_path / f"u{n}.json").write_text("{}")
    calls: list[str] = []
    original = LocalStore.walk

    def counting(self: LocalStore) -> list[str]:
        calls.append("walk")
        return original(self)

    monkeypatch.setattr(LocalStore, "walk", counting)
    monkeypatch.setattr(Path, "exists", lambda self: pytest.fail("per-unit existence check"))
    assert len(checkpoint.done_ids(store, ".json")) == 50
    assert calls == ["walk"]


def half_then_raise(unit: Unit[None]) -> None:
    with unit.output.open("w") as handle:
        handle.write("partial")
        handle.flush()
        raise OSError(28, "No space left on device")


def no_setup(config: object) -> None:
    return None


def test_a_unit_that_fails_mid_write_leaves_nothing_that_counts(workdir: Path) -> None:
    config = settings(workdir)
    store = LocalStore(config.output)
    store.prepare()
    worker = Worker(Job(half_then_raise, no_setup, ".json"), config)
    outcome = worker.attempt("tile_000")
    assert not outcome.ok
    assert outcome.error == "OSError [Errno 28]"
    assert outcome.message is not None and "No space left" in outcome.message
    assert list((workdir / "output").iterdir()) == []
    assert checkpoint.done_ids(store, ".json") == set()


def test_scratch_is_private_made_on_first_use_and_removed_after_the_unit(
    workdir: Path,
) -> None:
    seen: dict[str, Path] = {}

    def uses_scratch(unit: Unit[None]) -> None:
        (unit.scratch / "temp.bin").write_bytes(b"x")
        seen[unit.id] = unit.scratch
        if unit.id == "tile_001":
            raise ValueError("bad tile")
        unit.output.write_text("{}")

    def ignores_scratch(unit: Unit[None]) -> None:
        unit.output.write_text("{}")

    config = settings(workdir)
    LocalStore(config.output).prepare()
    worker = Worker(Job(uses_scratch, no_setup, ".json"), config)
    plain = Worker(Job(ignores_scratch, no_setup, ".json"), config)
    try:
        assert worker.attempt("tile_000").ok
        assert not worker.attempt("tile_001").ok
        assert seen["tile_000"] != seen["tile_001"]
        assert not seen["tile_000"].exists() and not seen["tile_001"].exists()
        assert list(worker.scratch_root.iterdir()) == []
        assert plain.attempt("tile_002").ok
        assert list(plain.scratch_root.iterdir()) == []  # never used, never made
    finally:
        worker.close()
        plain.close()
    assert not worker.scratch_root.exists()


def test_stale_staged_files_are_removed_before_a_run(workdir: Path) -> None:
    output = workdir / "output"
    output.mkdir()
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()  # the process that staged the file is gone
    stale = output / f".tile_000.json.part-{process_space()}-{ended.pid}-7"
    stale.write_text("half")
    summary = runner.run(settings(workdir, limit=1))
    assert not stale.exists()
    assert summary.done == 1


def test_overwrite_redoes_done_units(workdir: Path) -> None:
    first = runner.run(settings(workdir))
    assert first.done == 11
    again = runner.run(settings(workdir))
    assert (again.done, again.skipped) == (0, 11)
    redo = runner.run(settings(workdir, overwrite=True))
    assert (redo.done, redo.skipped, redo.failed) == (11, 0, 1)


def test_an_output_folder_that_cannot_be_made_is_one_line_and_exit_2(workdir: Path) -> None:
    (workdir / "taken").write_text("a file where the output folder should go")
    output = workdir / "taken" / "output"
    for command in ("run", "status", "failed"):
        result = cli(command, "--output", str(output), cwd=workdir)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.startswith(f"{{ cookiecutter.project_slug }}: error: cannot use {output}: NotADirectoryError: "), command
        assert result.stderr.count("\n") == 1 and result.stdout == "", command
