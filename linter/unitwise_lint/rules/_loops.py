"""Loop bookkeeping for the output rules (UW201, UW202).

A :class:`LoopRule` knows the loops enclosing the current node within the current function
(a nested ``def`` starts afresh: its body runs later, not per iteration) and which names vary
from one iteration to the next: the targets of a ``for``, and every name assigned from them
in the loop body. In a ``while`` loop, every name assigned in the body varies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..rule import RuleContext
from ._base import ScopedRule
from ._names import referenced_names, target_names


@dataclass(eq=False)
class Loop:
    """One ``for`` or ``while`` loop being traversed, and what the rules noted inside it."""

    node: cst.For | cst.While
    #: Names whose value changes from one iteration to the next.
    varying: set[str]
    #: Names (re)bound in the loop body.
    assigned: set[str] = field(default_factory=set)
    #: Names bound in the loop body to the result of a data loader (UW201).
    loaded: set[str] = field(default_factory=set)
    #: Whether an existence check was seen in the loop so far (UW202).
    checked: bool = False
    #: Writes to a varying path seen before any existence check (UW202).
    unchecked_writes: list[cst.Call] = field(default_factory=list)
    #: Calls doing actual work for the unit, not just building paths or logging (UW202).
    work_calls: int = 0
    #: Names accumulated over this loop, each with whether a loop over data units (not
    #: configurations or seeds) was part of it (UW201).
    accumulating: dict[str, bool] = field(default_factory=dict)
    #: Whether the loop body writes one output per iteration (UW201).
    writes_per_unit: bool = False
    #: Plain-name functions called in the loop with a varying argument (UW201, UW202).
    calls: set[str] = field(default_factory=set)


class LoopRule(ScopedRule):
    """A rule that tracks the loops of the current function and what varies in them."""

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.loops: list[Loop] = []
        self._saved_loops: list[list[Loop]] = []

    def varies(self, node: cst.BaseExpression | None) -> bool:
        """Whether ``node`` changes with the innermost loop (or an enclosing one)."""
        if node is None or not self.loops:
            return False
        return bool(referenced_names(node) & self.loops[-1].varying)

    def on_loop_end(self, loop: Loop) -> None:
        """Called when the body of ``loop`` has been traversed."""

    def _enter(self, node: cst.For | cst.While, targets: set[str]) -> None:
        outer = self.loops[-1].varying if self.loops else set()
        self.loops.append(Loop(node, outer | targets))

    def visit_For_body(self, node: cst.For) -> None:
        self._enter(node, set(target_names(node.target)))

    def leave_For_body(self, node: cst.For) -> None:
        self.on_loop_end(self.loops.pop())

    def visit_While_body(self, node: cst.While) -> None:
        self._enter(node, set())

    def leave_While_body(self, node: cst.While) -> None:
        self.on_loop_end(self.loops.pop())

    # A nested function's body runs when called, not once per iteration of our loops.
    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef_body(node)
        self._saved_loops.append(self.loops)
        self.loops = []

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().leave_FunctionDef_body(node)
        self.loops = self._saved_loops.pop()

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        super().visit_Lambda_body(node)
        self._saved_loops.append(self.loops)
        self.loops = []

    def leave_Lambda_body(self, node: cst.Lambda) -> None:
        super().leave_Lambda_body(node)
        self.loops = self._saved_loops.pop()

    def _loop_assign(self, value: cst.BaseExpression | None, names: list[str]) -> None:
        if not self.loops or not names:
            return
        loop = self.loops[-1]
        loop.assigned.update(names)
        if isinstance(loop.node, cst.While) or (
            value is not None and referenced_names(value) & loop.varying
        ):
            loop.varying.update(names)

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        self._loop_assign(node.value, [n for t in node.targets for n in target_names(t.target)])

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        super().visit_AnnAssign(node)
        self._loop_assign(node.value, list(target_names(node.target)))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        super().visit_AugAssign(node)
        self._loop_assign(node.value, list(target_names(node.target)))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        super().visit_WithItem(node)
        if node.asname is not None:
            self._loop_assign(node.item, list(target_names(node.asname.name)))
