"""``# noqa`` comments, with flake8's syntax, and the file-level ``# unitwise-lint: noqa``.

Like flake8, the comment is looked for in the physical line where the finding starts, and a
code in the list silences every code it is a prefix of (``# noqa: UW3`` silences UW301).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODES = r"[A-Za-z]+[0-9]+(?:[,\s]+[A-Za-z]+[0-9]+)*"
_LINE = re.compile(rf"#\s*(?i:noqa)(?::\s?(?P<codes>{_CODES}))?")
_FILE = re.compile(rf"#\s*unitwise-lint:\s*(?i:noqa)(?::\s?(?P<codes>{_CODES}))?")
_SPLIT = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class Suppression:
    """What a ``noqa`` comment silences: everything (``codes`` is None) or some codes."""

    codes: tuple[str, ...] | None

    def silences(self, code: str) -> bool:
        """Whether a finding with ``code`` is silenced."""
        return self.codes is None or code.startswith(self.codes)


def _suppression(match: re.Match[str] | None) -> Suppression | None:
    if match is None:
        return None
    codes = match["codes"]
    if not codes:
        return Suppression(None)
    return Suppression(tuple(code.upper() for code in _SPLIT.split(codes.strip()) if code))


def line_suppression(line: str) -> Suppression | None:
    """The ``# noqa`` comment of a physical line, if any."""
    if "noqa" not in line.lower():
        return None
    return _suppression(_LINE.search(line))


def file_suppression(source: str) -> Suppression | None:
    """The file-level ``# unitwise-lint: noqa[: codes]`` comment, if any."""
    if "unitwise-lint" not in source:
        return None
    return _suppression(_FILE.search(source))
