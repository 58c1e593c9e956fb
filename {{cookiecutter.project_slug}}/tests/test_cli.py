"""A job's whole life cycle through the real command line, in subprocesses."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import parser

from .conftest import PROJECT_ROOT, cli


def test_life_cycle_fail_resume_failed_retry(workdir: Path) -> None:
    first = cli("run", "--no-progress", cwd=workdir)
    assert first.returncode == 1, first.stderr
    assert "11 done, 0 skipped (already done), 1 failed, 0 pending" in first.stdout
    assert "1 failed with ValueError" in first.stdout
    assert "retry the failed units with: {{ cookiecutter.project_slug }} retry" in first.stdout
    assert "FAIL  tile_007" in first.stderr
    if sys.platform.startswith("linux"):  # nothing started a thread: workers are forked
        assert " backend=local start=fork " in first.stderr
    outputs = sorted(path.name for path in (workdir / "output").iterdir())
    assert outputs == [f"tile_{n:03d}.json" for n in range(12) if n != 7]
    first_bytes = (workdir / "output" / "tile_000.json").read_bytes()

    second = cli("run", "--no-progress", cwd=workdir)
    assert second.returncode == 1
    assert "0 done, 11 skipped (already done), 1 failed" in second.stdout
    assert (workdir / "output" / "tile_000.json").read_bytes() == first_bytes

    failed = cli("failed", cwd=workdir)
    assert failed.returncode == 0
    assert failed.stdout.startswith("tile_007\tValueError: tile_007.csv line 19: value 'n/a'")
    assert (workdir / "runs" / "failed.txt").read_text() == "tile_007\n"
    assert cli("failed", "--ids", cwd=workdir).stdout == "tile_007\n"

    status = cli("status", cwd=workdir)
    assert "units:   12" in status.stdout
    assert "done:    11" in status.stdout
    assert "failed:  1" in status.stdout
    assert "pending: 0" in status.stdout

    csv = workdir / "example" / "inputs" / "tile_007.csv"
    csv.write_text(csv.read_text().replace("n/a", "99.5"))
    retry = cli("retry", "--no-progress", cwd=workdir)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "retrying 1 failed units" in retry.stdout
    assert "1 done, 0 skipped (already done), 0 failed, 0 pending" in retry.stdout
    summary = json.loads((workdir / "output" / "tile_007.json").read_text())
    assert summary["unit"] == "tile_007" and summary["pixels"] == 40
    assert cli("failed", "--ids", cwd=workdir).stdout == ""
    assert (workdir / "runs" / "failed.txt").read_text() == ""
    nothing = cli("retry", cwd=workdir)
    assert nothing.returncode == 0 and "nothing to retry" in nothing.stdout


def test_a_run_without_failures_names_the_earlier_ones_still_waiting(workdir: Path) -> None:
    """The retry hint says what is true of this run's units: after a run with no failure of
    its own, how many failed earlier; nothing about units the run is not about."""
    assert cli("run", "--no-progress", cwd=workdir).returncode == 1  # tile_007 fails
    trial = cli("run", "--overwrite", "--limit", "2", "--no-progress", cwd=workdir)
    assert trial.returncode == 0, trial.stdout + trial.stderr
    assert "2 done, 0 skipped (already done), 0 failed, 10 pending" in trial.stdout
    assert "retry the failed units" not in trial.stdout
    waiting = (
        "1 unit that failed in an earlier run is still in the retry list; "
        "retry with: {{ cookiecutter.project_slug }} retry"
    )
    assert waiting in trial.stdout
    assert waiting in cli("status", cwd=workdir).stdout  # the last run's summary, again
    others = workdir / "others.txt"
    others.write_text("tile_000\ntile_001\n")
    other = cli("run", "--units-file", str(others), "--no-progress", cwd=workdir)
    assert other.returncode == 0, other.stdout + other.stderr
    assert "0 done, 2 skipped (already done), 0 failed" in other.stdout
    assert "retry the failed units" not in other.stdout
    assert "retry with" not in other.stdout
    assert (workdir / "runs" / "failed.txt").read_text() == "tile_007\n"  # still listed


def test_the_retry_hint_of_a_second_stage_works_as_printed(workdir: Path) -> None:
    """A stage run with ``--config`` (its own job, parameters, output and state): the retry
    command it prints repeats ``--config``, so it retries that stage with its parameters."""
    (workdir / "stage2.toml").write_text(
        (workdir / "pyproject.toml").read_text().replace('"output"', '"output-2"')
        .replace('"runs"', '"runs-2"')
        + "\n[tool.{{ cookiecutter.package_name }}.params]\ndecimals = 2\n"
    )
    first = cli("run", "--config", "stage2.toml", "--no-progress", cwd=workdir)
    assert first.returncode == 1, first.stdout + first.stderr
    hint = re.search(r"^retry the failed units with: (.+)$", first.stdout, re.MULTILINE)
    assert hint is not None, first.stdout
    command = hint[1].split()
    assert command[:4] == ["{{ cookiecutter.project_slug }}", "retry", "--config", "stage2.toml"]
    csv = workdir / "example" / "inputs" / "tile_007.csv"
    csv.write_text(csv.read_text().replace("n/a", "99.5"))
    retried = cli(*command[1:], "--no-progress", cwd=workdir)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "1 done, 0 skipped (already done), 0 failed" in retried.stdout
    assert "params: decimals=2" in retried.stdout  # the stage's, not pyproject.toml's
    assert (workdir / "output-2" / "tile_007.json").is_file()


def test_limit_is_a_trial_run(workdir: Path) -> None:
    result = cli("run", "--limit", "3", "--no-progress", cwd=workdir)
    assert result.returncode == 0
    assert "3 done, 0 skipped (already done), 0 failed, 9 pending" in result.stdout
    assert len(list((workdir / "output").iterdir())) == 3


def test_fail_fast_stops_at_the_first_failure_with_its_traceback(workdir: Path) -> None:
    result = cli("run", "--fail-fast", "--workers", "1", "--no-progress", cwd=workdir)
    assert result.returncode == 1
    assert "stopped early: --fail-fast: unit tile_007 failed" in result.stdout
    assert "Traceback (most recent call last)" in result.stderr
    assert "ValueError: tile_007.csv line 19" in result.stderr
    assert not (workdir / "output" / "tile_011.json").exists()


def test_debug_runs_in_process_and_swallows_nothing(workdir: Path) -> None:
    result = cli("run", "--debug", "--no-progress", cwd=workdir)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith(
        "ValueError: tile_007.csv line 19: value 'n/a' is not a number"
    )
    worker_pids = {
        json.loads(line).get("worker")
        for run in (workdir / "runs").iterdir()
        if run.is_dir()
        for line in (run / "events.jsonl").read_text().splitlines()
        if json.loads(line)["event"] == "START"
    }
    assert len(worker_pids) == 1  # one process: the main one


def test_user_errors_are_one_line_and_exit_2(workdir: Path) -> None:
    (workdir / "bad.txt").write_text("a\na\n")
    duplicate = cli("run", "--units-file", "bad.txt", cwd=workdir)
    assert duplicate.returncode == 2
    assert duplicate.stderr.endswith(
        "error: bad.txt:2: duplicate unit id 'a' (first at bad.txt:1)\n"
    )
    assert duplicate.stderr.count("\n") == 1
    assert not (workdir / "output").exists()
    nowhere = cli("run", "--units-glob", "*.csv", "--input", "nowhere", cwd=workdir)
    assert nowhere.returncode == 2
    assert nowhere.stderr.endswith(
        f"error: input folder {workdir / 'nowhere'} does not exist or is not a folder\n"
    )
    assert nowhere.stderr.count("\n") == 1
    table = "[tool.{{ cookiecutter.package_name }}]\n"
    (workdir / "pyproject.toml").write_text(table + 'workers = "two"\n')
    config = cli("status", cwd=workdir)
    assert config.returncode == 2
    assert "workers = 'two' should be a whole number" in config.stderr
    assert len(config.stderr.splitlines()) == 1
    (workdir / "pyproject.toml").write_text(table + "wokers = 2\n")
    unknown = cli("status", cwd=workdir)
    assert unknown.returncode == 2 and "unknown key 'wokers'" in unknown.stderr
    missing = cli("status", "--config", "nope.toml", cwd=workdir)
    assert missing.returncode == 2 and "config file nope.toml does not exist" in missing.stderr


def help_text(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit):
        parser().parse_args([*args, "--help"])
    return capsys.readouterr().out


def test_every_command_and_option_is_in_the_readme(capsys: pytest.CaptureFixture[str]) -> None:
    """The command line is a contract with users: whatever its help lists, the README explains."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.search(r"\{([a-z,]+)\}", help_text(capsys))
    assert commands is not None
    missing = []
    for command in commands.group(1).split(","):
        if f"`{command}" not in readme:
            missing.append(command)
        options = set(re.findall(r"--[a-z][a-z-]*", help_text(capsys, command))) - {"--help"}
        missing += [
            f"{command} {option}"
            for option in sorted(options)
            if not re.search(rf"{option}(?![a-z-])", readme)
        ]
    assert missing == []
