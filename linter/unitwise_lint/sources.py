"""Turning file bytes into text the way Python itself would, with one-line reasons on failure."""

from __future__ import annotations

import io
import tokenize

from .finding import SourceError


def decode_python(data: bytes) -> tuple[str, str]:
    """The text of a Python file and the encoding to write it back with.

    Follows PEP 263 (a BOM or a coding cookie, else UTF-8). A NUL byte means a binary file,
    which Python refuses to compile too.
    """
    if b"\0" in data:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        reason = str(error.msg)
        if reason.startswith("unknown encoding"):
            raise SourceError(reason) from None
        # detect_encoding says "invalid or missing encoding declaration" for any undecodable
        # byte in the first two lines: decoding says which byte.
        decode(data, "utf-8")
        raise SourceError(reason) from None  # pragma: no cover - decode raised already
    return decode(data, encoding), encoding


def decode(data: bytes, encoding: str) -> str:
    """``data`` decoded, or a :class:`SourceError` naming the first bad byte."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        label = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        line = data.count(b"\n", 0, error.start) + 1
        raise SourceError(
            f"cannot decode as {label} at line {line}: {error.reason} "
            f"(byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None
    except LookupError:  # pragma: no cover - detect_encoding already rejects unknown codecs
        raise SourceError(f"unknown encoding: {encoding}") from None


def encode(text: str, encoding: str) -> bytes:
    """``text`` encoded as it was read (a BOM read is a BOM written)."""
    return text.encode(encoding)
