"""Name helpers shared by the rules: dotted names, import aliases, targets, referenced names.

Rules resolve call targets through the file's own imports (``import pandas as pd``,
``from numpy import load as ld``) instead of libcst's qualified-name metadata, which costs
more than the parse. The resolution is flow-insensitive (every import in the file counts,
the last one of a name wins): good enough for linting, and cheap.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import libcst as cst


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    if type(node) is cst.Name:
        return node.value
    parts: list[str] = []
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _module_name(node: cst.Attribute | cst.Name) -> str:
    name = dotted_name(node)
    assert name is not None  # import names are always dotted names
    return name


class ImportMap:
    """Local names bound by imports, mapped to what they import."""

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}

    def add_import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = _module_name(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._aliases[alias.asname.name.value] = module
            else:
                head = module.split(".", 1)[0]
                self._aliases[head] = head

    def add_import_from(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = _module_name(node.module)
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._aliases[local] = f"{module}.{alias.name.value}"

    def is_imported(self, name: str) -> bool:
        """Whether an import binds ``name`` (e.g. a ``print`` imported from rich)."""
        return name in self._aliases

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """The imported dotted name of ``node`` (``pd.read_csv`` -> ``pandas.read_csv``).

        A name that no import binds resolves to itself (``open`` -> ``open``), so builtins can
        be matched by their plain name.
        """
        name = dotted_name(node)
        if name is None:
            return None
        head, dot, rest = name.partition(".")
        target = self._aliases.get(head)
        if target is None:
            return name
        return f"{target}{dot}{rest}"


def call_name(call: cst.Call, imports: ImportMap) -> str | None:
    """The resolved dotted name of what ``call`` calls, if it is a dotted name."""
    return imports.resolve(call.func)


def method_name(call: cst.Call) -> str | None:
    """``x`` for ``<anything>.x(...)``."""
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def last_component(node: cst.BaseExpression) -> str | None:
    """The last identifier of a name or attribute (``self.log`` -> ``log``)."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def get_arg(call: cst.Call, index: int | None, *keywords: str) -> cst.BaseExpression | None:
    """The argument at positional ``index`` or passed by one of ``keywords``."""
    position: int | None = 0
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value in keywords:
                return arg.value
        elif arg.star:
            position = None  # after *args, positions are unknown
        elif position is not None:
            if position == index:
                return arg.value
            position += 1
    return None


