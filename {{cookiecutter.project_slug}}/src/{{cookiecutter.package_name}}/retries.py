"""``--retries N``: which failed units are tried again, and when.

A unit whose failure is transient (``transient.py``, or ``is_transient`` in ``process.py``;
a worker killed by a signal too) gets up to N more attempts. They run in rounds: when the
backend has been through its units, the ones waiting for another attempt go through it again,
after a backoff that doubles with each attempt, with jitter so that shards throttled together
do not come back together. Rounds keep the backends as they are and give a store that asked
us to slow down the time to recover.
"""

from __future__ import annotations

import random

from .events import Outcome
from .settings import Settings
from .transient import WORKER_DIED

#: The jitter: each wait is the backoff times a factor drawn from this range.
JITTER = (0.5, 1.5)


class Retries:
    """The retry policy of one run."""

    def __init__(self, settings: Settings) -> None:
        self.limit = 0 if settings.fail_fast else settings.retries
        self.backoff = settings.retry_backoff

    def wanted(self, outcome: Outcome, attempt: int) -> bool:
        """Whether the failed ``outcome`` of attempt number ``attempt`` gets another one."""
        transient = outcome.transient or outcome.error == WORKER_DIED
        return transient and attempt <= self.limit

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (2, 3, ...)."""
        return self.backoff * 2.0 ** (attempt - 2) * random.uniform(*JITTER)
