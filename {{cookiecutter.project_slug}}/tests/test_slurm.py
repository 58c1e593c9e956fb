"""``slurm/array.sbatch``, run the way SLURM runs it: by bash, once per array task, with the
task's SLURM_* variables set (no SLURM needed). On a real cluster: ``test_slurm_cluster.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .conftest import DATA, PROJECT_ROOT, cli_environment

SCRIPT = PROJECT_ROOT / "slurm" / "array.sbatch"
TASKS = 3
CPUS = 2


def task(index: int, mode: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Array task ``index`` of TASKS, as ``sbatch --array=0-2 --cpus-per-task=2`` would run it."""
    env = {
        **cli_environment(),
        # The installed command, as in the project's virtualenv.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "VENV": str(workdir / "no-venv"),
        "SLURM_SUBMIT_DIR": str(workdir),
        "SLURM_JOB_ID": str(4242 + index),
        "SLURM_ARRAY_JOB_ID": "4242",
        "SLURM_ARRAY_TASK_ID": str(index),
        "SLURM_ARRAY_TASK_COUNT": str(TASKS),
        "SLURM_ARRAY_TASK_MIN": "0",
        "SLURM_ARRAY_TASK_MAX": str(TASKS - 1),
        "SLURM_CPUS_PER_TASK": str(CPUS),
    }
    return subprocess.run(
        ["bash", str(SCRIPT), mode],
        cwd="/",  # the script goes to the submit folder itself
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_script_is_valid_bash_with_the_documented_directives() -> None:
    result = subprocess.run(
        ["bash", "-n", str(SCRIPT)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    text = SCRIPT.read_text()
    assert "#SBATCH --output=slurm/logs/%x-%A_%a.out" in text
    assert "--array=0-99%10" in text  # how to throttle
    assert "slurm/array.sbatch retry" in text  # how to rerun only the failed units
    assert "#SBATCH --requeue" in text and "#SBATCH --signal=B:USR1@" in text
    for variable in ("VENV", "WORKERS", "MAX_REQUEUES"):  # documented at the top
        assert f"#   {variable} " in text.split("#SBATCH")[0]


def test_every_task_id_runs_its_shard_and_each_unit_runs_exactly_once(workdir: Path) -> None:
    results = [task(index, "run", workdir) for index in range(TASKS)]
    for index, result in enumerate(results):
        assert result.returncode in (0, 1), result.stderr
        assert f"run --shard {index}/{TASKS} --workers {CPUS}" in result.stdout
    assert sorted(result.returncode for result in results) == [0] * (TASKS - 1) + [1]

    runs = sorted(path for path in (workdir / "runs").iterdir() if path.is_dir())
    assert sorted(run.name.rsplit("-", 1)[1] for run in runs) == sorted(
        f"shard{index}of{TASKS}" for index in range(TASKS)
    )
    starts: Counter[str] = Counter()
    for run in runs:
        records = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
        [header] = [r for r in records if r["event"] == "RUN"]
        assert header["workers"] == CPUS
        starts.update(r["unit"] for r in records if r["event"] == "START")
    units = [u for u in (DATA / "units.txt").read_text().splitlines() if u[:1] != "#"]
    assert starts == Counter(units)
    assert len(list((workdir / "output").iterdir())) == len(units) - 1  # tile_007 failed

    # The same array again, in retry mode, after the bad input is fixed.
    csv = workdir / "example" / "inputs" / "tile_007.csv"
    csv.write_text(csv.read_text().replace("n/a", "99.5"))
    retries = [task(index, "retry", workdir) for index in range(TASKS)]
    assert all(result.returncode == 0 for result in retries), [r.stderr for r in retries]
    assert sum("retrying 1 failed units" in result.stdout for result in retries) == 1
    assert len(list((workdir / "output").iterdir())) == len(units)


def test_outside_an_array_task_the_script_refuses_to_run(workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "not an array task" in result.stderr
    assert not (workdir / "output").exists()
