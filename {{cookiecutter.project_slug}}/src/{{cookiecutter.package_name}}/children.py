"""The processes a unit starts end with the unit.

A unit that starts a program (``subprocess.Popen``, a shell pipeline in the background) and
returns or raises without waiting for it would leave it running after the run, using CPU,
memory and files nobody tracks. So each worker process is a *subreaper* (Linux): a process
orphaned by a unit's child becomes the worker's child instead of ``init``'s, and after every
unit whatever the unit left running is ended (SIGTERM, then SIGKILL after ``GRACE_SECONDS``)
and named in the log. Processes started by ``setup()`` are the worker's own and are left alone;
they end with their worker. Checking costs one system call per unit when nothing was left.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import suppress

#: ``prctl`` option: orphaned descendants are re-parented to this process (Linux 3.4+).
PR_SET_CHILD_SUBREAPER = 36
#: Seconds a leftover process gets to exit after SIGTERM before it is killed.
GRACE_SECONDS = 1.0


def become_subreaper() -> None:
    """Make this process adopt its orphaned descendants (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, AttributeError):
        return


def has_children() -> bool:
    """Whether this process has any child (running or not yet waited for): one system call,
    which neither waits nor reaps."""
    waitid = getattr(os, "waitid", None)
    if waitid is None:
        return False
    try:
        waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def children_of(pid: int) -> list[int]:
    """The process ids of ``pid``'s children, from ``/proc`` (every thread's list)."""
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/children", encoding="ascii") as listing:
                found.extend(int(child) for child in listing.read().split())
        except (OSError, ValueError):
            continue
    return found


def _describe(pid: int) -> str | None:
    """``"<pid> (<command line>)"``, or None for a process that has ended (or is a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stat:
            if stat.read().rpartition(")")[2].split()[0] == "Z":
                return None
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().split(b"\0")
    except (OSError, IndexError):
        return None
    command = " ".join(word.decode("utf-8", "replace") for word in words if word)
    return f"{pid} ({command[:80]})"


def _descendants(spared: frozenset[int]) -> list[int]:
    """The descendants of this process (zombies included), except ``spared`` children and
    theirs."""
    found: list[int] = []
    todo = [child for child in children_of(os.getpid()) if child not in spared]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children_of(pid))
    return found


def _living(spared: frozenset[int]) -> list[int]:
    return [pid for pid in _descendants(spared) if _describe(pid) is not None]


def _reap(spared: frozenset[int]) -> None:
    """Collect the exit status of this process's ended children (``spared`` ones excepted)."""
    for pid in children_of(os.getpid()):
        if pid not in spared:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                continue


def end_leftovers(spared: frozenset[int]) -> list[str]:
    """End what a unit left running, except ``spared`` children (and their descendants);
    returns a description of each process it ended."""
    if not has_children():
        return []
    _reap(spared)
    pids = _living(spared)
    ended = [name for name in map(_describe, pids) if name is not None]
    for signum, patience in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, 10.0)):
        for pid in pids:
            try:
                os.kill(pid, signum)
            except OSError:
                continue
        deadline = time.monotonic() + patience
        while pids and time.monotonic() < deadline:
            time.sleep(0.005)
            _reap(spared)
            pids = _living(spared)
        if not pids:
            break
    return ended


def kill_group(leader: int) -> None:
    """Kill ``leader``'s process group (an ended worker not yet waited for, so its id cannot
    have been reused) without counting its members: no scan of ``/proc``, which costs
    milliseconds on a busy machine."""
    with suppress(OSError):
        os.killpg(leader, signal.SIGKILL)


def end_group(leader: int) -> int:
    """Kill every process of ``leader``'s process group but the leader (an ended worker not
    yet waited for, so its id cannot have been reused); returns how many there were."""
    members: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit() or int(entry) == leader:
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(leader) and fields[0] != "Z":
            members.append(int(entry))
    for pid in members:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
    return len(members)
