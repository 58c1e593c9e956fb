"""Notebooks: IPython syntax rewritten line for line, findings mapped back to cells."""

from __future__ import annotations

import json

import pytest
from unitwise_lint.engine import lint_document, notebook_document
from unitwise_lint.finding import SourceError
from unitwise_lint.notebook import convert_cell, from_notebook, split_lines

from .toy_rules import TOY_RULES


def notebook(*cells: tuple[str, str | list[str]], language: str = "python") -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"language_info": {"name": language}},
            "cells": [
                {"cell_type": kind, "source": source, "metadata": {}} for kind, source in cells
            ],
        }
    )


@pytest.mark.parametrize(
    ("line", "python"),
    [
        ("%matplotlib inline", 'get_ipython().run_line_magic("matplotlib", "inline")'),
        ("%time f(x)", 'get_ipython().run_line_magic("time", "f(x)")'),
        ("%pwd", 'get_ipython().run_line_magic("pwd", "")'),
        ("!ls -la 'my dir'", "get_ipython().system(\"ls -la 'my dir'\")"),
        ('!echo "a\\b"', 'get_ipython().system("echo \\"a\\\\b\\"")'),
        ("!!ls", 'get_ipython().getoutput("ls")'),
        ("files = !ls *.csv", 'files = get_ipython().getoutput("ls *.csv")'),
        ("t = %timeit -o f()", 't = get_ipython().run_line_magic("timeit", "-o f()")'),
        ("    %time g()", '    get_ipython().run_line_magic("time", "g()")'),
        ("len?", 'get_ipython().run_line_magic("pinfo", "len")'),
        ("os.path??", 'get_ipython().run_line_magic("pinfo2", "os.path")'),
        ("x = 5 % 3", "x = 5 % 3"),
        ("a != b", "a != b"),
        ("print('%d' % 3)  # why?", "print('%d' % 3)  # why?"),
    ],
)
def test_line_conversion(line: str, python: str) -> None:
    assert convert_cell([line + "\n"]) == [python + "\n"]


def test_magics_inside_a_triple_quoted_string_are_text() -> None:
    lines = split_lines('s = """\n%d items\n!not a command\n"""\n%pwd\n')
    converted = convert_cell(lines)
    assert converted[:4] == lines[:4]
    assert converted[4] == 'get_ipython().run_line_magic("pwd", "")\n'


def test_cell_magic_becomes_one_call_and_keeps_the_line_count() -> None:
    lines = split_lines("\n%%bash -e\necho hi\nls\n")
    converted = convert_cell(lines)
    assert converted == [
        "\n",
        'get_ipython().run_cell_magic("bash", "-e", "echo hi\\nls\\n")\n',
        "\n",
        "\n",
    ]


def test_backslash_continued_magic_keeps_the_line_count() -> None:
    converted = convert_cell(split_lines("%time f(1, \\\n  2)\nx = 1\n"))
    assert converted == ['get_ipython().run_line_magic("time", "f(1,  2)")\n', "\n", "x = 1\n"]


def test_findings_carry_cell_and_line_within_the_cell() -> None:
    text = notebook(
        ("markdown", "# Title"),
        ("code", ["import os\n", "%matplotlib inline\n", "x = 1"]),
        ("code", ""),
        ("markdown", "text"),
        ("code", ["try:\n", "    print(x)\n", "except:\n", "    pass\n"]),
    )
    document = notebook_document(text)
    assert document is not None
    findings = lint_document(document, "n.ipynb", TOY_RULES, {})
    assert [(f.code, f.cell, f.line, f.column) for f in findings] == [
        ("TY101", 5, 2, 5),
        ("TY201", 5, 3, 1),
    ]
    assert findings[0].location() == "n.ipynb:cell 5:2:5"


def test_noqa_in_a_cell_is_read_from_the_cell_text() -> None:
    text = notebook(("code", "%time print(1)  # noqa\nprint(2)  # noqa: TY101\nprint(3)\n"))
    document = notebook_document(text)
    assert document is not None
    findings = lint_document(document, "n.ipynb", TOY_RULES, {})
    assert [(f.cell, f.line) for f in findings] == [(1, 3)]


def test_cells_are_one_module() -> None:
    text = notebook(
        ("code", "def f():\n    try:\n"), ("code", "        g()\n    except:\n        pass\n")
    )
    document = notebook_document(text)
    assert document is not None
    [finding] = lint_document(document, "n.ipynb", TOY_RULES, {})
    assert (finding.cell, finding.line, finding.message) == (2, 2, "bare except in a function")


def test_syntax_error_names_the_cell() -> None:
    document = notebook_document(notebook(("code", "x = 1\n"), ("code", "y = (\n")))
    assert document is not None
    with pytest.raises(SourceError, match=r"^syntax error at cell 2, line 1, column 5: "):
        lint_document(document, "n.ipynb", TOY_RULES, {})


def test_other_languages_are_skipped() -> None:
    assert from_notebook(notebook(("code", "library(x)\n"), language="R")) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "{not json",
            "invalid notebook: not valid JSON (Expecting property name enclosed in "
            "double quotes at line 1 column 2)",
        ),
        ('{"worksheets": []}', "invalid notebook: no list of cells (nbformat 4 is required)"),
        ('{"cells": [3]}', "invalid notebook: cell 1 is not an object"),
        (
            '{"cells": [{"cell_type": "code", "source": 3}]}',
            "invalid notebook: cell 1 has no text source",
        ),
    ],
)
def test_invalid_notebooks(text: str, reason: str) -> None:
    with pytest.raises(SourceError) as raised:
        from_notebook(text)
    assert raised.value.reason == reason
