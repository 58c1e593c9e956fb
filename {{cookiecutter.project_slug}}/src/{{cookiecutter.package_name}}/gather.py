"""Harvest: every done unit's output streamed into one dataset, committed atomically.

The outputs are read one at a time (constant memory, whatever the number of units), in the
order of their ids, from ONE listing of the output location plus one read per output (on
object storage one GET, no HEAD). The result is staged and committed like a unit's output, so
an interrupted gather leaves the previous result as it was and no partial file. Next to the
result, ``<result>.manifest.jsonl`` lists every unit included with its output's size and stamp
(modification time, or ETag on object storage), one per line after a header line holding their
digest; a gather whose digest would not change says "up to date" and rewrites nothing (it
reads only the previous manifest's first line).

Built-in combiners, chosen by the outputs' suffix: ``.json`` -> JSON Lines (one output per
line), ``.jsonl`` -> concatenated, ``.csv`` -> one CSV with the header once, ``.parquet`` ->
one Parquet file (with the ``parquet`` extra: pyarrow). Anything else (folders, rasters, a
database load) is a ``gather(units, into)`` function in ``process.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import BinaryIO, NamedTuple

import tqdm

from . import outputs, units
from .errors import UserError
from .failures import retry_list
from .log import RunLog, duration
from .runner import Interrupted
from .settings import Settings
from .storage import FOLDER_MARKER, LocalStore, Store, open_store
from .worker import Job

MANIFEST_SUFFIX = ".manifest.jsonl"
#: The default result: ``<output>-gathered<suffix>``, beside the output folder (not in it).
DEFAULT_TAIL = "-gathered"
#: Enough bytes to hold a manifest's header line.
HEADER_BYTES = 4096
#: Log a progress line every this many outputs.
PROGRESS_EVERY = 10_000


class Done(NamedTuple):
    """One done unit's output, as a combiner or a ``gather`` hook sees it (a named tuple:
    one is made per unit, three times per gather, and that cost counts at 100,000)."""

    id: str
    #: The output's name under the output location (``a/b/c.json``; a folder for folders).
    name: str
    size: int
    #: Modification time (local) or ETag (object storage) of the output (of ``_SUCCESS``
    #: for a folder).
    stamp: str
    store: Store

    @property
    def url(self) -> str:
        return self.store.url(self.name)

    def read_bytes(self, inner: str = "") -> bytes:
        """The output's content; for a folder output, the file ``inner`` in it."""
        return self.store.read_bytes(f"{self.name}/{inner}" if inner else self.name)


Combiner = Callable[[Iterator[Done], BinaryIO], None]


def _json_lines(done: Iterator[Done], out: BinaryIO) -> None:
    for unit in done:
        try:
            value = json.loads(unit.read_bytes())
        except ValueError as exc:
            raise UserError(f"gather: output of unit {unit.id} is not JSON: {exc}") from None
        out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        out.write(b"\n")


def _concatenated(done: Iterator[Done], out: BinaryIO) -> None:
    for unit in done:
        data = unit.read_bytes()
        out.write(data)
        if data and not data.endswith(b"\n"):
            out.write(b"\n")


def _csv(done: Iterator[Done], out: BinaryIO) -> None:
    first: tuple[str, bytes] | None = None
    for unit in done:
        data = unit.read_bytes()
        header, _, body = data.partition(b"\n")
        if first is None:
            first = (unit.id, header)
            out.write(header + b"\n")
        elif header != first[1]:
            raise UserError(
                f"gather: unit {unit.id}'s CSV header {header.decode(errors='replace')!r} "
                f"differs from unit {first[0]}'s {first[1].decode(errors='replace')!r}"
            )
        if body:
            out.write(body if body.endswith(b"\n") else body + b"\n")


