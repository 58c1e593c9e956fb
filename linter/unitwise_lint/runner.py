"""Checking (or fixing) many files: per-file settings, the cache, and the worker processes.

Files are sent to a ``multiprocess`` pool in chunks and only small tuples come back, so the
cost of a process is its share of parsing, not of moving trees around. ``jobs=1`` runs
in-process. Whatever the number of jobs, results are sorted the same way afterwards, so the
output is identical.
"""

from __future__ import annotations

import difflib
import gc
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import bounded
from .cache import Cache, Entry, FindingRow, digest, settings_fingerprint
from .config import Config, ignored_for
from .discovery import Target
from .engine import Document, fix_document, lint_document, notebook_document, python_document
from .finding import Finding, SourceError
from .rule import Rule
from .sources import decode, decode_python, encode

Mode = Literal["check", "fix", "diff"]


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to check a file."""

    rules: tuple[type[Rule], ...]
    config: Config

    @property
    def options(self) -> Mapping[str, Mapping[str, object]]:
        """Options per rule code."""
        return self.config.options

    def rules_for(self, path: Path) -> tuple[type[Rule], ...]:
        """The enabled rules minus those ``per-file-ignores`` turns off for ``path``."""
        if not self.config.per_file_ignores:
            return self.rules
        try:
            relative = path.relative_to(self.config.root).as_posix()
        except ValueError:
            relative = path.name
        ignored = ignored_for(self.config, relative)
        if not ignored:
            return self.rules
        return tuple(rule for rule in self.rules if not rule.code.startswith(ignored))

    def fingerprint(self) -> str:
        """The cache namespace of these settings."""
        return settings_fingerprint(
            (
                [rule.code for rule in self.rules],
                sorted(
                    (code, sorted(map(repr, opts.items()))) for code, opts in self.options.items()
                ),
                self.config.per_file_ignores,
                str(self.config.root),
                self.config.file_timeout,
            )
        )


@dataclass
class FileResult:
    """What happened to one file."""

    display: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    fixed: int = 0
    diff: str = ""
    note: str | None = None


#: A result as it crosses processes: display, finding rows, error, fixed, diff, note.
ResultRow = tuple[str, list[FindingRow], "str | None", int, str, "str | None"]


def _rows(findings: Iterable[Finding]) -> list[FindingRow]:
    return [
        (f.line, f.column, f.end_line, f.end_column, f.code, f.message, f.cell, f.file_line)
        for f in findings
    ]


def findings_from_rows(display: str, rows: Iterable[Sequence[object]]) -> list[Finding]:
    """Findings rebuilt from rows (from a worker or the cache)."""
    found = []
    for line, column, end_line, end_column, code, message, cell, file_line in rows:
        assert isinstance(line, int) and isinstance(column, int)
        assert isinstance(end_line, int) and isinstance(end_column, int)
        assert isinstance(code, str) and isinstance(message, str)
        assert cell is None or isinstance(cell, int)
        assert file_line is None or isinstance(file_line, int)
        found.append(
            Finding(display, line, column, end_line, end_column, code, message, cell, file_line)
        )
    return found


def _write(path: Path, data: bytes) -> None:
    """Replaces ``path`` atomically, keeping its permissions."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _document(target: Target, data: bytes) -> tuple[Document | None, str, str]:
    """The document of a file, its text and the encoding to write it back with."""
    if target.is_notebook:
        if b"\0" in data:
            raise SourceError("binary file (contains NUL bytes), not a notebook")
        text = decode(data, "utf-8-sig")
        return notebook_document(text), text, "utf-8-sig"
    text, encoding = decode_python(data)
    return python_document(text), text, encoding


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while one file is processed.

    Parsing allocates hundreds of thousands of nodes that all stay alive until the file is
    done, so every collection the allocations trigger rescans them for nothing: about a fifth
    of a run's time. Trees are freed by reference counting; whatever cycles the rules leave
    are collected after the file, when allocations trigger the collector again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def process(target: Target, settings: Settings, mode: Mode) -> FileResult:
    """Checks, fixes or diffs one file; never raises for a bad file, never stalls on one.

    A file the parser may be slow on (see :mod:`.bounded`) is checked in a child process
    under ``file_timeout``; past it, the file is a file error.
    """
    timeout = settings.config.file_timeout
    if timeout > 0 and bounded.can_bound():
        try:
            risk = bounded.screen(target.path.read_bytes().decode("utf-8", "replace"))
        except OSError:
            risk = None  # _process reports the unreadable file
        if risk is not None:
            try:
                return bounded.run_bounded(lambda: _checked(target, settings, mode), timeout)
            except bounded.TimedOut:
                return FileResult(
                    target.display,
                    error=f"not checked: still parsing after {timeout:g} s of CPU "
                    f"({risk.reason}; libcst's parser is slow on such code): split it, "
                    "exclude the file or raise --file-timeout",
                )
            except RuntimeError as error:
                return FileResult(target.display, error=f"not checked: {error}")
    return _checked(target, settings, mode)


def _checked(target: Target, settings: Settings, mode: Mode) -> FileResult:
    with paused_gc():
        return _process(target, settings, mode)


