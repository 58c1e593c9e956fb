"""Mistakes made while replacing the example: each is one ``error:`` line naming the file and
line of the user's code (or the location) and the exception, exit status 2, nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.inputs import Inputs

from .conftest import cli

BROKEN = {
    "raising_units.py": 'def units(settings):\n    table = {}\n    return [table["station"]]\n',
    "missing_import.py": "import no_such_library\n",
    "syntax_error.py": "def process(unit)\n    pass\n",
    "failing_at_import.py": "import json\n\nLOOKUP = json.loads('{')\n",
}


@pytest.fixture
def broken(workdir: Path) -> Path:
    """The working directory, with modules that fail in the ways conversions do."""
    for name, text in BROKEN.items():
        (workdir / name).write_text(text, encoding="utf-8")
    return workdir


def one_error_line(args: list[str], cwd: Path) -> str:
    result = cli("run", "--no-progress", *args, cwd=cwd)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert not (cwd / "output").exists()
    return result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--units-function", "raising_units:units"],
            "units_function 'raising_units:units' failed: raising_units.py:3: KeyError: 'station'",
        ),
        (
            ["--job", "missing_import"],
            "job 'missing_import' cannot be loaded: missing_import.py:1: ModuleNotFoundError: "
            "No module named 'no_such_library'",
        ),
        (
            ["--job", "syntax_error"],
            "job 'syntax_error' cannot be loaded: syntax_error.py:1: SyntaxError: expected ':'",
        ),
        (
            ["--units-function", "failing_at_import:units"],
            "units_function 'failing_at_import:units' cannot be loaded: failing_at_import.py:3: "
            "JSONDecodeError: Expecting property name enclosed in double quotes",
        ),
    ],
)
def test_user_code_that_fails_is_one_line_naming_file_and_line(
    broken: Path, args: list[str], expected: str
) -> None:
    assert expected in one_error_line(args, broken)


def test_locations_that_do_not_exist_are_one_line(workdir: Path) -> None:
    missing = one_error_line(["--input", "no-such-folder"], workdir)
    assert f"input folder {workdir / 'no-such-folder'} does not exist" in missing
    (workdir / "a-file").write_text("")
    output = one_error_line(["--output", "a-file/output"], workdir)
    assert f"cannot use {workdir / 'a-file' / 'output'}: NotADirectoryError" in output
    state = one_error_line(["--state", "a-file/runs"], workdir)
    assert "state folder a-file/runs cannot be written" in state


def test_inputs_open_read_and_find_files_below_the_input_location(tmp_path: Path) -> None:
    (tmp_path / "day1").mkdir()
    (tmp_path / "day1" / "a.jsonl").write_text('{"x": 1}\n')
    (tmp_path / "day1" / ".hidden.jsonl").write_text("")
    (tmp_path / "lookup.json").write_text('{"a": 1}')
    inputs = Inputs(str(tmp_path))
    assert inputs.find("*/*.jsonl") == ["day1/a.jsonl"]
    assert inputs.find("**/*.json*") == ["day1/a.jsonl", "lookup.json"]
    assert inputs.read_text("lookup.json") == '{"a": 1}'
    with inputs.open("day1/a.jsonl") as handle:
        assert handle.read() == b'{"x": 1}\n'
    with pytest.raises(UserError, match="does not exist"):
        Inputs(str(tmp_path / "nowhere")).find("*")
