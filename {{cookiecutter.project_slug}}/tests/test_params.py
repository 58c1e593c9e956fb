"""Run parameters: declared in process.py, set in pyproject.toml and on the command line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import params
from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.testing import unit_for_test
from {{ cookiecutter.package_name }}.units import Unit
from {{ cookiecutter.package_name }}.worker import Job, Worker

from .conftest import cli, settings

TABLE = "[tool.{{ cookiecutter.package_name }}.params]"


def set_file_params(workdir: Path, body: str) -> None:
    pyproject = workdir / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    head, _, tail = text.partition(TABLE + "\n")
    rest = "\n[" + tail.split("\n[", 1)[1] if "\n[" in tail else ""
    pyproject.write_text(f"{head}{TABLE}\n{body}\n{rest}", encoding="utf-8")


def test_file_sets_a_parameter_and_the_command_line_wins(workdir: Path) -> None:
    set_file_params(workdir, "decimals = 1")
    first = cli("run", "--no-progress", cwd=workdir)
    assert "params=decimals=1" in first.stderr.replace('"', "")
    assert "params: decimals=1" in first.stdout
    assert json.loads((workdir / "output" / "tile_000.json").read_text())["mean"] == 46.3
    summary = next((workdir / "runs").glob("*/summary.json"))
    assert json.loads(summary.read_text())["params"] == {"decimals": 1}

    second = cli("run", "--no-progress", "--overwrite", "--param", "decimals=3", cwd=workdir)
    assert "params: decimals=3" in second.stdout
    assert json.loads((workdir / "output" / "tile_000.json").read_text())["mean"] == 46.338


@pytest.mark.parametrize(
    ("body", "args", "message"),
    [
        ("separator = '|'", (), "unknown parameter 'separator' (known: decimals)"),
        ("decimals = 'two'", (), "parameter decimals = 'two' should be a whole number"),
        ("", ("--param", "decimals=2.5"), "--param: parameter decimals = '2.5' should be a whole"),
        ("", ("--param", "decimals"), "--param 'decimals' is not of the form KEY=VALUE"),
    ],
)
def test_bad_parameters_are_one_line_errors(
    workdir: Path, body: str, args: tuple[str, ...], message: str
) -> None:
    set_file_params(workdir, body)
    result = cli("run", *args, cwd=workdir)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not (workdir / "output").exists()


@dataclass(frozen=True)
class Typed:
    name: str = "a"
    ratio: float = 0.5
    flag: bool = False
    limit: int | None = None
    tags: list[str] | None = None
    where: Path | None = None


@dataclass(frozen=True)
class Located:
    lookup: Path = Path("lookup.csv")


def test_values_from_the_command_line_take_the_fields_type() -> None:
    raw = params.parse_assignments(
        ["name=b=c", "ratio=2", "flag=yes", "limit=", "tags=x,y", "limit=7"]
    )
    assert params.resolve(Typed, raw) == Typed("b=c", 2.0, True, 7, ["x", "y"])
    with pytest.raises(UserError, match="file: parameter flag = 1 should be true or false"):
        params.resolve(Typed, [("flag", 1, "file")])
    with pytest.raises(UserError, match="flag = 'maybe' should be true or false"):
        params.resolve(Typed, params.parse_assignments(["flag=maybe"]))
    with pytest.raises(UserError, match=r"^--param: parameter lookup = '' should be a path$"):
        params.resolve(Located, params.parse_assignments(["lookup="]))  # not Path("") == "."
    assert params.resolve(Located, params.parse_assignments(["lookup=a/b.csv"])).lookup == Path(
        "a/b.csv"
    )
    assert params.digest(Typed()) == params.digest(Typed())
    assert params.digest(Typed()) != params.digest(Typed(ratio=0.25))


def record_params(settings: Settings) -> object:
    return settings.params


def writes_params(unit: Unit[object]) -> None:
    unit.output.write_text(json.dumps([repr(unit.params), repr(unit.resources)]))


def test_setup_and_process_see_the_same_parameters(tmp_path: Path) -> None:
    config = params.bind(settings(tmp_path, param_values=(("ratio", 2, "test"),)), Typed)
    (tmp_path / "output").mkdir()
    worker = Worker(Job(writes_params, record_params, ".json", params=Typed), config)
    try:
        assert worker.attempt("tile_000").ok
    finally:
        worker.close()
    seen = json.loads((tmp_path / "output" / "tile_000.json").read_text())
    assert seen == [repr(Typed(ratio=2.0)), repr(Typed(ratio=2.0))]


TYPED = Job(writes_params, record_params, ".json", params=Typed)


def test_unit_for_test_takes_some_parameters_as_a_dict(tmp_path: Path) -> None:
    given = {"ratio": 2, "where": tmp_path / "lookup.csv"}
    unit = unit_for_test("t", inputs=tmp_path, output=tmp_path, job=f"{__name__}:TYPED", params=given)
    assert unit.params == Typed(ratio=2.0, where=tmp_path / "lookup.csv")
    assert unit.resources == unit.params  # what setup() saw
    with pytest.raises(UserError, match=r"^unit_for_test\(params=...\): unknown parameter 'ration'"):
        unit_for_test("t", inputs=tmp_path, output=tmp_path, job=f"{__name__}:TYPED", params={"ration": 2})