def _process(target: Target, settings: Settings, mode: Mode) -> FileResult:
    result = FileResult(target.display)
    try:
        try:
            data = target.path.read_bytes()
        except OSError as error:
            raise SourceError(f"cannot read: {error.strerror or error}") from None
        document, text, encoding = _document(target, data)
        if document is None:
            result.note = "skipped: the notebook's language is not Python"
            return result
        rules = settings.rules_for(target.path)
        if mode == "check":
            result.findings = lint_document(document, target.display, rules, settings.options)
            return result
        if document.is_notebook:
            result.findings = lint_document(document, target.display, rules, settings.options)
            if any(rule.FIXABLE for rule in rules) and result.findings:
                result.note = "not fixed: fixing notebooks is not supported"
            return result
        fix = fix_document(document, target.display, rules, settings.options)
        result.findings, result.fixed = fix.findings, fix.fixed
        if fix.changed:
            if mode == "fix":
                _write(target.path, encode(fix.source, encoding))
            else:
                result.diff = "".join(
                    difflib.unified_diff(
                        text.splitlines(keepends=True),
                        fix.source.splitlines(keepends=True),
                        fromfile=f"a/{target.display}",
                        tofile=f"b/{target.display}",
                    )
                )
    except SourceError as error:
        result.error = error.reason
        result.findings = []
    return result


def _to_row(result: FileResult) -> ResultRow:
    return (
        result.display,
        _rows(result.findings),
        result.error,
        result.fixed,
        result.diff,
        result.note,
    )


def _from_row(row: ResultRow) -> FileResult:
    display, rows, error, fixed, diff, note = row
    return FileResult(display, findings_from_rows(display, rows), error, fixed, diff, note)


_worker_settings: tuple[Settings, Mode] | None = None


def _initialize(settings: Settings, mode: Mode) -> None:
    global _worker_settings
    _worker_settings = (settings, mode)


def _process_chunk(chunk: list[tuple[str, str]]) -> list[ResultRow]:
    assert _worker_settings is not None
    settings, mode = _worker_settings
    return [
        _to_row(process(Target(Path(path), display), settings, mode)) for path, display in chunk
    ]


def _chunks(targets: Sequence[Target], jobs: int) -> list[list[tuple[str, str]]]:
    """Small chunks, largest files first, so that no worker is left with the big ones last."""
    ordered = sorted(targets, key=_size, reverse=True)
    length = max(1, min(16, len(ordered) // (jobs * 8)))
    pairs = [(str(target.path), target.display) for target in ordered]
    return [pairs[start : start + length] for start in range(0, len(pairs), length)]


#: Below this much source, starting worker processes costs more than it saves (libcst parses
#: a few hundred kilobytes a second; a pool takes about half a second to start).
PARALLEL_MIN_BYTES = 256 * 1024


def _size(target: Target) -> int:
    try:
        return target.path.stat().st_size
    except OSError:
        return 0


def _total_size(targets: Sequence[Target]) -> int:
    total = 0
    for target in targets:
        total += _size(target)
        if total >= PARALLEL_MIN_BYTES:
            break
    return total


def _run(
    targets: Sequence[Target], settings: Settings, mode: Mode, jobs: int
) -> Iterator[FileResult]:
    if jobs <= 1 or len(targets) < 2 or _total_size(targets) < PARALLEL_MIN_BYTES:
        for target in targets:
            yield process(target, settings, mode)
        return
    from multiprocess import Pool

    with Pool(min(jobs, len(targets)), initializer=_initialize, initargs=(settings, mode)) as pool:
        for rows in pool.imap_unordered(_process_chunk, _chunks(targets, jobs)):
            for row in rows:
                yield _from_row(row)


def run(
    targets: Sequence[Target],
    settings: Settings,
    *,
    mode: Mode = "check",
    jobs: int = 1,
    cache_dir: Path | None = None,
) -> list[FileResult]:
    """Results for every target, sorted by path; ``cache_dir`` enables the cache (checks only)."""
    cache = None
    results: list[FileResult] = []
    pending = list(targets)
    digests: dict[str, str] = {}
    if cache_dir is not None and mode == "check":
        cache = Cache.load(cache_dir, settings.fingerprint())
        pending = []
        for target in targets:
            key = str(target.path)
            try:
                content = digest(target.path.read_bytes())
            except OSError:
                pending.append(target)
                continue
            entry = cache.get(key, content)
            if entry is None:
                digests[key] = content
                pending.append(target)
            else:
                findings = findings_from_rows(target.display, entry.findings)
                results.append(FileResult(target.display, findings, entry.error))
    by_display = {target.display: target for target in pending}
    for result in _run(pending, settings, mode, jobs):
        results.append(result)
        target = by_display[result.display]
        key = str(target.path)
        if cache is not None and key in digests:
            cache.put(key, Entry(digests[key], _rows(result.findings), result.error))
    if cache is not None:
        cache.prune(str(target.path) for target in targets)
        cache.save()
    results.sort(key=lambda result: result.display)
    return results