def _parquet(done: Iterator[Done], out: BinaryIO) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError(
            "gather: Parquet outputs need pyarrow: pip install '{{ cookiecutter.project_slug }}[parquet]'"
        ) from None
    writer = None
    first = ""
    try:
        for unit in done:
            # One thread: a short-lived command that exits while pyarrow's pool is still
            # starting threads can abort ("terminate called") on a busy machine.
            table = pq.read_table(pa.BufferReader(unit.read_bytes()), use_threads=False)
            if writer is None:
                first = unit.id
                writer = pq.ParquetWriter(out, table.schema)
            elif not table.schema.equals(writer.schema):
                raise UserError(
                    f"gather: unit {unit.id}'s Parquet schema differs from unit {first}'s"
                )
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


COMBINERS: dict[str, tuple[str, Combiner]] = {
    ".json": (".jsonl", _json_lines),
    ".jsonl": (".jsonl", _concatenated),
    ".csv": (".csv", _csv),
    ".parquet": (".parquet", _parquet),
}


@dataclass
class Result:
    """What a gather did."""

    target: str
    units: int
    up_to_date: bool
    seconds: float = 0.0
    log: str = ""


def _combiner(job: Job[object]) -> tuple[str, Combiner | None]:
    """The result's suffix and the built-in combiner (None: the job's own ``gather``)."""
    if job.gather is not None:
        return job.gather_suffix if job.gather_suffix is not None else job.suffix, None
    if job.shape == "folder":
        raise UserError(
            "gather: folder outputs have no built-in combiner: define "
            "gather(units, into) in process.py"
        )
    suffix = "." + job.suffix.rsplit(".", 1)[-1].lower() if "." in job.suffix else ""
    if suffix not in COMBINERS:
        raise UserError(
            f"gather: no built-in combiner for {job.suffix or 'suffix-less'} outputs "
            f"(built in: {', '.join(COMBINERS)}): define gather(units, into) in process.py"
        )
    return COMBINERS[suffix]


def default_target(settings: Settings, suffix: str) -> str:
    return settings.output.rstrip("/") + DEFAULT_TAIL + suffix


def _split(target: str) -> tuple[Store, str]:
    """The store holding ``target`` and its name there."""
    folder, _, name = target.rstrip("/").rpartition("/")
    if not name:
        raise UserError(f"gather: --to {target!r} names no file")
    if "://" not in target or target.startswith("file://"):
        Path(folder.removeprefix("file://") or ".").mkdir(parents=True, exist_ok=True)
    return open_store(folder or "."), name


def _manifest_lines(done: Iterator[Done], skipped: list[str]) -> Iterator[bytes]:
    """The manifest's lines after its header: one per unit included, in the result's order,
    then one per unit skipped by choice."""
    quote = json.encoder.encode_basestring  # json.dumps of a str, without the encoder set-up
    for unit in done:
        fields = f'"unit": {quote(unit.id)}, "size": {unit.size}, "stamp": {quote(unit.stamp)}'
        yield ("{" + fields + "}\n").encode("utf-8")
    for unit_id in skipped:
        yield json.dumps({"unit": unit_id, "skipped": True}).encode("utf-8") + b"\n"


def _header(target: str, count: int, digest: str) -> bytes:
    record = {"result": target, "units": count, "digest": digest}
    return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


def _result_exists(store: Store, name: str) -> bool:
    """Whether a local result is there (on object storage the manifest is taken at its word:
    checking would cost a request)."""
    return not isinstance(store, LocalStore) or os.path.exists(store.url(name))


def _previous_header(store: Store, name: str) -> bytes | None:
    """The first line of the previous manifest, if any."""
    try:
        return store.read_head(name + MANIFEST_SUFFIX, HEADER_BYTES).split(b"\n", 1)[0] + b"\n"
    except (FileNotFoundError, OSError):
        return None


