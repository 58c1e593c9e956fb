"""The engine: parse once, run every enabled rule in one traversal, report and fix.

A check parses the source once with libcst, runs all the rules' visitors in a single batched
traversal (:mod:`.traversal`), computes positions only for the reported nodes
(:mod:`.positions`) and drops what ``# noqa`` comments silence. Metadata is resolved only when
a rule declares ``METADATA_DEPENDENCIES``. Fixing repeats check-and-replace until nothing more
changes, so overlapping fixes and fixes that enable other fixes settle the way ruff's do.
"""

from __future__ import annotations

import ast
import re
import sys
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

import libcst as cst

from . import notebook as nb
from .finding import Finding, SourceError
from .noqa import Suppression, file_suppression, line_suppression
from .positions import LineIndex, Span, node_spans
from .rule import Report, Rule, RuleContext
from .traversal import BatchedWalker

RuleClasses = Sequence[type[Rule]]
#: Options per rule code: ``{"UW101": {"max_items": 10}}``.
Options = Mapping[str, Mapping[str, object]]

#: How many rounds of fixes ``fix_source`` applies before it gives up on reaching a fixpoint.
MAX_FIX_ROUNDS = 10

_T = TypeVar("_T")
_PARSER_PREFIX = re.compile(r"^(?:parser error: |tokenizer error: )?(?:error at \d+:\d+: )?")


@dataclass(frozen=True)
class Document:
    """Python source to check, and the way from its lines back to what the user wrote."""

    source: str
    cells: nb.CellSource | None = None

    @property
    def is_notebook(self) -> bool:
        """Whether the source comes from notebook cells."""
        return self.cells is not None

    def original_line(self, index: LineIndex, line: int) -> str:
        """The text the user wrote on ``line`` of the source (for ``# noqa``)."""
        if self.cells is not None:
            lines = self.cells.original_lines
            return lines[line - 1] if 0 < line <= len(lines) else ""
        starts = index.starts
        if not 0 < line <= len(starts):
            return ""
        end = starts[line] if line < len(starts) else len(self.source)
        return self.source[starts[line - 1] : end]

    def file_line(self, line: int) -> int | None:
        """The line of the ``.ipynb`` file holding ``line`` of a notebook's source."""
        if self.cells is None or not 0 < line <= len(self.cells.file_lines):
            return None
        return self.cells.file_lines[line - 1] or None

    def locate(self, line: int) -> tuple[int | None, int]:
        """``(cell, line)`` as shown to the user; ``cell`` is None outside notebooks."""
        if self.cells is None:
            return None, line
        return self.cells.locate(line)


def python_document(source: str) -> Document:
    """A plain Python module."""
    return Document(source)


def cell_document(source: str) -> Document:
    """A snippet that is the source of one notebook cell (cell 1)."""
    cells = nb.from_cells([(1, source)])
    return Document(cells.source, cells)


def notebook_document(text: str) -> Document | None:
    """An ``.ipynb`` document, or None for a notebook whose language is not Python."""
    cells = nb.from_notebook(text)
    return None if cells is None else Document(cells.source, cells)


def all_rules() -> tuple[type[Rule], ...]:
    """Every rule the linter has, in code order."""
    from .registry import all_rules as registered

    return registered()


#: Sources longer than this go straight to the big stack: a retry would redo too much work.
DEEP_FIRST_SIZE = 200_000


def _big(document: Document) -> bool:
    return len(document.source) > DEEP_FIRST_SIZE


