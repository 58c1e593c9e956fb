"""Jobs that misbehave on purpose, for ``test_faults.py``.

The command line runs them with ``--job tests.fault_jobs:<NAME>`` (the tests put the project
root on ``PYTHONPATH``). A unit's id says what it does, so one units file can mix healthy and
faulty units:

- ``kill-*``: the worker SIGKILLs itself the first time it runs the unit (as the OOM killer
  would), then the unit succeeds (a marker file in the input folder remembers the first time);
- ``reset-*``: the connection is reset (``ConnectionResetError``) the first two times, then the
  unit succeeds (a file in the input folder counts the attempts);
- ``down-*``: the connection is always refused (``ConnectionRefusedError``);
- ``hang-*``: never returns;
- ``bad-*``: raises ``ValueError``;
- ``child-*``: starts ``sleep 1000`` and, through a shell, a grandchild ``sleep 1001`` that
  is orphaned at once, writes their pids to ``<input>/<id>.pids``, then raises ``ValueError``;
  ``childhang-*`` does the same, then hangs;
- ``big-*``: writes more than the worker's file-size limit (``RLIMIT_FSIZE``, set by ``setup``
  when ``FAULT_FSIZE_LIMIT`` is set), so the write fails with ``EFBIG`` half-way;
- anything else: writes ``expected_output(id)`` in a few pieces over ``FAULT_SLEEP`` seconds,
  so that an interrupt is likely to land in the middle of a write.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from {{ cookiecutter.package_name }}.log import step
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.units import Unit
from {{ cookiecutter.package_name }}.worker import Job, rss_mb

SUFFIX = ".out"
#: Bytes every ``big-*`` unit writes; more than any file-size limit the tests set.
BIG_BYTES = 1 << 20
#: The memory a ``LEAKY`` unit keeps for the life of its worker.
LEAK_MB = 16
SETUP_LOG = "setup-calls.txt"


def expected_output(unit_id: str) -> bytes:
    """What a healthy unit writes: a function of its id only, a few KiB."""
    digest = hashlib.sha256(unit_id.encode()).hexdigest()
    return (f"{unit_id}\n" + digest * 64 + "\n").encode()


def setup(settings: Settings) -> Path:
    """Once per worker: apply the file-size limit if asked; the resource is the input folder."""
    limit = os.environ.get("FAULT_FSIZE_LIMIT")
    if limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so a write raises EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), resource.RLIM_INFINITY))
    return Path(settings.input)


def faulty(unit: Unit[Path]) -> None:
    kind = unit.id.split("-", 1)[0]
    if kind in ("child", "childhang"):
        start_children(unit)
    if kind == "kill":
        marker = unit.resources / f"{unit.id}.killed"
        if not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "reset":
        attempts = unit.resources / f"{unit.id}.attempts"
        with attempts.open("a") as handle:
            handle.write("x")
        if attempts.stat().st_size <= 2:
            raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    elif kind == "down":
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    elif kind in ("hang", "childhang"):
        while True:
            time.sleep(1)
    elif kind in ("bad", "child"):
        raise ValueError(f"{unit.id} is bad on purpose")
    elif kind == "big":
        with unit.output.open("wb") as handle:
            for _ in range(BIG_BYTES // 4096):
                handle.write(b"x" * 4096)
                handle.flush()
        return
    data = expected_output(unit.id)
    pieces = range(0, len(data), 1024)
    pause = float(os.environ.get("FAULT_SLEEP", "0")) / len(pieces)
    with unit.output.open("wb") as handle:
        for start in pieces:  # slowly, so that an interrupt lands in the middle of a write
            handle.write(data[start : start + 1024])
            handle.flush()
            time.sleep(pause)


FAULTY = Job(faulty, setup, SUFFIX)


def hanging_setup(settings: Settings) -> Path:
    """A setup() that never returns, as one waiting on a store that stopped answering."""
    while True:
        time.sleep(1)


HANGING_SETUP = Job(faulty, hanging_setup, SUFFIX)


def start_children(unit: Unit[Path]) -> None:
    """A child left running, and a grandchild whose parent (a shell) exits at once."""
    child = subprocess.Popen(["sleep", "1000"])
    shell = subprocess.run(
        ["sh", "-c", "sleep 1001 >/dev/null 2>&1 & echo $!"],
        capture_output=True,
        text=True,
        check=True,
    )
    pids = [child.pid, int(shell.stdout)]
    (unit.resources / f"{unit.id}.pids").write_text(" ".join(map(str, pids)))


def setup_counted(settings: Settings) -> Path:
    """Records every call: one line with the pid, appended atomically (O_APPEND)."""
    with open(Path(settings.input) / SETUP_LOG, "a", encoding="ascii") as handle:
        handle.write(f"{os.getpid()}\n")
    return Path(settings.input)


def report_pid(unit: Unit[Path]) -> None:
    unit.output.write_text(json.dumps({"pid": os.getpid()}))


COUNTING = Job(report_pid, setup_counted, SUFFIX)

_leaked: list[bytearray] = []


def leak(unit: Unit[Path]) -> None:
    """Keeps LEAK_MB MiB for as long as the worker lives, as a leaky library would."""
    _leaked.append(bytearray(b"\x01") * (LEAK_MB << 20))  # noqa: UW103 - a leak on purpose
    unit.output.write_text(json.dumps({"pid": os.getpid(), "rss_mb": rss_mb()}))


LEAKY = Job(leak, setup_counted, SUFFIX)


def chatty(unit: Unit[Path]) -> None:
    """Logs through ``logging`` twice (one message spanning lines); every 250th unit fails."""
    logger = logging.getLogger("user.chatty")
    logger.info("begin %s", unit.id)
    number = int(unit.id.rsplit("-", 1)[1])
    logger.warning('unit %s says "hi"\nover = two lines, ünïcödé', unit.id)
    if number % 250 == 0:
        raise RuntimeError(f"unit {unit.id} fails on purpose")
    unit.output.write_bytes(unit.id.encode())


CHATTY = Job(chatty, setup, SUFFIX)


def trivial(unit: Unit[Path]) -> None:
    unit.output.write_bytes(unit.id.encode())


TRIVIAL = Job(trivial, setup, SUFFIX)


def many_units(settings: Settings) -> Iterator[str]:
    """A units function: ``FAULT_UNITS`` ids, generated (no units file to read)."""
    for number in range(int(os.environ["FAULT_UNITS"])):
        yield f"unit-{number:06d}"


def units_with_a_thread(settings: Settings) -> list[str]:
    """A units function that leaves a thread running in the main process, as a client
    library's background thread would; the ids are those of ``units.txt``."""
    threading.Thread(target=threading.Event().wait, name="background", daemon=True).start()
    return Path("units.txt").read_text(encoding="utf-8").split()


