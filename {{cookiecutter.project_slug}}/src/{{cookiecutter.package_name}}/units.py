"""What a unit is, and where the units come from: a unit-list file, a glob over the input
files, or a function. Every id is checked before any work starts, because an id becomes a file
name: a duplicate would overwrite, ``../x`` would escape the output folder."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, Generic, TypeVar

from .errors import UserError, failure, import_user_module
from .settings import Settings, Shard
from .storage import Store, open_store
from .unitlist import UnitList

R = TypeVar("R")

#: Names Windows refuses whatever the extension; rejected everywhere so outputs stay portable.
RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)
#: Separators, wildcards, quotes, whitespace and every control character (C0 and C1).
UNSAFE_CHARACTERS = re.compile(r'[/\\<>:"|?*\x00-\x1f\x7f-\x9f\s]')
#: Lone surrogates: Python's stand-ins for the bytes of a file name that are not UTF-8.
NOT_UTF8 = re.compile("[\ud800-\udfff]")
MAX_ID_BYTES = 200
MAX_PATH_BYTES = 800


class Unit(Generic[R]):
    """One unit of work as ``process`` sees it.

    ``output`` is a temporary local path: write the unit's result there (with
    ``OUTPUT_SHAPE = "folder"``, a folder: write any files into it). It becomes the real output
    (``<output>/<id><suffix>``) atomically, and only if ``process`` returns normally.
    ``skip(reason)`` says the unit has no output on purpose; it still counts as done.
    ``scratch`` is a private folder for temporary files: created when first used, deleted
    after the unit.
    """

    # A plain slotted class, not a dataclass: one is made per unit, and that cost counts
    # when units take microseconds.
    __slots__ = (
        "_scratch",
        "_scratch_made",
        "id",
        "inputs",
        "output",
        "params",
        "resources",
        "skipped",
    )

    def __init__(
        self,
        unit_id: str,
        output: Path,
        resources: R,
        inputs: Store,
        scratch: str | os.PathLike[str],
        params: Any = None,
    ) -> None:
        self.id = unit_id
        self.output = output
        self.resources = resources
        self.inputs = inputs
        self._scratch = scratch
        self._scratch_made = False
        #: The run's parameters (the ``Params`` of process.py), the same for every unit.
        self.params = params
        #: Why the unit has no output, once ``skip`` was called.
        self.skipped: str | None = None

    def __repr__(self) -> str:
        return f"Unit({self.id!r}, output={str(self.output)!r})"

    @property
    def scratch(self) -> Path:
        """The unit's private folder for temporary files (created here, on first use)."""
        path = Path(self._scratch)
        if not self._scratch_made:
            path.mkdir(parents=True, exist_ok=True)
            self._scratch_made = True
        return path

    @property
    def scratch_made(self) -> bool:
        """Whether ``scratch`` was used, hence has to be deleted."""
        return self._scratch_made

    def skip(self, reason: str) -> None:
        """Say that this unit has no output on purpose (e.g. "no data for this repository"):
        whatever was written to ``output`` is dropped, the unit counts as done, and the log
        and ``status`` show it as skipped with ``reason``."""
        self.skipped = str(reason) or "no reason given"

    def input(self, name: str) -> Path:
        """A local path to ``name`` under the input root, which may hold folders
        (``"raw/2024/a.csv"``), fetched first if it is remote; FileNotFoundError naming the
        input if it does not exist."""
        return self.inputs.local_copy(name, self.scratch)

    def optional_input(self, name: str) -> Path | None:
        """Like ``input``, but None when ``name`` does not exist (an optional input)."""
        try:
            return self.inputs.local_copy(name, self.scratch)
        except FileNotFoundError:
            return None


def check_id(unit_id: str) -> str | None:
    """Why ``unit_id`` cannot be a unit id (it becomes a file name), or None if it can.

    ``a/b/c`` is an id with a hierarchy (its output is ``<output>/a/b/c<suffix>``) when every
    segment is a valid id on its own."""
    if "/" in unit_id:
        return _check_path(unit_id)
    if not unit_id:
        return "is empty"
    bad = UNSAFE_CHARACTERS.search(unit_id)
    if bad:
        return f"contains {bad.group()!r}, which is unsafe in a file name"
    if not unit_id.isascii() and NOT_UTF8.search(unit_id):
        return "is not valid UTF-8 (a file name in another encoding): rename it"
    if unit_id.startswith("."):
        return "starts with '.' (hidden files and '..' are not allowed)"
    if unit_id.endswith("."):
        return "ends with '.'"
    if RESERVED.fullmatch(unit_id):
        return "is a reserved file name on Windows"
    if len(unit_id.encode("utf-8")) > MAX_ID_BYTES:
        return f"is longer than {MAX_ID_BYTES} bytes"
    return None


