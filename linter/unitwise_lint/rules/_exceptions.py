"""Helpers for the exception-handler rules (UW301-UW303)."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ._logging import LOG_METHODS, is_logging_call
from ._names import ImportMap

BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException"})

#: How UW301-UW303 share a handler, for their rationales (and so for ``explain``).
ONE_FINDING_PER_HANDLER = (
    "One finding per handler: UW301 (bare-except), UW302 (blind-except) and UW303 "
    "(swallowed-exception) can all describe the same handler, and only the most specific one "
    "is reported: UW301 for a bare `except:` (its fix applies whatever the body does), else "
    "UW303 for a broad handler whose body only passes or continues, else UW302. Disabling "
    "the winning rule lets the next one report."
)


def _types(node: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(node, cst.Tuple):
        for element in node.elements:
            yield from _types(element.value)
    else:
        yield node


def broad_exception(handler: cst.ExceptHandler, imports: ImportMap) -> str | None:
    """``Exception`` or ``BaseException`` if the handler catches one (alone or in a tuple)."""
    if handler.type is None:
        return None
    for node in _types(handler.type):
        name = imports.resolve(node)
        if name is None:
            continue
        name = name.removeprefix("builtins.")
        if name in BROAD_EXCEPTIONS and "." not in name:
            return name
    return None


def _is_ignore(statement: cst.BaseSmallStatement) -> bool:
    if isinstance(statement, (cst.Pass, cst.Continue)):
        return True
    return isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Ellipsis)


def body_only_ignores(handler: cst.ExceptHandler) -> bool:
    """Whether the handler body is only ``pass``, ``continue`` or ``...``."""
    body = handler.body
    if isinstance(body, cst.SimpleStatementSuite):
        return all(_is_ignore(s) for s in body.body)
    for line in body.body:
        if not isinstance(line, cst.SimpleStatementLine):
            return False
        if not all(_is_ignore(s) for s in line.body):
            return False
    return True


def _truthy(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value not in {"False", "None"}
    if isinstance(node, cst.Integer):
        return node.evaluated_value != 0
    return True


def _logging_method(call: cst.Call, imports: ImportMap) -> str | None:
    """The level method a logging call uses: ``logger.error`` and ``from logging import
    error as err; err(...)`` both give ``error``."""
    if is_logging_call(call):
        assert isinstance(call.func, cst.Attribute)
        return call.func.attr.value
    name = imports.resolve(call.func)
    if name is not None and name.startswith("logging."):
        method = name.rsplit(".", 1)[1]
        return method if method in LOG_METHODS else None
    return None


def logs_traceback(call: cst.Call, imports: ImportMap) -> bool:
    """``logger.exception(...)``, or a logging call with a truthy ``exc_info=``.

    Logging functions are resolved through imports (``from logging import exception``,
    ``import logging as lg``)."""
    method = _logging_method(call, imports)
    if method is None:
        return False
    if method == "exception":
        return True
    return any(
        arg.keyword is not None and arg.keyword.value == "exc_info" and _truthy(arg.value)
        for arg in call.args
    )
