"""Never stall on one file: files the parser may be slow on are checked under a deadline.

libcst's parser is super-linear on some valid Python: a chain of thousands of binary
operators, attribute accesses or calls (4,000 terms of ``a+a+...`` take half a minute,
doubling the chain costs about eight times more), and very large sources. Such code is rare
and recognisable, so every file is screened first with one regular expression (about 3% of
the parse's time); the few that look risky are checked in a forked child process, which is
killed once it has used more CPU time than the bound allows. The file then becomes a one-line
file error and the run goes on. Ordinary files are checked in-process, at no extra cost.
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
from pathlib import Path
from typing import TypeVar

#: A run of this many operator links in one expression makes a file risky.
CHAIN_LINKS = 300
#: A source this large is risky whatever it holds (libcst parses a few hundred KB a second).
RISKY_CHARS = 256_000

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


#: How often the parent looks at the child's CPU time.
_POLL = 0.1


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds a process has used (Linux ``/proc``), or None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_bounded(work: Callable[[], _T], timeout: float) -> _T:
    """``work()`` in a forked child, its result pickled back; :class:`TimedOut` once the
    child has used ``timeout`` seconds of CPU (of wall time where CPU time cannot be read),
    and the child is killed. Counting CPU time keeps the bound the same on a busy machine.
    An exception in the child is re-raised."""
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
    started = time.monotonic()
    try:
        while True:
            ready, _, _ = select.select([read_fd], [], [], _POLL)
            if ready:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                continue
            used = _cpu_seconds(pid)
            if (time.monotonic() - started if used is None else used) > timeout:
                raise TimedOut
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
