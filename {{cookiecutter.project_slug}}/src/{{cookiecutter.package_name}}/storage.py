"""Where inputs are read and outputs written: a local folder{% if cookiecutter.storage == "s3" %}, or any fsspec URL (``s3://bucket/prefix``){% endif %}.

A store is flat: a unit's output is ``<root>/<name>``. Listing it is ONE call, which is what
makes resuming cheap; committing a staged file is atomic, which is what makes a crash safe.
"""

from __future__ import annotations

import fnmatch
import os
import secrets
import shutil
from pathlib import Path
from typing import Protocol
{%- if cookiecutter.storage == "s3" %}

import fsspec
{%- endif %}

#: Staged outputs are hidden files with this marker; they never count as done.
PART_MARKER = ".part-"


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

    def prepare(self) -> None:
        """Create the root if needed and delete staged files of earlier, dead runs."""
        ...

    def staging_path(self, name: str, scratch: Path) -> Path:
        """A fresh local path to write ``name`` to before it is committed."""
        ...

    def commit(self, staged: Path, name: str) -> str:
        """Make ``staged`` the object ``name`` in one atomic step; returns its URL."""
        ...

    def local_copy(self, name: str, scratch: Path) -> Path:
        """A local path holding the input ``name`` (downloaded into ``scratch`` if remote)."""
        ...


class LocalStore:
    """A folder on a local or shared file system; commits with ``os.replace``."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).expanduser().absolute()

    def url(self, name: str) -> str:
        return str(self.root / name)

    def names(self) -> list[str]:
        try:
            with os.scandir(self.root) as entries:
                return [entry.name for entry in entries]
        except FileNotFoundError:
            return []

    def glob(self, pattern: str) -> list[str]:
        return fnmatch.filter(self.names(), pattern)

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for name in self.names():
            if name.startswith(".") and PART_MARKER in name:
                (self.root / name).unlink(missing_ok=True)

    def staging_path(self, name: str, scratch: Path) -> Path:
        # Same folder as the final file, so that os.replace is a rename, hence atomic.
        return self.root / f".{name}{PART_MARKER}{os.getpid()}-{secrets.token_hex(4)}"

    def commit(self, staged: Path, name: str) -> str:
        final = self.root / name
        os.replace(staged, final)
        return str(final)

    def local_copy(self, name: str, scratch: Path) -> Path:
        return self.root / name
{%- if cookiecutter.storage == "s3" %}


class FsspecStore:
    """Any fsspec location (``s3://bucket/prefix``, ``gs://...``).

    Credentials come from the backend's usual environment and configuration files and never
    from (or into) this project's settings or logs. Objects are staged as local files and
    uploaded in one PUT (or a multipart upload completed at the end): an object store makes an
    object visible only when the upload completes, so a unit that fails leaves nothing behind.
    Never ``with fs.open(path, "wb")``: leaving that block by an exception still commits it.
    """

    def __init__(self, url: str) -> None:
        self.fs, root = fsspec.core.url_to_fs(url)
        self.root = root.rstrip("/")
        self.protocol = url.split("://", 1)[0]

    def url(self, name: str) -> str:
        return f"{self.protocol}://{self.root}/{name}"

    def names(self) -> list[str]:
        try:
            paths = self.fs.ls(self.root, detail=False, refresh=True)
        except FileNotFoundError:
            return []
        return [str(path).rstrip("/").rsplit("/", 1)[-1] for path in paths]

    def glob(self, pattern: str) -> list[str]:
        return fnmatch.filter(self.names(), pattern)

    def prepare(self) -> None:
        """Nothing to create or clean: objects appear only when complete."""

    def staging_path(self, name: str, scratch: Path) -> Path:
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch / f".{name}{PART_MARKER}{os.getpid()}-{secrets.token_hex(4)}"

    def commit(self, staged: Path, name: str) -> str:
        self.fs.put_file(str(staged), f"{self.root}/{name}")
        staged.unlink()
        return self.url(name)

    def local_copy(self, name: str, scratch: Path) -> Path:
        scratch.mkdir(parents=True, exist_ok=True)
        local = scratch / f"input-{secrets.token_hex(4)}-{name}"
        self.fs.get_file(f"{self.root}/{name}", str(local))
        return local
{%- endif %}


def open_store(location: str) -> Store:
    """The store for a local path{% if cookiecutter.storage == "s3" %} or an fsspec URL{% endif %}."""
{%- if cookiecutter.storage == "s3" %}
    if "://" in location and not location.startswith("file://"):
        return FsspecStore(location)
{%- endif %}
    return LocalStore(location.removeprefix("file://"))


def remove_tree(path: Path) -> None:
    """Delete a scratch folder, ignoring what is already gone."""
    shutil.rmtree(path, ignore_errors=True)
