"""Precision and recall of unitwise-lint on a corpus of realistic research code.

``data/corpus`` holds research scripts and notebooks written for this test (per-file loops over
rasters, CSVs and Parquet, concat-then-write, experiment drivers over seeds, scripts that
already write one output per unit, multiprocessing with shared globals, clean files). Every
line that should get a finding ends with ``# expect: CODE[, CODE]`` (a comment: the engine
does not see it). The whole corpus goes through the command line, and each finding is matched
with the expectations by file, cell, line and code. Run this file directly for the table per
rule that bench/RESULTS.md reports:

    PYTHONPATH=linter python tests/linter/test_corpus.py
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from unitwise_lint.cli import main

CORPUS = Path(__file__).parent / "data" / "corpus"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>UW\d+(?:\s*,\s*UW\d+)*)")

#: (file name, cell or None, line, code)
Key = tuple[str, "int | None", int, str]


def _expected_in(lines: list[str], name: str, cell: int | None) -> set[Key]:
    found: set[Key] = set()
    for number, line in enumerate(lines, start=1):
        match = _EXPECT.search(line)
        if match:
            for code in re.split(r"\s*,\s*", match["codes"]):
                found.add((name, cell, number, code))
    return found


def expected() -> set[Key]:
    """Every finding the corpus's ``# expect:`` comments ask for."""
    keys: set[Key] = set()
    for path in sorted(CORPUS.iterdir()):
        if path.suffix == ".py":
            keys |= _expected_in(path.read_text().splitlines(), path.name, None)
        elif path.suffix == ".ipynb":
            for number, cell in enumerate(json.loads(path.read_text())["cells"], start=1):
                if cell["cell_type"] == "code":
                    text = "".join(cell["source"])
                    keys |= _expected_in(text.splitlines(), path.name, number)
    return keys


def found(capsys: pytest.CaptureFixture[str] | None = None) -> set[Key]:
    """Every finding of a real ``unitwise-lint check`` run over the corpus."""
    if capsys is None:
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            status = main([str(CORPUS), "--no-cache", "--format", "json", "--jobs", "1"])
        out = buffer.getvalue()
    else:
        status = main([str(CORPUS), "--no-cache", "--format", "json", "--jobs", "1"])
        out = capsys.readouterr().out
    assert status == 1, "the corpus has findings: exit status 1"
    return {(Path(f["path"]).name, f["cell"], f["line"], f["code"]) for f in json.loads(out)}


def scores(wanted: set[Key], got: set[Key]) -> dict[str, dict[str, float]]:
    """True/false positives and misses, precision and recall, per rule and overall."""
    table: dict[str, dict[str, float]] = {}
    codes = sorted({key[3] for key in wanted | got})
    for code in [*codes, "all"]:
        want = {k for k in wanted if code in ("all", k[3])}
        have = {k for k in got if code in ("all", k[3])}
        hits = len(want & have)
        table[code] = {
            "expected": len(want),
            "found": len(have),
            "right": hits,
            "precision": hits / len(have) if have else 1.0,
            "recall": hits / len(want) if want else 1.0,
        }
    return table


def test_corpus_is_realistic_and_varied() -> None:
    scripts = sorted(CORPUS.glob("*.py"))
    notebooks = sorted(CORPUS.glob("*.ipynb"))
    assert len(scripts) >= 15 and len(notebooks) >= 3
    wanted = expected()
    files_with_expectations = {key[0] for key in wanted}
    clean = [p for p in [*scripts, *notebooks] if p.name not in files_with_expectations]
    assert len(clean) >= 3, "a few files must stay clean"
    # Every rule the issue is about appears in the expectations.
    for code in ("UW102", "UW201", "UW202", "UW301", "UW302", "UW303", "UW401", "UW402"):
        assert any(key[3] == code for key in wanted), code


def test_precision_and_recall_are_at_least_95_percent(capsys: pytest.CaptureFixture[str]) -> None:
    wanted = expected()
    got = found(capsys)
    table = scores(wanted, got)
    report = f"false: {sorted(got - wanted)}; missed: {sorted(wanted - got)}"
    assert table["all"]["precision"] >= 0.95, report
    assert table["all"]["recall"] >= 0.95, report


def test_one_finding_per_line_and_code_in_the_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    main([str(CORPUS), "--no-cache", "--format", "json", "--jobs", "1"])
    rows = json.loads(capsys.readouterr().out)
    counts = Counter((Path(r["path"]).name, r["cell"], r["line"], r["code"]) for r in rows)
    assert max(counts.values()) == 1


if __name__ == "__main__":
    table = scores(expected(), found())
    print(f"{'rule':<6} {'expected':>8} {'found':>6} {'right':>6} {'precision':>9} {'recall':>7}")
    for code, row in table.items():
        print(
            f"{code:<6} {row['expected']:>8.0f} {row['found']:>6.0f} {row['right']:>6.0f} "
            f"{row['precision']:>9.3f} {row['recall']:>7.3f}"
        )
    sys.exit(0)
