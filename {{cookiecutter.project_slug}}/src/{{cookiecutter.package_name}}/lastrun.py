"""What a run was about, recorded in its folder, so that ``status``, ``failed`` and ``retry``
answer for the run rather than for the defaults.

Every run writes ``<state>/<run>/settings.json``: the job, the unit source, the input, the
output and the shard, with local paths made absolute (a later command may start elsewhere).
A command without those options takes them from the most recent run of its state folder;
an option given on the command line still wins, and a difference is said in one line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from .failures import run_dirs
from .settings import Settings, Shard

SETTINGS_FILE = "settings.json"
#: The settings that say what a run was about (the others only say how it ran).
RECORDED = ("job", "units_file", "units_glob", "units_function", "input", "output", "shard")
UNIT_SOURCES = ("units_file", "units_glob", "units_function")


def _absolute(location: str) -> str:
    """A local path made absolute; URLs (``s3://...``) as they are."""
    return location if "://" in location else os.path.abspath(location)


def recorded_values(settings: Settings) -> dict[str, Any]:
    """The recorded settings of ``settings``, as written to a run's folder."""
    values: dict[str, Any] = {name: getattr(settings, name) for name in RECORDED}
    for name in ("input", "output", "units_file"):
        if values[name]:
            values[name] = _absolute(values[name])
    values["shard"] = str(settings.shard) if settings.shard else None
    return values


def record(run_dir: Path, settings: Settings) -> None:
    """Write the run's settings into its folder."""
    path = run_dir / SETTINGS_FILE
    path.write_text(json.dumps(recorded_values(settings), indent=2) + "\n", encoding="utf-8")


def read(run_dir: Path) -> dict[str, Any] | None:
    """The settings a run recorded, or None (a run of an older version, a damaged file)."""
    try:
        values = json.loads((run_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(values, dict):
        return None
    return {name: values.get(name) for name in RECORDED}


def latest(states: list[Path]) -> tuple[Path, dict[str, Any]] | None:
    """The most recent run that recorded its settings, over every state folder given."""
    runs = sorted((run for state in states for run in run_dirs(state)), key=lambda p: p.name)
    for run in reversed(runs):
        values = read(run)
        if values is not None:
            return run, values
    return None


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


def for_last_run(
    settings: Settings, given: Collection[str], states: list[Path]
) -> tuple[Settings, str | None]:
    """``settings`` with what the last run recorded in place of what was not ``given`` on the
    command line, and one line saying how they differ (None if nothing is worth saying).

    The shard is never taken from the run: ``status``, ``failed`` and ``retry`` answer for
    every shard of the job (``retrying.py``). A shard given is never a mismatch: each shard
    of a job is started with its own.
    """
    found = latest(states)
    if found is None:
        return settings, None
    run, values = found
    values = {**values, "shard": None}
    ours = recorded_values(settings)
    taken: dict[str, Any] = {}
    differ: list[str] = []
    sources_given = any(name in given for name in UNIT_SOURCES)
    for name in RECORDED:
        if name in given or (name in UNIT_SOURCES and sources_given):
            if name in given and name != "shard" and ours[name] != values[name]:
                differ.append(name)  # (shards of one job differ by design)
        elif ours[name] != values[name]:
            taken[name] = values[name]
    if not taken and not differ:
        return settings, None
    if "shard" in taken:
        taken["shard"] = Shard.parse(taken["shard"]) if taken["shard"] else None
    parts = []
    if taken:
        said = ", ".join(f"{name}={_shown(value)}" for name, value in taken.items())
        parts.append(f"answering for the last run {run.name}: {said}")
    if differ:
        options = ", ".join(f"--{name.replace('_', '-')} {_shown(ours[name])}" for name in differ)
        theirs = ", ".join(f"{name}={_shown(values[name])}" for name in differ)
        parts.append(
            f"{options} differs from the last run {run.name} ({theirs}); using what was given"
        )
    return settings.replace(**taken), "; ".join(parts)
