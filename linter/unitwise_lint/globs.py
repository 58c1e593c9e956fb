"""Glob patterns as regular expressions, with gitignore's ``**`` (no third-party dependency)."""

from __future__ import annotations

import re
from functools import cache


def glob_regex(pattern: str) -> str:
    """The regular expression (without anchors) for a glob over ``/``-separated paths.

    ``*`` and ``?`` stay within one path component, ``**`` spans components (``a/**/b``
    matches ``a/b`` too), ``[...]`` is a character class (``[!...]`` negated) and a backslash
    escapes the next character.
    """
    out: list[str] = []
    index, length = 0, len(pattern)
    while index < length:
        char = pattern[index]
        if char == "*":
            if pattern.startswith("**/", index):
                out.append("(?:.*/)?")
                index += 3
                continue
            if pattern.startswith("**", index):
                out.append(".*")
                index += 2
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 2 if pattern.startswith("[!", index) else index + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                index = end
        elif char == "\\" and index + 1 < length:
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


@cache
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A compiled, fully anchored :func:`glob_regex`."""
    return re.compile(rf"(?s:{glob_regex(pattern)})\Z")


def path_matches(pattern: str, relative: str) -> bool:
    """Whether a ``/``-separated path relative to the project root matches ``pattern``.

    A pattern without a ``/`` matches the file or directory name at any depth (as in ruff
    and .gitignore); a pattern with one matches the whole relative path or a leading part of
    it (``build/`` excludes everything below ``build``).
    """
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    pattern = pattern.rstrip("/")
    regex = compile_glob(pattern.lstrip("/"))
    parts = relative.split("/")
    if "/" not in pattern:
        return any(regex.match(part) for part in parts)
    return any(regex.match("/".join(parts[:end])) for end in range(1, len(parts) + 1))
