"""The input location as ``setup()`` and a units function see it: open, read and find files
under ``settings.input`` the same way whether it is a local folder{% if cookiecutter.storage == "s3" %} or a URL (``s3://...``){% endif %}.

Use ``Inputs(settings.input)`` rather than ``Path(settings.input)``: a path works for local
folders only (and quietly turns ``s3://bucket/x`` into ``s3:/bucket/x``). Inside
``process()``, ``unit.input(name)`` gives a local path instead.
"""

from __future__ import annotations

from typing import BinaryIO

from .errors import UserError
{%- if cookiecutter.storage == "s3" %}
from .storage import FsspecStore, LocalStore, StoreUnreachable, open_store
{%- else %}
from .storage import LocalStore, open_store
{%- endif %}


class Inputs:
    """Files under the input location, named relative to it with ``/`` (``day1/a.jsonl``)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.store = open_store(location)

    def check(self) -> None:
        """A location that does not exist is a mistake (a typo, the wrong working directory):
        say so once, before any work, instead of failing every unit."""
        store = self.store
{%- if cookiecutter.storage == "s3" %}
        if isinstance(store, FsspecStore):
            try:
                found = store.fs.isdir(store.root)
            except Exception as exc:  # noqa: UW302 - any failure names the location
                raise StoreUnreachable(self.location, exc) from None
            if not found:
                raise UserError(f"input location {self.location} does not exist")
            return
{%- endif %}
        assert isinstance(store, LocalStore)
        if not store.root.is_dir():
            raise UserError(f"input folder {store.root} does not exist or is not a folder")

    def url(self, name: str) -> str:
        """The full path or URL of ``name``."""
        return self.store.url(name)

    def open(self, name: str) -> BinaryIO:
        """``name`` opened for reading bytes (``json.load``, ``csv`` through
        ``io.TextIOWrapper``, ``pandas.read_csv`` all take it); use it in a ``with``."""
        store = self.store
{%- if cookiecutter.storage == "s3" %}
        if isinstance(store, FsspecStore):
            handle: BinaryIO = store.fs.open(f"{store.root}/{name}", "rb")
            return handle
{%- endif %}
        assert isinstance(store, LocalStore)
        return (store.root / name).open("rb")

    def read_bytes(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def read_text(self, name: str, encoding: str = "utf-8") -> str:
        return self.read_bytes(name).decode(encoding)

    def find(self, pattern: str = "*") -> list[str]:
        """The names of the files matching a glob ``pattern`` (``*.csv``, ``*/*.jsonl``,
        ``**/*.jsonl``), sorted; hidden files are left out. A missing location is an error."""
        store = self.store
{%- if cookiecutter.storage == "s3" %}
        if isinstance(store, FsspecStore):
            found = store.fs.glob(f"{store.root}/{pattern}", detail=True)
            if not found:
                self.check()
            prefix = store.root + "/"
            names = [
                str(path)[len(prefix) :]
                for path, info in found.items()
                if info.get("type") == "file" and str(path).startswith(prefix)
            ]
            return sorted(name for name in names if not _hidden(name))
{%- endif %}
        assert isinstance(store, LocalStore)
        self.check()
        names = [
            path.relative_to(store.root).as_posix()
            for path in store.root.glob(pattern)
            if path.is_file()
        ]
        return sorted(name for name in names if not _hidden(name))


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in name.split("/"))
