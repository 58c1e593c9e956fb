"""The one exception type for a user's mistake: the CLI prints it as one line and exits 2."""

from __future__ import annotations

import importlib
import os
import sysconfig
import traceback
from types import ModuleType


class UserError(Exception):
    """Bad input or configuration, named precisely enough to fix without a traceback."""


#: Where the standard library and installed packages live: frames there are not the user's.
_LIBRARIES = tuple(
    {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def where(exc: BaseException) -> str:
    """``file:line`` of the user's code that raised ``exc``: the innermost frame outside the
    standard library and installed packages (the file itself for a syntax error)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{_shown(exc.filename)}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not f.filename.startswith((*_LIBRARIES, "<"))]
    if not frames:
        return "?"
    frame = (own or frames)[-1]
    return f"{_shown(frame.filename)}:{frame.lineno}"


def failure(exc: BaseException) -> str:
    """One line for an exception raised by the user's code: where, the type, the message."""
    message = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, SyntaxError):
        message = exc.msg
    return f"{where(exc)}: {type(exc).__name__}: {message}".rstrip(": ")


def _shown(filename: str) -> str:
    """A path relative to the working directory when it is below it."""
    relative = os.path.relpath(filename)
    return filename if relative.startswith("..") else relative


def import_user_module(name: str, label: str) -> ModuleType:
    """Import the user's module ``name``; any failure is one line starting with ``label``:
    a module that does not exist, or where the module's own code failed (file:line)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing = exc.name or ""
        if missing and (name == missing or name.startswith(missing + ".")):
            raise UserError(f"{label} cannot be loaded: {exc}") from None
        raise UserError(f"{label} cannot be loaded: {failure(exc)}") from None
    except Exception as exc:  # the module fails while importing: a syntax error, a bad name...
        raise UserError(f"{label} cannot be loaded: {failure(exc)}") from None
