"""The fast walker calls the same methods in the same order as ``libcst.visit_batched``, and
the offset-based positions equal ``PositionProvider``'s."""

from __future__ import annotations

import random
import sysconfig
from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider
from unitwise_lint.positions import node_spans
from unitwise_lint.traversal import TRIVIA_TYPES, BatchedWalker, child_fields

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLES = ["ast.py", "dataclasses.py", "asyncio/tasks.py", "json/decoder.py", "string.py"]
SNIPPET = '''
@decorator(arg)
async def f(a, /, b: int = 1, *args, c, **kw) -> "T":
    """Doc."""
    global g
    x = [i async for i in y if i] or {k: v for k, v in z.items()}
    match x:
        case [1, *rest] if rest:
            pass
        case {"k": v, **others}:
            pass
    try:
        yield from (lambda q: q)(x)
    except* ValueError as e:
        raise
    finally:
        del x
    return f"{a!r:>{b}} {c=}"

class C(Base, metaclass=M):
    @property
    def p(self): return self.q[1:2, ...]
with open("f") as h, ctx() as (a, b):
    print(*a, sep="")  # comment
'''


class _Recorder(cst.BatchableCSTVisitor):
    """Records every visit and leave of non-trivia nodes, and a few per-field hooks."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str, int]] = []

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.events.append(("visit_body", "FunctionDef", id(node)))

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.events.append(("leave_body", "FunctionDef", id(node)))

    def visit_Call_args(self, node: cst.Call) -> None:
        self.events.append(("visit_args", "Call", id(node)))


def _add_all_node_methods() -> None:
    """Gives ``_Recorder`` a visit_X and leave_X for every concrete node type except trivia."""

    def classes(base: type) -> set[type]:
        found: set[type] = set()
        subclasses: list[type] = base.__subclasses__()
        for sub in subclasses:
            found.add(sub)
            found |= classes(sub)
        return found

    def recorder(kind: str, name: str) -> Callable[[_Recorder, cst.CSTNode], None]:
        def method(self: _Recorder, node: cst.CSTNode) -> None:
            self.events.append((kind, name, id(node)))

        method.__name__ = f"{kind}_{name}"  # libcst finds visitor methods by __name__
        return method

    trivia = {cls.__name__ for cls in TRIVIA_TYPES}
    for cls in classes(cst.CSTNode):
        name = cls.__name__
        if name in trivia:
            continue
        if hasattr(cst.CSTVisitor, f"visit_{name}"):
            setattr(_Recorder, f"visit_{name}", recorder("visit", name))
            setattr(_Recorder, f"leave_{name}", recorder("leave", name))


_add_all_node_methods()


def _events(module: cst.Module, walker: bool) -> list[tuple[str, str, int]]:
    recorder = _Recorder()
    if walker:
        BatchedWalker([recorder]).walk(module)
    else:
        cst.visit_batched(module, [recorder])
    return recorder.events


@pytest.mark.parametrize("name", ["<snippet>", *SAMPLES])
def test_same_events_in_the_same_order_as_libcst(name: str) -> None:
    source = SNIPPET if name == "<snippet>" else (STDLIB / name).read_text(encoding="utf-8")
    module = cst.parse_module(source)
    expected = _events(module, walker=False)
    assert len(expected) > 100
    assert _events(module, walker=True) == expected


def test_visit_order_follows_codegen_not_field_order() -> None:
    fields = child_fields(cst.FunctionDef)
    assert fields.index("decorators") < fields.index("name") < fields.index("body")
    assert child_fields(cst.Module) == ("header", "body", "footer")


def test_comments_are_visited_only_when_asked_for() -> None:
    class Comments(cst.BatchableCSTVisitor):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def visit_Comment(self, node: cst.Comment) -> None:
            self.seen.append(node.value)

    visitor = Comments()
    BatchedWalker([visitor]).walk(cst.parse_module("# a\nx = (1,  # b\n     2)  # c\n"))
    assert visitor.seen == ["# a", "# b", "# c"]


def test_walker_does_not_recurse() -> None:
    module = cst.parse_module("x = " + "(" * 150 + "1" + ")" * 150 + "\n" + "y = -" * 1 + "1\n")
    recorder = _Recorder()
    BatchedWalker([recorder]).walk(module)
    assert sum(1 for kind, name, _ in recorder.events if kind == "visit" and name == "Integer") == 2


@pytest.mark.parametrize("name", SAMPLES)
def test_spans_equal_position_provider(name: str) -> None:
    source = (STDLIB / name).read_text(encoding="utf-8")
    module = cst.parse_module(source)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = random.Random(name).sample(list(positions), 300)
    spans = node_spans(module, source, nodes)
    for node in nodes:
        expected = positions[node]
        span = spans[id(node)]
        assert (span.line, span.column, span.end_line, span.end_column) == (
            expected.start.line,
            expected.start.column,
            expected.end.line,
            expected.end.column,
        ), type(node).__name__


def test_spans_handle_crlf_and_wide_characters() -> None:
    source = "s = 'ü€𝄞'\r\nt = s\r\n"
    module = cst.parse_module(source)
    target = module.body[1]
    assert isinstance(target, cst.SimpleStatementLine)
    name = target.body[0]
    span = node_spans(module, source, [name])[id(name)]
    assert (span.line, span.column, span.end_line, span.end_column) == (2, 0, 2, 5)
