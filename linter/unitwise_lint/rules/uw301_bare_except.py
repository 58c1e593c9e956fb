"""UW301 bare-except: ``except:`` catches everything, Ctrl-C and worker shutdown included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, RuleContext, Valid
from ._exceptions import logs_traceback
from ._logging import LoggingFixRule

_LOG_MESSAGE = '"Unexpected error"'


@dataclass
class _Handler:
    node: cst.ExceptHandler
    import_time: bool
    logger_defined: bool
    reraises: bool = False
    logs: bool = False


class BareExcept(LoggingFixRule):
    code = "UW301"
    name = "bare-except"
    message = "Bare `except:` catches KeyboardInterrupt and SystemExit and hides the error"
    rationale = (
        "A bare `except:` also catches KeyboardInterrupt and SystemExit, so a worker cannot be "
        "interrupted or shut down cleanly by the pool or the scheduler, and whatever went wrong "
        "for that unit is hidden from the logs of a run nobody watches. The fix narrows the "
        "handler to `except Exception:` (deliberately letting Ctrl-C and shutdown through) and "
        "logs the traceback with `logger.exception(...)` before the existing body, defining a "
        "module-level `logger` if needed. If the handler re-raises with a bare `raise`, the fix "
        "is `except BaseException:` instead, which behaves exactly like `except:`."
    )
    FIXABLE = True
    VALID: ClassVar[list[Valid]] = [
        Valid("try:\n    run()\nexcept Exception:\n    logger.exception('failed')\n"),
        Valid("try:\n    run()\nexcept (OSError, ValueError):\n    pass\n"),
        Valid("try:\n    run()\nexcept BaseException:\n    cleanup()\n    raise\n"),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid(
            "import logging\n\nlogger = logging.getLogger(__name__)\n\n\n"
            "def f():\n    try:\n        run()\n    except:\n        # keep going\n"
            "        return None\n",
            fixed="import logging\n\nlogger = logging.getLogger(__name__)\n\n\n"
            "def f():\n    try:\n        run()\n    except Exception:\n        # keep going\n"
            '        logger.exception("Unexpected error")\n        return None\n',
        ),
        Invalid(
            '"""Tiles."""\n\nimport os\n\n\ndef f():\n    try:\n        run()\n'
            "    except: pass  # best effort\n",
            fixed='"""Tiles."""\n\nimport logging\nimport os\n\n'
            "logger = logging.getLogger(__name__)\n\n\ndef f():\n    try:\n        run()\n"
            '    except Exception:  # best effort\n        logger.exception("Unexpected error")\n'
            "        pass\n",
        ),
        Invalid(
            "try:\n    run()\nexcept:\n    cleanup()\n    raise\n",
            fixed="try:\n    run()\nexcept BaseException:\n    cleanup()\n    raise\n",
        ),
        Invalid(
            "import logging\n\nlog = logging.getLogger('tiles')\n\ntry:\n    run()\n"
            "except:\n    log.exception('run failed')\n",
            fixed="import logging\n\nlog = logging.getLogger('tiles')\n\ntry:\n    run()\n"
            "except Exception:\n    log.exception('run failed')\n",
        ),
        Invalid(
            "from loguru import logger\n\ntry:\n    run()\nexcept:\n    pass\n",
            fixed=None,
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._handlers: list[_Handler | None] = []
        self._bare: list[_Handler] = []

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        super().visit_ExceptHandler(node)
        if node.type is not None:
            self._handlers.append(None)
            return
        handler = _Handler(node, self.at_import_time(), self.stdlib_logger is not None)
        self._handlers.append(handler)
        self._bare.append(handler)

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._handlers.pop()

    # Raises and logging calls inside a nested function belong to that function, not to us.
    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef_body(node)
        self._handlers.append(None)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().leave_FunctionDef_body(node)
        self._handlers.pop()

    def visit_Raise(self, node: cst.Raise) -> None:
        if self._handlers and self._handlers[-1] is not None and node.exc is None:
            self._handlers[-1].reraises = True

    def visit_Call(self, node: cst.Call) -> None:
        if self._handlers and self._handlers[-1] is not None and logs_traceback(node):
            self._handlers[-1].logs = True

    def leave_Module(self, original_node: cst.Module) -> None:
        for handler in self._bare:
            self.report(handler.node, replacement=self._fix(handler))

    def _fix(self, handler: _Handler) -> cst.ExceptHandler | None:
        node = handler.node
        space = cst.SimpleWhitespace(" ")
        if handler.reraises:
            return node.with_changes(type=cst.Name("BaseException"), whitespace_after_except=space)
        narrowed = node.with_changes(type=cst.Name("Exception"), whitespace_after_except=space)
        if handler.logs:
            return narrowed
        choice = self.choose_logger(defined_before=handler.logger_defined)
        if choice is None:
            return None
        log_line = cst.SimpleStatementLine(
            [
                cst.Expr(
                    cst.Call(
                        cst.Attribute(self.use_logger(choice), cst.Name("exception")),
                        [cst.Arg(cst.SimpleString(_LOG_MESSAGE))],
                    )
                )
            ]
        )
        return narrowed.with_changes(body=_prepend(node.body, log_line))


def _prepend(body: cst.BaseSuite, line: cst.SimpleStatementLine) -> cst.IndentedBlock:
    """``body`` with ``line`` first; comments opening the body stay above everything."""
    if isinstance(body, cst.SimpleStatementSuite):
        statements = list(body.body)
        last = statements[-1]
        statements[-1] = last.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return cst.IndentedBlock(
            header=body.trailing_whitespace,
            body=[line, cst.SimpleStatementLine(statements)],
        )
    assert isinstance(body, cst.IndentedBlock)
    first = body.body[0] if body.body else None
    if isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        moved = line.with_changes(leading_lines=first.leading_lines)
        rest = [first.with_changes(leading_lines=()), *body.body[1:]]
        return body.with_changes(body=[moved, *rest])
    return body.with_changes(body=[line, *body.body])
