"""One fast, iterative, batched traversal of a libcst tree for many visitors.

``libcst.visit_batched`` walks the tree through ``CSTNode.visit``, which rebuilds every node
(dataclass construction and validation) just to visit it: on the stdlib that costs about as
much as the parse. Rules never change the tree, so this walker only reads it: it calls the same
``visit_<Node>``, ``visit_<Node>_<field>``, ``leave_<Node>_<field>`` and ``leave_<Node>``
methods of every ``BatchableCSTVisitor`` in the same order as libcst, about eight times faster,
and with an explicit stack so deeply nested expressions cannot overflow the interpreter stack.

Whitespace and comment nodes are skipped unless some visitor asks for one of their types:
they are most of the tree and no rule looks at them.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import libcst as cst

VisitorMethod = Callable[[cst.CSTNode], object]

#: Node types that only hold whitespace, newlines and comments.
TRIVIA_TYPES: frozenset[type[cst.CSTNode]] = frozenset(
    {
        cst.SimpleWhitespace,
        cst.ParenthesizedWhitespace,
        cst.TrailingWhitespace,
        cst.EmptyLine,
        cst.Newline,
        cst.Comment,
    }
)


@cache
def child_fields(cls: type[cst.CSTNode]) -> tuple[str, ...]:
    """The fields of ``cls`` that libcst visits, in the order it visits them.

    The order is read once per class from its ``_visit_and_replace_children`` (every field is
    visited through ``visit_required(self, "name", ...)`` and friends, in codegen order, which
    differs from the dataclass field order, e.g. decorators come before a function's name). If
    the source is not available, the dataclass field order is the fallback.
    """
    try:
        source = textwrap.dedent(inspect.getsource(cls._visit_and_replace_children))
    except (OSError, TypeError):  # pragma: no cover - libcst always ships its sources
        return tuple(f.name for f in dataclasses.fields(cls))
    calls: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("visit_")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            calls.append((node.lineno, node.col_offset, node.args[1].value))
    ordered: list[str] = []
    for _, _, name in sorted(calls):
        if name not in ordered:
            ordered.append(name)
    return tuple(ordered)


class _Plan:
    """What to do at one node type: visit methods, per-field hooks, leave methods."""

    __slots__ = ("attr_hooks", "fields", "leaves", "visits")

    def __init__(
        self,
        visits: tuple[VisitorMethod, ...],
        leaves: tuple[VisitorMethod, ...],
        fields: tuple[str, ...],
        attr_hooks: dict[str, tuple[tuple[VisitorMethod, ...], tuple[VisitorMethod, ...]]],
    ) -> None:
        self.visits = visits
        self.leaves = leaves
        #: Visited fields, reversed, for pushing onto the stack.
        self.fields = fields
        self.attr_hooks = attr_hooks


@cache
def visitor_method_names(cls: type[cst.BatchableCSTVisitor]) -> tuple[str, ...]:
    """The ``visit_*``/``leave_*`` methods ``cls`` really defines (not libcst's no-op stubs).

    ``BatchableCSTVisitor.get_visitors`` finds them with ``inspect.getmembers`` on every
    instance, which costs more than checking a small file; once per class is enough.
    """
    names = []
    for name in dir(cls):
        if name.startswith(("visit_", "leave_")):
            member = getattr(cls, name)
            if callable(member) and not getattr(member, "_is_no_op", False):
                names.append(name)
    return tuple(names)


_NOT_NODE, _NODE, _SEQUENCE = 0, 1, 2


class BatchedWalker:
    """Runs the visit/leave methods of many ``BatchableCSTVisitor`` in one traversal."""

    def __init__(self, visitors: Iterable[cst.BatchableCSTVisitor]) -> None:
        methods: dict[str, list[VisitorMethod]] = {}
        for visitor in visitors:
            for name in visitor_method_names(type(visitor)):
                methods.setdefault(name, []).append(getattr(visitor, name))
        self._methods = {name: tuple(found) for name, found in methods.items()}
        wanted = {name.split("_")[1] for name in self._methods}
        # Comments sit inside the other trivia nodes: wanting any trivia means walking all.
        wants_trivia = any(t.__name__ in wanted for t in TRIVIA_TYPES)
        skip = frozenset() if wants_trivia else TRIVIA_TYPES
        # What a field value is, by its type: a node to visit, a sequence of them, or neither
        # (None, a sentinel, a string, or trivia nobody looks at). ``isinstance`` against the
        # abstract CSTNode goes through ABCMeta and is several times slower than this lookup.
        self._kinds: dict[type, int] = {tuple: _SEQUENCE, list: _SEQUENCE}
        self._kinds.update((t, _NOT_NODE) for t in skip)
        self._plans: dict[type[cst.CSTNode], _Plan] = {}

    def _kind(self, cls: type) -> int:
        kind = _NODE if issubclass(cls, cst.CSTNode) else _NOT_NODE
        self._kinds[cls] = kind
        return kind

    def _plan(self, cls: type[cst.CSTNode]) -> _Plan:
        methods = self._methods
        name = cls.__name__
        fields = child_fields(cls)
        hooks: dict[str, tuple[tuple[VisitorMethod, ...], tuple[VisitorMethod, ...]]] = {}
        for field in fields:
            before = methods.get(f"visit_{name}_{field}", ())
            after = methods.get(f"leave_{name}_{field}", ())
            if before or after:
                hooks[field] = (before, after)
        plan = _Plan(
            methods.get(f"visit_{name}", ()),
            methods.get(f"leave_{name}", ()),
            fields[::-1],
            hooks,
        )
        self._plans[cls] = plan
        return plan

    def walk(self, root: cst.CSTNode) -> None:
        """Visit ``root`` and its whole subtree (minus skipped trivia) depth first."""
        plans = self._plans
        kinds = self._kinds
        # An entry is either a node to visit or a (methods, node) pair to call: leave methods
        # and per-field hooks, queued so that they run once the subtree below is done.
        stack: list[Any] = [root]
        pop = stack.pop
        push = stack.append
        while stack:
            node = pop()
            cls = type(node)
            if cls is tuple:
                calls, target = node
                for method in calls:
                    method(target)
                continue
            plan = plans.get(cls) or self._plan(cls)
            for method in plan.visits:
                method(node)
            if plan.leaves:
                push((plan.leaves, node))
            hooks = plan.attr_hooks
            for field in plan.fields:
                value = getattr(node, field)
                if hooks and field in hooks:
                    before, after = hooks[field]
                    push((after, node))
                    self._push(value, push)
                    push((before, node))
                    continue
                kind = kinds.get(type(value))
                if kind is None:
                    kind = self._kind(type(value))
                if kind == _NODE:
                    push(value)
                elif kind == _SEQUENCE:
                    for child in reversed(value):
                        kind = kinds.get(type(child))
                        if kind is None:
                            kind = self._kind(type(child))
                        if kind == _NODE:
                            push(child)

    def _push(self, value: object, push: Callable[[Any], None]) -> None:
        """Queues the nodes held by one field (the slow path, for fields with hooks)."""
        children = reversed(value) if isinstance(value, (tuple, list)) else (value,)
        for child in children:
            kind = self._kinds.get(type(child))
            if kind is None:
                kind = self._kind(type(child))
            if kind == _NODE:
                push(child)
