"""What a check produces: findings, and errors for files that could not be checked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering


@total_ordering
@dataclass(frozen=True)
class Finding:
    """One reported problem.

    Lines and columns are 1-based, the end is exclusive (as in SARIF and ruff's JSON). In a
    notebook, ``cell`` is the 1-based position of the cell in the notebook (markdown cells
    count) and the lines are lines of that cell. Findings sort by path, cell, line, column,
    code, which is the order every output format uses.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    message: str
    cell: int | None = None
    #: In a notebook, the line of the ``.ipynb`` file that holds the finding's first line
    #: (what code scanning and annotations show); None when unknown or not a notebook.
    file_line: int | None = None

    def sort_key(self) -> tuple[str, int, int, int, str, int, int, str]:
        """The ordering of findings: by file, then by place, then by code."""
        return (
            self.path,
            self.cell or 0,
            self.line,
            self.column,
            self.code,
            self.end_line,
            self.end_column,
            self.message,
        )

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    def location(self) -> str:
        """``path:line:col`` or, in a notebook, ``path:cell N:line:col``."""
        if self.cell is not None:
            return f"{self.path}:cell {self.cell}:{self.line}:{self.column}"
        return f"{self.path}:{self.line}:{self.column}"


_AT = re.compile(r"\bline (\d+), column (\d+)")


@total_ordering
@dataclass(frozen=True)
class FileError:
    """A file that could not be checked, with a one-line reason."""

    path: str
    reason: str

    @property
    def position(self) -> tuple[int, int] | None:
        """``(line, column)`` the reason names in a Python file (a syntax error), if any."""
        match = _AT.search(self.reason)
        if match is None or "cell " in self.reason[: match.start()]:
            return None
        return int(match[1]), int(match[2])

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, FileError):
            return NotImplemented
        return (self.path, self.reason) < (other.path, other.reason)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class SourceError(Exception):
    """The source cannot be checked (unreadable, undecodable, or not Python); one-line reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = " ".join(reason.split())
