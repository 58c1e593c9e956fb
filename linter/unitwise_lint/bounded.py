"""Never stall on one file: files the parser may be slow on are checked under a deadline.

libcst's parser is super-linear on some valid Python: a chain of thousands of binary
operators, attribute accesses or calls (4,000 terms of ``a+a+...`` take half a minute,
doubling the chain costs about eight times more), and very large sources. Such code is rare
and recognisable, so every file is screened first with one regular expression (about 3% of
the parse's time); the few that look risky are checked in a forked child process, which is
killed if it runs past the deadline. The file then becomes a one-line file error and the run
goes on. Ordinary files are checked in-process, at no extra cost.
"""

from __future__ import annotations

import os
import pickle
import re
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

#: A run of this many operator links in one expression makes a file risky.
CHAIN_LINKS = 300
#: A source this large is risky whatever it holds (libcst parses ~0.5 MB a second).
RISKY_CHARS = 1_000_000

_CHAIN = re.compile(
    r"(?:[\w)\]'\"]\s*(?:\*\*|//|<<|>>|[-+*/%|&^@.(\[])\s*){" + str(CHAIN_LINKS) + ",}"
)

_T = TypeVar("_T")


@dataclass(frozen=True)
class Risk:
    """Why a source may take the parser unreasonably long."""

    reason: str


def screen(text: str) -> Risk | None:
    """Why ``text`` may be slow to parse, or None for an ordinary source."""
    if len(text) > RISKY_CHARS:
        return Risk(f"{len(text):,} characters")
    match = _CHAIN.search(text)
    if match is None:
        return None
    line = text.count("\n", 0, match.start()) + 1
    links = len(re.findall(r"\*\*|//|<<|>>|[-+*/%|&^@.(\[]", match.group()))
    return Risk(f"an expression chaining {links:,}+ operators at line {line}")


def _answer(work: Callable[[], object], write_fd: int) -> None:
    """In the child: ``work()``'s result, or the exception it raised, pickled to the parent."""
    try:
        payload = pickle.dumps((True, work()))
    except Exception as error:  # handed to the parent, which re-raises it
        payload = pickle.dumps((False, error))
    with os.fdopen(write_fd, "wb") as stream:
        stream.write(payload)


class TimedOut(Exception):
    """The child did not finish in time."""


def can_bound() -> bool:
    """Whether checks can run in a child process here (``fork`` is POSIX only)."""
    return hasattr(os, "fork")


def run_bounded(work: Callable[[], _T], timeout: float) -> _T:
    """``work()`` in a forked child, its result pickled back; :class:`TimedOut` past
    ``timeout`` seconds (the child is killed). An exception in the child is re-raised."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its result is what the tests check
        try:
            os.close(read_fd)
            _answer(work, write_fd)
        finally:
            os._exit(0)  # a child that could not answer is reported as died by the parent
    os.close(write_fd)
    chunks: list[bytes] = []
    finished = False
    try:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimedOut
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                raise TimedOut
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        finished = True
    finally:
        os.close(read_fd)
        if not finished:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if not chunks:
        raise RuntimeError("the worker checking this file died")
    ok, value = pickle.loads(b"".join(chunks))
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]