def deep(function: Callable[[], _T], *, first: bool = False) -> _T:
    """``function()``, retried with a huge stack if libcst's recursion hits the limit.

    libcst generates and transforms code recursively; a long chain of ``+`` or a huge literal
    nests deeper than the default limit. The retry (or, with ``first``, the only attempt) runs
    in a thread with a 512 MiB stack.
    """
    if not first:
        try:
            return function()
        except RecursionError:
            pass
    outcome: list[_T] = []
    failure: list[BaseException] = []

    def run() -> None:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 1_000_000))
        try:
            outcome.append(function())
        except BaseException as error:  # re-raised in the calling thread
            failure.append(error)
        finally:
            sys.setrecursionlimit(limit)

    previous = threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=run, name="unitwise-lint-deep")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def parse(document: Document) -> cst.Module:
    """The libcst module of ``document``, or a :class:`SourceError` saying where it fails.

    libcst's native parser often points at the wrong place, so the position and message come
    from CPython's own parser when it agrees that the code is invalid.
    """
    try:
        return cst.parse_module(document.source)
    except cst.ParserSyntaxError as error:
        libcst_error = error
    except (RecursionError, MemoryError) as error:
        raise SourceError(f"cannot parse: {type(error).__name__}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(document.source, "<unitwise-lint>", "exec", ast.PyCF_ONLY_AST, True)
    except SyntaxError as error:
        line, column, message = error.lineno or 1, error.offset or 1, error.msg
    except (ValueError, RecursionError, MemoryError):
        line, column, message = libcst_error.raw_line, libcst_error.raw_column + 1, ""
    else:
        detail = _PARSER_PREFIX.sub("", libcst_error.message.strip().splitlines()[0])
        cell, line = document.locate(libcst_error.raw_line)
        where = f"line {line}, column {libcst_error.raw_column + 1}"
        if cell is not None:
            where = f"cell {cell}, {where}"
        raise SourceError(f"libcst cannot parse this (valid) Python at {where}: {detail}") from None
    if not message:
        message = _PARSER_PREFIX.sub("", libcst_error.message.strip().splitlines()[0])
    cell, line = document.locate(line)
    where = f"line {line}, column {column}"
    if cell is not None:
        where = f"cell {cell}, {where}"
    raise SourceError(f"syntax error at {where}: {message}") from None


def _failing_rule(traceback: TracebackType | None) -> str | None:
    """The code of the rule whose method raised, found in the traceback."""
    code = None
    while traceback is not None:
        candidate = traceback.tb_frame.f_locals.get("self")
        if isinstance(candidate, Rule):
            code = candidate.code
        traceback = traceback.tb_next
    return code


def run_rules(
    module: cst.Module,
    rules: RuleClasses,
    options: Options,
    path: str,
    notebook: bool,
    *,
    big: bool = False,
) -> list[Rule]:
    """Every rule instantiated and run over ``module`` in one traversal; reports are on them.

    ``big`` says the source is large enough to run on the big stack at once.
    """
    if not rules:
        return []

    def attempt() -> list[Rule]:
        instances = [
            rule(RuleContext(path, options.get(rule.code, {}), notebook)) for rule in rules
        ]
        walker = BatchedWalker(instances)
        if any(rule.get_inherited_dependencies() for rule in rules):
            wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
            with ExitStack() as stack:
                for instance in instances:
                    stack.enter_context(instance.resolve(wrapper))
                walker.walk(module)
        else:
            walker.walk(module)
        return instances

    try:
        # A rule may recurse over a subtree (libcst's evaluated_value of a long implicit
        # string concatenation does): ``deep`` retries with a big stack.
        return deep(attempt, first=big)
    except Exception as error:
        code = _failing_rule(error.__traceback__)
        culprit = f"rule {code}" if code else "a rule"
        raise SourceError(
            f"internal error in {culprit}: {type(error).__name__}: {error}"
        ) from error


def _active_rules(document: Document, rules: RuleClasses) -> RuleClasses | None:
    """The rules to run given a file-level ``# unitwise-lint: noqa``; None skips the file."""
    suppression = file_suppression(document.source)
    if suppression is None:
        return rules
    if suppression.codes is None:
        return None
    return [rule for rule in rules if not suppression.silences(rule.code)]


@dataclass(frozen=True)
class _Reported:
    rule: Rule
    report: Report
    span: Span


def _most_specific(pairs: list[tuple[Rule, Report]]) -> list[tuple[Rule, Report]]:
    """One report per defect: where rules report the same one, the most specific rule's."""
    best: dict[int, tuple[int, str]] = {}
    for rule, report in pairs:
        if report.defect is not None:
            rank = (rule.SPECIFICITY, _reverse(rule.code))
            if report.defect not in best or rank > best[report.defect]:
                best[report.defect] = rank
    if not best:
        return pairs
    return [
        (rule, report)
        for rule, report in pairs
        if report.defect is None or best[report.defect] == (rule.SPECIFICITY, _reverse(rule.code))
    ]


def _reverse(code: str) -> str:
    """A key under which lower codes rank higher (ties between equally specific rules)."""
    return "".join(chr(0x10FFFF - ord(char)) for char in code)


def _reported(
    document: Document, module: cst.Module, instances: Sequence[Rule], fixable_only: bool
) -> list[_Reported]:
    """The reports not silenced by ``# noqa``, with their spans, in source order."""
    pairs = _most_specific([(rule, report) for rule in instances for report in rule.reports])
    if fixable_only:
        pairs = [(rule, report) for rule, report in pairs if report.replacement is not None]
    if not pairs:
        return []
    nodes = [report.node for _, report in pairs]
    spans = deep(lambda: node_spans(module, document.source, nodes), first=_big(document))
    index = LineIndex(document.source)
    kept: list[_Reported] = []
    noqa: dict[int, Suppression | None] = {}
    for rule, report in pairs:
        span = spans[id(report.node)]
        if span.line not in noqa:
            noqa[span.line] = line_suppression(document.original_line(index, span.line))
        suppression = noqa[span.line]
        if suppression is not None and suppression.silences(rule.code):
            continue
        kept.append(_Reported(rule, report, span))
    kept.sort(key=lambda item: (item.span.line, item.span.column, item.rule.code))
    return kept


def _finding(document: Document, path: str, item: _Reported) -> Finding:
    span = item.span
    cell, line = document.locate(span.line)
    end_line = line + (span.end_line - span.line)
    return Finding(
        path=path,
        line=line,
        column=span.column + 1,
        end_line=end_line,
        end_column=span.end_column + 1,
        code=item.rule.code,
        message=item.report.message,
        cell=cell,
        file_line=document.file_line(span.line),
    )


def lint_document(
    document: Document, path: str, rules: RuleClasses, options: Options
) -> list[Finding]:
    """The findings of ``rules`` on ``document``, sorted; :class:`SourceError` if unparsable."""
    active = _active_rules(document, rules)
    if active is None:
        return []
    module = parse(document)
    instances = run_rules(module, active, options, path, document.is_notebook, big=_big(document))
    reported = _reported(document, module, instances, fixable_only=False)
    return sorted(_finding(document, path, item) for item in reported)


def check_source(
    source: str,
    path: str = "<string>",
    rules: RuleClasses | None = None,
    options: Options | None = None,
    *,
    notebook: bool = False,
) -> list[Finding]:
    """The findings on a snippet; ``notebook=True`` treats it as one notebook cell's source.

    ``rules`` defaults to every rule, ``options`` to each rule's defaults. Raises
    :class:`SourceError` if the snippet does not parse.
    """
    document = cell_document(source) if notebook else python_document(source)
    return lint_document(document, path, all_rules() if rules is None else rules, options or {})


class _Replacer(cst.CSTTransformer):
    """Swaps reported nodes for their replacements, matching nodes by identity."""

    def __init__(
        self,
        replacements: Mapping[
            int, cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]
        ],
    ) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        return self.replacements.get(id(original_node), updated_node)


