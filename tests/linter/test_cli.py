"""The command line, run for real: formats, exit codes, errors, fixes, jobs and the cache.

These run ``python -m unitwise_lint`` in a subprocess against the real rules, selecting only
UW301 (bare except) and UW401 (print) whose behaviour on the snippets below is stable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from unitwise_lint.registry import all_rules

GOOD = "import logging\n\nlogger = logging.getLogger(__name__)\n"
BAD = (
    GOOD + "\n\ndef f():\n    try:\n        run()\n    except:  # why\n"
    '        logger.info("x")\n\n\nprint("done")  # the end\n'
)
SELECT = ["--select", "UW301,UW401"]


def lint(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "unitwise_lint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        input=stdin,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "pkg" / "good.py").write_text(GOOD, encoding="utf-8")
    return tmp_path


def test_text_format_and_exit_status(project: Path) -> None:
    result = lint("check", *SELECT, "--no-cache", "pkg", cwd=project)
    assert result.returncode == 1, result.stderr
    bad = os.path.join("pkg", "bad.py")
    assert result.stdout.splitlines() == [
        f"{bad}:9:5: UW301 {_message('UW301')}",
        f"{bad}:13:1: UW401 {_message('UW401')}",
    ]
    assert result.stderr == ""
    clean = lint(*SELECT, "--no-cache", "pkg/good.py", cwd=project)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")


def _message(code: str) -> str:
    return next(rule.message for rule in all_rules() if rule.code == code)


def test_json_format(project: Path) -> None:
    result = lint(*SELECT, "--no-cache", "--format", "json", ".", cwd=project)
    assert result.returncode == 1
    rows = json.loads(result.stdout)
    assert [(r["path"], r["line"], r["column"], r["code"]) for r in rows] == [
        (os.path.join("pkg", "bad.py"), 9, 5, "UW301"),
        (os.path.join("pkg", "bad.py"), 13, 1, "UW401"),
    ]
    first = rows[0]
    assert (first["end_line"], first["end_column"], first["name"], first["cell"]) == (
        10,
        25,
        "bare-except",
        None,
    )
    assert first["message"] == _message("UW301")


def test_sarif_format(project: Path) -> None:
    result = lint(*SELECT, "--no-cache", "--format", "sarif", ".", cwd=project)
    assert result.returncode == 1
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "unitwise-lint"
    assert [rule["id"] for rule in rules] == ["UW301", "UW401"]
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"] and rule["help"]["text"]
    assert run["invocations"][0]["executionSuccessful"] is True
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["UW301", "UW401"]
    for item in results:
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]
        assert item["level"] == "error"
        assert item["message"]["text"]
        location = item["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "pkg/bad.py"
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 9,
        "startColumn": 5,
        "endLine": 10,
        "endColumn": 25,
    }


def test_github_format(project: Path) -> None:
    result = lint(*SELECT, "--no-cache", "--format", "github", "pkg/bad.py", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "::error file=pkg/bad.py,line=9,col=5,endLine=10,endColumn=25,"
        f"title=UW301 bare-except::{_message('UW301')}"
    )


def test_statistics(project: Path) -> None:
    (project / "pkg" / "more.py").write_text('print("a")\nprint("b")\n', encoding="utf-8")
    result = lint(*SELECT, "--no-cache", "--statistics", ".", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["3\tUW401\tprint-logging", "1\tUW301\tbare-except"]
    as_json = lint(*SELECT, "--no-cache", "--statistics", "--format", "json", ".", cwd=project)
    assert json.loads(as_json.stdout) == [
        {"code": "UW401", "name": "print-logging", "count": 3},
        {"code": "UW301", "name": "bare-except", "count": 1},
    ]


def test_unreadable_files_are_errors_and_the_rest_is_checked(project: Path) -> None:
    pkg = project / "pkg"
    (pkg / "binary.py").write_bytes(b"\x7fELF\x00\x01\x02")
    (pkg / "latin.py").write_bytes(b'name = "caf\xe9"\n')
    (pkg / "declared.py").write_bytes(b'# -*- coding: latin-1 -*-\nname = "caf\xe9"\n')
    (pkg / "syntax.py").write_text("def f(:\n    pass\n", encoding="utf-8")
    (pkg / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    result = lint(*SELECT, "--no-cache", "pkg", cwd=project)
    assert result.returncode == 2
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        os.path.join("pkg", "bad.py")
    ] * 2
    errors = result.stderr.splitlines()
    path = os.path.join("pkg", "")
    assert errors == [
        f"unitwise-lint: error: {path}binary.py: binary file (contains NUL bytes), not Python "
        "source",
        f"unitwise-lint: error: {path}broken.ipynb: invalid notebook: not valid JSON (Expecting "
        "value at line 1 column 12)",
        f"unitwise-lint: error: {path}latin.py: cannot decode as UTF-8 at line 1: invalid "
        "continuation byte (byte 0xe9 at offset 11)",
        f"unitwise-lint: error: {path}syntax.py: syntax error at line 1, column 7: invalid syntax",
    ]


def test_missing_path_is_an_error(project: Path) -> None:
    result = lint(*SELECT, "--no-cache", "nope.py", "pkg/good.py", cwd=project)
    assert result.returncode == 2
    assert result.stderr == "unitwise-lint: error: nope.py: no such file or directory\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml", "."], "argument --format: invalid choice: 'xml'"),
        (["--jobs", "0", "."], "argument --jobs/-j: must be at least 1"),
        (["--select", "UW9", "."], "--select: unknown rule code or prefix 'UW9'"),
        (["--ignore", "XX1", "."], "--ignore: unknown rule code or prefix 'XX1'"),
        (["--fix", "--diff", "."], "argument --diff: not allowed with argument --fix"),
        (["--statistics", "--format", "sarif", "."], "--statistics works with --format text"),
        (["explain", "UW999"], "unknown rule 'UW999'"),
        (["--config", "missing.toml", "."], "--config missing.toml: no such file"),
    ],
)
def test_usage_errors_are_one_line(project: Path, args: list[str], message: str) -> None:
    result = lint(*args, cwd=project)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("unitwise-lint: error: ")
    assert message in line


def test_config_error_is_one_line_naming_file_and_key(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.unitwise-lint.UW101]\nmax-items = 'many'\n", encoding="utf-8"
    )
    result = lint("pkg", cwd=project)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"unitwise-lint: error: {(project / 'pyproject.toml').resolve()}: ")
    assert "[tool.unitwise-lint.UW101]" in line


def test_config_selects_and_ignores_per_file(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.unitwise-lint]\nselect = ["UW3", "UW4"]\nexclude = ["skipped"]\n'
        '[tool.unitwise-lint.per-file-ignores]\n"pkg/*.py" = ["UW401"]\n',
        encoding="utf-8",
    )
    (project / "skipped").mkdir()
    (project / "skipped" / "x.py").write_text("print(1)\n", encoding="utf-8")
    (project / "top.py").write_text("print(1)\n", encoding="utf-8")
    result = lint("--no-cache", "--format", "json", ".", cwd=project)
    assert [(r["path"], r["code"]) for r in json.loads(result.stdout)] == [
        (os.path.join("pkg", "bad.py"), "UW301"),
        ("top.py", "UW401"),
    ]
    narrowed = lint("--no-cache", "--select", "UW401", "--format", "json", ".", cwd=project)
    assert [r["code"] for r in json.loads(narrowed.stdout)] == ["UW401"]


def test_noqa_through_the_cli(project: Path) -> None:
    (project / "pkg" / "bad.py").write_text(
        BAD.replace("# why", "# NOQA:UW301").replace("# the end", "# noqa"), encoding="utf-8"
    )
    result = lint(*SELECT, "--no-cache", "pkg", cwd=project)
    assert (result.returncode, result.stdout) == (0, "")


def test_diff_then_fix_preserve_comments(project: Path) -> None:
    bad = project / "pkg" / "bad.py"
    diff = lint(*SELECT, "--diff", "pkg", cwd=project)
    assert diff.returncode == 1
    assert bad.read_text(encoding="utf-8") == BAD
    assert "-    except:  # why\n+    except Exception:  # why\n" in diff.stdout
    assert '-print("done")  # the end\n+logger.info("done")  # the end\n' in diff.stdout
    assert diff.stdout.startswith(f"--- a/{os.path.join('pkg', 'bad.py')}\n")

    fixed = lint(*SELECT, "--fix", "pkg", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    text = bad.read_text(encoding="utf-8")
    assert '    except Exception:  # why\n        logger.info("x")\n' in text
    assert 'logger.info("done")  # the end\n' in text
    # The print ran at import time: logging is configured right after the logger.
    assert "logging.basicConfig(level=logging.INFO" in text
    assert "fixed 2, 0 remaining" in fixed.stderr
    again = lint(*SELECT, "--diff", "pkg", cwd=project)
    assert (again.returncode, again.stdout) == (0, "")
    # Findings without a fix do not make --diff fail.
    (project / "pkg" / "unfixable.py").write_text(
        "import sys\n\nprint('slow', file=sys.stderr)\n", encoding="utf-8"
    )
    unfixable = lint(*SELECT, "--diff", "pkg", cwd=project)
    assert (unfixable.returncode, unfixable.stdout) == (0, "")
    assert lint(*SELECT, "--no-cache", "pkg", cwd=project).returncode == 1


def test_notebook_through_the_cli(project: Path) -> None:
    cells = [
        {"cell_type": "markdown", "source": ["# Title"], "metadata": {}},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "print(1)\n"], "metadata": {}},
    ]
    path = project / "analysis.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}), encoding="utf-8")
    result = lint("--select", "UW401", "--no-cache", "analysis.ipynb", cwd=project)
    assert result.returncode == 1
    assert result.stdout == f"analysis.ipynb:cell 2:2:1: UW401 {_message('UW401')}\n"
    as_json = json.loads(
        lint(
            "--select", "UW401", "--no-cache", "--format", "json", "analysis.ipynb", cwd=project
        ).stdout
    )
    assert (as_json[0]["cell"], as_json[0]["line"]) == (2, 2)
    fix = lint("--select", "UW401", "--fix", "analysis.ipynb", cwd=project)
    assert "not fixed: fixing notebooks is not supported" in fix.stderr
    assert json.loads(path.read_text(encoding="utf-8"))["cells"] == cells


def test_parallel_output_equals_serial_output(project: Path) -> None:
    # Enough source (over PARALLEL_MIN_BYTES) for the pool to be used.
    for number in range(24):
        body = (BAD if number % 3 else GOOD + f"print({number})\n") * 60
        (project / "pkg" / f"m{number:02}.py").write_text(body, encoding="utf-8")
    (project / "pkg" / "broken.py").write_text("x = (\n", encoding="utf-8")
    serial = lint("--no-cache", "--jobs", "1", "--format", "json", ".", cwd=project)
    parallel = lint("--no-cache", "--jobs", "3", "--format", "json", ".", cwd=project)
    assert serial.returncode == parallel.returncode == 2
    assert len(json.loads(serial.stdout)) > 2000
    assert parallel.stdout == serial.stdout
    assert parallel.stderr == serial.stderr


def test_cache_serves_unchanged_files_and_rechecks_changed_ones(project: Path) -> None:
    first = lint(*SELECT, "--format", "json", ".", cwd=project)
    cache_files = list((project / ".unitwise-lint-cache").glob("*.json"))
    assert len(cache_files) == 1
    assert (project / ".unitwise-lint-cache" / ".gitignore").read_text().endswith("*\n")
    second = lint(*SELECT, "--format", "json", ".", cwd=project)
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)

    # Prove the second run was served from the cache: doctor the entry and see it come back.
    document = json.loads(cache_files[0].read_text(encoding="utf-8"))
    key = str((project / "pkg" / "bad.py").resolve())
    document["files"][key][1][0][5] = "from the cache"
    cache_files[0].write_text(json.dumps(document), encoding="utf-8")
    cached = json.loads(lint(*SELECT, "--format", "json", ".", cwd=project).stdout)
    assert cached[0]["message"] == "from the cache"

    # A changed file is checked again.
    (project / "pkg" / "bad.py").write_text(BAD.replace("print", "logger.info"), "utf-8")
    changed = json.loads(lint(*SELECT, "--format", "json", ".", cwd=project).stdout)
    assert [(r["code"], r["message"]) for r in changed] == [("UW301", _message("UW301"))]

    # Different settings do not share results.
    other = lint("--select", "UW401", "--format", "json", ".", cwd=project)
    assert json.loads(other.stdout) == []
    assert len(list((project / ".unitwise-lint-cache").glob("*.json"))) == 2


def test_rules_and_explain(project: Path) -> None:
    listing = lint("rules", cwd=project)
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [rule.code for rule in all_rules()]
    assert lines[0].split()[1] == all_rules()[0].name
    explained = lint("explain", "UW301", cwd=project)
    assert explained.returncode == 0
    rule = next(rule for rule in all_rules() if rule.code == "UW301")
    assert explained.stdout.startswith(f"UW301 (bare-except): {rule.message}\n")
    assert rule.rationale.split()[0] in explained.stdout
    assert "Flagged:" in explained.stdout and "Accepted:" in explained.stdout
    assert rule.VALID[0].code.splitlines()[0] in explained.stdout


def test_version_and_console_script(project: Path) -> None:
    result = lint("--version", cwd=project)
    assert result.returncode == 0
    assert result.stdout.startswith("unitwise-lint ")
