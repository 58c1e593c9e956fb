"""Source ranges for the few nodes that were reported, without a PositionProvider.

libcst's ``PositionProvider`` computes a range for every node of the module, which costs more
than parsing it. Findings are rare, so after the traversal the module is generated once with a
code generation state that notes character offsets only at the reported nodes (and at the
children those nodes borrow their start or end from, exactly as ``PositionProvider`` does) and
stops as soon as the last one is done. Offsets then become line/column pairs with a bisection
over the line starts of the source, which the generated code reproduces character for character.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from itertools import islice
from types import TracebackType

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class Span:
    """A range in a source: 1-based lines, 0-based columns, the end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


class _AllFound(Exception):
    """Stops code generation once every wanted node has its range."""


class _NoRecord:
    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


_NO_RECORD = _NoRecord()


class _Record:
    """Records the syntactic range of one wanted node, as ``PositionProvider`` would."""

    def __init__(
        self,
        state: _OffsetState,
        node: cst.CSTNode,
        start_node: cst.CSTNode | None,
        end_node: cst.CSTNode | None,
    ) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node

    def __enter__(self) -> None:
        self.start = self.state.offset()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            return
        state = self.state
        start = self.start
        end = state.offset()
        if self.start_node is not None:
            start = state.ranges[id(self.start_node)][0]
        if self.end_node is not None:
            end = state.ranges[id(self.end_node)][1]
        state.ranges[id(self.node)] = (start, end)


class _OffsetState(CodegenState):
    """Code generation that tracks character offsets only where it has to."""

    def __init__(self, module: cst.Module, wanted: Collection[cst.CSTNode]) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.wanted = {id(node) for node in wanted}
        self.remaining = len(self.wanted)
        self.ranges: dict[int, tuple[int, int]] = {}
        self._starts: list[int] = []
        self._counted_tokens = 0
        self._counted_chars = 0

    def offset(self) -> int:
        """Characters generated so far (counted lazily, tokens are only appended)."""
        tokens = self.tokens
        if len(tokens) != self._counted_tokens:
            self._counted_chars += sum(map(len, islice(tokens, self._counted_tokens, None)))
            self._counted_tokens = len(tokens)
        return self._counted_chars

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            self._starts.append(self.offset())

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted:
            start = self._starts.pop()
            if key not in self.ranges:
                self.ranges[key] = (start, self.offset())
            self.remaining -= 1
            if self.remaining == 0:
                raise _AllFound

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> AbstractContextManager[None]:
        if id(node) not in self.wanted:
            return _NO_RECORD
        # The node borrows its start or end from a child: the child's range is needed too.
        for borrowed in (start_node, end_node):
            if borrowed is not None and id(borrowed) not in self.wanted:
                self.wanted.add(id(borrowed))
                self.remaining += 1
        return _Record(self, node, start_node, end_node)


def node_offsets(module: cst.Module, nodes: Collection[cst.CSTNode]) -> dict[int, tuple[int, int]]:
    """Character offsets ``(start, end)`` in ``module.code`` of each node, keyed by ``id``."""
    if not nodes:
        return {}
    state = _OffsetState(module, nodes)
    with suppress(_AllFound):
        module._codegen(state)
    return state.ranges


class LineIndex:
    """Turns character offsets of a source into 1-based lines and 0-based columns."""

    def __init__(self, source: str) -> None:
        self.starts = [0, *(match.end() for match in _NEWLINE.finditer(source))]

    def position(self, offset: int) -> tuple[int, int]:
        """``(line, column)`` of ``offset``."""
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]


def node_spans(module: cst.Module, source: str, nodes: Collection[cst.CSTNode]) -> dict[int, Span]:
    """The :class:`Span` of each of ``nodes`` in ``source`` (the code ``module`` was parsed from).

    A node that is not part of ``module`` (a rule reported a node it built) gets the start of
    the file rather than no finding at all.
    """
    offsets = node_offsets(module, nodes)
    index = LineIndex(source)
    spans: dict[int, Span] = {}
    for node in nodes:
        start, end = offsets.get(id(node), (0, 0))
        line, column = index.position(start)
        end_line, end_column = index.position(end)
        spans[id(node)] = Span(line, column, end_line, end_column)
    return spans