def _write(store: Store, name: str, fill: Callable[[Path], None]) -> None:
    """Stage ``name``, let ``fill`` write it, commit it; on any error discard it."""
    staged = store.staging_path(name)
    try:
        fill(staged)
        store.commit(staged, name)
    except BaseException:
        store.discard(staged)
        raise


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def gather(
    settings: Settings,
    job: Job[object],
    *,
    target: str | None = None,
    allow_partial: bool = False,
    echo: Callable[[str], None] | None = None,
) -> Result:
    """Combine every done unit's output into ``target`` (see the module's docstring)."""
    say = echo or (lambda line: None)
    suffix, combine = _combiner(job)
    target = target or default_target(settings, suffix)
    ids = units.load(settings)
    store = open_store(settings.output)
    # A local output is listed by name and each file's stamp read when its line is made (a
    # stat): nothing per unit is kept but its id. Object storage has no cheap stat (a HEAD
    # per output): its stamps (ETags) come with the one listing, and are kept.
    local = isinstance(store, LocalStore)
    stamps = {} if local else store.stamps()
    listing = outputs.scan(store.walk() if local else list(stamps), job.suffix, job.shape)
    chosen: list[str] = []
    skipped: list[str] = []
    missing = 0
    first_missing = ""
    for unit_id in ids:  # one pass over the unit list: no set of every id
        if unit_id in listing.skipped:
            skipped.append(unit_id)
        elif unit_id in listing.done:
            chosen.append(unit_id)
        else:
            missing += 1
            first_missing = first_missing or unit_id
    if missing and not allow_partial:
        failed = retry_list(Path(settings.state), listing.done)
        failed_count = sum(1 for u in ids if u in failed and u not in listing.done)
        raise UserError(
            f"gather: {missing - failed_count} units pending and {failed_count} failed "
            f"(first: {first_missing}); finish them with run/retry, or gather --allow-partial"
        )
    del listing
    chosen.sort()
    skipped.sort()
    marker = f"/{FOLDER_MARKER}" if job.shape == "folder" else ""
    folder = os.path.join(store.url(""), "") if local else ""

    def done_units() -> Iterator[Done]:
        """The units to gather, made one at a time (100,000 of them would weigh)."""
        for unit_id in chosen:
            name = outputs.output_name(unit_id, job.suffix)
            if local:
                info = os.stat(folder + name + marker)
                size, stamp = info.st_size, str(info.st_mtime_ns)
            else:
                size, stamp = stamps[name + marker]
            yield Done(unit_id, name, size, stamp, store)

    digest = hashlib.sha256()
    for line in _manifest_lines(done_units(), skipped):
        digest.update(line)
    header = _header(target, len(chosen), digest.hexdigest())
    result_store, name = _split(target)
    if _previous_header(result_store, name) == header and _result_exists(result_store, name):
        say(f"gather: up to date ({len(chosen)} units): {target}")
        return Result(target, len(chosen), up_to_date=True)

    run_id = time.strftime("gather-%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{os.getpid()}"
    log = RunLog(Path(settings.state) / run_id, run_id, echo=say)
    log.write("START", echo=True, units=len(chosen), skipped=len(skipped), output=target)
    started = time.monotonic()
    bar = tqdm.tqdm(
        total=len(chosen),
        unit="unit",
        disable=None if settings.progress else True,
        file=sys.stderr,
    )

    def each() -> Iterator[Done]:
        for index, unit in enumerate(done_units(), start=1):
            yield unit
            bar.update(1)
            if index % PROGRESS_EVERY == 0:
                log.write("PROG", progress=f"{index}/{len(chosen)}")

    def write_manifest(staged: Path) -> None:
        with open(staged, "wb") as out:
            out.write(header)
            out.writelines(_manifest_lines(done_units(), skipped))

    def fill(staged: Path) -> None:
        if combine is None:
            assert job.gather is not None
            job.gather(each(), staged)
        else:
            with open(staged, "wb") as out:
                combine(each(), out)

    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        _write(result_store, name, fill)
        _write(result_store, name + MANIFEST_SUFFIX, write_manifest)
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, UserError) else type(exc).__name__
        log.write("STOP", level="ERROR", reason=reason, output=target)
        log.close()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        bar.close()
    seconds = time.monotonic() - started
    log.write(
        "END",
        echo=True,
        units=len(chosen),
        seconds=seconds,
        duration=duration(seconds),
        output=target,
        manifest=target + MANIFEST_SUFFIX,
    )
    log.close()
    return Result(target, len(chosen), False, seconds, str(log.human_path))
