"""How local workers start: ``fork``, ``forkserver`` or ``spawn``."""

from __future__ import annotations

import sys
import threading

import multiprocess


def default_start_method() -> str:
    """How workers start unless ``--start-method`` says otherwise.

    On Linux, ``fork`` while the main process runs no other thread: the fastest, and
    recycling a worker costs one fork. Once a thread runs (a storage client's event loop, a
    library's thread pool), a fork may copy a lock that thread holds, locked
    forever in the child - what Python 3.12+ warns about - so then ``forkserver``: workers
    are forked from a server process that runs no thread. Elsewhere ``spawn`` (macOS's and
    Windows' default). All three work because the job is importable.
    """
    methods = multiprocess.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods:
        return "fork" if threading.active_count() == 1 else "forkserver"
    return "spawn"
