"""A real S3 endpoint for tests and benchmarks: moto's server on 127.0.0.1, over HTTP.

Nothing is mocked: code talks to it through s3fs and botocore exactly as it would to AWS,
configured the usual way (``AWS_ENDPOINT_URL`` and dummy credentials in the environment). The
server runs behind a small WSGI wrapper that records every request it receives, so request
counts are measured where they are paid: at the server.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import fsspec
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import s3_backends
from werkzeug.serving import make_server
from werkzeug.wsgi import get_input_stream

BUCKET = "unit-data"
#: Dummy credentials; distinctive, so a test can check that they never reach a log.
KEY_ID = "AKIDUNITTESTONLY0000"
SECRET = "dummy-secret-that-must-never-be-logged"

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


@dataclass
class Recorder:
    """A WSGI wrapper around the moto app that records (method, path, query) of each request,
    and the seconds the server spent answering them (to tell its time from the client's)."""

    app: WSGIApp
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    busy: float = 0.0
    #: Faults to inject, by (method, path): what the next requests get instead of an answer.
    faults: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def inject(self, method: str, key: str, fault: str, times: int) -> None:
        """The next ``times`` requests ``method`` on ``key`` (``bucket/...``) get ``fault``:
        ``"slowdown"`` (503 SlowDown, S3's throttling) or ``"reset"`` (no answer: the
        connection is reset, see ``reset``)."""
        assert fault in ("slowdown", "reset")
        self.faults.setdefault((method, f"/{key}"), []).extend([fault] * times)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.requests.append(
            (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", ""))
        )
        queued = self.faults.get((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        if queued:
            if queued.pop(0) == "reset":
                get_input_stream(environ).read()  # (else the server reads the body as a request)
                reset(environ["werkzeug.socket"])
                # What the server sees of a reset connection: werkzeug lets it go quietly.
                raise ConnectionResetError(f"injected reset of {environ['PATH_INFO']}")
            start_response("503 Slow Down", [("Content-Type", "application/xml")])
            return [SLOW_DOWN]
        started = time.perf_counter()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.busy += time.perf_counter() - started

    def clear(self) -> None:
        self.requests.clear()
        self.busy = 0.0

    def lists(self) -> list[tuple[str, str, str]]:
        """ListObjectsV2 requests: GET on the bucket with list-type=2."""
        return [
            r
            for r in self.requests
            if r[0] == "GET" and r[1].strip("/") == BUCKET and "list-type" in parse_qs(r[2])
        ]

    def object_requests(self) -> list[tuple[str, str, str]]:
        """Requests that name one object (HEAD, GET, PUT, ... of a key)."""
        return [r for r in self.requests if r[1].strip("/").startswith(f"{BUCKET}/")]


def reset(connection: socket.socket) -> None:
    """Reset ``connection`` as a failing peer or middlebox does: a TCP RST, so that the client
    gets ECONNRESET at once (a connection that is only dropped would make it wait out its
    read timeout).

    Closing a socket with SO_LINGER {on, 0 s} sends the RST. The server's handler still holds
    the descriptor (and buffered files on it), so it is closed by putting in its place
    (``dup2``) one end of a socket pair whose other end is closed: the handler then reads an
    end of file and stops, as from a client that hung up."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ours, theirs = socket.socketpair()
    theirs.close()
    try:
        os.dup2(ours.fileno(), connection.fileno())
    finally:
        ours.close()


class QuietHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No line per request on stderr."""


def _environment(endpoint: str) -> dict[str, str | None]:
    """What points botocore at the server and keeps the user's own AWS set-up out (None:
    unset)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_PROFILE": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_ENDPOINT_URL_S3": None,
    }


@contextmanager
def serving() -> Iterator[Recorder]:
    """The server on a free port of 127.0.0.1 with bucket ``BUCKET``, and this process's
    environment pointing at it (child processes inherit it); both undone on leaving."""
    recorder = Recorder(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, recorder, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = {name: os.environ.get(name) for name in _environment("")}
    for name, value in _environment(f"http://127.0.0.1:{server.server_port}").items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        fsspec.filesystem("s3").clear_instance_cache()
        fsspec.filesystem("s3").makedirs(
            BUCKET, exist_ok=True
        )  # (a server left by a test that failed)
        yield recorder
    finally:
        fsspec.filesystem("s3").clear_instance_cache()
        s3_backends[DEFAULT_ACCOUNT_ID]["aws"].reset()  # the next server starts empty
        server.shutdown()
        thread.join(timeout=10)
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def seed(prefix: str, names: Iterable[str], body: bytes = b"{}") -> None:
    """Create objects directly in the server's store (``prefix`` is ``bucket/key/prefix``):
    2,500 PUTs over HTTP take ~25 s with moto. Only set-up bypasses HTTP; whatever is
    measured goes through it."""
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    bucket, _, key_prefix = prefix.partition("/")
    for name in names:
        backend.put_object(bucket, f"{key_prefix}/{name}", body)


def main() -> None:
    """``python -m tests.s3server``: the server in a process of its own (which a test can
    SIGSTOP, as a store that stops answering), with bucket ``BUCKET``; prints its endpoint
    URL, then serves."""
    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].create_bucket(BUCKET, "us-east-1")
    server = make_server(
        "127.0.0.1",
        0,
        DomainDispatcherApplication(create_backend_app),
        threaded=True,
        request_handler=QuietHandler,
    )
    url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # moto loads its S3 code on the first request: make it now, not in the test's first call.
    with urllib.request.urlopen(f"{url}/{BUCKET}?list-type=2", timeout=120) as answer:
        answer.read()
    sys.stdout.write(url + "\n")
    sys.stdout.flush()
    thread.join()


if __name__ == "__main__":
    main()