@dataclass(frozen=True)
class FixResult:
    """The fixed source, how many fixes were applied and the findings left."""

    source: str
    fixed: int
    findings: list[Finding]

    @property
    def changed(self) -> bool:
        """Whether any fix was applied."""
        return self.fixed > 0


def _fix_round(
    document: Document, path: str, rules: RuleClasses, options: Options
) -> tuple[str, int]:
    """One round of non-overlapping fixes: the new source and the number applied."""
    module = parse(document)
    instances = run_rules(module, rules, options, path, document.is_notebook, big=_big(document))
    chosen: list[_Reported] = []
    last_end = (0, 0)
    for item in _reported(document, module, instances, fixable_only=True):
        span = item.span
        if (span.line, span.column) < last_end:
            continue  # overlaps a fix already chosen: the next round will see it again
        chosen.append(item)
        last_end = (span.end_line, span.end_column)
    if not chosen:
        return document.source, 0
    replacements = {id(item.report.node): item.report.replacement for item in chosen}
    big = _big(document)
    fixed = deep(lambda: module.visit(_Replacer(replacements)), first=big)  # type: ignore[arg-type]
    fixers = {id(item.rule): item.rule for item in chosen}
    for rule in fixers.values():
        fixed = rule.fix_module(fixed)
    return deep(lambda: fixed.code, first=big), len(chosen)


def fix_document(document: Document, path: str, rules: RuleClasses, options: Options) -> FixResult:
    """Applies the rules' safe fixes until nothing changes; notebooks with IPython syntax are
    not fixed (their source is not the cells' text)."""
    active = _active_rules(document, rules)
    if active is None:
        return FixResult(document.source, 0, [])
    if document.cells is not None and document.cells.converted:
        original = "".join(document.cells.original_lines)
        return FixResult(original, 0, lint_document(document, path, rules, options))
    current = document.source
    total = 0
    for _ in range(MAX_FIX_ROUNDS):
        source, applied = _fix_round(Document(current, document.cells), path, active, options)
        if applied == 0 or source == current:
            break
        try:
            cst.parse_module(source)
        except cst.ParserSyntaxError:
            codes = ", ".join(sorted({rule.code for rule in active if rule.FIXABLE}))
            raise SourceError(
                f"internal error: the fixes ({codes}) produced invalid code"
            ) from None
        current, total = source, total + applied
    final = Document(current, _recell(document.cells, current))
    return FixResult(current, total, lint_document(final, path, rules, options))


def _recell(cells: nb.CellSource | None, source: str) -> nb.CellSource | None:
    """Cell bookkeeping for a fixed single-cell snippet (multi-cell notebooks are not fixed)."""
    if cells is None:
        return None
    return nb.from_cells([(cells.numbers[0] if cells.numbers else 1, source)])


def fix_source(
    source: str,
    path: str = "<string>",
    rules: RuleClasses | None = None,
    options: Options | None = None,
    *,
    notebook: bool = False,
) -> FixResult:
    """``source`` with every safe fix applied (what ``--fix`` writes), and what is left.

    With ``notebook=True`` the snippet is one cell; a cell using IPython syntax is left alone.
    """
    document = cell_document(source) if notebook else python_document(source)
    return fix_document(document, path, all_rules() if rules is None else rules, options or {})
