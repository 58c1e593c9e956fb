"""A ``.gitignore`` matcher covering what projects use: globs with ``**``, ``!`` negation,
``dir/`` (directories only), anchoring (a ``/`` anywhere but at the end), escapes and comments.

Deeper ``.gitignore`` files take precedence over shallower ones and, within a file, the last
matching pattern wins, as in git. Written here to avoid a dependency for a few dozen lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .globs import glob_regex


@dataclass(frozen=True)
class Pattern:
    """One line of a ``.gitignore``."""

    regex: re.Pattern[str]
    negated: bool
    directory_only: bool
    anchored: bool


def parse_line(line: str) -> Pattern | None:
    """The pattern on one line, or None for a blank line or a comment."""
    line = line.rstrip("\n").rstrip("\r")
    # Trailing spaces are ignored unless escaped.
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(line) > len(stripped):
        stripped += " "
    line = stripped
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated or line.startswith(("\\!", "\\#")):
        line = line[1:]
    directory_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    return Pattern(re.compile(rf"(?s:{glob_regex(line)})\Z"), negated, directory_only, anchored)


@dataclass(frozen=True)
class IgnoreFile:
    """The patterns of one ``.gitignore``, relative to the directory that holds it."""

    base: Path
    patterns: tuple[Pattern, ...]

    @classmethod
    def read(cls, path: Path, base: Path | None = None) -> IgnoreFile | None:
        """The patterns of ``path`` (None if it cannot be read or holds none)."""
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        patterns = tuple(p for p in map(parse_line, text.splitlines()) if p is not None)
        return cls(base or path.parent, patterns) if patterns else None

    def match(self, path: Path, is_dir: bool) -> bool | None:
        """True if ignored, False if re-included by ``!``, None if no pattern matches."""
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        name = path.name
        for pattern in reversed(self.patterns):
            if pattern.directory_only and not is_dir:
                continue
            subject = relative if pattern.anchored else name
            if pattern.regex.match(subject):
                return not pattern.negated
        return None


def repository_root(start: Path) -> Path | None:
    """The closest directory at or above ``start`` holding ``.git``."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def ancestor_ignores(path: Path) -> list[IgnoreFile]:
    """The ignore files that apply to ``path`` from above it, shallowest first.

    Inside a git repository: ``.git/info/exclude`` and each ``.gitignore`` from the repository
    root down to ``path``'s parent directory. Outside one, none. ``path`` must be resolved.
    """
    root = repository_root(path)
    if root is None:
        return []
    found: list[IgnoreFile] = []
    exclude = IgnoreFile.read(root / ".git" / "info" / "exclude", base=root)
    if exclude is not None:
        found.append(exclude)
    chain = [path, *path.parents]
    for parent in reversed(chain[1 : chain.index(root) + 1]):
        ignore = IgnoreFile.read(parent / ".gitignore")
        if ignore is not None:
            found.append(ignore)
    return found


def is_ignored(ignores: list[IgnoreFile], path: Path, is_dir: bool) -> bool:
    """Whether ``path`` is ignored by ``ignores`` (shallowest first; deeper ones win)."""
    for ignore in reversed(ignores):
        verdict = ignore.match(path, is_dir)
        if verdict is not None:
            return verdict
    return False
