"""The run's settings: defaults, then ``[tool.{{ cookiecutter.package_name }}]`` in pyproject.toml,
then the command line. Unknown keys and bad values are errors, never silently ignored."""

from __future__ import annotations

import dataclasses
import os
{%- if cookiecutter.python_version == "3.10" %}
import sys
{%- else %}
import tomllib
{%- endif %}
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError
{%- if cookiecutter.python_version == "3.10" %}

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib
{%- endif %}

TOOL_TABLE = "{{ cookiecutter.package_name }}"
#: The example's list, as in pyproject.toml: a units glob or function given anywhere replaces it.
DEFAULT_UNITS_FILE = "example/units.txt"
{%- if cookiecutter.scale_out == "dask" %}
BACKENDS: tuple[str, ...] = ("local", "dask")
{%- else %}
BACKENDS: tuple[str, ...] = ("local",)
{%- endif %}


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based), written ``I/N`` on the command line."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            index_text, count_text = text.split("/")
            shard = cls(int(index_text), int(count_text))
        except ValueError:
            raise UserError(f"--shard {text!r} is not of the form I/N (e.g. 0/4)") from None
        if shard.count < 1 or not 0 <= shard.index < shard.count:
            raise UserError(f"--shard {text!r} needs 0 <= I < N")
        return shard

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know; see README.md for what each setting means."""

    input: str = "example/inputs"
    output: str = "output"
    state: str = "runs"
    units_file: str | None = DEFAULT_UNITS_FILE
    units_glob: str | None = None
    units_function: str | None = None
    #: The code that processes a unit: a module defining ``process`` (and optionally ``setup``
    #: and ``OUTPUT_SUFFIX``), or ``module:attribute`` naming a ``worker.Job``.
    job: str = "{{ cookiecutter.package_name }}.process"
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    chunksize: int = 0
    max_tasks_per_worker: int = 10_000
    max_worker_memory_mb: int = 0
    timeout: float = 0.0
    max_consecutive_failures: int = 10
    #: Further attempts of a unit whose failure is transient (see transient.py).
    retries: int = 2
    #: Seconds before the first retry; doubled for each further attempt, with jitter.
    retry_backoff: float = 1.0
    limit: int = 0
    overwrite: bool = False
    #: Redo the done units whose outputs were made with other parameters or code.
    rerun_stale: bool = False
    fail_fast: bool = False
    debug: bool = False
    progress: bool = True
    shard: Shard | None = None
    #: ``[tool.{{ cookiecutter.package_name }}.params]`` then ``--param`` values, as given (see params.py).
    param_values: tuple[tuple[str, object, str], ...] = ()
    #: The job's ``Params`` filled from ``param_values`` by the runner; what setup() sees.
    params: Any = None
    backend: str = "local"
    scheduler: str | None = None
    start_method: str | None = None
{%- if cookiecutter.storage == "s3" %}
    #: Seconds a storage request may wait to connect, and for each answer (fsspec URLs).
    storage_timeout: float = 30.0
{%- endif %}

    def __post_init__(self) -> None:
        for name in ("workers", "max_tasks_per_worker"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, not {getattr(self, name)}")
        for name in (
            "chunksize",
            "max_worker_memory_mb",
            "max_consecutive_failures",
            "limit",
            "retries",
        ):
            if getattr(self, name) < 0:
                raise UserError(f"{name} must not be negative, not {getattr(self, name)}")
        if self.timeout < 0:
            raise UserError(f"timeout must not be negative, not {self.timeout}")
{%- if cookiecutter.storage == "s3" %}
        if self.storage_timeout <= 0:
            raise UserError(f"storage_timeout must be positive, not {self.storage_timeout}")
{%- endif %}
        if self.retry_backoff < 0:
            raise UserError(f"retry_backoff must not be negative, not {self.retry_backoff}")
        if self.backend not in BACKENDS:
            raise UserError(f"backend {self.backend!r} is not one of: {', '.join(BACKENDS)}")
{%- if cookiecutter.scale_out == "dask" %}
        if self.scheduler and self.backend != "dask":
            raise UserError(
                f"scheduler {self.scheduler!r} is used only by the dask backend (--backend dask)"
            )
{%- else %}
        if self.scheduler:
            raise UserError(f"scheduler {self.scheduler!r}: this project has no cluster backend")
{%- endif %}
        chosen_file = self.units_file if self.units_file != DEFAULT_UNITS_FILE else None
        sources = [s for s in (chosen_file, self.units_glob, self.units_function) if s]
        if len(sources) > 1:
            raise UserError("choose one of units_file, units_glob and units_function")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
#: Settings that only make sense on the command line, not in a file.
COMMAND_LINE_ONLY = {"limit", "overwrite", "rerun_stale", "fail_fast", "debug", "shard", "param_values", "params"}
PARAMS_TABLE = "params"


def _coerce(name: str, value: object, origin: str) -> object:
    """Check a value read from a file against the setting's type."""
    default = FIELDS[name].default
    if default is dataclasses.MISSING:  # default_factory: workers
        default = 1
    expected: type | tuple[type, ...]
    if isinstance(default, bool):
        expected = bool
    elif isinstance(default, int):
        expected = int
    elif isinstance(default, float):
        expected = (int, float)
    else:
        expected = str
    if isinstance(value, bool) and expected is not bool:
        raise UserError(f"{origin}: {name} = {value!r} should be {_kind(expected)}")
    if not isinstance(value, expected):
        raise UserError(f"{origin}: {name} = {value!r} should be {_kind(expected)}")
    if expected == (int, float) and isinstance(value, int):
        return float(value)
    return value


