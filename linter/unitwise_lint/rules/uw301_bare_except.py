"""UW301 bare-except: ``except:`` catches everything, Ctrl-C and worker shutdown included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, RuleContext, Valid
from ._base import ScopedRule
from ._exceptions import ONE_FINDING_PER_HANDLER, body_only_ignores


@dataclass
class _Handler:
    node: cst.ExceptHandler
    reraises: bool = False


class BareExcept(ScopedRule):
    code = "UW301"
    name = "bare-except"
    message = "Bare `except:` catches KeyboardInterrupt and SystemExit and hides the error"
    rationale = (
        "A bare `except:` also catches KeyboardInterrupt and SystemExit, so a worker cannot be "
        "interrupted or shut down cleanly by the pool or the scheduler. The fix only narrows "
        "the handler to `except Exception:` (deliberately letting Ctrl-C and shutdown through) "
        "and adds nothing else: whatever the handler did for an ordinary error it still does. "
        "If the handler re-raises with a bare `raise`, the fix is `except BaseException:`, "
        "which behaves exactly like `except:`. " + ONE_FINDING_PER_HANDLER
    )
    FIXABLE = True
    SPECIFICITY = 3
    VALID: ClassVar[list[Valid]] = [
        Valid("try:\n    run()\nexcept Exception:\n    logger.exception('failed')\n"),
        Valid("try:\n    run()\nexcept (OSError, ValueError):\n    pass\n"),
        Valid("try:\n    run()\nexcept BaseException:\n    cleanup()\n    raise\n"),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid(
            "def f():\n    try:\n        run()\n    except:\n        # keep going\n"
            "        return None\n",
            fixed="def f():\n    try:\n        run()\n    except Exception:\n"
            "        # keep going\n        return None\n",
        ),
        Invalid(
            "def f():\n    try:\n        run()\n    except: pass  # best effort\n",
            fixed="def f():\n    try:\n        run()\n    except Exception: pass  # best effort\n",
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
            "for unit in units:\n    try:\n        run(unit)\n    except:\n        continue\n",
            fixed="for unit in units:\n    try:\n        run(unit)\n    except Exception:\n"
            "        continue\n",
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
        handler = _Handler(node)
        self._handlers.append(handler)
        self._bare.append(handler)

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._handlers.pop()

    # A raise inside a nested function belongs to that function, not to us.
    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef_body(node)
        self._handlers.append(None)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().leave_FunctionDef_body(node)
        self._handlers.pop()

    def visit_Raise(self, node: cst.Raise) -> None:
        if self._handlers and self._handlers[-1] is not None and node.exc is None:
            self._handlers[-1].reraises = True

    def leave_Module(self, original_node: cst.Module) -> None:
        for handler in self._bare:
            message = self.message
            if body_only_ignores(handler.node):
                message = (
                    "Bare `except:` swallows every error, KeyboardInterrupt and SystemExit "
                    "included: a failing unit leaves no trace"
                )
            self.report(
                handler.node, message, replacement=self._fix(handler), defect=id(handler.node)
            )

    @staticmethod
    def _fix(handler: _Handler) -> cst.ExceptHandler:
        caught = "BaseException" if handler.reraises else "Exception"
        return handler.node.with_changes(
            type=cst.Name(caught), whitespace_after_except=cst.SimpleWhitespace(" ")
        )
