"""Which files a run checks: ``.py`` and ``.ipynb`` under the given paths, minus exclusions.

Directories are walked in sorted order without following symlinked directories. A file or
directory is skipped if it matches an ``exclude`` pattern (the defaults below plus the
configured ones) or a ``.gitignore``. A file or directory named explicitly is always checked,
wherever it lives (a package under ``site-packages``, a gitignored folder: then only what is
below it is filtered), unless ``force_exclude`` is set (for pre-commit, which passes every
changed file).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .finding import FileError
from .gitignore import IgnoreFile, ancestor_ignores, is_ignored
from .globs import path_matches

SUFFIXES = (".py", ".ipynb")

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    "__pypackages__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".unitwise-lint-cache",
    ".ipynb_checkpoints",
    "node_modules",
    "site-packages",
)


@dataclass(frozen=True)
class Target:
    """A file to check: where it is and how to show its path."""

    path: Path
    display: str

    @property
    def is_notebook(self) -> bool:
        """Whether it is a Jupyter notebook."""
        return self.path.suffix == ".ipynb"


@dataclass(frozen=True)
class Discovery:
    """The files found and the paths that could not be used."""

    targets: list[Target]
    errors: list[FileError]


class _Excluder:
    def __init__(self, root: Path, patterns: Sequence[str]) -> None:
        self.root = root
        self.patterns = tuple(patterns)

    def excluded(self, path: Path) -> bool:
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            relative = path.name
        return any(path_matches(pattern, relative) for pattern in self.patterns)


def _display(path: str) -> str:
    return os.path.normpath(path)


def _walk(
    directory: Path,
    display: str,
    excluder: _Excluder,
    ignores: list[IgnoreFile] | None,
) -> Iterator[Target]:
    if ignores is not None:
        own = IgnoreFile.read(directory / ".gitignore")
        if own is not None:
            ignores = [*ignores, own]
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        path = directory / entry.name
        shown = os.path.join(display, entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = entry.is_file()
        except OSError:
            continue
        if not is_dir and not (is_file and entry.name.endswith(SUFFIXES)):
            continue
        if excluder.excluded(path):
            continue
        if ignores is not None and is_ignored(ignores, path, is_dir):
            continue
        if is_dir:
            yield from _walk(path, shown, excluder, ignores)
        else:
            yield Target(path, _display(shown))


def discover(
    paths: Sequence[str],
    *,
    root: Path,
    exclude: Sequence[str] = (),
    respect_gitignore: bool = True,
    force_exclude: bool = False,
) -> Discovery:
    """The files to check under ``paths``; ``exclude`` patterns are relative to ``root``."""
    excluder = _Excluder(root.resolve(), (*DEFAULT_EXCLUDE, *exclude))
    targets: list[Target] = []
    errors: list[FileError] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given).resolve()
        found: Iterator[Target]
        if path.is_dir():
            ignores = ancestor_ignores(path) if respect_gitignore else None
            named_excluded = excluder.excluded(path) or (
                ignores is not None and is_ignored(ignores, path, True)
            )
            if named_excluded and force_exclude:
                continue
            walker = excluder
            if named_excluded:
                # Named on the command line, so checked wherever it lives (a package under
                # site-packages, a gitignored folder): only what is below it is filtered.
                walker = _Excluder(path, excluder.patterns)
                ignores = [] if ignores is not None else None
            found = _walk(path, given, walker, ignores)
        elif path.is_file():
            if force_exclude and (
                excluder.excluded(path)
                or (respect_gitignore and is_ignored(ancestor_ignores(path), path, False))
            ):
                continue
            found = iter([Target(path, _display(given))])
        elif path.exists():
            errors.append(FileError(_display(given), "not a regular file or directory"))
            continue
        else:
            errors.append(FileError(_display(given), "no such file or directory"))
            continue
        for target in found:
            if target.path not in seen:
                seen.add(target.path)
                targets.append(target)
    return Discovery(targets, errors)
