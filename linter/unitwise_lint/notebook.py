"""Jupyter notebooks as Python: the code cells joined into one module, IPython syntax rewritten.

The cells are checked as one module (a name imported in cell 1 is used in cell 3, a global set
in one cell is mutated in another), so a finding's line is mapped back to its cell and its line
within the cell. IPython syntax is rewritten to the calls IPython itself makes, keeping one line
per line so positions stay true: ``%magic args`` becomes
``get_ipython().run_line_magic("magic", "args")``, ``!cmd`` ``get_ipython().system("cmd")``,
``x = !cmd`` ``x = get_ipython().getoutput("cmd")``, ``obj?`` ``get_ipython().run_line_magic(
"pinfo", "obj")``, and a ``%%magic`` cell a single ``get_ipython().run_cell_magic(...)`` call
followed by blank lines, except for ``%%time``, ``%%timeit``, ``%%capture`` and ``%%prun``,
whose body is Python: their first line becomes the call and the body stays code, checked like
any other cell.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .finding import SourceError

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_ESCAPED = re.compile(r"^(?P<indent>[ \t]*)(?P<escape>!!|!|%|\?\?|\?)(?P<rest>.*)$", re.S)
_ASSIGNED = re.compile(
    r"^(?P<indent>[ \t]*)(?P<target>[\w.\[\]\s,*()]+?)\s*=\s*(?P<escape>!|%)(?P<rest>.*)$", re.S
)
_HELP_AFTER = re.compile(r"^(?P<indent>[ \t]*)(?P<object>[\w.]+)(?P<escape>\?\??)\s*$")
#: Cell magics whose body is Python run as the cell (timed, captured or profiled).
PYTHON_BODY_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_CELL_MAGIC = re.compile(r"^[ \t]*%%(?P<name>\w+)[ \t]*(?P<args>.*)$", re.S)


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split only where Python itself ends a line."""
    return _LINE.findall(text)


def _literal(text: str) -> str:
    """A double-quoted Python string literal for ``text``."""
    return json.dumps(text, ensure_ascii=False)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _open_triple_quote(line: str, state: str | None) -> str | None:
    """The triple quote still open at the end of ``line``, given the one open at its start."""
    index, length = 0, len(line)
    while index < length:
        if state is not None:
            end = line.find(state, index)
            if end < 0:
                return state
            index, state = end + 3, None
            continue
        char = line[index]
        if char == "#":
            return None
        if char in "\"'":
            if line.startswith(char * 3, index):
                state = char * 3
                index += 3
                continue
            index += 1
            while index < length and line[index] != char:
                index += 2 if line[index] == "\\" else 1
        index += 1
    return state


def _line_call(escape: str, rest: str) -> str:
    """The call IPython makes for one escaped line (``rest`` has no line ending)."""
    if escape == "!":
        return f"get_ipython().system({_literal(rest)})"
    if escape == "!!":
        return f"get_ipython().getoutput({_literal(rest)})"
    if escape in ("?", "??"):
        magic = "pinfo" if escape == "?" else "pinfo2"
        return f"get_ipython().run_line_magic({_literal(magic)}, {_literal(rest.strip())})"
    name, _, args = rest.partition(" ")
    return f"get_ipython().run_line_magic({_literal(name)}, {_literal(args.strip())})"


def _convert_line(text: str) -> str | None:
    """The Python for one line of IPython syntax, or ``None`` if it is plain Python."""
    if match := _ASSIGNED.match(text):
        rest = match["rest"]
        call = (
            f"get_ipython().getoutput({_literal(rest)})"
            if match["escape"] == "!"
            else _line_call("%", rest)
        )
        return f"{match['indent']}{match['target']} = {call}"
    if match := _ESCAPED.match(text):
        return f"{match['indent']}{_line_call(match['escape'], match['rest'])}"
    if match := _HELP_AFTER.match(text):
        return f"{match['indent']}{_line_call(match['escape'], match['object'])}"
    return None


