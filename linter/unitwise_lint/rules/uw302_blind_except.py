"""UW302 blind-except: ``except Exception`` that neither re-raises nor records the error."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import libcst as cst

from ..rule import Invalid, Option, RuleContext, Valid
from ._base import ScopedRule
from ._exceptions import ONE_FINDING_PER_HANDLER, broad_exception, logs_traceback
from ._logging import is_logging_call
from ._names import iter_calls, last_component, referenced_names, target_names

#: Calls that hand what they are given to something that outlives the handler.
_STORE_CALL = re.compile(
    r"^_*(?:append|extend|add|insert|put|update|setdefault|send|write|writerow|dump|save"
    r"|store|record|report|mark|notify|handle|emit|publish|push)(?:_\w*)?$|fail",
    re.IGNORECASE,
)
#: Calls that return the traceback of the exception being handled.
_TRACEBACK_CALLS = frozenset(
    {"traceback.format_exc", "traceback.format_exception", "sys.exc_info", "sys.exception"}
)


@dataclass
class _Handler:
    node: cst.ExceptHandler
    broad: str
    bound: str | None
    bound_node: cst.CSTNode | None
    handled: bool = False
    prints: bool = False
    #: Local names the error was stored in: a record if they are read after the handler.
    stored_in: set[str] = field(default_factory=set)


#: ``try`` hides raises from an enclosing handler (they may be caught there); ``scope`` hides
#: everything (a nested function runs later, if ever).
_Barrier = Literal["try", "scope"]


class BlindExcept(ScopedRule):
    code = "UW302"
    name = "blind-except"
    message = "`except Exception` neither re-raises nor records the error"
    rationale = (
        "Catching Exception or BaseException is how one bad unit should be kept from killing "
        "a run of thousands, but only if the failure is recorded. A record is: a re-raise "
        "(a bare `raise`, `raise exc` or `raise ... from exc`), a logging call that carries "
        "the traceback (`logger.exception(...)`, `exc_info=True`; logging functions imported "
        "by name or alias count), or the exception or its traceback stored where it outlives "
        "the handler (`failures[unit] = repr(exc)`, `errors.append(exc)`, `self.error = exc`, "
        "returned, or kept in a variable read after the handler). `print(exc)` or "
        "`logger.warning(exc)` is not a record: the message without the traceback scrolls by "
        "in a log nobody reads, and the unit silently drops out of the results. Raises and "
        "logs inside a nested `try` or function do not count for the enclosing handler; a "
        "nested handler is judged on its own. Set `ruff-strict` to count only re-raises and "
        "logged tracebacks, as ruff's BLE001 does. " + ONE_FINDING_PER_HANDLER
    )
    SPECIFICITY = 1
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "ruff-strict": Option(
            False,
            "Follow ruff's BLE001 exactly: storing the exception does not make a broad "
            "handler acceptable, only a re-raise or a logged traceback does.",
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
        Valid(
            "import traceback\n\nfor unit in units:\n    try:\n        run(unit)\n"
            "    except Exception:\n        errors.append((unit, traceback.format_exc()))\n"
        ),
        Valid(
            "from logging import exception as log_failure\n\ntry:\n    run()\n"
            "except Exception:\n    log_failure('unit failed')\n"
        ),
        Valid(
            "import logging as lg\n\ntry:\n    run()\nexcept Exception:\n"
            "    lg.error('unit failed', exc_info=True)\n"
        ),
        Valid(
            "def work(conn, unit):\n    try:\n        compute(unit)\n"
            "    except Exception as exc:\n        _send(conn, ('failed', unit, repr(exc)))\n"
        ),
        Valid(
            "def run(unit):\n    error = None\n    try:\n        compute(unit)\n"
            "    except Exception as exc:\n        error = repr(exc)\n"
            "    return {'unit': unit, 'error': error}\n"
        ),
        Valid("try:\n    run()\nexcept ValueError:\n    pass\n"),
        Valid("try:\n    run()\nexcept:\n    pass\n"),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid("try:\n    run()\nexcept Exception:\n    return None\n"),
        Invalid("try:\n    run()\nexcept Exception as e:\n    print(e)\n"),
        Invalid("try:\n    run()\nexcept Exception as e:\n    logger.warning('failed: %s', e)\n"),
        Invalid("try:\n    run()\nexcept (ValueError, Exception):\n    x = 1\n"),
        Invalid("import builtins\ntry:\n    run()\nexcept builtins.Exception:\n    x = 1\n"),
        Invalid("try:\n    run()\nexcept Exception:\n    raise RuntimeError('unit failed')\n"),
        Invalid(
            "try:\n    run()\nexcept Exception as exc:\n    try:\n        cleanup()\n"
            "    finally:\n        raise\n"
        ),
        Invalid(
            "try:\n    run()\nexcept Exception:\n    def later():\n"
            "        logger.exception('x')\n        raise\n"
        ),
        Invalid(
            "try:\n    run()\nexcept Exception:\n    try:\n        notify()\n        raise\n"
            "    except Exception:\n        logger.exception('notify failed')\n"
        ),
        Invalid("try:\n    run()\nexcept Exception:\n    logger.error('failed', exc_info=False)\n"),
        Invalid(
            "from logging import error\n\ntry:\n    run()\nexcept Exception as exc:\n"
            "    error('failed: %s', exc)\n"
        ),
        Invalid(
            "def run(unit):\n    try:\n        compute(unit)\n    except Exception as exc:\n"
            "        message = str(exc)\n        print(message)\n"
        ),
        Invalid(
            "try:\n    run()\nexcept Exception as exc:\n    failures[unit] = repr(exc)\n",
            options={"ruff-strict": True},
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._stack: list[_Handler | _Barrier] = []
        self._strict = self.bool_option("ruff-strict")
        #: Handlers left with the error stored in a local: decided when their scope ends.
        self._waiting: list[list[_Handler]] = [[]]

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
        if not isinstance(entry, _Handler) or entry.handled:
            return
        if entry.stored_in and not self._strict:
            self._waiting[-1].append(entry)
        else:
            self._report(entry)

    def _report(self, entry: _Handler) -> None:
        assert entry.node.type is not None
        message = self.message.replace("Exception", entry.broad)
        if entry.prints:
            message = (
                f"`except {entry.broad}` only prints the error: a print is not a record, "
                "log the traceback (`logger.exception(...)`) or re-raise"
            )
        self.report(entry.node.type, message, defect=id(entry.node))

    def _settle(self) -> None:
        for entry in self._waiting.pop():
            if not entry.handled:
                self._report(entry)

    def leave_Module(self, original_node: cst.Module) -> None:
        self._settle()

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
        self._waiting.append([])

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().leave_FunctionDef_body(node)
        self._stack.pop()
        self._settle()

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

    # -- stores ---------------------------------------------------------------------------------

    def _carries_error(self, node: cst.CSTNode, handler: _Handler) -> bool:
        """Whether ``node`` holds the exception or its traceback."""
        if handler.bound is not None and handler.bound in referenced_names(node):
            return True
        return any(self.imports.resolve(c.func) in _TRACEBACK_CALLS for c in iter_calls(node))

    def _store(self, value: cst.BaseExpression | None, targets: list[cst.BaseExpression]) -> None:
        handler = self._innermost(through_try=True)
        if handler is None or value is None or not self._carries_error(value, handler):
            return
        if any(isinstance(t, (cst.Subscript, cst.Attribute)) for t in targets):
            handler.handled = handler.handled or not self._strict
            return
        handler.stored_in.update(n for t in targets for n in target_names(t))
        handler.stored_in.discard(handler.bound or "")

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        if self._stack:
            self._store(node.value, [t.target for t in node.targets])

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        super().visit_AugAssign(node)
        if self._stack:
            self._store(node.value, [node.target])

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        super().visit_AnnAssign(node)
        if self._stack:
            self._store(node.value, [node.target])

    def visit_Return(self, node: cst.Return) -> None:
        handler = self._innermost(through_try=True) if self._stack else None
        if (
            handler is not None
            and node.value is not None
            and not self._strict
            and self._carries_error(node.value, handler)
        ):
            handler.handled = True

    def visit_Call(self, node: cst.Call) -> None:
        if not self._stack:
            return
        handler = self._innermost(through_try=True)
        if handler is None:
            return
        if logs_traceback(node, self.imports):
            handler.handled = True
            return
        func = node.func
        if isinstance(func, cst.Name) and func.value == "print":
            handler.prints = handler.prints or self._carries_error(node, handler)
            return
        name = last_component(func)
        if (
            not self._strict
            and name is not None
            and _STORE_CALL.match(name)
            and not is_logging_call(node)
            and any(self._carries_error(arg.value, handler) for arg in node.args)
        ):
            handler.handled = True

    def visit_Name(self, node: cst.Name) -> None:
        waiting = self._waiting[-1]
        if waiting:
            for entry in waiting:
                if node.value in entry.stored_in:
                    entry.handled = True
