"""One run at a time per state folder (and shard): two runs writing the same outputs would
each redo the other's units and race on the logs.

The lock is an ``flock`` on a file that also names its holder. The kernel releases it when the
holder dies, so a lock left by a killed run is taken over; the file says whose it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from types import TracebackType

from .errors import UserError
from .log import timestamp

#: The descriptors of the locks this process holds. A forked child (a worker) closes its copies:
#: the kernel releases an ``flock`` only when every descriptor of it is closed, so a worker that
#: outlived a killed main process would otherwise keep the lock of a run that is gone.
#: It is per-process state on purpose, hence the ``noqa: UW103`` where it changes.
_HELD: set[int] = set()


def _close_in_child() -> None:
    for fd in _HELD:
        try:
            os.close(fd)
        except OSError:
            continue
    _HELD.clear()  # noqa: UW103 - per-process by design


os.register_at_fork(after_in_child=_close_in_child)


class RunLock:
    """``with RunLock(path):`` holds the lock or raises a UserError naming its holder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1
        #: What the previous holder left behind if it died holding the lock (else None).
        self.stale: str | None = None

    def __enter__(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UserError(f"state folder {self.path.parent} cannot be written: {exc}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read()
            os.close(self.fd)
            raise UserError(
                f"another run holds the lock {self.path} (pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')}, started {holder.get('started', '?')}); "
                "wait for it to finish or stop it"
            ) from None
        previous = self._read()
        if previous.get("pid"):
            self.stale = (
                f"took over the stale lock {self.path} of pid {previous['pid']} on "
                f"{previous.get('host', '?')} (started {previous.get('started', '?')}), "
                "which is no longer running"
            )
        _HELD.add(self.fd)  # noqa: UW103 - per-process by design
        info: dict[str, object] = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": timestamp(),
        }
        if slurm_task():
            info["slurm"] = slurm_task()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(info).encode(), 0)
        return self

    def _read(self) -> dict[str, object]:
        try:
            data = os.pread(self.fd, 4096, 0)
            info = json.loads(data) if data else {}
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        _HELD.discard(self.fd)  # noqa: UW103 - per-process by design
        os.ftruncate(self.fd, 0)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def slurm_task() -> str | None:
    """The SLURM job this process runs in (``<array job>_<task>`` for an array task)."""
    array = os.environ.get("SLURM_ARRAY_JOB_ID")
    if array:
        return f"{array}_{os.environ.get('SLURM_ARRAY_TASK_ID', '?')}"
    return os.environ.get("SLURM_JOB_ID")


def holder(path: Path) -> str | None:
    """Where the run that holds (or, killed, held) the lock at ``path`` runs: ``pid 4242 on
    node07, SLURM job 812_3``; None when no run wrote it (a run that ended clears it)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not info.get("pid"):
        return None
    where = f"pid {info['pid']} on {info.get('host', '?')}"
    return f"{where}, SLURM job {info['slurm']}" if info.get("slurm") else where


def is_held(path: Path) -> bool:
    """Whether a live process holds the lock at ``path``; unlike taking it, this leaves the
    file (and what it says about a dead holder, for the next run's log) as it is."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # which releases the shared lock, if it was granted
    return False
