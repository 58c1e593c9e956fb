"""``[tool.unitwise-lint]`` in pyproject.toml: discovery, validation and rule selection.

The configuration is the closest ``pyproject.toml`` above the first checked path that has a
``[tool.unitwise-lint]`` table (as ruff does), or the file given with ``--config`` (a
pyproject.toml, or a TOML file whose top level is the table). Every mistake is reported as one
line naming the file and the key, because a silently ignored setting is worse than none.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .globs import path_matches
from .rule import Rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

TABLE = "tool.unitwise-lint"
_LIST_KEYS = ("select", "ignore", "extend-select", "exclude")
_KNOWN_KEYS = (*_LIST_KEYS, "per-file-ignores", "file-timeout")
#: Seconds a file judged hard to parse may take before it becomes a file error (0: no bound).
DEFAULT_FILE_TIMEOUT = 20.0


class ConfigError(Exception):
    """A configuration or selection mistake, as one line."""


@dataclass(frozen=True)
class Config:
    """Validated settings; ``root`` is the directory relative patterns are matched from."""

    root: Path
    path: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    #: Validated options per rule code, by option name.
    options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    file_timeout: float = DEFAULT_FILE_TIMEOUT


def _has_table(document: Mapping[str, object]) -> bool:
    tool = document.get("tool")
    return isinstance(tool, dict) and "unitwise-lint" in tool


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 ({error.reason})") from None


def find_config(start: Path) -> Path | None:
    """The closest pyproject.toml at or above ``start`` with a ``[tool.unitwise-lint]`` table."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            try:
                document = _read_toml(pyproject)
            except ConfigError:
                continue  # someone else's broken pyproject is not ours to report
            if _has_table(document):
                return pyproject
    return None


def rule_lookup(rules: Iterable[type[Rule]]) -> dict[str, type[Rule]]:
    """Rules by code and by name."""
    lookup: dict[str, type[Rule]] = {}
    for rule in rules:
        lookup[rule.code] = rule
        lookup[rule.name] = rule
    return lookup


def check_codes(codes: Iterable[str], rules: Sequence[type[Rule]], where: str) -> tuple[str, ...]:
    """``codes`` if each is ``ALL`` or a prefix of some rule code, else a :class:`ConfigError`."""
    checked = []
    for code in codes:
        code = code.strip()
        known = code == "ALL" or any(rule.code.startswith(code) for rule in rules)
        if not code or not known:
            raise ConfigError(f"{where}: unknown rule code or prefix {code!r}")
        checked.append(code)
    return tuple(checked)


def _specificity(selectors: Iterable[str], code: str) -> int | None:
    """How specific the most specific selector matching ``code`` is (``ALL`` is 0)."""
    best: int | None = None
    for selector in selectors:
        if selector == "ALL":
            length = 0
        elif code.startswith(selector):
            length = len(selector)
        else:
            continue
        best = length if best is None else max(best, length)
    return best


