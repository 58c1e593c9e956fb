"""``Path`` objects for texts already in pathlib's normal form, at a fifth of the cost.

Each unit gets its staged output as a ``Path`` (``unit.output``). ``Path(text)`` parses the
text, and ``open(path)`` formats it back: ~3 µs per unit, a tenth of the runner's whole cost
for a trivial unit. The store builds that text from its normalized root and a validated unit id
(no empty, ``.`` or trailing segment), so it is already what ``str(Path(text))`` gives, and
``normal_path`` builds the same object without parsing it: it sets the parts, or the text,
that pathlib would compute. Those are pathlib's internals, so at import one sample path is
built both ways and compared in everything a user can see; if anything differs (another
Python, Windows), ``normal_path`` is plain ``Path``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

_PATH: Any = type(Path())  # PosixPath here; pathlib's internals below are set on it


def _text_first(text: str) -> Path:
    """Python 3.12+: a ``Path`` parses its text only when asked for its parts; its text is
    the cached ``_str``."""
    path: Any = _PATH(text)
    path._str = text
    return path  # type: ignore[no-any-return]


def _parts_first(text: str) -> Path:
    """Python 3.10-3.11: a ``Path`` is its parts (the root first), its text cached."""
    parts = text.split("/")
    if parts[0]:
        path: Any = _PATH._from_parsed_parts("", "", parts)
    else:
        parts[0] = "/"
        path = _PATH._from_parsed_parts("", "/", parts)
    path._str = text
    return path  # type: ignore[no-any-return]


def _same(made: PurePath, parsed: PurePath) -> bool:
    """Whether two paths agree in everything a user of ``unit.output`` can see."""
    return (
        made == parsed
        and hash(made) == hash(parsed)
        and type(made) is type(parsed)
        and str(made) == str(parsed)
        and os.fspath(made) == os.fspath(parsed)
        and made.parts == parsed.parts
        and made.parent == parsed.parent
        and made.name == parsed.name
        and made.suffix == parsed.suffix
        and made.with_suffix(".x") == parsed.with_suffix(".x")
        and made / "x" == parsed / "x"
        and made.is_absolute() == parsed.is_absolute()
    )


def _checked(candidate: Callable[[str], Path]) -> Callable[[str], Path]:
    samples = ("/srv/out/a/.b.csv.part-1f2e3d4c-12-0", "out/.b.csv.part-1f2e3d4c-12-1", "/.b")
    try:
        same = os.sep == "/" and all(_same(candidate(text), Path(text)) for text in samples)
    except Exception:  # noqa: UW302 - pathlib's internals changed: parse, as everyone does
        same = False
    return candidate if same else Path


#: ``Path(text)`` for a ``text`` equal to ``str(Path(text))``: no empty segment (``//``), no
#: ``.`` segment, no trailing ``/``.
normal_path: Callable[[str], Path] = _checked(
    _text_first if sys.version_info >= (3, 12) else _parts_first
)
