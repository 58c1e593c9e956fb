"""Logging helpers: recognising logger calls, and giving fixes a module-level ``logger``.

Fixes that log (UW301, UW401) call the module's existing stdlib logger if there is one
(``log = logging.getLogger(__name__)``), else ``logger``, which ``fix_module`` then defines
right after the leading imports: ``import logging`` (placed where isort would put it) and
``logger = logging.getLogger(__name__)``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from ..rule import RuleContext
from ._base import ScopedRule
from ._names import call_name, dotted_name, is_main_guard, last_component, target_names

#: Methods of a logger that emit a record.
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)

DEFAULT_LOGGER = "logger"


def looks_like_logger(node: cst.BaseExpression) -> bool:
    """Whether ``node`` is plausibly a logger: ``logger``, ``log``, ``self._log``, ``logging``.

    Like ruff's logger heuristic, the last name must mention ``log``; a direct
    ``logging.getLogger(...)`` call also counts.
    """
    if isinstance(node, cst.Call):
        return last_component(node.func) in {"getLogger", "get_logger"}
    name = last_component(node)
    return name is not None and "log" in name.lower()


def is_logging_call(call: cst.Call) -> bool:
    """Whether ``call`` is ``<logger>.<level>(...)``."""
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value in LOG_METHODS
        and looks_like_logger(func.value)
    )


@dataclass(frozen=True)
class LoggerChoice:
    """Which logger name a fix may call, and whether ``fix_module`` must define it."""

    name: str
    needs_setup: bool


class LoggingFixRule(ScopedRule):
    """A rule whose fixes call a module-level stdlib logger."""

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        #: The name bound at module scope to ``logging.getLogger(...)``, if any.
        self.stdlib_logger: str | None = None
        self._needs_setup = False

    def _record_logger(self, targets: list[str], value: cst.BaseExpression | None) -> None:
        if (
            self.stdlib_logger is None
            and len(targets) == 1
            and self.at_module_scope()
            and self.at_import_time()
            and isinstance(value, cst.Call)
            and call_name(value, self.imports) == "logging.getLogger"
        ):
            self.stdlib_logger = targets[0]

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        names = [n for t in node.targets for n in target_names(t.target)]
        self._record_logger(names, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        super().visit_AnnAssign(node)
        self._record_logger(list(target_names(node.target)), node.value)

    def choose_logger(self, *, defined_before: bool) -> LoggerChoice | None:
        """The logger a fix should call, once the whole module was seen (None: no safe fix).

        ``defined_before`` says whether the module's logger was already defined where the fix
        goes; it only matters for code run at import time.
        """
        if self.stdlib_logger is not None and defined_before:
            return LoggerChoice(self.stdlib_logger, needs_setup=False)
        if DEFAULT_LOGGER in self.module_bindings:
            return None  # a `logger` we know nothing about, or one defined too late
        return LoggerChoice(DEFAULT_LOGGER, needs_setup=True)

    def use_logger(self, choice: LoggerChoice) -> cst.Name:
        """Note that a fix calls ``choice`` and return its name node."""
        self._needs_setup = self._needs_setup or choice.needs_setup
        return cst.Name(choice.name)

    def fix_module(self, module: cst.Module) -> cst.Module:
        if not self._needs_setup:
            return module
        return ensure_logger(module, DEFAULT_LOGGER)


# -- module surgery ------------------------------------------------------------------------------


def _small_statements(stmt: cst.BaseStatement) -> list[cst.BaseSmallStatement]:
    return list(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else []


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    small = _small_statements(stmt)
    return (
        len(small) == 1
        and isinstance(small[0], cst.Expr)
        and isinstance(small[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _import_module(stmt: cst.BaseStatement) -> tuple[str, bool] | None:
    """``(module, is_from)`` for an import line, else None."""
    small = _small_statements(stmt)
    if len(small) != 1:
        return None
    node = small[0]
    if isinstance(node, cst.Import):
        return dotted_name(node.names[0].name) or "", False
    if isinstance(node, cst.ImportFrom):
        module = (dotted_name(node.module) or "") if node.module is not None else ""
        return ("." * len(node.relative) + module), True
    return None


def _is_stdlib(module: str) -> bool:
    return module.split(".", 1)[0] in sys.stdlib_module_names


def _binds(stmt: cst.BaseStatement, name: str) -> bool:
    for small in _small_statements(stmt):
        if isinstance(small, cst.Assign) and any(
            name in target_names(t.target) for t in small.targets
        ):
            return True
        if isinstance(small, cst.AnnAssign) and name in target_names(small.target):
            return True
        if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(
            small.names, cst.ImportStar
        ):
            for alias in small.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(bound, cst.Name) and bound.value == name:
                    return True
    return False


def _imports(stmt: cst.BaseStatement, module_name: str) -> bool:
    for small in _small_statements(stmt):
        if isinstance(small, cst.Import):
            for alias in small.names:
                if dotted_name(alias.name) == module_name and alias.asname is None:
                    return True
    return False


def _import_span(body: Sequence[cst.BaseStatement]) -> tuple[int, int]:
    """Where the leading imports are: after the docstring and ``__future__`` imports."""
    start = 1 if body and _is_docstring(body[0]) else 0
    while start < len(body) and (_import_module(body[start]) or ("", False))[0] == "__future__":
        start += 1
    end = start
    while end < len(body) and _import_module(body[end]) is not None:
        end += 1
    return start, end


def ensure_import(module: cst.Module, name: str) -> cst.Module:
    """Add ``import <name>`` (a standard library module) where isort would put it."""
    body = list(module.body)
    if any(_imports(stmt, name) for stmt in body):
        return module
    start, end = _import_span(body)
    position = end
    for index in range(start, end):
        module_name, is_from = _import_module(body[index]) or ("", False)
        if not _is_stdlib(module_name) or is_from or module_name > name:
            position = index
            break
    import_line = cst.parse_statement(f"import {name}\n")
    assert isinstance(import_line, cst.SimpleStatementLine)
    if position < end:
        following = body[position]
        assert isinstance(following, cst.SimpleStatementLine)
        after_stdlib = position > start and _is_stdlib(
            (_import_module(body[position - 1]) or ("", False))[0]
        )
        if not after_stdlib:
            # Take the place (and leading comments) of the import we go before.
            import_line = import_line.with_changes(leading_lines=following.leading_lines)
            new_section = not _is_stdlib((_import_module(following) or ("", False))[0])
            body[position] = following.with_changes(
                leading_lines=[cst.EmptyLine()] if new_section else []
            )
    elif end == start and start > 0:
        import_line = import_line.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(position, import_line)
    return module.with_changes(body=body)


def ensure_logger(module: cst.Module, name: str) -> cst.Module:
    """Add ``import logging`` and ``<name> = logging.getLogger(__name__)`` if missing."""
    if any(_binds(stmt, name) for stmt in module.body):
        return module
    module = ensure_import(module, "logging")
    body = list(module.body)
    _, end = _import_span(body)
    logger_line = cst.parse_statement(f"{name} = logging.getLogger(__name__)\n")
    assert isinstance(logger_line, cst.SimpleStatementLine)
    logger_line = logger_line.with_changes(leading_lines=[cst.EmptyLine()])
    if end < len(body):
        following = body[end]
        if (
            isinstance(following, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
            and not following.leading_lines
        ):
            body[end] = following.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(end, logger_line)
    return module.with_changes(body=body)


#: What the UW401 fix adds where a script configures no logging: the records of the former
#: prints then reach stdout, with exactly the text the prints wrote.
BASIC_CONFIG = 'logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)'
#: Calls that say a module configures logging itself.
CONFIGURES_LOGGING = frozenset(
    {"basicConfig", "dictConfig", "fileConfig", "addHandler", "setup_logging", "configure_logging"}
)


def add_logging_config(module: cst.Module, *, in_main_guard: bool, after: str) -> cst.Module:
    """``BASIC_CONFIG`` first in the ``__main__`` block, or right after the statement that
    binds the logger ``after`` (for a script that logs at import time)."""
    line = cst.parse_statement(BASIC_CONFIG + "\n")
    assert isinstance(line, cst.SimpleStatementLine)
    body = list(module.body)
    for index, stmt in enumerate(body):
        if in_main_guard and isinstance(stmt, cst.If) and is_main_guard(stmt.test):
            block = stmt.body
            if not isinstance(block, cst.IndentedBlock):
                return module
            first = block.body[0] if block.body else None
            moved = line
            rest = list(block.body)
            if isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                moved = line.with_changes(leading_lines=first.leading_lines)
                rest[0] = first.with_changes(leading_lines=())
            body[index] = stmt.with_changes(body=block.with_changes(body=[moved, *rest]))
            break
        if not in_main_guard and _binds(stmt, after):
            body.insert(index + 1, line)
            break
    else:
        return module
    module = module.with_changes(body=body)
    return ensure_import(ensure_import(module, "logging"), "sys")
