"""UW502 absolute-path: hard-coded paths under a user's home, a mount or a drive letter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, Option, Rule, RuleContext, Valid

_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_DEFAULT_PREFIXES = ["/home/", "/Users/", "/root/", "/mnt/", "/media/", "/scratch/", "/data/"]


class AbsolutePath(Rule):
    code = "UW502"
    name = "absolute-path"
    message = "Hard-coded absolute path: take it from configuration"
    rationale = (
        "A path under someone's home directory, a mount point or a Windows drive works on "
        "exactly one machine. On a cluster node, in a container or on a colleague's laptop "
        "the run fails, or worse, reads or overwrites something else. Paths belong in the "
        "configuration or the command line, relative to a configured root. Only string "
        "literals (and the literal start of f-strings) that begin with one of `prefixes` or a "
        "drive letter are reported: URLs (`s3://`, `https://`), docstrings and comments "
        "are not."
    )
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "prefixes": Option(
            _DEFAULT_PREFIXES,
            "Path prefixes that are machine-specific (Windows drive paths are always reported).",
        )
    }
    VALID: ClassVar[list[Valid]] = [
        Valid("from pathlib import Path\n\nROOT = Path(__file__).parent / 'data'\n"),
        Valid("URL = 's3://bucket/home/tiles/'\nAPI = 'https://example.org/data/x'\n"),
        Valid('def f():\n    """Reads /home/me/tiles by default."""\n'),
        Valid("# data lives in /data/tiles\nTMP = '/tmp/tiles'\n"),
        Valid("help_text = 'e.g. /home/me/tiles'\n"),
        Valid("p = '/opt/tiles'\n", options={"prefixes": ["/data/"]}),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid("INPUT = '/home/alice/project/tiles.csv'\n"),
        Invalid("def f(unit):\n    return f'/scratch/run/{unit}.nc'\n"),
        Invalid("A = r'C:\\Users\\alice\\tiles'\nB = 'D:/data/tiles'\n", count=2),
        Invalid("df = read('/mnt/' 'tiles.csv')\n"),
        Invalid("p = '/opt/tiles'\n", options={"prefixes": ["/opt/"]}),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        prefixes = self.option("prefixes")
        if not isinstance(prefixes, (list, tuple)) or not all(isinstance(p, str) for p in prefixes):
            raise TypeError(f"{self.code} option 'prefixes' must be a list of strings")
        self._prefixes = tuple(prefixes)
        self._initials = tuple({prefix[:1] for prefix in self._prefixes if prefix})
        self._docstrings: set[int] = set()
        self._concatenated = 0

    def _machine_specific(self, text: str) -> bool:
        return text.startswith(self._prefixes) or bool(_DRIVE.match(text))

    def _report(self, node: cst.CSTNode, text: str) -> None:
        shown = text if len(text) <= 60 else text[:57] + "..."
        self.report(node, f"Hard-coded absolute path `{shown}`: take it from configuration")

    def visit_Expr(self, node: cst.Expr) -> None:
        # A string statement is a docstring (or dead text), not a path in use.
        if isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString)):
            self._docstrings.add(id(node.value))

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        # 'C:/' 'tiles' is checked as a whole, once, and its parts are not checked again.
        self._concatenated += 1
        if self._concatenated > 1 or id(node) in self._docstrings:
            return
        value = node.evaluated_value
        if not isinstance(value, str):
            first: cst.BaseString = node
            while isinstance(first, cst.ConcatenatedString):
                first = first.left
            value = self._leading_text(first)
        if value is not None and self._machine_specific(value):
            self._report(node, value)

    def leave_ConcatenatedString(self, original_node: cst.ConcatenatedString) -> None:
        self._concatenated -= 1

    def _leading_text(self, node: cst.BaseString) -> str | None:
        if isinstance(node, cst.SimpleString) and "b" not in node.prefix.lower():
            body = node.value.lstrip("rRuU").lstrip("'\"")
            if not (body.startswith(self._initials) or body[1:2] == ":"):
                return None  # cannot be a path prefix or a drive: skip evaluating it
            value = node.evaluated_value
            return value if isinstance(value, str) else None
        if isinstance(node, cst.FormattedString) and node.parts:
            first = node.parts[0]
            return first.value if isinstance(first, cst.FormattedStringText) else None
        return None

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self._concatenated or id(node) in self._docstrings:
            return
        value = self._leading_text(node)
        if value is not None and self._machine_specific(value):
            self._report(node, value)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if self._concatenated:
            return
        value = self._leading_text(node)
        if value is not None and self._machine_specific(value):
            self._report(node, value + "...")
