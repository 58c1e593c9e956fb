"""Run parameters: the thresholds, names and flags of the analysis, as a typed object.

``process.py`` declares them once as a dataclass named ``Params`` whose fields all have
defaults. A run fills it from ``[tool.{{ cookiecutter.package_name }}.params]`` in pyproject.toml, then from
``--param KEY=VALUE`` (the command line wins). An unknown key or a value of the wrong type is a
one-line error naming the key, before any unit starts. ``setup()`` sees the result as
``settings.params`` and ``process()`` as ``unit.params``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from collections.abc import Iterable
from pathlib import Path, PurePath
from types import NoneType, UnionType
from typing import Any

from .errors import UserError
from .settings import Settings

#: ``(key, value, where it came from)``: a value from TOML keeps its type, one from the
#: command line is a string converted to the field's type.
RawParam = tuple[str, object, str]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_assignments(items: Iterable[str]) -> tuple[RawParam, ...]:
    """``--param KEY=VALUE`` arguments as raw parameters."""
    raw: list[RawParam] = []
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise UserError(f"--param {item!r} is not of the form KEY=VALUE")
        raw.append((key.strip().replace("-", "_"), value, "--param"))
    return tuple(raw)


def _fields(cls: type) -> dict[str, Any]:
    """The field names of ``cls`` and their resolved types."""
    hints = typing.get_type_hints(cls)
    return {field.name: hints[field.name] for field in dataclasses.fields(cls)}


def _convert(key: str, kind: Any, value: object, origin: str) -> object:
    """``value`` as a ``kind`` (a string from the command line is parsed), or a UserError."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, UnionType):
        empty = value is None or (origin == "--param" and value == "")
        if empty and NoneType in args:
            return None
        for option in (arg for arg in args if arg is not NoneType):
            try:
                return _convert(key, option, value, origin)
            except UserError:
                continue
        raise UserError(f"{origin}: parameter {key} = {value!r} should be {_name(kind)}")
    from_text = isinstance(value, str) and origin == "--param"
    if kind is bool:
        if isinstance(value, bool):
            return value
        if from_text and str(value).lower() in _TRUE | _FALSE:
            return str(value).lower() in _TRUE
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if from_text:
            try:
                return int(str(value))
            except ValueError:
                pass
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if from_text:
            try:
                return float(str(value))
            except ValueError:
                pass
    elif kind is str:
        if isinstance(value, str):
            return value
    elif kind is Path:
        if isinstance(value, PurePath) or (isinstance(value, str) and value):
            return Path(value)  # not an empty string, which Path() would turn into "."
    elif typing.get_origin(kind) in (list, tuple) and args:
        item = args[0]
        items = value.split(",") if from_text and isinstance(value, str) else value
        if isinstance(items, list):
            converted = [_convert(key, item, element, origin) for element in items]
            return converted if typing.get_origin(kind) is list else tuple(converted)
    else:
        raise UserError(f"parameter {key}: type {_name(kind)} is not supported")
    raise UserError(f"{origin}: parameter {key} = {value!r} should be {_name(kind)}")


def _name(kind: Any) -> str:
    names = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "a string",
        Path: "a path",
    }
    if kind in names:
        return names[kind]
    return getattr(kind, "__name__", None) or str(kind).replace("typing.", "")


def resolve(cls: type | None, raw: Iterable[RawParam]) -> Any:
    """The job's parameters: ``cls``'s defaults overridden by ``raw`` in order (None if the
    job declares no parameters and none were given)."""
    raw = list(raw)
    if cls is None:
        if raw:
            key, _, origin = raw[0]
            raise UserError(f"{origin}: unknown parameter {key!r} (process.py declares no Params)")
        return None
    fields = _fields(cls)
    values: dict[str, object] = {}
    for key, value, origin in raw:
        if key not in fields:
            known = ", ".join(fields) or "none"
            raise UserError(f"{origin}: unknown parameter {key!r} (known: {known})")
        values[key] = _convert(key, fields[key], value, origin)
    try:
        return cls(**values)
    except TypeError as exc:  # a field without a default that was not given
        raise UserError(f"parameters: {exc}") from None


def as_dict(params: object) -> dict[str, object]:
    """The parameters as JSON-ready values (what the run's records keep)."""
    if params is None or not dataclasses.is_dataclass(params) or isinstance(params, type):
        return {}
    return json.loads(json.dumps(dataclasses.asdict(params), default=str, sort_keys=True))  # type: ignore[no-any-return]


def digest(params: object) -> str:
    """A short hash of the parameter values: equal values, equal hash, across runs."""
    text = json.dumps(as_dict(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def describe(params: object) -> str | None:
    """``key=value`` pairs for the RUN line (None when there are none)."""
    return describe_values(as_dict(params)) or None


def describe_values(values: dict[str, object]) -> str:
    """``key=value,key=value``, values as JSON (strings quoted)."""
    return ",".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in values.items())


def bind(settings: Settings, cls: type | None) -> Settings:
    """``settings`` with ``params`` filled (and checked) from its raw values."""
    if settings.params is not None and not settings.param_values:
        return settings  # filled already (by a caller that built Params itself)
    return settings.replace(params=resolve(cls, settings.param_values))
