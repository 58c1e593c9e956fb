"""Harvest: every done unit's output streamed into one dataset, committed atomically.

The outputs are read one at a time, in the order of the units (the units file's order, the
units glob's sorted names, the units function's order), and nothing is kept per unit: the ids
stay in their compact list (unitlist.py) and each output is looked up as its turn comes (on a
local folder one ``stat``; on object storage in the stamps of ONE listing, then one GET per
output, no HEAD), so memory stays flat whatever the number of units. The result is staged and
committed like a unit's output: an interrupted gather leaves the previous result as it was and
no partial file.

Next to the result, ``<result>.manifest.jsonl``: a header line (the result's name, size and
stamp, the counts, a digest of the lines that follow), then one line per unit in the result's
order: ``{"unit", "size", "stamp"}`` for an output included (its modification time, or its
ETag on object storage), ``{"unit", "skipped": true}`` for a unit with no output on purpose.
A gather whose lines would be the same says "up to date" and rewrites nothing. When the
previous lines are the first lines of the new ones (units added at the end, nothing earlier
changed) and the result is a local JSON Lines or CSV file, the new outputs are appended to a
copy of the previous result (staged, then renamed: still atomic); the result is the same as a
full rebuild's. Anything else rebuilds, as does every gather into object storage (objects
cannot be appended to).

Built-in combiners, chosen by the outputs' suffix: ``.json`` -> JSON Lines (one output per
line), ``.jsonl`` -> concatenated, ``.csv`` -> one CSV with the header once, ``.parquet`` ->
one Parquet file (with the ``parquet`` extra: pyarrow). Anything else (folders, rasters, a
database load) is a ``gather(units, into)`` function in ``process.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO, NamedTuple

from . import outputs, progress_bar, units
from .errors import UserError
from .failures import latest_failures
from .log import RunLog, duration
from .runner import Interrupted
from .settings import Settings
from .storage import FOLDER_MARKER, LocalStore, Store, open_store
from .unitlist import UnitList
from .worker import Job

MANIFEST_SUFFIX = ".manifest.jsonl"
#: The default result: ``<output>-gathered<suffix>``, beside the output folder (not in it).
DEFAULT_TAIL = "-gathered"
#: Enough bytes to hold a manifest's header line.
HEADER_BYTES = 4096
#: Log a progress line every this many outputs.
PROGRESS_EVERY = 10_000
#: What a unit's look-up returns for a unit with no output on purpose.
SKIPPED = "skipped"


class Done(NamedTuple):
    """One done unit's output, as a combiner or a ``gather`` hook sees it (a named tuple:
    one is made per unit, and that cost counts at 100,000)."""

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


@dataclass(frozen=True)
class Previous:
    """What an appending gather continues from: the previous result's first unit and line
    (a CSV's header)."""

    first: str
    head: bytes


Combiner = Callable[[Iterator[Done], BinaryIO, Previous | None], None]


def _json_lines(done: Iterator[Done], out: BinaryIO, previous: Previous | None) -> None:
    for unit in done:
        try:
            value = json.loads(unit.read_bytes())
        except ValueError as exc:
            raise UserError(f"gather: output of unit {unit.id} is not JSON: {exc}") from None
        out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        out.write(b"\n")


def _concatenated(done: Iterator[Done], out: BinaryIO, previous: Previous | None) -> None:
    for unit in done:
        data = unit.read_bytes()
        out.write(data)
        if data and not data.endswith(b"\n"):
            out.write(b"\n")


def _csv(done: Iterator[Done], out: BinaryIO, previous: Previous | None) -> None:
    first = (previous.first, previous.head) if previous is not None and previous.first else None
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


def _parquet(done: Iterator[Done], out: BinaryIO, previous: Previous | None) -> None:
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
#: The combiners whose result can be continued by appending (a Parquet file ends in a footer).
APPENDABLE = frozenset({_json_lines, _concatenated, _csv})


@dataclass
class Result:
    """What a gather did."""

    target: str
    units: int
    up_to_date: bool
    seconds: float = 0.0
    log: str = ""
    #: How many units were appended to the previous result (0: rebuilt, or up to date).
    appended: int = 0


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


Lookup = Callable[[str], Done | str | None]


def _lookup(store: Store, job: Job[object]) -> Lookup:
    """A function telling what a unit left: its ``Done``, ``SKIPPED``, or None (nothing).

    A local output is one ``stat`` (nothing per unit is kept: 100,000 outputs would weigh).
    Object storage has no cheap stat (a HEAD per output): its stamps come with ONE listing,
    and are kept. An output beside a skip record wins (see outputs.py).
    """
    suffix, skip_tail = job.suffix, job.suffix + outputs.SKIP_SUFFIX
    marker = f"/{FOLDER_MARKER}" if job.shape == "folder" else ""
    if isinstance(store, LocalStore):
        folder = os.path.join(store.url(""), "")
        stat, exists = os.stat, os.path.exists

        def look_local(unit_id: str) -> Done | str | None:
            name = unit_id + suffix
            try:
                info = stat(folder + name + marker)
            except (FileNotFoundError, NotADirectoryError):
                return SKIPPED if exists(folder + unit_id + skip_tail) else None
            return Done(unit_id, name, info.st_size, str(info.st_mtime_ns), store)

        return look_local
    stamps = store.stamps()

    def look_listed(unit_id: str) -> Done | str | None:
        name = unit_id + suffix
        found = stamps.get(name + marker)
        if found is not None:
            return Done(unit_id, name, found[0], found[1], store)
        return SKIPPED if unit_id + skip_tail in stamps else None

    return look_listed


def _entry(found: Done | str) -> bytes:
    """A unit's manifest line."""
    quote = json.encoder.encode_basestring  # json.dumps of a str, without the encoder set-up
    if isinstance(found, Done):
        fields = f'"unit": {quote(found.id)}, "size": {found.size}, "stamp": {quote(found.stamp)}'
    else:
        fields = f'"unit": {quote(found)}, "skipped": true'
    return ("{" + fields + "}\n").encode("utf-8")


@dataclass
class Survey:
    """One pass over the units: what the manifest's lines would be, without writing them."""

    included: int = 0
    skipped: int = 0
    missing: int = 0
    first_missing: str = ""
    digest: str = ""
    #: The digest of the first ``prefix_lines`` lines (those of the previous manifest).
    prefix_digest: str = ""


def _survey(ids: UnitList, look: Lookup, prefix_lines: int) -> Survey:
    survey = Survey()
    digest = hashlib.sha256()
    lines = 0
    for unit_id in ids:
        if lines == prefix_lines:
            survey.prefix_digest = digest.hexdigest()
        found = look(unit_id)
        if found is None:
            survey.missing += 1
            survey.first_missing = survey.first_missing or unit_id
            continue
        if isinstance(found, Done):
            survey.included += 1
            digest.update(_entry(found))
        else:
            survey.skipped += 1
            digest.update(_entry(unit_id))
        lines += 1
    if lines == prefix_lines:
        survey.prefix_digest = digest.hexdigest()
    survey.digest = digest.hexdigest()
    return survey


def _previous_header(store: Store, name: str) -> dict[str, Any]:
    """The header of the previous manifest ({} if there is none or it is unreadable)."""
    try:
        line = store.read_head(name + MANIFEST_SUFFIX, HEADER_BYTES).split(b"\n", 1)[0]
        header = json.loads(line)
    except (OSError, ValueError):
        return {}
    counts = isinstance(header, dict) and [header.get("units"), header.get("skipped")]
    return header if counts and all(isinstance(n, int) for n in counts) else {}


def _result_stamp(store: Store, name: str) -> tuple[int, str] | None:
    """The size and modification time of a local result (None if it is missing). On object
    storage (None too) the manifest is taken at its word: checking would cost a request."""
    if not isinstance(store, LocalStore):
        return None
    try:
        info = os.stat(store.url(name))
    except OSError:
        return None
    return info.st_size, str(info.st_mtime_ns)


def _lines(header: dict[str, Any]) -> int:
    return int(header.get("units", 0)) + int(header.get("skipped", 0))


def _unchanged(header: dict[str, Any], target: str, result: tuple[int, str] | None) -> bool:
    """Whether the previous result is there as the previous manifest describes it."""
    if header.get("result") != target:
        return False
    if "bytes" not in header:  # on object storage: the manifest is taken at its word
        return True
    return result == (header["bytes"], header.get("stamp"))


def _intact(path: str, header: dict[str, Any]) -> bool:
    """Whether the lines of the local manifest ``path`` are those its header's digest says
    (a manifest edited by hand makes a rebuild, not an append of its lines)."""
    digest = hashlib.sha256()
    with open(path, "rb") as manifest:
        manifest.readline()
        for line in manifest:
            digest.update(line)
    return digest.hexdigest() == header.get("digest")


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _commit(store: Store, name: str, staged: Path) -> None:
    try:
        store.commit(staged, name)
    except BaseException:
        store.discard(staged)
        raise


class _Writer:
    """Writes the result and its manifest (both staged, committed at the end)."""

    def __init__(
        self,
        ids: UnitList,
        look: Lookup,
        store: Store,
        name: str,
        target: str,
        keep: tuple[int, str],
        report: Callable[[int], None],
    ) -> None:
        """``keep``: how many lines of the previous manifest to copy, and their digest."""
        self.ids, self.look, self.store, self.name = ids, look, store, name
        self.target, self.report = target, report
        self.keep, self.expected = keep
        self.body = store.staging_path(name + MANIFEST_SUFFIX)
        self.digest = hashlib.sha256()
        self.included = self.skipped = 0
        self.first = ""

    def _line(self, line: bytes, manifest: BinaryIO) -> None:
        manifest.write(line)
        self.digest.update(line)

    def units(self, manifest: BinaryIO) -> Iterator[Done]:
        """The units to combine, one at a time: the first ``keep`` manifest lines are the
        previous manifest's (their outputs are in the copied result), the others come from
        a fresh look-up, stamped before they are read (a change after that makes the next
        gather rebuild, never miss it)."""
        ids = iter(self.ids)
        if self.keep:
            self._kept(manifest, ids)
        appended = 0
        for unit_id in ids:
            found = self.look(unit_id)
            if found is None:
                continue
            self._line(_entry(found), manifest)
            if isinstance(found, Done):
                self.included += 1
                self.first = self.first or unit_id
                appended += 1
                yield found
                self.report(appended)
            else:
                self.skipped += 1

    def _kept(self, manifest: BinaryIO, ids: Iterator[str]) -> None:
        """Copy the previous manifest's lines, and move ``ids`` past their units."""
        path = self.store.url(self.name + MANIFEST_SUFFIX)
        with open(path, "rb") as previous:
            previous.readline()
            for _ in range(self.keep):
                line = previous.readline()
                self._line(line, manifest)
                try:
                    record = json.loads(line)
                    unit = str(record["unit"])
                except (ValueError, KeyError, TypeError):
                    break  # the digest below tells
                for unit_id in ids:  # past this line's unit (and units still missing)
                    if unit_id == unit:
                        break
                if record.get("skipped"):
                    self.skipped += 1
                else:
                    self.included += 1
                    self.first = self.first or unit
        if self.digest.hexdigest() != self.expected:
            raise UserError(
                f"gather: {path} does not match its first line (changed by hand?): delete it "
                "and gather again"
            )

    def manifest(self, staged: Path, result: tuple[int, str] | None) -> None:
        """Write the header, then the lines, into ``staged``."""
        header: dict[str, Any] = {
            "result": self.target,
            "units": self.included,
            "skipped": self.skipped,
            "first": self.first,
            "digest": self.digest.hexdigest(),
        }
        if result is not None:
            header["bytes"], header["stamp"] = result
        with open(staged, "wb") as out, open(self.body, "rb") as body:
            out.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
            shutil.copyfileobj(body, out)


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
    look = _lookup(open_store(settings.output), job)
    result_store, name = _split(target)
    previous = _previous_header(result_store, name)
    before = _result_stamp(result_store, name)
    survey = _survey(ids, look, _lines(previous))
    if survey.missing and not allow_partial:
        failed = latest_failures(Path(settings.state))
        failed_count = sum(1 for u in ids if u in failed and look(u) is None)
        raise UserError(
            f"gather: {survey.missing - failed_count} units pending and {failed_count} failed "
            f"(first: {survey.first_missing}); finish them with run/retry, or gather "
            "--allow-partial"
        )
    unchanged = _unchanged(previous, target, before)
    if unchanged and previous.get("digest") == survey.digest:
        say(f"gather: up to date ({survey.included} units): {target}")
        return Result(target, survey.included, up_to_date=True)
    keep = 0
    if (
        unchanged
        and combine in APPENDABLE
        and before is not None
        and previous.get("digest") == survey.prefix_digest
        and _intact(result_store.url(name + MANIFEST_SUFFIX), previous)
    ):
        keep = _lines(previous)

    run_id = time.strftime("gather-%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{os.getpid()}"
    log = RunLog(Path(settings.state) / run_id, run_id, echo=say)
    new = survey.included - (int(previous.get("units", 0)) if keep else 0)
    mode: dict[str, Any] = {"appended": new} if keep else {}
    log.write(
        "START", echo=True, units=survey.included, skipped=survey.skipped, **mode, output=target
    )
    started = time.monotonic()
    bar = progress_bar.bar(new, settings.progress)

    def report(index: int) -> None:
        bar.update(1)
        if index % PROGRESS_EVERY == 0:
            log.write("PROG", progress=f"{index}/{new}")

    kept = (keep, str(previous.get("digest")))
    writer = _Writer(ids, look, result_store, name, target, kept, report)
    staged = result_store.staging_path(name)
    staged_manifest = result_store.staging_path(name + MANIFEST_SUFFIX)
    signals = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        with open(writer.body, "wb") as manifest:
            todo = writer.units(manifest)
            if combine is None:
                assert job.gather is not None
                job.gather(todo, staged)
            else:
                after = None
                if keep:
                    shutil.copyfile(result_store.url(name), staged)
                    after = Previous(str(previous.get("first", "")), _first_line(staged))
                with open(staged, "ab" if keep else "wb") as out:
                    combine(todo, out, after)
            for _ in todo:  # a hook that stopped early: the manifest still lists every unit
                pass
        writer.manifest(staged_manifest, _staged_stamp(result_store, staged))
        _commit(result_store, name, staged)
        _commit(result_store, name + MANIFEST_SUFFIX, staged_manifest)
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, UserError) else type(exc).__name__
        log.write("STOP", level="ERROR", reason=reason, output=target)
        log.close()
        for leftover in (staged, staged_manifest):
            result_store.discard(leftover)
        raise
    finally:
        result_store.discard(writer.body)
        signal.signal(signal.SIGTERM, signals)
        bar.close()
    seconds = time.monotonic() - started
    log.write(
        "END",
        echo=True,
        units=writer.included,
        **mode,
        seconds=seconds,
        duration=duration(seconds),
        output=target,
        manifest=target + MANIFEST_SUFFIX,
    )
    log.close()
    return Result(target, writer.included, False, seconds, str(log.human_path), new if keep else 0)


def _first_line(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.readline().rstrip(b"\n")


def _staged_stamp(store: Store, staged: Path) -> tuple[int, str] | None:
    """The size and modification time the result will have once committed locally (a rename
    keeps both); None on object storage."""
    if not isinstance(store, LocalStore):
        return None
    info = os.stat(staged)
    return info.st_size, str(info.st_mtime_ns)
