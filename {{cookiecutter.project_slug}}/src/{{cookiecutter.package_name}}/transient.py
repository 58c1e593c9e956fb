"""Which failures are worth another attempt (``run --retries N``): the default classification.

A failure is transient when trying again later can succeed without anyone changing anything:
the network dropped a connection, a store answered too slowly or asked us to slow down, the
kernel killed a worker under a momentary memory peak. An error the unit's own code raises
about its data (a ``ValueError``, a ``KeyError``, a parse error) is never transient: it
would fail the same way again.

Transient, whichever library raised it (the exception, or one it was raised ``from``):

- connection errors: ``ConnectionError`` and its kinds (reset, refused, aborted, broken
  pipe), an ``OSError`` with errno ECONNRESET, ECONNREFUSED, ECONNABORTED, EPIPE,
  ENETUNREACH, ENETDOWN, EHOSTUNREACH or ETIMEDOUT, and the connection errors of botocore
  and aiohttp (by class name, so that neither has to be installed);
- timeouts: ``TimeoutError``, the object-store layer's ``FSTimeoutError``, botocore's
  connect and read timeouts;
- throttling: an error whose response code is one of ``THROTTLING_CODES`` (S3's
  ``SlowDown``, ``Throttling``, HTTP 503 ...), and the ``OSError(EBUSY)`` s3fs turns them into;
- a worker killed by a signal (``WorkerDied``; decided by the runner, there is no exception).

``process.py`` can replace it: define ``is_transient(error)`` there (see its docstring).
"""

from __future__ import annotations

import errno

TRANSIENT_ERRNOS = frozenset(
    {
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTUNREACH,
        errno.ETIMEDOUT,
        errno.EBUSY,  # s3fs: SlowDown, ServiceUnavailable, 503
    }
)
#: Exception classes of libraries this project may not have installed, by name.
TRANSIENT_CLASS_NAMES = frozenset(
    {
        # botocore
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        # aiohttp (under s3fs)
        "ClientConnectionError",
        "ServerDisconnectedError",
        "ClientPayloadError",
        # the object-store layer
        "FSTimeoutError",
    }
)
#: Error codes of a service's response that mean "too many requests, try again later".
THROTTLING_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "RequestTimeout",
        "503",
        "429",
    }
)
#: How the runner names the failure of a unit whose worker process died.
WORKER_DIED = "WorkerDied"


def _chain(error: BaseException) -> list[BaseException]:
    """The exception and those it was raised from (``raise ... from``), each once. Not the
    ones it was raised while handling: a ``ValueError`` a unit raises in an ``except
    ConnectionError`` block is the unit's own verdict, not a connection error."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__
    return seen


def _response_code(error: BaseException) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def default(error: BaseException) -> bool:
    """Whether ``error``, raised by a unit, is worth another attempt (see the module)."""
    for exc in _chain(error):
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return True
        if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
            return True
        if any(kind.__name__ in TRANSIENT_CLASS_NAMES for kind in type(exc).__mro__):
            return True
        if _response_code(exc) in THROTTLING_CODES:
            return True
    return False
