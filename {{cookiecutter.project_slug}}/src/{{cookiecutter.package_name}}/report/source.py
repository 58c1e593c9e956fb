"""Where the report reads the logs: the state folder{% if cookiecutter.storage == "s3" %}, or a copy of it in object storage
(``s3://bucket/runs``, any fsspec URL){% endif %}, through the project's own storage layer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..lock import is_held
{%- if cookiecutter.storage == "s3" %}
from ..storage import FsspecStore, LocalStore, open_store
{%- else %}
from ..storage import LocalStore, open_store
{%- endif %}


class StateSource:
    """The run folders of one state location and the files in them, read as text.

    A run folder's name starts with its UTC start time, so sorting names sorts runs. A line
    cut short (a run killed mid-write, or still writing) is skipped, so a running job can be
    read at any moment.
    """

    def __init__(self, location: str) -> None:
        self.location = location
        store = open_store(location)  # a URL in a local-only project is a one-line error here
        self._local: Path | None = store.root if isinstance(store, LocalStore) else None
{%- if cookiecutter.storage == "s3" %}
        self._fs: Any = store.fs if isinstance(store, FsspecStore) else None
        self._root = store.root if isinstance(store, FsspecStore) else ""
{%- endif %}
        if self._local is not None and not self._local.is_dir():
            raise UserError(f"state folder {self._local} does not exist: no run to report on")

    @property
    def remote(self) -> bool:
        return self._local is None

    def runs(self) -> list[str]:
        """The run folder names, oldest first."""
        if self._local is not None:
            names = [path.name for path in self._local.iterdir() if path.is_dir()]
{%- if cookiecutter.storage == "s3" %}
        else:
            try:
                entries = self._fs.ls(self._root, detail=True, refresh=True)
            except FileNotFoundError:
                raise UserError(f"state location {self.location} does not exist") from None
            names = [
                str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
                for entry in entries
                if entry.get("type") == "directory"
            ]
{%- else %}
        else:  # pragma: no cover - open_store accepts only local paths in this project
            names = []
{%- endif %}
        return sorted(name for name in names if name[:1].isdigit())

    def _lines(self, run: str, name: str) -> Iterator[str]:
        if self._local is not None:
            try:
                handle = (self._local / run / name).open(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                return
            with handle:
                yield from handle
{%- if cookiecutter.storage == "s3" %}
        else:
            try:
                remote = self._fs.open(f"{self._root}/{run}/{name}", "rb")
            except FileNotFoundError:
                return
            with remote:
                for raw in remote:
                    yield raw.decode("utf-8", errors="replace")
{%- endif %}

    def records(self, run: str, name: str) -> Iterator[dict[str, Any]]:
        """The JSON records of ``<run>/<name>``, one a line; an unreadable line is skipped."""
        for line in self._lines(run, name):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record

    def document(self, run: str, name: str) -> dict[str, Any] | None:
        """A whole JSON file of a run (``summary.json``), or None when absent or unreadable."""
        try:
            value = json.loads("".join(self._lines(run, name)) or "null")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def running(self, lock_name: str) -> bool | None:
        """Whether the run lock ``lock_name`` is held now; None where it cannot be told (a
        copy of the logs in object storage)."""
        if self._local is None:
            return None
        return is_held(self._local / lock_name)
