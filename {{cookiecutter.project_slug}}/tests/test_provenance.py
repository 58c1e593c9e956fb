"""Provenance and staleness: what made each output, and redoing exactly the stale ones."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from .conftest import cli
from .faultkit import cli as job_cli
from .faultkit import environment


def status_line(result: subprocess.CompletedProcess[str], name: str) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith(name))


def test_changed_parameters_make_outputs_stale_and_rerun_stale_redoes_them(
    workdir: Path,
) -> None:
    first = cli("run", "--no-progress", "--param", "decimals=2", cwd=workdir)
    assert first.returncode == 1  # tile_007 fails
    [run_dir] = [path for path in (workdir / "runs").iterdir() if path.is_dir()]
    record = json.loads((run_dir / "provenance.json").read_text())
    assert record["params"] == {"decimals": 2} and record["run"] == run_dir.name
    assert len(record["params_hash"]) == 12 and len(record["code_hash"]) == 12
    assert sorted((run_dir / "committed.txt").read_text().split()) == [
        f"tile_{n:03d}" for n in range(12) if n != 7
    ]

    same = cli("status", "--param", "decimals=2", cwd=workdir)
    assert status_line(same, "stale:") == "stale:   0"
    other = cli("status", "--param", "decimals=3", cwd=workdir)
    assert status_line(other, "stale:").startswith("stale:   11  (made with other parameters")

    plain = cli("run", "--no-progress", "--param", "decimals=3", cwd=workdir)
    assert "0 done, 11 skipped (already done)" in plain.stdout  # stale is not redone unasked
    redo = cli("run", "--no-progress", "--param", "decimals=3", "--rerun-stale", cwd=workdir)
    assert "11 done, 0 skipped (already done), 1 failed" in redo.stdout
    assert re.search(r" RUN .* stale=11\b", redo.stderr)
    assert json.loads((workdir / "output" / "tile_000.json").read_text())["mean"] == 46.338
    assert status_line(cli("status", "--param", "decimals=3", cwd=workdir), "stale:") == (
        "stale:   0"
    )


JOB = '''
from pathlib import Path


def process(unit):
    unit.output.write_text("v1")
'''


def test_changed_code_makes_outputs_stale_and_the_commit_is_recorded(tmp_path: Path) -> None:
    package = tmp_path / "code" / "stagejob"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "job.py").write_text(JOB)
    (tmp_path / "inputs").mkdir()
    (tmp_path / "units.txt").write_text("a\nb\n")
    args = ["--job", "stagejob.job", "--units-file", "units.txt", "--input", "inputs"]
    args += ["--output", "out", "--state", "runs"]
    env = environment()
    env["PYTHONPATH"] = f"{tmp_path / 'code'}:{env['PYTHONPATH']}"
    git = shutil.which("git")
    if git:
        for step in (["init", "-q"], ["add", "."], ["commit", "-qm", "v1"]):
            subprocess.run(
                [git, "-c", "user.name=t", "-c", "user.email=t@t", *step],
                cwd=tmp_path / "code",
                check=True,
            )
    assert job_cli("run", "--no-progress", *args, cwd=tmp_path, env=env).returncode == 0
    [record_path] = (tmp_path / "runs").glob("*/provenance.json")
    record = json.loads(record_path.read_text())
    if git:
        assert len(record["commit"]) == 40 and record["dirty"] is False

    (package / "job.py").write_text(JOB.replace("v1", "v2"))
    status = job_cli("status", *args, cwd=tmp_path, env=env)
    assert status_line(status, "stale:").startswith("stale:   2"), status.stdout
    redo = job_cli("run", "--no-progress", "--rerun-stale", *args, cwd=tmp_path, env=env)
    assert "2 done, 0 skipped (already done)" in redo.stdout, redo.stdout + redo.stderr
    assert (tmp_path / "out" / "a").read_text() == "v2"
    paths = sorted((tmp_path / "runs").glob("*/provenance.json"))  # run names sort by time
    first, second = (json.loads(path.read_text()) for path in paths)
    assert first == record and first["code_hash"] != second["code_hash"]
    if git:
        assert (first["dirty"], second["dirty"]) == (False, True)
        assert first["commit"] == second["commit"]
