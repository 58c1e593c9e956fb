"""Bake a throw-away project from the template, import its package and time its runner
(benchmarks only)."""

from __future__ import annotations

import atexit
import importlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
#: Worker processes of every contender, ours and the bare pools alike.
WORKERS = 2


def bake(name: str = "Bench Project", **options: str) -> tuple[Path, ModuleType]:
    """Bake into a temporary folder (deleted at exit); returns the project root and its
    imported package."""
    out = Path(tempfile.mkdtemp(prefix="unitwise-bench-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    root = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            output_dir=str(out),
            extra_context={"project_name": name, **options},
        )
    )
    sys.path.insert(0, str(root / "src"))
    package = root.name.replace("-", "_")
    return root, importlib.import_module(package)


def timed_run(
    package: ModuleType, work: Path, count: int, *, output: str | None = None, job: Any = None
) -> tuple[float, Any]:
    """Wall seconds and summary of one run of the baked runner, WORKERS workers, over the units
    ``u0000000`` ... (``count`` of them); outputs in ``work/out`` unless ``output`` says where,
    and the project's own job unless ``job`` is given."""
    runner = importlib.import_module(f"{package.__name__}.runner")
    settings_module = importlib.import_module(f"{package.__name__}.settings")
    units = work / "units.txt"
    units.write_text("".join(f"u{i:07d}\n" for i in range(count)))
    (work / "in").mkdir(exist_ok=True)  # a run checks that its input folder exists
    settings = settings_module.Settings(
        input=str(work / "in"),
        output=output or str(work / "out"),
        state=str(work / "runs"),
        units_file=str(units),
        workers=WORKERS,
        progress=False,
    )
    started = time.perf_counter()
    summary = runner.run(settings, job=job, echo=lambda line: None)
    return time.perf_counter() - started, summary