def _kind(expected: type | tuple[type, ...]) -> str:
    return {bool: "true or false", int: "a whole number", str: "a string"}.get(
        expected if isinstance(expected, type) else float, "a number"
    )


def from_file(path: Path, *, required: bool) -> dict[str, object]:
    """The ``[tool.{{ cookiecutter.package_name }}]`` table of ``path``, checked key by key."""
    if not path.is_file():
        if required:
            raise UserError(f"config file {path} does not exist")
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read config file {path}: {exc}") from None
    table = document.get("tool", {}).get(TOOL_TABLE, {})
    if not isinstance(table, dict):
        raise UserError(f"{path}: [tool.{TOOL_TABLE}] must be a table")
    values: dict[str, object] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name == PARAMS_TABLE and isinstance(value, dict):
            origin = f"{path} [tool.{TOOL_TABLE}.{PARAMS_TABLE}]"
            values["param_values"] = tuple((k.replace("-", "_"), v, origin) for k, v in value.items())
            continue
        if name not in FIELDS or name in COMMAND_LINE_ONLY:
            raise UserError(f"{path}: unknown key {key!r} in [tool.{TOOL_TABLE}]")
        values[name] = _coerce(name, value, str(path))
    return values


def load(config: Path | None, overrides: dict[str, object]) -> Settings:
    """Defaults < config file (``pyproject.toml`` in the working directory) < command line."""
    values = from_file(config or Path("pyproject.toml"), required=config is not None)
    unit_keys = ("units_file", "units_glob", "units_function")
    if any(overrides.get(key) for key in unit_keys):
        for key in unit_keys:  # a unit source on the command line replaces the file's
            values.pop(key, None)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "param_values" in overrides:  # the command line's --param come after the file's
        in_file = values.pop("param_values", ())
        overrides["param_values"] = (*in_file, *overrides["param_values"])  # type: ignore[misc]
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]  # types checked by _coerce


def check_located(config: Path | None, settings: Settings) -> None:
    """Outside the project folder, say where to go instead of failing on a relative path."""
    if config is not None or Path("pyproject.toml").is_file():
        return
    if "://" in settings.input or Path(settings.input).is_dir():
        return
    raise UserError(
        f"no pyproject.toml in {Path.cwd()} and no input folder {settings.input!r} there: "
        "cd to the project folder (where pyproject.toml has "
        f"[tool.{TOOL_TABLE}]), or pass --config PATH/pyproject.toml, or --input FOLDER "
        "(with --units-file FILE or --units-glob PATTERN)"
    )
