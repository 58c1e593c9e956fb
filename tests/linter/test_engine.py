"""The engine on snippets: positions, noqa, metadata, errors and fixes (toy rules)."""

from __future__ import annotations

import pytest
from unitwise_lint.engine import check_source, fix_source
from unitwise_lint.finding import Finding, SourceError

from .toy_rules import TOY_RULES, ToyCrash, ToyPrint


def codes(source: str, **kwargs: object) -> list[tuple[str, int]]:
    findings = check_source(source, "x.py", TOY_RULES, **kwargs)  # type: ignore[arg-type]
    return [(f.code, f.line) for f in findings]


def test_positions_are_one_based_with_exclusive_end() -> None:
    [finding] = check_source("x = 1\nif x:\n    print('é', x)\n", "x.py", [ToyPrint])
    assert finding == Finding("x.py", 3, 5, 3, 18, "TY101", "print call")


def test_multiline_node_and_crlf() -> None:
    source = "a = 1\r\nprint(\r\n    a,\r\n)\r\n"
    [finding] = check_source(source, "x.py", [ToyPrint])
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (2, 1, 4, 2)


def test_findings_are_sorted_and_carry_report_messages() -> None:
    source = (
        "try:\n    pass\nexcept:\n    print(1)\n"
        "def f():\n    try:\n        pass\n    except:\n        pass\n"
    )
    findings = check_source(source, "x.py", TOY_RULES)
    assert findings == sorted(findings)
    assert [(f.code, f.line, f.message) for f in findings] == [
        ("TY201", 3, "bare except at module level"),
        ("TY101", 4, "print call"),
        ("TY201", 8, "bare except in a function"),
    ]


def test_rules_with_metadata_dependencies_get_their_metadata() -> None:
    assert codes("breakpoint()\nx = breakpoint\n") == [("TY301", 1)]


@pytest.mark.parametrize(
    ("comment", "silenced"),
    [
        ("# noqa", True),
        ("# NOQA", True),
        ("#noqa", True),
        ("# noqa: TY101", True),
        ("# noqa:TY101", True),
        ("# noqa: TY201, TY101", True),
        ("# noqa: TY201,TY101 because", True),
        ("# noqa: TY1", True),
        ("# noqa: TY201", False),
        ("# noqa: TY1010", False),
        ("# a comment", False),
    ],
)
def test_noqa_forms(comment: str, silenced: bool) -> None:
    found = codes(f"print(1)  {comment}\nprint(2)\n")
    assert found == ([] if silenced else [("TY101", 1)]) + [("TY101", 2)]


def test_noqa_applies_to_the_line_where_the_finding_starts() -> None:
    assert codes("print(\n    1,\n)  # noqa\n") == [("TY101", 1)]
    assert codes("print(  # noqa\n    1,\n)\n") == []


def test_file_level_noqa_skips_the_file_or_some_codes() -> None:
    source = "print(1)\ntry:\n    pass\nexcept:\n    pass\n"
    assert codes(source) == [("TY101", 1), ("TY201", 4)]
    assert codes("# unitwise-lint: noqa\n" + source) == []
    assert codes(source + "# unitwise-lint: NOQA\n") == []
    assert codes("# unitwise-lint: noqa: TY101\n" + source) == [("TY201", 5)]


def test_options_reach_the_rule() -> None:
    source = "print(1)\nshow(1, 2)\nshow(3)\n"
    assert codes(source) == [("TY101", 1)]
    options = {"TY101": {"functions": ("show",), "min_args": 2}}
    assert codes(source, options=options) == [("TY101", 2)]


def test_syntax_error_is_one_line_with_cpython_position() -> None:
    with pytest.raises(SourceError) as raised:
        check_source("x = 1\ndef f(:\n    pass\n", "x.py", TOY_RULES)
    assert raised.value.reason == "syntax error at line 2, column 7: invalid syntax"
    assert "\n" not in raised.value.reason


def test_a_crashing_rule_is_named() -> None:
    with pytest.raises(SourceError, match=r"internal error in rule TY901: ValueError: toy failure"):
        check_source("f = lambda: 1\n", "x.py", [ToyCrash])


def test_deeply_nested_code_is_checked() -> None:
    source = "x = " + " + ".join(["1"] * 1200) + "\nprint(x)\n"
    assert codes(source) == [("TY101", 2)]
    assert fix_source(source, "x.py", [ToyPrint]).source.endswith("log(x)\n")


def test_fix_preserves_comments_and_formatting() -> None:
    source = "# header\nx = [1,  2]  # spacing kept\nprint( x )  # why\n\n\nprint(2)  # noqa\n"
    result = fix_source(source, "x.py", TOY_RULES)
    assert result.source == (
        "# header\nimport toy\nx = [1,  2]  # spacing kept\nlog( x )  # why\n\n\nprint(2)  # noqa\n"
    )
    assert result.fixed == 1
    assert result.findings == []


def test_nested_fixes_settle_over_rounds() -> None:
    result = fix_source("print(print(1))\n", "x.py", [ToyPrint])
    assert "log(log(1))" in result.source
    assert result.fixed == 2
    assert result.findings == []


def test_fix_leaves_unfixable_findings() -> None:
    result = fix_source("try:\n    print(1)\nexcept:\n    pass\n", "x.py", TOY_RULES)
    assert result.source == "import toy\ntry:\n    log(1)\nexcept:\n    pass\n"
    assert [(f.code, f.line) for f in result.findings] == [("TY201", 4)]


def test_nothing_to_fix_changes_nothing() -> None:
    result = fix_source("x = 1\n", "x.py", TOY_RULES)
    assert (result.source, result.fixed, result.changed) == ("x = 1\n", 0, False)


def test_notebook_cell_snippet() -> None:
    findings = check_source("%matplotlib inline\nprint(1)\n", "n.ipynb", TOY_RULES, notebook=True)
    assert [(f.code, f.cell, f.line) for f in findings] == [("TY101", 1, 2)]
    assert findings[0].location() == "n.ipynb:cell 1:2:1"


def test_notebook_cell_without_magics_can_be_fixed_but_not_with_them() -> None:
    assert (
        fix_source("print(1)\n", rules=[ToyPrint], notebook=True).source == "import toy\nlog(1)\n"
    )
    source = "%time print(1)\nprint(2)\n"
    result = fix_source(source, rules=[ToyPrint], notebook=True)
    assert (result.source, result.changed) == (source, False)
    assert [f.line for f in result.findings] == [2]