def select_rules(
    rules: Sequence[type[Rule]],
    select: Sequence[str] | None,
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> tuple[type[Rule], ...]:
    """The enabled rules; every rule if nothing is selected.

    As in ruff, when a code is both selected and ignored the more specific selector wins
    (``select = ["UW301"]`` with ``ignore = ["UW3"]`` keeps UW301) and a tie means ignored.
    """
    selectors = (*(("ALL",) if select is None else select), *extend_select)
    enabled = []
    for rule in rules:
        selected = _specificity(selectors, rule.code)
        ignored = _specificity(ignore, rule.code)
        if selected is not None and (ignored is None or selected > ignored):
            enabled.append(rule)
    return tuple(enabled)


def ignored_for(config: Config, relative: str) -> tuple[str, ...]:
    """The codes ``per-file-ignores`` turns off for a path relative to the config root."""
    codes: list[str] = []
    name = relative.rsplit("/", 1)[-1]
    for pattern, ignored in config.per_file_ignores:
        if path_matches(pattern, relative) or path_matches(pattern, name):
            codes.extend(ignored)
    return tuple(codes)


def _string_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: expected a list of strings, got {_describe(value)}")
    return tuple(value)


def _describe(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    if type(value) in names:
        return f"{names[type(value)]} ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _expected(default: object) -> str:
    if isinstance(default, bool):
        return "a boolean"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "a string"
    if isinstance(default, (list, tuple, set, frozenset)):
        items = list(default)
        if items and isinstance(items[0], str):
            return "a list of strings"
        if items and isinstance(items[0], int) and not isinstance(items[0], bool):
            return "a list of integers"
        return "a list"
    if isinstance(default, dict):
        return "a table"
    return type(default).__name__


def coerce_option(value: object, default: object) -> object:
    """``value`` converted to the type of ``default``; ``TypeError`` naming what was expected.

    Booleans are not integers here, integers are accepted for floats, and a TOML list becomes
    the tuple, set or frozenset the default is.
    """
    wrong = TypeError(f"expected {_expected(default)}, got {_describe(value)}")
    if default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise wrong
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong
        return float(value)
    if isinstance(default, (list, tuple, set, frozenset)):
        if not isinstance(value, list):
            raise wrong
        sample = next(iter(default), None)
        if sample is not None:
            for item in value:
                try:
                    coerce_option(item, sample)
                except TypeError:
                    raise wrong from None
        return type(default)(value)
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise wrong
        return value
    if not isinstance(value, type(default)):
        raise wrong
    return value


def _normal(name: str) -> str:
    return name.replace("-", "_").lower()


def rule_options(rule: type[Rule], table: Mapping[str, object], where: str) -> dict[str, object]:
    """Validated options of one rule from its table (kebab-case keys accepted)."""
    names = {_normal(name): name for name in rule.OPTIONS}
    options: dict[str, object] = {}
    for key, value in table.items():
        name = names.get(_normal(key))
        if name is None:
            known = ", ".join(sorted(rule.OPTIONS)) or "none"
            raise ConfigError(
                f"{where}: unknown option {key!r} for {rule.code} ({rule.name}); known: {known}"
            )
        try:
            options[name] = coerce_option(value, rule.OPTIONS[name].default)
        except TypeError as error:
            raise ConfigError(f"{where}.{key}: {error}") from None
    return options


def parse_table(
    table: Mapping[str, object], rules: Sequence[type[Rule]], origin: Path | None, root: Path
) -> Config:
    """A :class:`Config` from the ``[tool.unitwise-lint]`` table, validated against ``rules``."""
    prefix = f"{origin}: " if origin is not None else ""
    lookup = rule_lookup(rules)
    values: dict[str, tuple[str, ...]] = {}
    per_file: list[tuple[str, tuple[str, ...]]] = []
    options: dict[str, dict[str, object]] = {}
    timeout = DEFAULT_FILE_TIMEOUT
    for key, value in table.items():
        where = f"{prefix}[{TABLE}] {key}"
        if key == "file-timeout":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{where}: expected a number of seconds >= 0, got {value!r}")
            timeout = float(value)
        elif key in _LIST_KEYS:
            items = _string_list(value, where)
            values[key] = items if key == "exclude" else check_codes(items, rules, where)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{where}: expected a table of glob = [codes], got {_describe(value)}"
                )
            for pattern, codes in value.items():
                entry = f"{where}.{pattern!r}"
                per_file.append((pattern, check_codes(_string_list(codes, entry), rules, entry)))
        elif key in lookup:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table of options, got {_describe(value)}")
            rule = lookup[key]
            options.setdefault(rule.code, {}).update(
                rule_options(rule, value, f"{prefix}[{TABLE}.{key}]")
            )
        else:
            raise ConfigError(
                f"{where}: unknown key (expected one of {', '.join(_KNOWN_KEYS)}, "
                "or a rule code or name)"
            )
    return Config(
        root=root,
        path=origin,
        select=values.get("select"),
        ignore=values.get("ignore", ()),
        extend_select=values.get("extend-select", ()),
        per_file_ignores=tuple(per_file),
        exclude=values.get("exclude", ()),
        options=options,
        file_timeout=timeout,
    )


def load_config(path: Path, rules: Sequence[type[Rule]]) -> Config:
    """The configuration in ``path``: its ``[tool.unitwise-lint]`` table, or, in a file that
    is not a pyproject.toml and has no such table, its top level."""
    document = _read_toml(path)
    if _has_table(document):
        tool = document["tool"]
        assert isinstance(tool, dict)
        table = tool["unitwise-lint"]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{TABLE}] must be a table")
    elif path.name == "pyproject.toml":
        raise ConfigError(f"{path}: no [{TABLE}] table")
    else:
        table = document
    return parse_table(table, rules, path, path.resolve().parent)


def discover_config(
    explicit: str | None, paths: Sequence[str], rules: Sequence[type[Rule]]
) -> Config:
    """The configuration for a run: ``--config``, else discovered from the first path."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"--config {explicit}: no such file")
        return load_config(path, rules)
    start = Path(paths[0]) if paths else Path.cwd()
    found = find_config(start if start.exists() else Path.cwd())
    if found is None:
        return Config(root=Path.cwd().resolve())
    return load_config(found, rules)
