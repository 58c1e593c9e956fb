"""Helpers for the exception-handler rules (UW301-UW303)."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ._logging import is_logging_call
from ._names import ImportMap

BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException"})


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


def logs_traceback(call: cst.Call) -> bool:
    """``logger.exception(...)``, or a logging call with a truthy ``exc_info=``."""
    if not is_logging_call(call):
        return False
    assert isinstance(call.func, cst.Attribute)
    if call.func.attr.value == "exception":
        return True
    return any(
        arg.keyword is not None and arg.keyword.value == "exc_info" and _truthy(arg.value)
        for arg in call.args
    )
