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
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": timestamp()}
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
