"""Output formats: text (flake8/ruff style), JSON, SARIF 2.1.0 and GitHub workflow commands."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from . import __version__
from .finding import FileError, Finding
from .rule import Rule

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def one_line(message: str) -> str:
    """``message`` with line breaks escaped, so that a finding stays one line."""
    return message.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def text(findings: Sequence[Finding]) -> str:
    """``path:line:col: CODE message``, one finding per line (``path:cell N:line:col:`` in
    notebooks); line breaks inside a message are escaped as ``\\n``."""
    return "".join(f"{f.location()}: {f.code} {one_line(f.message)}\n" for f in findings)


def as_json(findings: Sequence[Finding], rules: Mapping[str, type[Rule]]) -> str:
    """A JSON list of findings with their rule's name; ``cell`` is null outside notebooks."""
    rows = [
        {
            "path": f.path,
            "line": f.line,
            "column": f.column,
            "end_line": f.end_line,
            "end_column": f.end_column,
            "code": f.code,
            "name": rules[f.code].name if f.code in rules else None,
            "message": f.message,
            "cell": f.cell,
            "file_line": f.file_line,
        }
        for f in findings
    ]
    return json.dumps(rows, indent=2) + "\n"


def artifact_uri(path: str, base: Path | None = None) -> str:
    """A relative URI with forward slashes (absolute ``file://`` only outside ``base``)."""
    base = (base or Path.cwd()).resolve()
    absolute = Path(path).resolve()
    try:
        relative = absolute.relative_to(base)
    except ValueError:
        return absolute.as_uri()
    return quote(relative.as_posix())


def _help(rule: type[Rule]) -> str:
    return f"{rule.code} ({rule.name}): {rule.message}\n\n{rule.rationale}"


def sarif(
    findings: Sequence[Finding],
    rules: Sequence[type[Rule]],
    errors: Sequence[FileError] = (),
    base: Path | None = None,
) -> str:
    """A SARIF 2.1.0 log as GitHub code scanning accepts it.

    ``rules`` are the enabled rules (``ruleIndex`` points into them); file errors become tool
    execution notifications, so the log says the run did not see every file.
    """
    index = {rule.code: position for position, rule in enumerate(rules)}
    driver = {
        "name": "unitwise-lint",
        "version": __version__,
        "rules": [
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.message},
                "fullDescription": {"text": rule.rationale},
                "help": {"text": _help(rule), "markdown": _help(rule)},
                "defaultConfiguration": {"level": "error"},
            }
            for rule in rules
        ],
    }
    results = []
    for f in findings:
        region: dict[str, int] = {
            "startLine": f.line,
            "startColumn": f.column,
            "endLine": f.end_line,
            "endColumn": f.end_column,
        }
        if f.cell is not None:
            # Positions in a cell are not positions in the .ipynb file: the region is the
            # file line holding the finding's first line (the whole line), the cell position
            # goes in the properties and the message.
            region = {"startLine": f.file_line or 1}
        result: dict[str, object] = {
            "ruleId": f.code,
            "level": "error",
            "message": {"text": _cell_message(f)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": artifact_uri(f.path, base),
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": region,
                    }
                }
            ],
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        if f.cell is not None:
            result["properties"] = {"cell": f.cell, "cellLine": f.line, "cellColumn": f.column}
        results.append(result)
    invocation: dict[str, object] = {"executionSuccessful": not errors}
    if errors:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "error",
                "message": {"text": error.reason},
                "locations": [{"physicalLocation": _error_location(error, base)}],
            }
            for error in errors
        ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                # SARIF 2.1.0 3.14.27: our columns count code points, not UTF-16 units.
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {
                    "%SRCROOT%": {"uri": (base or Path.cwd()).resolve().as_uri() + "/"}
                },
                "invocations": [invocation],
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _cell_message(f: Finding) -> str:
    if f.cell is None:
        return f.message
    return f"cell {f.cell}, line {f.line}, column {f.column}: {f.message}"


def _error_location(error: FileError, base: Path | None) -> dict[str, object]:
    location: dict[str, object] = {
        "artifactLocation": {"uri": artifact_uri(error.path, base), "uriBaseId": "%SRCROOT%"}
    }
    if error.position is not None:
        line, column = error.position
        location["region"] = {"startLine": line, "startColumn": column}
    return location


def escape_data(value: str) -> str:
    """The GitHub Actions toolkit's escaping of a workflow command's message."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """The GitHub Actions toolkit's escaping of a workflow command's property value."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(
    findings: Sequence[Finding],
    rules: Mapping[str, type[Rule]],
    errors: Sequence[FileError] = (),
) -> str:
    """``::error`` workflow commands, which GitHub shows as annotations on the diff.

    A notebook's lines are cell lines, not lines of the ``.ipynb`` file, so its annotations
    attach to the file line holding the finding and name the cell and line in the message. A
    syntax error's annotation carries its line and column.
    """
    lines = []
    for f in findings:
        name = rules[f.code].name if f.code in rules else ""
        title = escape_property(f"{f.code} {name}".strip())
        file = escape_property(f.path.replace(os.sep, "/"))
        if f.cell is None:
            where = (
                f"file={file},line={f.line},col={f.column},"
                f"endLine={f.end_line},endColumn={f.end_column}"
            )
            message = f.message
        else:
            where = f"file={file}" + (f",line={f.file_line}" if f.file_line else "")
            message = _cell_message(f)
        lines.append(f"::error {where},title={title}::{escape_data(message)}\n")
    for error in errors:
        file = escape_property(error.path.replace(os.sep, "/"))
        where = f"file={file}"
        if error.position is not None:
            where += f",line={error.position[0]},col={error.position[1]}"
        lines.append(f"::error {where},title=unitwise-lint::{escape_data(error.reason)}\n")
    return "".join(lines)


def statistics(
    findings: Sequence[Finding], rules: Mapping[str, type[Rule]], as_json_list: bool
) -> str:
    """Counts per code, most frequent first (``--statistics``)."""
    counts = sorted(Counter(f.code for f in findings).items(), key=lambda item: (-item[1], item[0]))
    if as_json_list:
        rows = [
            {"code": code, "name": rules[code].name if code in rules else None, "count": count}
            for code, count in counts
        ]
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(count)) for _, count in counts), default=1)
    return "".join(
        f"{count:>{width}}\t{code}\t{rules[code].name if code in rules else ''}\n"
        for code, count in counts
    )
