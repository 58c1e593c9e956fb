"""Output formats on findings built by hand: escaping, notebooks, ordering and URIs."""

from __future__ import annotations

import json
from pathlib import Path

from unitwise_lint import output
from unitwise_lint.finding import FileError, Finding

from .toy_rules import TOY_RULES, ToyBareExcept, ToyPrint

LOOKUP = {rule.code: rule for rule in TOY_RULES}


def test_github_escaping_follows_the_actions_toolkit() -> None:
    assert output.escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert output.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    finding = Finding("dir,x/a:b.py", 3, 2, 4, 1, "TY101", "50% of\nlines")
    assert output.github([finding], LOOKUP) == (
        "::error file=dir%2Cx/a%3Ab.py,line=3,col=2,endLine=4,endColumn=1,"
        "title=TY101 toy-print::50%25 of%0Alines\n"
    )


def test_github_notebook_findings_name_the_cell_and_errors_are_annotations() -> None:
    finding = Finding("n.ipynb", 2, 5, 2, 9, "TY201", "bare except", cell=3, file_line=41)
    error = FileError("bad.py", "syntax error at line 1, column 7: invalid syntax")
    assert output.github([finding], LOOKUP, [error]) == (
        "::error file=n.ipynb,line=41,title=TY201 toy-bare-except::"
        "cell 3, line 2, column 5: bare except\n"
        "::error file=bad.py,line=1,col=7,title=unitwise-lint::"
        "syntax error at line 1, column 7: invalid syntax\n"
    )


def test_text_locations() -> None:
    findings = [
        Finding("a.py", 1, 5, 1, 9, "TY101", "m"),
        Finding("n.ipynb", 2, 1, 2, 3, "TY101", "m", cell=4),
    ]
    assert output.text(findings) == "a.py:1:5: TY101 m\nn.ipynb:cell 4:2:1: TY101 m\n"


def test_findings_sort_by_path_cell_line_column_code() -> None:
    shuffled = [
        Finding("b.py", 1, 1, 1, 2, "TY101", "m"),
        Finding("a.ipynb", 1, 1, 1, 2, "TY101", "m", cell=2),
        Finding("a.ipynb", 9, 1, 9, 2, "TY101", "m", cell=1),
        Finding("a.py", 2, 1, 2, 2, "TY201", "m"),
        Finding("a.py", 2, 1, 2, 2, "TY101", "m"),
        Finding("a.py", 1, 7, 1, 8, "TY201", "m"),
    ]
    assert [(f.path, f.cell, f.line, f.code) for f in sorted(shuffled)] == [
        ("a.ipynb", 1, 9, "TY101"),
        ("a.ipynb", 2, 1, "TY101"),
        ("a.py", None, 1, "TY201"),
        ("a.py", None, 2, "TY101"),
        ("a.py", None, 2, "TY201"),
        ("b.py", None, 1, "TY101"),
    ]


def test_sarif_uris_notebooks_and_errors(tmp_path: Path) -> None:
    findings = [
        Finding(str(tmp_path / "sub dir" / "a.py"), 1, 1, 1, 5, "TY201", "m"),
        Finding(str(tmp_path / "n.ipynb"), 2, 3, 2, 4, "TY101", "m", cell=2, file_line=17),
    ]
    errors = [FileError(str(tmp_path / "bad.py"), "binary file")]
    log = json.loads(output.sarif(findings, [ToyPrint, ToyBareExcept], errors, base=tmp_path))
    [run] = log["runs"]
    first, second = run["results"]
    uri = first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "sub%20dir/a.py"
    assert (first["ruleId"], first["ruleIndex"]) == ("TY201", 1)
    assert (second["ruleIndex"], second["properties"]) == (
        0,
        {"cell": 2, "cellLine": 2, "cellColumn": 3},
    )
    assert second["locations"][0]["physicalLocation"]["region"] == {"startLine": 17}
    assert second["message"]["text"] == "cell 2, line 2, column 3: m"
    assert run["columnKind"] == "unicodeCodePoints"
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [notice] = invocation["toolExecutionNotifications"]
    assert notice["message"]["text"] == "binary file"
    outside = output.artifact_uri("/elsewhere/x.py", base=tmp_path)
    assert outside == "file:///elsewhere/x.py"


def test_json_statistics_and_text_statistics() -> None:
    findings = [
        Finding("a.py", 1, 1, 1, 2, "TY201", "m"),
        Finding("a.py", 2, 1, 2, 2, "TY101", "m"),
        Finding("b.py", 2, 1, 2, 2, "TY101", "m"),
    ]
    assert (
        output.statistics(findings, LOOKUP, False)
        == "2\tTY101\ttoy-print\n1\tTY201\ttoy-bare-except\n"
    )
    assert json.loads(output.statistics(findings, LOOKUP, True))[0] == {
        "code": "TY101",
        "name": "toy-print",
        "count": 2,
    }