#: Text Python gives for a file name whose bytes are not UTF-8 (a lone surrogate), and the
#: characters ``str.splitlines`` splits on besides newlines.
UNDECODABLE = "tile_\udcff.csv"
SEPARATORS = "\x85\u2028\u2029\x1c\x0b\x0c"


def undecodable(unit: Unit[Path]) -> None:
    """``raise-*`` raises, ``log-*`` logs, ``step-*`` times a step, each with text that cannot
    be written as UTF-8 or that breaks lines; every unit but ``raise-*`` writes its output."""
    kind = unit.id.split("-", 1)[0]
    if kind == "raise":
        raise ValueError(f"cannot decode {UNDECODABLE}{SEPARATORS}")
    if kind == "log":
        logging.getLogger("user.text").warning("skipping %s%s", UNDECODABLE, SEPARATORS)
        logging.addLevelName(25, "MY LEVEL\n")
        logging.getLogger("user.text").log(25, "a level name with a space and a newline")
    if kind == "step":
        with step(f"read {UNDECODABLE}\n"):
            pass
    unit.output.write_bytes(unit.id.encode())


UNDECODABLE_TEXT = Job(undecodable, setup, SUFFIX)


def held(unit: Unit[Path]) -> None:
    """``hold-*`` writes its output, says so (``<id>.written`` in the input folder), then waits
    until a file ``release`` appears there: a unit in flight for as long as a test needs.
    Any other unit writes its output at once."""
    unit.output.write_bytes(expected_output(unit.id))
    if unit.id.startswith("hold-"):
        (unit.resources / f"{unit.id}.written").touch()
        while not (unit.resources / "release").exists():
            time.sleep(0.02)


HELD = Job(held, setup, SUFFIX)
