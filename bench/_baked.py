"""Bake a throw-away project from the template and import its package (benchmarks only)."""

from __future__ import annotations

import atexit
import importlib
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]


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
