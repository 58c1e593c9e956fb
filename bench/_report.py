"""What every benchmark ends with: its table on stdout and its results as JSON."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Rows of cells (the first one the header), in left-aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def machine(**extra: Any) -> dict[str, Any]:
    """What the results were measured on: Python, platform, CPUs (and ``extra``)."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        **extra,
    }


def save(path: Path, results: dict[str, Any]) -> None:
    """Write ``results`` as JSON to ``path`` and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {path}")
