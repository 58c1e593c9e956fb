"""The contract between the engine and the rules.

A rule is data (code, name, message, rationale, examples, options) plus a libcst visitor. The
engine runs every enabled rule in ONE batched traversal of each file, so a rule must be a
``libcst.BatchableCSTVisitor`` and must not traverse the tree again on its own for work that a
``visit_*`` method can do. A rule reports the node it objects to; the engine turns nodes into
positions after the traversal, and only for what was reported (positions for every node cost
more than the parse itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst


@dataclass(frozen=True)
class Valid:
    """A snippet on which the rule must report nothing."""

    code: str
    options: Mapping[str, object] = field(default_factory=dict)
    notebook: bool = False


@dataclass(frozen=True)
class Invalid:
    """A snippet on which the rule must report; ``fixed`` is the expected ``--fix`` output."""

    code: str
    count: int = 1
    fixed: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    notebook: bool = False


@dataclass(frozen=True)
class Option:
    """A per-rule option settable under ``[tool.unitwise-lint.UWnnn]`` (or its name)."""

    default: object
    help: str


@dataclass(frozen=True)
class Report:
    """What a rule reported: the node, the message and an optional safe replacement."""

    node: cst.CSTNode
    message: str
    replacement: cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode] | None = None
    #: The defect this report is about (e.g. the ``id`` of an exception handler): of the reports
    #: of one defect, only the one of the rule with the highest ``SPECIFICITY`` is kept.
    defect: int | None = None


@dataclass
class RuleContext:
    """What a rule may know about the file being checked, besides its tree."""

    path: str
    options: Mapping[str, object]
    notebook: bool = False


class Rule(cst.BatchableCSTVisitor):
    """Base class of every rule: subclass it in ``unitwise_lint/rules/uwNNN_name.py``."""

    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]
    rationale: ClassVar[str]
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []
    OPTIONS: ClassVar[Mapping[str, Option]] = {}
    #: Whether the rule can offer safe fixes (``--fix``).
    FIXABLE: ClassVar[bool] = False
    #: Which rule wins when several report the same defect (see ``Report.defect``).
    SPECIFICITY: ClassVar[int] = 0

    def __init__(self, context: RuleContext) -> None:
        super().__init__()
        self.context = context
        self.reports: list[Report] = []

    def option(self, name: str) -> object:
        """The configured value of one of this rule's OPTIONS."""
        if name in self.context.options:
            return self.context.options[name]
        return self.OPTIONS[name].default

    def report(
        self,
        node: cst.CSTNode,
        message: str | None = None,
        *,
        replacement: cst.CSTNode
        | cst.RemovalSentinel
        | cst.FlattenSentinel[cst.CSTNode]
        | None = None,
        defect: int | None = None,
    ) -> None:
        """Report ``node``; ``replacement`` (if any) is a fix that keeps behaviour safe.

        ``defect`` names what is wrong when other rules may report the same thing (one finding
        per defect: the most specific rule's)."""
        self.reports.append(Report(node, message or self.message, replacement, defect))

    def fix_module(self, module: cst.Module) -> cst.Module:
        """Called once after this rule's replacements were applied to a module.

        Override to add what the replacements need at module level, e.g. ``import logging``
        and a ``logger``. The default changes nothing.
        """
        return module
