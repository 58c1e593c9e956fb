"""Results of unchanged files, kept between runs.

One JSON file per settings fingerprint (linter version and code, enabled rules, options,
per-file ignores) maps each checked file to the hash of its content and its findings or error.
A file is served from the cache when its content hash matches, so edits, checkouts and touch
alike are handled right. Writes go to a temporary file renamed into place, so a run that is
interrupted, or two runs at once, never leave a torn cache. JSON rather than pickle: a cache
directory inside a repository is not trusted code.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import __version__

CACHE_DIR = ".unitwise-lint-cache"
_FORMAT = 1

#: What is cached for one file: line, column, end line, end column, code, message, cell.
FindingRow = tuple[int, int, int, int, str, str, "int | None", "int | None"]


def digest(data: bytes) -> str:
    """The content hash used as cache key."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@cache
def code_fingerprint() -> str:
    """A hash of the linter's own source, so a changed rule invalidates the cache even
    without a version bump (as happens while developing rules)."""
    package = Path(__file__).resolve().parent
    hasher = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*.py")):
        hasher.update(path.relative_to(package).as_posix().encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def settings_fingerprint(settings: object) -> str:
    """The cache namespace for one set of settings (anything JSON-serialisable by repr)."""
    hasher = hashlib.blake2b(digest_size=16)
    for part in (__version__, code_fingerprint(), f"{sys.version_info[:2]}", repr(settings)):
        hasher.update(part.encode())
        hasher.update(b"\0")
    return hasher.hexdigest()


@dataclass
class Entry:
    """The cached result of one file."""

    digest: str
    findings: list[FindingRow]
    error: str | None


@dataclass
class Cache:
    """The cache of one settings fingerprint, loaded once and saved once per run."""

    path: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, directory: Path, fingerprint: str) -> Cache:
        """The cache file for ``fingerprint`` (empty if missing or unreadable)."""
        path = directory / f"{fingerprint}.json"
        entries: dict[str, Entry] = {}
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if document.get("format") == _FORMAT:
                for name, (content, rows, error) in document["files"].items():
                    entries[name] = Entry(content, [tuple(row) for row in rows], error)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            entries = {}
        return cls(path, entries)

    def get(self, key: str, content: str) -> Entry | None:
        """The entry of file ``key`` if its content is still ``content``."""
        entry = self.entries.get(key)
        return entry if entry is not None and entry.digest == content else None

    def put(self, key: str, entry: Entry) -> None:
        """Records a fresh result."""
        self.entries[key] = entry
        self.dirty = True

    def prune(self, keep: Iterable[str]) -> None:
        """Forgets files that no longer exist (``keep`` were just checked)."""
        kept = set(keep)
        for name in list(self.entries):
            if name not in kept and not os.path.exists(name):
                del self.entries[name]
                self.dirty = True

    def save(self) -> None:
        """Writes the cache atomically; a cache that cannot be written is skipped silently."""
        if not self.dirty:
            return
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            _mark(directory)
            document: Mapping[str, object] = {
                "format": _FORMAT,
                "files": {
                    name: [entry.digest, entry.findings, entry.error]
                    for name, entry in sorted(self.entries.items())
                },
            }
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(document, stream, separators=(",", ":"))
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            return
        self.dirty = False


def _mark(directory: Path) -> None:
    """Makes the cache directory ignored by git and by backup tools."""
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Created by unitwise-lint\n*\n", encoding="utf-8")
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by unitwise-lint.\n",
            encoding="utf-8",
        )
