"""Throwaway rules that drive the engine in tests, independent of the real rules' evolution."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ParentNodeProvider
from unitwise_lint.rule import Invalid, Option, Rule, RuleContext, Valid


class ToyPrint(Rule):
    """Flags calls to ``print`` (or the configured names); the fix calls ``log`` instead."""

    code = "TY101"
    name = "toy-print"
    message = "print call"
    rationale = "Toy rule for engine tests."
    FIXABLE = True
    OPTIONS: ClassVar[dict[str, Option]] = {
        "functions": Option(("print",), "names of the calls to flag"),
        "min_args": Option(0, "flag only calls with at least this many arguments"),
    }
    VALID: ClassVar[list[Valid]] = [Valid("log('x')\n")]
    INVALID: ClassVar[list[Invalid]] = [Invalid("print('x')\n", fixed="import toy\nlog('x')\n")]

    def visit_Call(self, node: cst.Call) -> None:
        functions = self.option("functions")
        minimum = self.option("min_args")
        assert isinstance(functions, tuple) and isinstance(minimum, int)
        if m.matches(node.func, m.Name()) and len(node.args) >= minimum:
            assert isinstance(node.func, cst.Name)
            if node.func.value in functions:
                self.report(node, replacement=node.with_changes(func=cst.Name("log")))

    def fix_module(self, module: cst.Module) -> cst.Module:
        statement = cst.parse_statement("import toy\n")
        return module.with_changes(body=[statement, *module.body])


class ToyBareExcept(Rule):
    """Flags ``except:``, saying whether it is inside a function (per-field hooks)."""

    code = "TY201"
    name = "toy-bare-except"
    message = "bare except"
    rationale = "Toy rule for engine tests."

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.depth = 0

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.type is None:
            where = "in a function" if self.depth else "at module level"
            self.report(node, f"bare except {where}")


class ToyParent(Rule):
    """Flags ``breakpoint`` names whose parent is a call, through libcst metadata."""

    code = "TY301"
    name = "toy-parent"
    message = "breakpoint call"
    rationale = "Toy rule for engine tests."
    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "breakpoint":
            parent = self.get_metadata(ParentNodeProvider, node)
            if isinstance(parent, cst.Call):
                self.report(parent)


class ToyCrash(Rule):
    """Raises on every ``Lambda``, to check how the engine reports a broken rule."""

    code = "TY901"
    name = "toy-crash"
    message = "never reported"
    rationale = "Toy rule for engine tests."

    def visit_Lambda(self, node: cst.Lambda) -> None:
        raise ValueError("toy failure")


TOY_RULES: tuple[type[Rule], ...] = (ToyPrint, ToyBareExcept, ToyParent)
