"""UW101 large-global: a big literal bound at import time lives in every worker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, Option, RuleContext, Valid
from ._base import ScopedRule

_CONTAINERS = (cst.List, cst.Tuple, cst.Set, cst.Dict)
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


@dataclass
class _Size:
    elements: int = 0
    chars: int = 0


def _string_length(node: cst.BaseExpression) -> int:
    if isinstance(node, cst.SimpleString):
        return len(node.raw_value)
    if isinstance(node, cst.ConcatenatedString):
        return _string_length(node.left) + _string_length(node.right)
    if isinstance(node, cst.FormattedString):
        return sum(len(p.value) for p in node.parts if isinstance(p, cst.FormattedStringText))
    return 0


def _measure(node: cst.BaseExpression, size: _Size, max_elements: int, max_chars: int) -> None:
    """Count elements (nested ones included) and string characters, stopping past the limits.

    Only literals are walked: a literal is data, and stopping at the limits bounds the work.
    """
    stack: list[cst.BaseExpression] = [node]
    while stack and size.elements <= max_elements and size.chars <= max_chars:
        current = stack.pop()
        if isinstance(current, _STRINGS):
            size.chars += _string_length(current)
        elif isinstance(current, cst.Dict):
            for element in current.elements:
                size.elements += 1
                if isinstance(element, cst.DictElement):
                    stack.extend((element.key, element.value))
        elif isinstance(current, (cst.List, cst.Tuple, cst.Set)):
            size.elements += len(current.elements)
            stack.extend(element.value for element in current.elements)


class LargeGlobal(ScopedRule):
    code = "UW101"
    name = "large-global"
    message = "Large literal bound at import time is copied into every worker"
    rationale = (
        "A big literal at module level (a lookup table pasted into the code, an embedded "
        "GeoJSON, a list of thousands of ids) is rebuilt by every process that imports the "
        "module, held in each worker's memory for the whole run, and pickled along with "
        "anything that references it. Data belongs in a file the unit that needs it reads, "
        "or is passed to the workers once. Assignments at module level and in class bodies "
        '(both run at import) are checked; the `if __name__ == "__main__":` block is not, '
        "as it only runs in the parent. Elements are counted with nesting (a list of 100 "
        "3-tuples has 400) and strings by their characters, nested ones included."
    )
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "max-elements": Option(1000, "Largest allowed element count, nested ones included."),
        "max-chars": Option(10_000, "Largest allowed number of string characters."),
    }
    VALID: ClassVar[list[Valid]] = [
        Valid("IDS = [1, 2, 3]\n"),
        Valid("def f():\n    table = [0] * 5000\n    return [i for i in range(10_000)]\n"),
        Valid("if __name__ == '__main__':\n    IDS = [" + "1, " * 1200 + "]\n"),
        Valid("def f():\n    IDS = [" + "1, " * 1200 + "]\n"),
        Valid("IDS = [" + "1, " * 30 + "]\n", options={"max-elements": 50}),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid("IDS = [" + "1, " * 1001 + "]\n"),
        Invalid("PAIRS: list[tuple[int, int]] = [" + "(1, 2), " * 400 + "]\n"),
        Invalid("LOOKUP = {" + "'k': [1, 2], " * 400 + "}\n"),
        Invalid("QUERY = '''" + "x" * 10_001 + "'''\n"),
        Invalid("class Config:\n    CODES = (" + "'a', " * 1001 + ")\n"),
        Invalid("A = B = [" + "1, " * 60 + "]\n", options={"max-elements": 50}),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._max_elements = self.int_option("max-elements")
        self._max_chars = self.int_option("max-chars")

    def _check(self, value: cst.BaseExpression | None) -> None:
        if value is None or not isinstance(value, (*_CONTAINERS, *_STRINGS)):
            return
        if not self.at_import_time():
            return
        size = _Size()
        _measure(value, size, self._max_elements, self._max_chars)
        if size.elements > self._max_elements:
            self.report(value, f"{self.message} (more than {self._max_elements} elements)")
        elif size.chars > self._max_chars:
            self.report(value, f"{self.message} (more than {self._max_chars} characters)")

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        self._check(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        super().visit_AnnAssign(node)
        self._check(node.value)
