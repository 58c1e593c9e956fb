"""What a backend reports while it runs units, whichever backend it is.

The local pool, the Dask backend and ``--debug`` yield these events; the runner turns them
into log lines, failure records and the progress bar. This module imports nothing of the
project's, so every backend can depend on it.
"""

from __future__ import annotations

from typing import NamedTuple


class Outcome(NamedTuple):
    """The small record a unit's attempt sends back (never the data itself)."""

    unit: str
    ok: bool
    started: float
    seconds: float
    output: str | None = None
    steps: dict[str, float] | None = None
    error: str | None = None
    message: str | None = None
    traceback: str | None = None
    #: The reason given to ``unit.skip`` by a unit that has no output on purpose.
    skipped: str | None = None
    #: Whether trying again later can succeed (see transient.py); the runner retries
    #: such a unit with ``--retries``.
    transient: bool = False
    #: When it ended (epoch seconds), from the clock that stamped its start and its log lines:
    #: ``started + seconds`` can come before its last log line when the worker is preempted
    #: between reading the wall clock and the duration clock. None: ``started + seconds``.
    ended: float | None = None

    @property
    def end(self) -> float:
        """When it ended, for its END or FAIL line (after every line it logged)."""
        return self.started + self.seconds if self.ended is None else self.ended

    @property
    def cause(self) -> str:
        """What failures are grouped by: the exception type (and errno, if any)."""
        return self.error or "unknown"


#: A unit that committed an output and has nothing else to report (no step timings, no skip,
#: no failure), as a worker records it: ``(unit, started, seconds, ended, output)``. Most units
#: end so; a plain tuple costs a worker and the main process a fraction of an ``Outcome``.
Done = tuple[str, float, float, float, str]


class Committed(NamedTuple):
    """A run of units of one worker, in order, that committed an output and have nothing else
    to report: the local pool's fast path, one event for a batch, so the runner's cost per unit
    stays a fraction of a trivial unit's."""

    worker: int
    units: list[Done]
    #: For each unit, whether its START was reported already (a long unit's, from the board);
    #: None: none was (nearly always).
    announced: list[bool] | None = None


class Started(NamedTuple):
    """A unit's attempt began in ``worker`` (a process id) at ``at`` (epoch seconds)."""

    unit: str
    worker: int
    at: float


class UserLog(NamedTuple):
    """A record the user's code logged while running ``unit`` ("-": outside any unit)."""

    level: str
    unit: str
    message: str
    at: float


class Waiting(NamedTuple):
    """The backend waits for news: what it reported so far should reach the disk now (the
    log writes lines in batches, so a quiet spell must not keep the last ones in memory)."""


#: The one Waiting event.
WAITING = Waiting()

Event = Committed | Started | Outcome | UserLog | Waiting


class PoolError(Exception):
    """The backend cannot go on: every worker would fail the same way (e.g. setup() raises)."""
