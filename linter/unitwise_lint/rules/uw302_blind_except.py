"""UW302 blind-except: ``except Exception`` that neither re-raises nor records the error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import libcst as cst

from ..rule import Invalid, Option, RuleContext, Valid
from ._base import ScopedRule
from ._exceptions import broad_exception, logs_traceback


@dataclass
class _Handler:
    node: cst.ExceptHandler
    broad: str
    bound: str | None
    bound_node: cst.CSTNode | None
    handled: bool = False
    used: bool = False


#: ``try`` hides raises from an enclosing handler (they may be caught there); ``scope`` hides
#: everything (a nested function runs later, if ever).
_Barrier = Literal["try", "scope"]


class BlindExcept(ScopedRule):
    code = "UW302"
    name = "blind-except"
    message = "`except Exception` neither re-raises nor logs the error"
    rationale = (
        "Catching Exception or BaseException is how one bad unit should be kept from killing "
        "a run of thousands, but only if the failure is recorded: a handler that neither "
        "re-raises, logs the traceback (`logger.exception`, or `exc_info=True`), nor does "
        "anything with the bound exception turns a crash into silently missing output, found "
        "days later. Semantics follow ruff's BLE001 (a bare `raise`, `raise exc` or "
        "`raise ... from exc` re-raises; nested `try` blocks and functions do not count), "
        "except that by default a handler that uses the bound exception (stores it, returns "
        "it, logs its message) counts as recording it; set `ruff-strict` to require a "
        "re-raise or a logged traceback."
    )
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "ruff-strict": Option(
            False,
            "Follow ruff's BLE001 exactly: using the bound exception (storing it, logging its "
            "message) does not make a broad handler acceptable, only a re-raise or a logged "
            "traceback does.",
        )
    }
    VALID: ClassVar[list[Valid]] = [
        Valid("try:\n    run()\nexcept Exception:\n    logger.exception('unit failed')\n"),
        Valid("try:\n    run()\nexcept Exception:\n    log.error('unit failed', exc_info=True)\n"),
        Valid("try:\n    run()\nexcept Exception:\n    cleanup()\n    raise\n"),
        Valid(
            "try:\n    run()\nexcept Exception as exc:\n"
            "    raise RuntimeError('unit failed') from exc\n"
        ),
        Valid("try:\n    run()\nexcept BaseException as err:\n    notify()\n    raise err\n"),
        Valid("try:\n    run()\nexcept Exception as exc:\n    failures[unit] = repr(exc)\n"),
        Valid("try:\n    run()\nexcept ValueError:\n    pass\n"),
        Valid("try:\n    run()\nexcept:\n    pass\n"),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid("try:\n    run()\nexcept Exception:\n    return None\n"),
        Invalid("try:\n    run()\nexcept (ValueError, Exception):\n    pass\n"),
        Invalid("import builtins\ntry:\n    run()\nexcept builtins.Exception:\n    pass\n"),
        Invalid("try:\n    run()\nexcept Exception:\n    raise RuntimeError('unit failed')\n"),
        Invalid(
            "try:\n    run()\nexcept Exception as exc:\n    try:\n        cleanup()\n"
            "    finally:\n        raise\n"
        ),
        Invalid(
            "try:\n    run()\nexcept Exception:\n    def later():\n"
            "        logger.exception('x')\n        raise\n"
        ),
        Invalid("try:\n    run()\nexcept Exception:\n    logger.error('failed', exc_info=False)\n"),
        Invalid(
            "try:\n    run()\nexcept Exception as exc:\n    logger.warning('failed: %s', exc)\n",
            options={"ruff-strict": True},
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._stack: list[_Handler | _Barrier] = []
        self._strict = self.bool_option("ruff-strict")

    def _innermost(self, *, through_try: bool) -> _Handler | None:
        for entry in reversed(self._stack):
            if isinstance(entry, _Handler):
                return entry
            if entry == "scope" or not through_try:
                return None
        return None

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        super().visit_ExceptHandler(node)
        broad = broad_exception(node, self.imports)
        if broad is None:
            self._stack.append("scope")  # a narrower handler: what it does is not ours
            return
        bound = bound_node = None
        if node.name is not None and isinstance(node.name.name, cst.Name):
            bound, bound_node = node.name.name.value, node.name.name
        self._stack.append(_Handler(node, broad, bound, bound_node))

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        entry = self._stack.pop()
        if isinstance(entry, _Handler) and not entry.handled and (self._strict or not entry.used):
            assert entry.node.type is not None
            self.report(entry.node.type, self.message.replace("Exception", entry.broad))

    def visit_Try(self, node: cst.Try) -> None:
        self._stack.append("try")

    def leave_Try(self, original_node: cst.Try) -> None:
        self._stack.pop()

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._stack.append("try")

    def leave_TryStar(self, original_node: cst.TryStar) -> None:
        self._stack.pop()

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef_body(node)
        self._stack.append("scope")

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().leave_FunctionDef_body(node)
        self._stack.pop()

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        super().visit_Lambda_body(node)
        self._stack.append("scope")

    def leave_Lambda_body(self, node: cst.Lambda) -> None:
        super().leave_Lambda_body(node)
        self._stack.pop()

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        super().visit_ClassDef_body(node)
        self._stack.append("scope")

    def leave_ClassDef_body(self, node: cst.ClassDef) -> None:
        super().leave_ClassDef_body(node)
        self._stack.pop()

    def visit_Raise(self, node: cst.Raise) -> None:
        handler = self._innermost(through_try=False)
        if handler is None:
            return
        if node.exc is None:
            handler.handled = True
            return
        reraised = node.cause.item if node.cause is not None else node.exc
        if isinstance(reraised, cst.Name) and reraised.value == handler.bound:
            handler.handled = True

    def visit_Call(self, node: cst.Call) -> None:
        if self._stack and logs_traceback(node):
            handler = self._innermost(through_try=True)
            if handler is not None:
                handler.handled = True

    def visit_Name(self, node: cst.Name) -> None:
        if not self._stack:
            return
        handler = self._innermost(through_try=True)
        if handler is not None and node.value == handler.bound and node is not handler.bound_node:
            handler.used = True
