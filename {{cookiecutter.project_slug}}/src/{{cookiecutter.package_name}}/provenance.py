"""What made each output: the parameters, the code and the run, kept in the project's records.

Every run writes ``<state>/<run>/provenance.json`` once (the parameter values and their hash,
the VCS commit and whether the tree was dirty, a hash of the job's source, the run id) and
appends to ``<state>/<run>/committed.txt`` the id of every unit it commits, as it commits it.
An output is *stale* when the run that last committed it had other parameters or other code.
Telling which outputs are stale reads these small local files only: never one request per
output, on any storage.

The code is the job's source: the ``.py`` files of the package that defines ``process``
(``src/{{ cookiecutter.package_name }}/`` for ``process.py``). A commit that changes only the README or
the tests does not make outputs stale; the commit and the dirty flag are recorded alongside,
so every output can be traced to the code that made it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from . import params
from .failures import run_dirs

HEADER = "provenance.json"
COMMITTED = "committed.txt"


@dataclass(frozen=True)
class Stamp:
    """What decides whether an output is up to date: the parameters' and the code's hashes."""

    params: str
    code: str


def source_folder(process: Any) -> Path | None:
    """The folder of the package (or module) defining ``process``."""
    module = importlib.import_module(process.__module__)
    file = getattr(module, "__file__", None)
    if file is None:
        return None
    return Path(file).resolve().parent


def source_hash(folder: Path | None) -> str:
    """A hash of the ``.py`` files of ``folder`` (names and contents, in a stable order)."""
    digest = hashlib.sha256()
    if folder is not None:
        for path in sorted(folder.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def vcs_version(folder: Path | None) -> tuple[str | None, bool | None]:
    """The git commit of ``folder`` and whether its tree is dirty (None, None without git)."""
    if folder is None:
        return None, None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, bool(status.strip())


def describe(process: Any, run_params: object, run_id: str) -> dict[str, Any]:
    """The provenance record of a run (what ``provenance.json`` holds)."""
    folder = source_folder(process)
    commit, dirty = vcs_version(folder)
    return {
        "run": run_id,
        "params_hash": params.digest(run_params),
        "params": params.as_dict(run_params),
        "code_hash": source_hash(folder),
        "commit": commit,
        "dirty": dirty,
    }


def stamp_of(record: dict[str, Any]) -> Stamp:
    return Stamp(str(record.get("params_hash")), str(record.get("code_hash")))


def current_stamp(process: Any, run_params: object) -> Stamp:
    """The stamp outputs made now would have (no git call: the hashes only)."""
    return Stamp(params.digest(run_params), source_hash(source_folder(process)))


class Ledger:
    """The provenance of one run: its header, then one line per committed unit."""

    def __init__(self, run_dir: Path, record: dict[str, Any]) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / HEADER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        #: Flushed with the run's log (see ``RunLog.follow``): a run that is killed still
        #: says which outputs it made, up to its last END lines (a write per unit, line
        #: buffering, cost the main process more than logging the unit).
        self.file: TextIO = (run_dir / COMMITTED).open("a", encoding="utf-8")

    def add(self, unit_id: str) -> None:
        self.file.write(unit_id + "\n")

    def add_many(self, unit_ids: list[str]) -> None:
        self.file.write("\n".join(unit_ids) + "\n")

    def close(self) -> None:
        self.file.close()


def runs(*states: Path) -> list[tuple[Stamp, set[str]]]:
    """Each run's stamp and the units it committed, oldest run first (over every state
    folder given: shards may keep their own; run names start with their UTC time)."""
    found: list[tuple[Stamp, set[str]]] = []
    every = sorted((run for state in states for run in run_dirs(state)), key=lambda p: p.name)
    for run_dir in every:
        try:
            record = json.loads((run_dir / HEADER).read_text(encoding="utf-8"))
            with (run_dir / COMMITTED).open(encoding="utf-8") as handle:
                committed = set(handle.read().splitlines())
        except (OSError, ValueError):
            continue
        found.append((stamp_of(record), committed))
    return found


def stale(done: Iterable[str], made: list[tuple[Stamp, set[str]]], now: Stamp) -> set[str]:
    """The done units whose last recorded run had another stamp (unrecorded ones are not
    stale: nothing says what made them). Set operations over whole runs, newest first: no
    work per unit in Python."""
    seen: set[str] = set()
    old: set[str] = set()
    for stamp, committed in reversed(made):
        fresh = committed - seen
        if stamp != now:
            old |= fresh
        seen |= fresh
    return old.intersection(done)