def convert_cell(lines: Sequence[str]) -> list[str]:
    """``lines`` of a cell with IPython syntax rewritten, as many lines as given."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    magic = None if first is None else _CELL_MAGIC.match(lines[first].rstrip("\r\n"))
    if first is not None and magic is not None and magic["name"] in PYTHON_BODY_MAGICS:
        # ``%%time``: the body is Python that runs as the cell, so it is checked as code.
        call = (
            f"get_ipython().run_cell_magic({_literal(magic['name'])}, "
            f'{_literal(magic["args"].strip())}, "")'
        )
        head = ["" + _ending(line) for line in lines[:first]]
        head.append(call + (_ending(lines[first]) or "\n"))
        return head + convert_cell(lines[first + 1 :])
    if first is not None and magic is not None:
        body = "".join(lines[first + 1 :])
        call = (
            f"get_ipython().run_cell_magic({_literal(magic['name'])}, "
            f"{_literal(magic['args'].strip())}, {_literal(body)})"
        )
        blank = ["" + _ending(line) for line in lines]
        blank[first] = call + (_ending(lines[first]) or "\n")
        return blank
    converted: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        text = line.rstrip("\r\n")
        replacement = _convert_line(text) if quote is None else None
        if replacement is None:
            quote = _open_triple_quote(text, quote)
            converted.append(line)
            index += 1
            continue
        # A magic continued with backslashes takes its continuation lines as arguments.
        joined, used = text, 1
        while joined.endswith("\\") and index + used < len(lines):
            joined = joined[:-1] + " " + lines[index + used].rstrip("\r\n").lstrip()
            used += 1
        if used > 1:
            replacement = _convert_line(joined) or replacement
        converted.append(replacement + _ending(line))
        converted.extend(_ending(extra) for extra in lines[index + 1 : index + used])
        index += used
    return converted


@dataclass(frozen=True)
class CellSource:
    """The Python module made of a notebook's code cells, and the way back to the cells."""

    source: str
    #: The cells' own text, one entry per line of ``source`` (for ``# noqa`` comments).
    original_lines: tuple[str, ...]
    #: The first line in ``source`` of each code cell, and that cell's number.
    starts: tuple[int, ...]
    numbers: tuple[int, ...]
    #: Whether any IPython syntax was rewritten (the source is then not the cells' text).
    converted: bool
    #: For each line of ``source``, the line of the ``.ipynb`` file holding it (0: unknown).
    file_lines: tuple[int, ...] = ()

    def locate(self, line: int) -> tuple[int, int]:
        """``(cell number, line in cell)`` of a line of ``source``."""
        index = max(bisect_right(self.starts, line) - 1, 0)
        if not self.starts:
            return 1, line
        return self.numbers[index], line - self.starts[index] + 1


def from_cells(
    cells: Sequence[tuple[int, str]], file_lines: Sequence[Sequence[int]] | None = None
) -> CellSource:
    """Joins ``(cell number, cell source)`` pairs into one module; ``file_lines`` gives, per
    cell, the line of the notebook file holding each of its lines."""
    source: list[str] = []
    original: list[str] = []
    starts: list[int] = []
    numbers: list[int] = []
    mapped: list[int] = []
    converted = False
    for position, (number, text) in enumerate(cells):
        lines = split_lines(text)
        if not lines:
            continue
        where = list(file_lines[position]) if file_lines is not None else []
        mapped.extend((where + [where[-1] if where else 0] * len(lines))[: len(lines)])
        if not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n"
        python = convert_cell(lines)
        converted = converted or python != lines
        starts.append(len(source) + 1)
        numbers.append(number)
        source.extend(python)
        original.extend(lines)
    return CellSource(
        "".join(source), tuple(original), tuple(starts), tuple(numbers), converted, tuple(mapped)
    )


_SOURCE_KEY = re.compile(r'(?<!\\)"source"\s*:\s*')


def _line_of(text: str) -> Callable[[int], int]:
    starts = [0, *(match.end() for match in re.finditer("\n", text))]
    return lambda offset: bisect_right(starts, offset)


def _file_lines(text: str, sources: Sequence[str], cell_count: int) -> list[list[int]] | None:
    """Per cell (all kinds, in order), the file line of each line of its source.

    Jupyter writes a source as a list of one-line strings, one per file line: each line is
    mapped to its own. A source written as one string maps every line to that string's
    line. None if the ``"source"`` keys cannot be matched with the cells.
    """
    keys = list(_SOURCE_KEY.finditer(text))
    if len(keys) != cell_count:
        return None
    line_of = _line_of(text)
    decoder = json.JSONDecoder()
    result: list[list[int]] = []
    for match, cell_text in zip(keys, sources, strict=True):
        position = match.end()
        wanted = len(split_lines(cell_text))
        found: list[int] = []
        if text.startswith("[", position):
            position += 1
            while True:
                while position < len(text) and text[position] in " \t\r\n,":
                    position += 1
                if position >= len(text) or text[position] != '"':
                    break
                try:
                    value, end = decoder.raw_decode(text, position)
                except json.JSONDecodeError:
                    break
                if isinstance(value, str):
                    found.extend([line_of(position)] * max(1, len(split_lines(value))))
                position = end
        if len(found) < wanted:
            found = [line_of(match.start())] * wanted
        result.append(found[:wanted])
    return result


def _language(notebook: dict[str, object]) -> str | None:
    metadata = notebook.get("metadata")
    if not isinstance(metadata, dict):
        return None
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        section = metadata.get(key)
        if isinstance(section, dict) and isinstance(section.get(field), str):
            return str(section[field])
    return None


def from_notebook(text: str) -> CellSource | None:
    """The code cells of an ``.ipynb`` document, or ``None`` for a notebook not in Python."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"invalid notebook: not valid JSON ({error.msg} at line {error.lineno} "
            f"column {error.colno})"
        ) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise SourceError("invalid notebook: no list of cells (nbformat 4 is required)")
    language = _language(notebook)
    if language is not None and language.lower() != "python":
        return None
    cells: list[tuple[int, str]] = []
    every: list[str] = []
    for number, cell in enumerate(notebook["cells"], start=1):
        if not isinstance(cell, dict):
            raise SourceError(f"invalid notebook: cell {number} is not an object")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        every.append(source if isinstance(source, str) else "")
        if cell.get("cell_type") != "code":
            continue
        if not isinstance(source, str):
            raise SourceError(f"invalid notebook: cell {number} has no text source")
        cells.append((number, source))
    mapping = _file_lines(text, every, len(every))
    if mapping is None:
        return from_cells(cells)
    return from_cells(cells, [mapping[number - 1] for number, _ in cells])
