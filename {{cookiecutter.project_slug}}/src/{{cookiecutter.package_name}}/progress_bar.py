"""The progress bar on the terminal: tqdm's, imported only when a terminal shows it.

A run without a terminal (SLURM, CI, a pipe, a file) shows no bar, so it does not import tqdm:
~50 ms of every command's start-up, most of it tqdm reading its version from the installed
packages' metadata.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol


class Bar(Protocol):
    def update(self, n: float = 1) -> object: ...

    def write(self, s: str, file: Any = None) -> None: ...

    def close(self) -> None: ...


class NoBar:
    """No bar: what is written goes straight to the file."""

    def update(self, n: float = 1) -> None:
        return None

    def write(self, s: str, file: Any = None) -> None:
        (file or sys.stdout).write(s + "\n")

    def close(self) -> None:
        return None


def bar(total: int, enabled: bool = True, **options: Any) -> Bar:
    """tqdm's bar on stderr if ``enabled`` and stderr is a terminal, else ``NoBar``."""
    if not enabled or not sys.stderr.isatty():
        return NoBar()
    return shown(total, **options)


def shown(total: int, **options: Any) -> Bar:
    """tqdm's bar on stderr, without its monitor thread (it only tunes refreshes of stalled
    bars): with no thread running, workers can be forked (``start_method.py``)."""
    import tqdm

    class _Bar(tqdm.tqdm):  # type: ignore[type-arg]
        monitor_interval = 0

    return _Bar(total=total, unit="unit", file=sys.stderr, **options)