def has_keyword(call: cst.Call, names: frozenset[str] | set[str]) -> bool:
    """Whether ``call`` passes one of ``names`` as a keyword, or passes ``**kwargs``."""
    return any(
        arg.star == "**" or (arg.keyword is not None and arg.keyword.value in names)
        for arg in call.args
    )


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain (non-f, non-bytes) string literal, implicit concatenations included."""
    if isinstance(node, cst.SimpleString):
        if "b" in node.prefix.lower():
            return None
        try:
            value = ast.literal_eval(node.value)
        except (SyntaxError, ValueError):
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left = string_value(node.left)
        right = string_value(node.right)
        return None if left is None or right is None else left + right
    return None


def is_main_guard(test: cst.BaseExpression) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if string_value(s) == "__main__"]
    return len(names) == 1 and len(strings) == 1


def target_names(node: cst.BaseExpression) -> Iterator[str]:
    """The names an assignment target binds (``a, (b, *c) = ...`` -> a, b, c)."""
    kind = type(node)
    if kind is cst.Name:
        yield node.value  # type: ignore[attr-defined]
    elif kind is cst.Tuple or kind is cst.List:
        for element in node.elements:  # type: ignore[attr-defined]
            yield from target_names(element.value)
    elif kind is cst.StarredElement:
        yield from target_names(node.value)  # type: ignore[attr-defined]


def subscript_base(node: cst.BaseExpression) -> cst.Name | None:
    """``X`` for ``X[a]`` or ``X[a][b]``: the container a subscript target mutates."""
    while isinstance(node, cst.Subscript):
        node = node.value
    return node if isinstance(node, cst.Name) else None


def chain(node: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """``node``, then what it is called, indexed or accessed on, down to the start.

    ``df.loc[x].sum()`` gives the call, ``df.loc[x].sum``, ``df.loc[x]``, ``df.loc``, ``df``.
    """
    while True:
        yield node
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            return


# libcst nodes are ABCs, so ``isinstance`` on them is slow; the walkers below dispatch on the
# exact type instead (libcst node classes are final in practice).

_Children = Callable[[Any], Sequence[cst.CSTNode]]


def _subscript_children(node: cst.Subscript) -> Sequence[cst.CSTNode]:
    out: list[cst.CSTNode] = [node.value]
    for element in node.slice:
        index = element.slice
        if type(index) is cst.Index:
            out.append(index.value)
        elif type(index) is cst.Slice:
            out.extend(x for x in (index.lower, index.upper) if x is not None)
            if isinstance(index.step, cst.BaseExpression):
                out.append(index.step)
    return out


def _dict_children(node: cst.Dict) -> Sequence[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for item in node.elements:
        if type(item) is cst.DictElement:
            out.extend((item.key, item.value))
        elif type(item) is cst.StarredDictElement:
            out.append(item.value)
    return out


def _comprehension_children(
    node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp,
) -> Sequence[cst.CSTNode]:
    out: list[cst.CSTNode] = (
        [node.key, node.value] if type(node) is cst.DictComp else [node.elt]  # type: ignore[union-attr]
    )
    comp: cst.CompFor | None = node.for_in
    while comp is not None:
        out.append(comp.iter)
        out.extend(condition.test for condition in comp.ifs)
        comp = comp.inner_for_in
    return out


_NO_CHILDREN: tuple[cst.CSTNode, ...] = ()
_CHILDREN: dict[type[cst.CSTNode], _Children] = {
    cst.Attribute: lambda n: (n.value,),
    cst.Call: lambda n: (n.func, *(arg.value for arg in n.args)),
    cst.Subscript: _subscript_children,
    cst.BinaryOperation: lambda n: (n.left, n.right),
    cst.BooleanOperation: lambda n: (n.left, n.right),
    cst.UnaryOperation: lambda n: (n.expression,),
    cst.Comparison: lambda n: (n.left, *(c.comparator for c in n.comparisons)),
    cst.Tuple: lambda n: [element.value for element in n.elements],
    cst.List: lambda n: [element.value for element in n.elements],
    cst.Set: lambda n: [element.value for element in n.elements],
    cst.Dict: _dict_children,
    cst.FormattedString: lambda n: [p for p in n.parts if type(p) is cst.FormattedStringExpression],
    cst.FormattedStringExpression: lambda n: (n.expression, *(n.format_spec or ())),
    cst.ConcatenatedString: lambda n: (n.left, n.right),
    cst.IfExp: lambda n: (n.test, n.body, n.orelse),
    cst.StarredElement: lambda n: (n.value,),
    cst.Element: lambda n: (n.value,),
    cst.Await: lambda n: (n.expression,),
    cst.NamedExpr: lambda n: (n.value,),
    cst.Lambda: lambda n: (n.body,),
    cst.ListComp: _comprehension_children,
    cst.SetComp: _comprehension_children,
    cst.GeneratorExp: _comprehension_children,
    cst.DictComp: _comprehension_children,
    cst.SimpleString: lambda n: _NO_CHILDREN,
    cst.Integer: lambda n: _NO_CHILDREN,
    cst.Float: lambda n: _NO_CHILDREN,
    cst.Imaginary: lambda n: _NO_CHILDREN,
    cst.Ellipsis: lambda n: _NO_CHILDREN,
    cst.Name: lambda n: _NO_CHILDREN,
}


def _children_exprs(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The sub-expressions of an expression node, without libcst's generic (slow) visit."""
    children = _CHILDREN.get(type(node))
    return node.children if children is None else children(node)


def referenced_names(node: cst.CSTNode) -> set[str]:
    """Every name read in a (small) expression: a path, an assigned value, a filter.

    A hand-written walk over expression nodes, used on the few small expressions a rule cares
    about; far cheaper than a libcst visitor over them.
    """
    names: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    pop = stack.pop
    while stack:
        current = pop()
        if type(current) is cst.Name:
            names.add(current.value)
        else:
            stack.extend(_children_exprs(current))
    return names


def iter_calls(node: cst.CSTNode) -> Iterator[cst.Call]:
    """The calls inside a (small) expression, outermost first."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if type(current) is cst.Call:
            yield current
        stack.extend(_children_exprs(current))
