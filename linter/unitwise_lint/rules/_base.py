"""Cheap scope bookkeeping shared by the rules that need to know where they are.

Every rule runs in one batched traversal, where ``visit_*`` return values are ignored and no
subtree can be skipped, so "am I inside a function?" has to be answered by counting on the way
in and out. :class:`ScopedRule` does that for imports, function frames (with their parameters
and local bindings), class bodies and the ``if __name__ == "__main__":`` block. Frames are
entered on ``FunctionDef.body`` (not ``FunctionDef``) because decorators and default values
are evaluated by the enclosing scope, at import time for a module-level function.

A subclass overriding one of the visit/leave methods below must call ``super()``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from ..rule import Rule, RuleContext
from ._names import ImportMap, is_main_guard, referenced_names, target_names


def parameter_names(params: cst.Parameters) -> set[str]:
    """Every name a parameter list binds."""
    names = {p.name.value for p in (*params.posonly_params, *params.params)}
    names.update(p.name.value for p in params.kwonly_params)
    if isinstance(params.star_arg, cst.Param):
        names.add(params.star_arg.name.value)
    if params.star_kwarg is not None:
        names.add(params.star_kwarg.name.value)
    return names


@dataclass(eq=False)
class Frame:
    """One function or lambda scope, as far as the traversal has seen it."""

    node: cst.FunctionDef | cst.Lambda
    name: str
    params: frozenset[str]
    class_depth: int
    bound: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    #: Names whose value derives from a parameter (kept only if the rule asks for it).
    tainted: set[str] = field(default_factory=set)

    def binds_locally(self, name: str) -> bool:
        """Whether ``name`` is a local of this function (complete once the function is left)."""
        if name in self.globals or name in self.nonlocals:
            return False
        return name in self.params or name in self.bound


def refers_to_global(name: str, frames: Iterable[Frame]) -> bool:
    """Whether ``name``, read in the innermost of ``frames``, is the module-level name."""
    for frame in reversed(list(frames)):
        if name in frame.globals:
            return True
        if frame.binds_locally(name):
            return False
    return True


class ScopedRule(Rule):
    """A rule that tracks imports, function frames, class bodies and the main guard."""

    #: Whether to track which names in a function derive from its parameters.
    TRACK_PARAM_TAINT: ClassVar[bool] = False

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.imports = ImportMap()
        self.frames: list[Frame] = []
        self.class_depth = 0
        self.module_bindings: Counter[str] = Counter()
        self._main_guards: list[cst.If] = []

    # -- where are we -------------------------------------------------------------------------

    def at_import_time(self) -> bool:
        """Code run when the module is imported: not in a def/lambda, not in the main guard.

        Class bodies are run at import time, so they count.
        """
        return not self.frames and not self._main_guards

    def at_module_scope(self) -> bool:
        """Code whose bindings are module globals (the main guard included, classes not)."""
        return not self.frames and self.class_depth == 0

    def in_main_guard(self) -> bool:
        return bool(self._main_guards)

    # -- options --------------------------------------------------------------------------------

    def int_option(self, name: str) -> int:
        value = self.option(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{self.code} option {name!r} must be an integer, not {value!r}")
        return value

    def bool_option(self, name: str) -> bool:
        value = self.option(name)
        if not isinstance(value, bool):
            raise TypeError(f"{self.code} option {name!r} must be true or false, not {value!r}")
        return value

    def strings_option(self, name: str) -> tuple[str, ...]:
        value = self.option(name)
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise TypeError(f"{self.code} option {name!r} must be a list of strings")
        if not all(isinstance(item, str) for item in value):
            raise TypeError(f"{self.code} option {name!r} must be a list of strings")
        return tuple(value)

    # -- bindings -------------------------------------------------------------------------------

    def _bind(self, names: Iterable[str]) -> None:
        if self.frames:
            frame = self.frames[-1]
            if self.class_depth == frame.class_depth:
                frame.bound.update(names)
        elif self.class_depth == 0:
            self.module_bindings.update(names)

    def _taint(self, value: cst.BaseExpression | None, targets: Iterable[str]) -> None:
        if not (self.TRACK_PARAM_TAINT and self.frames and value is not None):
            return
        frame = self.frames[-1]
        if frame.tainted and referenced_names(value) & frame.tainted:
            frame.tainted.update(targets)

    def visit_Import(self, node: cst.Import) -> None:
        self.imports.add_import(node)
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind((alias.asname.name.value,))
            else:
                name = alias.name
                while isinstance(name, cst.Attribute):
                    name = name.value  # type: ignore[assignment]
                if isinstance(name, cst.Name):
                    self._bind((name.value,))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports.add_import_from(node)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind((alias.asname.name.value,))
            elif isinstance(alias.name, cst.Name):
                self._bind((alias.name.value,))

    # Bindings are noted on the way in, taint on the way out: while the value is traversed,
    # the targets still hold their previous value (``df = df[df.id == unit]``).
    def visit_Assign(self, node: cst.Assign) -> None:
        self._bind(n for t in node.targets for n in target_names(t.target))

    def leave_Assign(self, original_node: cst.Assign) -> None:
        if self.TRACK_PARAM_TAINT and self.frames:
            names = [n for t in original_node.targets for n in target_names(t.target)]
            self._taint(original_node.value, names)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(target_names(node.target))

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if self.TRACK_PARAM_TAINT and self.frames:
            self._taint(original_node.value, list(target_names(original_node.target)))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(target_names(node.target))

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        if self.TRACK_PARAM_TAINT and self.frames:
            self._taint(original_node.value, list(target_names(original_node.target)))

    def visit_For(self, node: cst.For) -> None:
        names = list(target_names(node.target))
        self._bind(names)
        self._taint(node.iter, names)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            names = list(target_names(node.asname.name))
            self._bind(names)
            self._taint(node.item, names)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(target_names(node.target))

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        if self.TRACK_PARAM_TAINT and self.frames:
            self._taint(original_node.value, list(target_names(original_node.target)))

    def visit_Del(self, node: cst.Del) -> None:
        self._bind(target_names(node.target))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(target_names(node.name.name))

    def visit_Global(self, node: cst.Global) -> None:
        if self.frames:
            self.frames[-1].globals.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        if self.frames:
            self.frames[-1].nonlocals.update(item.name.value for item in node.names)

    # -- scopes ---------------------------------------------------------------------------------

    def _push_frame(self, node: cst.FunctionDef | cst.Lambda, name: str) -> None:
        params = frozenset(parameter_names(node.params))
        frame = Frame(node, name, params, self.class_depth)
        if self.TRACK_PARAM_TAINT:
            frame.tainted = set(params - {"self", "cls"})
            if self.frames:
                frame.tainted |= self.frames[-1].tainted - params
        self.frames.append(frame)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind((node.name.value,))

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self._push_frame(node, node.name.value)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.frames.pop()

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        self._push_frame(node, "<lambda>")

    def leave_Lambda_body(self, node: cst.Lambda) -> None:
        self.frames.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind((node.name.value,))

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.class_depth += 1

    def leave_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.class_depth -= 1

    def visit_If_body(self, node: cst.If) -> None:
        if not self.frames and self.class_depth == 0 and is_main_guard(node.test):
            self._main_guards.append(node)

    def leave_If_body(self, node: cst.If) -> None:
        if self._main_guards and self._main_guards[-1] is node:
            self._main_guards.pop()