def _check_path(unit_id: str) -> str | None:
    if unit_id.startswith("/"):
        return "starts with '/'"
    for segment in unit_id.split("/"):
        if not segment:
            return "has an empty segment ('//' or a trailing '/')"
        problem = check_id(segment)
        if problem:
            return f"has a segment {segment!r} that {problem}"
    if len(unit_id.encode("utf-8")) > MAX_PATH_BYTES:
        return f"is longer than {MAX_PATH_BYTES} bytes"
    return None


def validated(entries: Iterable[tuple[str, str]]) -> list[str]:
    """The ids of ``(where, id)`` entries, in order; the first bad or repeated one is an error."""
    first_seen: dict[str, str] = {}
    for where, unit_id in entries:
        problem = check_id(unit_id)
        if problem:
            raise UserError(f"{where}: unit id {unit_id!r} {problem}")
        if unit_id in first_seen:
            raise UserError(
                f"{where}: duplicate unit id {unit_id!r} (first at {first_seen[unit_id]})"
            )
        first_seen[unit_id] = where
    return list(first_seen)


#: Characters of ids that need no closer look (ASCII letters, digits, ``._~-``).
_PLAIN_CHARACTERS = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-"
)
#: What else a plain list must not hold: a name Windows reserves (searched in the lowered
#: text: 3x faster than case-insensitive), a line over the byte limit. Each ``*_LINE`` pattern
#: starts at a line's ``\n`` (what the search engine scans fast for), ``*_FIRST`` matches the
#: first line.
_RESERVED_FIRST = re.compile(r"(?:con|prn|aux|nul|com[0-9]|lpt[0-9])[.\n]")
_RESERVED_LINE = re.compile("\n" + _RESERVED_FIRST.pattern)
_LONG_FIRST = re.compile(r"[^\n]{" + str(MAX_ID_BYTES + 1) + "}")
_LONG_LINE = re.compile("\n" + _LONG_FIRST.pattern)
#: A line that needs ``check_id`` (comments aside): every line, when the list is not plain.
_CHECKED_LINE = re.compile(r"^(?!#)[^\n]*", re.MULTILINE)
_COMMENT_LINE = re.compile(r"^#[^\n]*\n", re.MULTILINE)


