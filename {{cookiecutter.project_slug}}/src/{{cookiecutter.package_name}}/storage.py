"""Where inputs are read and outputs written: a local folder{% if cookiecutter.storage == "s3" %}, or any fsspec URL (``s3://bucket/prefix``){% endif %}.

A unit's output is ``<root>/<name>``, where ``name`` may hold folders (``a/b/c.json``). Listing
every name is ONE call (on object storage one paginated listing), which is what makes resuming
cheap; committing a staged file or folder is atomic, which is what makes a crash safe.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import hashlib
import itertools
import os
import shutil
import socket
{%- if cookiecutter.storage == "s3" %}
import tempfile
{%- endif %}
import time
from pathlib import Path
{%- if cookiecutter.storage == "s3" %}
from typing import Any, Protocol
{%- else %}
from typing import Protocol
{%- endif %}
{%- if cookiecutter.storage == "s3" %}
from urllib.parse import urlsplit

import fsspec
from fsspec.registry import registry
{%- endif %}

from .errors import UserError
from .normal_path import normal_path

#: Staged outputs are hidden files with this marker; they never count as done.
PART_MARKER = ".part-"
#: A staged file whose owner cannot be asked (another machine's) is left alone for this long
#: after its last write: shards on several machines may share one output folder.
STALE_STAGED_SECONDS = 24 * 3600.0
#: The last object of a folder output: the folder is complete if and only if it exists.
FOLDER_MARKER = "_SUCCESS"
_staged_numbers = itertools.count()


@functools.cache
def process_space() -> str:
    """8 hex digits naming the space this process's id belongs to: the host, its boot and
    its pid namespace (containers on one host share a boot, not a pid namespace)."""
    parts = [socket.gethostname()]
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii"))
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    except OSError:  # not Linux: the host name alone
        pass
    return hashlib.blake2b("/".join(parts).encode(), digest_size=4).hexdigest()


@functools.cache
def _staging_prefix() -> str:
    """``<process space>-<pid>-``: what the staged names of this process share (cleared in a
    forked child, whose pid differs)."""
    return f"{process_space()}-{os.getpid()}-"


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere no process forks
    os.register_at_fork(after_in_child=_staging_prefix.cache_clear)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, as another user's process
        return True
    return True


def owner_is_gone(name: str, now: float, modified: float) -> bool:
    """Whether the staged file ``name`` (``.<output>.part-<space>-<pid>-<n>``) belongs to
    nobody any more: its process is known dead (same process space), or it was not written
    for STALE_STAGED_SECONDS (another machine's, whose process cannot be asked)."""
    if now - modified > STALE_STAGED_SECONDS:
        return True
    space, _, rest = name.rpartition(PART_MARKER)[2].partition("-")
    pid = rest.partition("-")[0]
    return space == process_space() and pid.isdigit() and not _alive(int(pid))


{% if cookiecutter.storage == "s3" -%}
#: Seconds a storage request may wait to connect and for each answer (``storage_timeout``).
STORAGE_TIMEOUT = 30.0


{% endif -%}
class StoreUnreachable(UserError):
    """A storage location cannot be listed or created: one line naming it and the cause,
    exit status 2 (the environment is wrong: an endpoint, credentials, a permission)."""

    def __init__(self, location: object, cause: BaseException) -> None:
        super().__init__(f"cannot use {location}: {type(cause).__name__}: {cause}")


class Store(Protocol):
    """What the checkpoint and the worker need from a storage location."""

    def url(self, name: str) -> str:
        """The full path or URL of ``name``, usable as it is (it is printed in the log)."""
        ...

    def names(self) -> list[str]:
        """Every file name directly under the root, from one listing."""
        ...

    def glob(self, pattern: str) -> list[str]:
        """The file names matching ``pattern``, from one listing."""
        ...

    def walk(self) -> list[str]:
        """Every file under the root as ``a/b/name``, from one (recursive) listing; hidden
        folders (staged outputs) are listed by name, not entered."""
        ...

    def stamps(self) -> dict[str, tuple[int, str]]:
        """``walk`` with each file's size and stamp (modification time, or ETag on object
        storage), from the same one listing."""
        ...

    def read_bytes(self, name: str) -> bytes:
        """The content of ``name`` (on object storage one GET, no HEAD)."""
        ...

    def read_head(self, name: str, size: int) -> bytes:
        """The first ``size`` bytes of ``name`` (on object storage one ranged GET)."""
        ...

    def stage_folder(self, name: str) -> Path:
        """A fresh local folder to write the files of the folder output ``name`` to."""
        ...

    def commit_folder(self, staged: Path, name: str, marker: str) -> str:
        """Make ``staged`` the folder ``name``, ending with ``FOLDER_MARKER`` holding
        ``marker``: until that last step the folder does not count as done."""
        ...

    def prepare(self) -> None:
        """Create the root if needed and delete staged files of earlier, dead runs."""
        ...

    def remove(self, name: str, *, folder: bool) -> None:
        """Delete the file or folder output ``name`` if it exists; a folder stops counting as
        done first."""
        ...

    def staging_path(self, name: str) -> Path:
        """A fresh local path to write ``name`` to before it is committed."""
        ...

    def commit(self, staged: Path, name: str) -> str:
        """Make ``staged`` the object ``name`` in one atomic step; returns its URL."""
        ...

    def discard(self, staged: Path) -> None:
        """Delete what ``staging_path`` made, for an output that will not be committed."""
        ...

    def local_copy(self, name: str, scratch: Path) -> Path:
        """A local path holding the input ``name`` (downloaded into ``scratch`` if remote)."""
        ...


class LocalStore:
    """A folder on a local or shared file system; commits with ``os.replace``."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).expanduser().absolute()
        #: The root as a string ending with a separator: per-unit paths are built by string
        #: concatenation, several times cheaper than pathlib's ``/`` (it counts per unit).
        self._folder = os.path.join(self.root, "")
        #: The names of the last ``walk``, for ``prepare`` right after the done listing: a
        #: second listing of a million outputs costs ~0.5 s of kernel time.
        self._walked: list[str] | None = None

    def url(self, name: str) -> str:
        return str(self.root / name)

    def names(self) -> list[str]:
        try:
            with os.scandir(self.root) as entries:
                return [entry.name for entry in entries]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreUnreachable(self.root, exc) from None

    def glob(self, pattern: str) -> list[str]:
        # A missing input folder is a mistake (a typo, the wrong working directory), not an
        # empty job: say so instead of reporting "0 units" and exiting successfully.
        if not self.root.is_dir():
            raise UserError(f"input folder {self.root} does not exist or is not a folder")
        return fnmatch.filter(self.names(), pattern)

    def walk(self) -> list[str]:
        names: list[str] = []
        folders = [""]
        while folders:  # names only: no stat, no dict (a resume over 100,000 outputs)
            folder = folders.pop()
            try:
                with os.scandir(self._folder + folder) as entries:
                    for entry in entries:
                        if entry.is_dir() and entry.name[0] != ".":
                            folders.append(f"{folder}{entry.name}/")
                        else:
                            names.append(folder + entry.name)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StoreUnreachable(self.root, exc) from None
        self._walked = names
        return names

    def stamps(self) -> dict[str, tuple[int, str]]:
        stamps: dict[str, tuple[int, str]] = {}
        for name in self.walk():
            info = os.stat(self._folder + name)
            stamps[name] = (info.st_size, str(info.st_mtime_ns))
        return stamps

    def read_bytes(self, name: str) -> bytes:
        with open(self._folder + name, "rb") as handle:
            return handle.read()

    def read_head(self, name: str, size: int) -> bytes:
        with open(self._folder + name, "rb") as handle:
            return handle.read(size)

    def prepare(self) -> None:
        """Delete the staged files and folders of dead processes only: another shard may be
        running on this folder right now, its units' outputs staged here."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnreachable(self.root, exc) from None
        now = time.time()
        names = self.walk() if self._walked is None else self._walked
        self._walked = None
        if PART_MARKER not in "\n".join(names):  # nothing staged: one scan in C
            return
        for name in names:
            base = name.rpartition("/")[2]
            if base.startswith(".") and PART_MARKER in base:
                path = self.root / name
                try:
                    if owner_is_gone(base, now, path.stat().st_mtime):
                        remove_tree(path) if path.is_dir() else path.unlink()
                except FileNotFoundError:  # committed or discarded meanwhile
                    continue

    def staging_path(self, name: str) -> Path:
        # Same folder as the final file, so that os.replace is a rename, hence atomic.
        # The process space, the pid and a per-process counter make the name unique, and
        # tell a later run whether the process that writes it is still alive.
        folder, slash, base = name.rpartition("/")
        if slash:
            os.makedirs(self._folder + folder, exist_ok=True)
        return normal_path(
            f"{self._folder}{folder}{slash}.{base}{PART_MARKER}{_staging_prefix()}"
            f"{next(_staged_numbers)}"
        )

    def stage_folder(self, name: str) -> Path:
        staged = self.staging_path(name)
        staged.mkdir()
        return staged

    def commit_folder(self, staged: Path, name: str, marker: str) -> str:
        (staged / FOLDER_MARKER).write_text(marker, encoding="utf-8")
        final = self._folder + name
        if os.path.lexists(final):  # a redone unit: its old folder (or file) goes aside
            self._replace_aside(staged, name)
        else:
            os.replace(staged, final)
        return final

    def _replace_aside(self, staged: Path, name: str) -> None:
        """Put ``staged`` in the place of whatever ``name`` is, which goes aside, then away."""
        aside = self.staging_path(name)
        os.replace(self._folder + name, aside)
        os.replace(staged, self._folder + name)
        self.discard(aside)

    def commit(self, staged: Path, name: str) -> str:
        final = self._folder + name
        try:
            os.replace(staged, final)
        except IsADirectoryError:  # the folder output of an earlier OUTPUT_SHAPE
            self._replace_aside(staged, name)
        return final

    def remove(self, name: str, *, folder: bool) -> None:
        final = self._folder + name
        if os.path.isdir(final) and not os.path.islink(final):
            aside = self.staging_path(name)  # gone at once, whatever its size
            os.replace(final, aside)
            remove_tree(aside)
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(final)

    def discard(self, staged: Path) -> None:
        if staged.is_dir():
            remove_tree(staged)
        else:
            staged.unlink(missing_ok=True)

    def local_copy(self, name: str, scratch: Path) -> Path:
        path = self.root / name
        if not path.exists():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        return path
{%- if cookiecutter.storage == "s3" %}


class FsspecStore:
    """Any fsspec location: ``s3://bucket/prefix``, ``gs://...``, ``abfs://...``, ``memory://``.

    Credentials come from the backend's usual environment and configuration (for S3: the AWS
    variables, ``~/.aws``, an instance role; ``AWS_ENDPOINT_URL`` for another S3 service) and
    never from, or into, this project's settings or logs: a URL holding a password is refused.

    The done set is one listing (``ls``, on S3 one ListObjectsV2 request per 1,000 objects),
    always fresh, never a cached one. Outputs are staged as local files and uploaded by
    ``put_file`` in one PUT, or for large files a multipart upload that is completed at the end
    and aborted on error: an object store makes an object visible only once its upload is
    complete, so a unit that fails leaves nothing behind. Never ``with fs.open(path, "wb")``:
    leaving that block by an exception still commits what was written.
    """

    def __init__(self, url: str, timeout: float = STORAGE_TIMEOUT) -> None:
        check_no_password(url)
        self.fs, root = fsspec.core.url_to_fs(url, **client_options(url, timeout))
        if hasattr(self.fs, "retries"):  # s3fs: botocore's retries are enough (see above)
            self.fs.retries = 1
        #: The filesystem path of the root (``bucket/prefix`` on S3), for the fsspec calls.
        self.root = root.rstrip("/")
        #: The root as the user wrote it: what the log shows, and what they can use as it is.
        self.base = url.rstrip("/")

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def names(self) -> list[str]:
        try:
            entries = self.fs.ls(self.root, detail=True, refresh=True)
        except FileNotFoundError:
            return []
        except Exception as exc:  # noqa: UW302 - any failure of the listing names the store
            raise StoreUnreachable(self.base, exc) from None
        prefix = self.root + "/"
        names: list[str] = []
        for entry in entries:
            path = str(entry["name"]).rstrip("/")
            name = path[len(prefix) :] if path.startswith(prefix) else ""
            if entry.get("type") == "file" and name and "/" not in name:
                names.append(name)
        return names

    def glob(self, pattern: str) -> list[str]:
        return fnmatch.filter(self.names(), pattern)

    def walk(self) -> list[str]:
        return list(self.stamps())

    def stamps(self) -> dict[str, tuple[int, str]]:
        # find() without maxdepth is one listing without a delimiter, paginated.
        try:
            entries = self.fs.find(self.root, detail=True)
        except FileNotFoundError:
            return {}
        except Exception as exc:  # noqa: UW302 - any failure of the listing names the store
            raise StoreUnreachable(self.base, exc) from None
        prefix = self.root + "/"
        cut = len(prefix)
        stamps: dict[str, tuple[int, str]] = {}
        for path, entry in entries.items():
            if str(path).startswith(prefix):
                stamp = entry.get("ETag") or entry.get("LastModified") or entry.get("mtime")
                stamps[str(path)[cut:]] = (int(entry.get("size") or 0), str(stamp))
        return stamps

    def read_bytes(self, name: str) -> bytes:
        return bytes(self.fs.cat_file(self._path(name)))

    def read_head(self, name: str, size: int) -> bytes:
        return bytes(self.fs.cat_file(self._path(name), start=0, end=size))

    def prepare(self) -> None:
        """Nothing to create or clean: objects appear only when complete."""

    def staging_path(self, name: str) -> Path:
        # In a private local folder, named like the object, so that the upload guesses the
        # right Content-Type from the extension.
        return Path(tempfile.mkdtemp(prefix="unitwise-staged-")) / name.rpartition("/")[2]

    def stage_folder(self, name: str) -> Path:
        staged = Path(tempfile.mkdtemp(prefix="unitwise-staged-")) / "folder"
        staged.mkdir()
        return staged

    def commit_folder(self, staged: Path, name: str, marker: str) -> str:
        # Objects cannot be renamed as a group: the marker goes first (a redone unit stops
        # counting as done), the files are uploaded, leftovers of an older version deleted,
        # and the marker is written last.
        prefix = self._path(name)
        marker_path = f"{prefix}/{FOLDER_MARKER}"
        old = set(self.fs.find(prefix)) if self.fs.exists(marker_path) else set()
        if old:
            self.fs.rm_file(marker_path)
        new: set[str] = set()
        for path in sorted(staged.rglob("*")):
            if path.is_file():
                target = f"{prefix}/{path.relative_to(staged).as_posix()}"
                self.fs.put_file(str(path), target)
                new.add(target)
        for leftover in sorted(old - new - {marker_path}):
            self.fs.rm_file(leftover)
        self.fs.pipe_file(marker_path, marker.encode("utf-8"))
        remove_tree(staged.parent)
        return self.url(name)

    def commit(self, staged: Path, name: str) -> str:
        self.fs.put_file(str(staged), self._path(name))
        remove_tree(staged.parent)
        return self.url(name)

    def remove(self, name: str, *, folder: bool) -> None:
        path = self._path(name)
        if folder:
            self.fs.rm_file(f"{path}/{FOLDER_MARKER}")  # no longer done, then the rest
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(path, recursive=True)
        else:
            self.fs.rm_file(path)

    def discard(self, staged: Path) -> None:
        remove_tree(staged.parent)

    def local_copy(self, name: str, scratch: Path) -> Path:
        # The file keeps its name (error messages that name the file stay readable).
        local = Path(tempfile.mkdtemp(prefix="input-", dir=scratch)) / name.rpartition("/")[2]
        try:
            self.fs.get_file(self._path(name), str(local))
        except FileNotFoundError:
            raise FileNotFoundError(
                errno.ENOENT, os.strerror(errno.ENOENT), self.url(name)
            ) from None
        return local


def client_options(url: str, timeout: float = STORAGE_TIMEOUT) -> dict[str, object]:
    """fsspec options for ``url``. On S3: botocore's standard retry mode, 3 attempts with
    at most 3 s of back-off, instead of the legacy 5 with up to 15 s, so that an unreachable
    endpoint is reported in seconds, not 16 s (``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` in the
    environment take precedence). Each attempt may wait ``timeout`` seconds to connect and for
    each answer (botocore's default is 60), and ``FsspecStore`` makes s3fs add no retries of
    its own on top (they would multiply the wait by 5): a request to a store that stops
    answering fails within about 3 x ``timeout`` seconds instead of hanging the unit."""
    if not url.startswith(("s3://", "s3a://")):
        return {}
    config: dict[str, object] = {"connect_timeout": timeout, "read_timeout": timeout}
    if "AWS_RETRY_MODE" not in os.environ and "AWS_MAX_ATTEMPTS" not in os.environ:
        config["retries"] = {"mode": "standard", "max_attempts": 3}
    return {"config_kwargs": config, "session": _s3_session()}


@functools.cache
def _s3_session() -> Any:
    """The botocore session of every S3 client here (one, so fsspec's instance cache still
    works): it uploads without ``Expect: 100-continue``, because aiohttp waits for the "100
    Continue" answer with no timeout, so an upload to a store that stopped answering would
    hang the unit for ever. Without it the body goes at once, and the read timeout applies."""
    from aiobotocore.session import AioSession

    session = AioSession()
    session.register("before-sign.s3", _drop_expect_header, unique_id="no-expect-continue")
    return session


def _drop_expect_header(request: Any, **kwargs: Any) -> None:
    if "Expect" in request.headers:
        del request.headers["Expect"]


def check_no_password(url: str) -> None:
    """Refuse ``scheme://user:password@...``: it would end up in logs and process lists."""
    netloc = urlsplit(url.rsplit("::", 1)[-1]).netloc
    userinfo, at, _ = netloc.rpartition("@")
    if at and ":" in userinfo:
        raise UserError(
            f"{url.split('://', 1)[0]}:// URL with a password: put the credentials in the "
            "storage backend's usual configuration (environment, config file), not in the URL"
        )
{%- endif %}


def loaded_modules() -> list[str]:
    """The storage libraries this process has loaded, which a fork server imports once
    rather than every worker on its own{% if cookiecutter.storage == "s3" %} (``s3fs``, once an ``s3://`` URL was
    opened){% endif %}."""
{%- if cookiecutter.storage == "s3" %}
    return sorted({implementation.__module__ for implementation in registry.values()})
{%- else %}
    return []  # the standard library's os and shutil only
{%- endif %}


def open_store(location: str{% if cookiecutter.storage == "s3" %}, timeout: float = STORAGE_TIMEOUT{% endif %}) -> Store:
    """The store for a local path{% if cookiecutter.storage == "s3" %} or an fsspec URL{% endif %}."""
    if "://" in location and not location.startswith("file://"):
{%- if cookiecutter.storage == "s3" %}
        return FsspecStore(location, timeout)
{%- else %}
        raise UserError(
            f"{location.split('://', 1)[0]}:// locations need object storage support: this "
            "project was generated with storage=local (regenerate it with storage=s3)"
        )
{%- endif %}
    return LocalStore(location.removeprefix("file://"))


def remove_tree(path: Path) -> None:
    """Delete a scratch or staging folder, ignoring what is already gone."""
    shutil.rmtree(path, ignore_errors=True)