def _plain(text: str) -> bool:
    """Whether every line of ``text`` (each ended by ``\\n``) surely holds a valid id, checked
    by a few scans in C: 10 million ids in about a second instead of ten."""
    if not text.isascii():
        return False
    if len(text.encode("ascii").translate(None, _PLAIN_CHARACTERS)) != text.count("\n"):
        return False  # a character outside the plain ones (``#`` included)
    if text.startswith("\n") or "\n\n" in text:
        return False  # a blank line
    if "." in text and (text.startswith(".") or "\n." in text or ".\n" in text):
        return False
    if _LONG_FIRST.match(text) or _LONG_LINE.search(text):
        return False
    lowered = text.lower()
    return not (_RESERVED_FIRST.match(lowered) or _RESERVED_LINE.search(lowered))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read units file {path}: {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        raise UserError(
            f"{path}:{number}: not valid UTF-8 (byte {data[exc.start]:#04x}); save the units "
            "file as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")  # a byte-order mark (Windows editors)


def _line_of(text: str, position: int) -> int:
    """The line number of the ``position``-th id (0-based) of a units file's text: its
    position plus the comment lines before it, counted without splitting the text (a list of
    10 million lines would take 700 MB)."""
    number, counted_to, line = position + 1, 0, 1
    for comment in _COMMENT_LINE.finditer(text):
        line += text.count("\n", counted_to, comment.start())
        counted_to = comment.start()
        if line > number:
            break
        number += 1  # this comment comes before the id: one line further down
    return number


def from_file(path: Path) -> UnitList:
    """One id per line; lines starting with ``#`` are comments; blank lines are errors.

    Lines end at ``\\n`` (or ``\\r\\n``) only: ``str.splitlines`` would also split at form
    feeds, ``\\x1c``-``\\x1e``, ``\\x85`` and U+2028/U+2029, turning one bad id into two
    good-looking ones and shifting every later line number. Those characters stay in the id,
    which ``check_id`` then rejects, naming the line.
    """
    text = _read_text(path).replace("\r\n", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    ids = _COMMENT_LINE.sub("", text) if "#" in text else text
    if not _plain(ids):  # then find the bad line, in the file with its comments
        for checked in _CHECKED_LINE.finditer(text):
            if checked.start() == len(text):  # after the newline that ends the last line
                break
            line = checked.group()
            blank = not line.strip(" \t")
            problem = None if blank else check_id(line)
            if blank or problem:  # the line's number only now: counting each is quadratic
                where = f"{path}:{text.count(chr(10), 0, checked.start()) + 1}"
                raise UserError(
                    f"{where}: blank line in the units file"
                    if blank
                    else f"{where}: unit id {line!r} {problem}"
                )
    unit_ids = UnitList(ids)
    repeat = unit_ids.first_repeat()
    if repeat is not None:
        first, again = repeat
        unit_id = next(islice(unit_ids, again, None))
        raise UserError(
            f"{path}:{_line_of(text, again)}: duplicate unit id {unit_id!r} "
            f"(first at {path}:{_line_of(text, first)})"
        )
    return unit_ids


def from_glob(inputs: Store, pattern: str) -> Iterator[tuple[str, str]]:
    """The input files matching ``pattern``; a unit's id is its path without the extension
    (``x.csv`` -> ``x``; with ``**/*.csv``, ``a/b/x.csv`` -> ``a/b/x``)."""
    if "/" in pattern or pattern == "**":
        names = [name for name in inputs.walk() if path_matches(name, pattern.split("/"))]
        if not names:
            inputs.glob(pattern)  # a missing input folder is an error, not 0 units
    else:
        names = inputs.glob(pattern)
    for name in sorted(names):
        if not name.startswith(".") and "/." not in name:
            folder, slash, base = name.rpartition("/")
            yield inputs.url(name), folder + slash + base.split(".", 1)[0]


def path_matches(name: str, pattern: list[str]) -> bool:
    """Whether ``name`` matches the segments of a glob: ``*`` stays within a folder, a
    ``**`` segment spans any number of folders (none included)."""
    parts = name.split("/")

    def match(at: int, segment: int) -> bool:
        if segment == len(pattern):
            return at == len(parts)
        if pattern[segment] == "**":
            return any(match(start, segment + 1) for start in range(at, len(parts) + 1))
        return (
            at < len(parts)
            and fnmatch.fnmatchcase(parts[at], pattern[segment])
            and match(at + 1, segment + 1)
        )

    return match(0, 0)


def from_function(reference: str, settings: Settings) -> Iterator[tuple[str, str]]:
    """Ids from ``module:function``, a callable taking the settings and returning ids."""
    module_name, _, attribute = reference.partition(":")
    module = import_user_module(module_name, f"units_function {reference!r}")
    function: Callable[[Settings], Iterable[str]] | None = getattr(module, attribute, None)
    if not callable(function):
        raise UserError(
            f"units_function {reference!r} cannot be loaded: {module_name} has no function "
            f"{attribute!r}"
        )
    try:
        for index, unit_id in enumerate(function(settings)):
            if not isinstance(unit_id, str):
                raise UserError(
                    f"units_function {reference!r}: item {index} is {unit_id!r}, not a string"
                )
            yield f"{reference} item {index}", unit_id
    except UserError:
        raise
    except Exception as exc:  # the user's function failed: say where, without a traceback
        raise UserError(f"units_function {reference!r} failed: {failure(exc)}") from None


def shard_index(unit_id: str, count: int) -> int:
    """The shard (0 to ``count`` - 1) of ``unit_id``: a stable hash of the id alone, so a unit
    keeps its shard when other units are added, and the shards are disjoint and cover every
    unit."""
    digest = hashlib.blake2b(unit_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def in_shard(unit_id: str, shard: Shard) -> bool:
    """Whether ``unit_id`` belongs to ``shard`` (see ``shard_index``)."""
    return shard_index(unit_id, shard.count) == shard.index


def load(settings: Settings) -> UnitList:
    """The validated unit ids of this run (this shard's only, if sharded), in source order."""
    if settings.units_file and not (settings.units_function or settings.units_glob):
        ids = from_file(Path(settings.units_file))
    else:
        pattern = settings.units_glob or "*"
        entries = (
            from_function(settings.units_function, settings)
            if settings.units_function
            else from_glob(open_store(settings.input), pattern)
        )
        ids = UnitList.of(validated(entries))
        if not ids and not settings.units_function:  # a typo in the pattern, or the folder
            raise UserError(f"no input file in {settings.input} matches units_glob {pattern!r}")
    if settings.shard is not None:
        shard = settings.shard
        ids = ids.filtered(lambda unit_id: in_shard(unit_id, shard))
    return ids
