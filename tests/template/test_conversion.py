"""The baked README's "Replacing the example with your work", performed step by step on a copy
of every baked project with a job unlike the example: JSON-lines inputs in sub-folders, a
lookup table loaded in ``setup()``, a ported module of untyped code with long lines. Then
``example/`` is gone and every check of the production checklist must pass (the converted
suite in full in ``CONVERTED_IN_FULL``, which holds every optional module)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from .conftest import CONVERTED_IN_FULL, Baked, collects_every_module, install, mypy_cache

#: Step 1: a module moved over from a research script as it was (untyped, long lines, terse
#: names): legacy/ accepts it; unitwise-lint still checks it.
LEGACY = """\
# Ported from analysis/hourly_temps.py as it was.
import json, math
from collections import defaultdict

def summarise(lines, regions):
    by_hour = defaultdict(list)
    for l in lines:
        if not l.strip(): continue
        r = json.loads(l)
        by_hour[r['time'][:13]].append(float(r['temp_c']) if r.get('temp_c') is not None else float('nan'))
    out = []
    for hour, vals in sorted(by_hour.items()):
        good = [v for v in vals if not math.isnan(v)]
        out.append({'station': r['station'], 'region': regions.get(r['station'], 'unknown'), 'hour': hour, 'n': len(good), 'mean_temp_c': round(sum(good)/len(good), 3) if good else ''})
    return out

def to_csv(rows):
    cols = ['station','region','hour','n','mean_temp_c']
    s = ','.join(cols) + '\\n'
    for row in rows: s += ','.join([str(row[c]) for c in cols]) + '\\n'
    return s
"""

#: Step 2: process.py around it; {units} is the README's units function, verbatim.
PROCESS = '''\
"""Hourly mean temperatures: one unit per station and day (inputs/<station>/<day>.jsonl)."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from .inputs import Inputs
from .legacy import stations
from .log import step
from .settings import Settings
from .units import Unit

OUTPUT_SUFFIX = ".csv"


@dataclass(frozen=True)
class Resources:
    """The region of every station, read once per worker."""

    regions: dict[str, str]


def setup(settings: Settings) -> Resources:
    with Inputs(settings.input).open("regions.yaml") as handle:
        regions = yaml.safe_load(handle)
    return Resources(regions={{str(key): str(value) for key, value in regions.items()}})


{units}

def process(unit: Unit[Resources]) -> None:
    station, day = unit.id.split("__")
    with step("read"):
        lines = unit.input(f"{{station}}/{{day}}.jsonl").read_text(encoding="utf-8").splitlines()
    with step("compute"):
        rows = stations.summarise(lines, unit.resources.regions)
    with step("write"):
        unit.output.write_text(stations.to_csv(rows), encoding="utf-8")
'''

#: Step 4: the user's test module, adapted.
TEST_PROCESS = '''\
"""Tests of process() on a unit or two, without the runner."""

from __future__ import annotations

from pathlib import Path

from {package}.process import process
from {package}.testing import unit_for_test

INPUTS = Path(__file__).parent / "sample"


def test_a_station_day_gives_hourly_means(tmp_path: Path) -> None:
    unit = unit_for_test("north__2024-01-01", inputs=INPUTS, output=tmp_path)
    process(unit)
    assert unit.output.read_text().splitlines() == [
        "station,region,hour,n,mean_temp_c",
        "north,highlands,2024-01-01T00,2,1.5",
        "north,highlands,2024-01-01T01,1,-2.0",
    ]
'''

STATIONS = {"north": "highlands", "south": "coast"}
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]


def write_inputs(inputs: Path) -> list[str]:
    """JSON-lines files in one folder per station, and the lookup table; returns the ids."""
    ids = []
    for station in STATIONS:
        (inputs / station).mkdir(parents=True)
        for day in DAYS:
            records = [
                {"station": station, "time": f"{day}T00:10", "temp_c": 1.0},
                {"station": station, "time": f"{day}T00:40", "temp_c": 2.0},
                {"station": station, "time": f"{day}T01:10", "temp_c": -2.0},
                {"station": station, "time": f"{day}T01:20", "temp_c": None},
            ]
            lines = "".join(json.dumps(record) + "\n" for record in records)
            (inputs / station / f"{day}.jsonl").write_text(lines + "\n")
            ids.append(f"{station}__{day}")
    regions = "".join(f"{station}: {region}\n" for station, region in STATIONS.items())
    (inputs / "regions.yaml").write_text(regions)
    return ids


def readme_units_function(readme: str) -> str:
    """The units function of the README's conversion steps, as a user would copy it."""
    section = readme.split("<!-- conversion:start -->")[1].split("<!-- conversion:end -->")[0]
    [block] = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    lines = block.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines).strip() + "\n"


def convert(root: Path, package: str) -> list[str]:
    """The README's steps 1 to 5 on the project in ``root``; returns the unit ids."""
    readme = (root / "README.md").read_text()
    assert "<!-- conversion:start -->" in readme
    # 1. The ported code goes to legacy/.
    (root / "src" / package / "legacy" / "stations.py").write_text(LEGACY)
    # 2. process.py around it, with the README's units function.
    units = readme_units_function(readme)
    assert "Inputs(settings.input).find(" in units
    (root / "src" / package / "process.py").write_text(PROCESS.format(units=units))
    # 3. The settings point at the data and the units function.
    ids = write_inputs(root / "data" / "inputs")
    pyproject = (root / "pyproject.toml").read_text()
    table = (
        f'[tool.{package}]\ninput = "example/inputs"\noutput = "output"\nstate = "runs"\n'
        'units_file = "example/units.txt"\n'
    )
    assert table in pyproject
    mine = (
        f'[tool.{package}]\ninput = "data/inputs"\noutput = "output"\nstate = "runs"\n'
        f'units_function = "{package}.process:units"\n'
    )
    # 5. yaml has no type hints (and types-PyYAML is not installed): silence it.
    untyped = re.compile(r"(# Libraries without type hints or stubs.*?\nmodule = \[)", re.DOTALL)
    assert untyped.search(pyproject), "the ignore_missing_imports override is gone"
    # The example's parameters go with it (this job declares no Params).
    example_params = f"[tool.{package}.params]\ndecimals = 6\n"
    assert example_params in pyproject
    pyproject = pyproject.replace(example_params, f"[tool.{package}.params]\n")
    pyproject = untyped.sub(r'\1"yaml.*", ', pyproject.replace(table, mine))
    (root / "pyproject.toml").write_text(pyproject)
    # 4. The example goes; tests/test_process.py is adapted to a sample of the inputs.
    shutil.rmtree(root / "example")
    shutil.copytree(root / "data" / "inputs", root / "tests" / "sample")
    return ids


def suite_scope(project: Baked) -> list[str]:
    """pytest's arguments for the converted project's suite: whole in ``CONVERTED_IN_FULL``;
    elsewhere (its runner tests ran on the pristine bake) the adapted tests of process(), and
    every module must still be collected."""
    if project.combo.slug == CONVERTED_IN_FULL:
        return []
    collects_every_module(project)
    return [str(Path("tests", "test_process.py"))]


@pytest.fixture
def converted(baked: Baked, tmp_path: Path) -> Baked:
    """A copy of the baked project, converted, installed in an environment of its own."""
    root = tmp_path / baked.root.name
    shutil.copytree(
        baked.root, root, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", ".*cache")
    )
    return Baked(baked.combo, root, install(root, tmp_path / "venv"))


def test_a_converted_project_passes_every_check_of_the_checklist(
    converted: Baked, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project, package = converted.root, converted.combo.package
    python, command = converted.python, converted.python.parent / converted.combo.slug
    ids = convert(project, package)

    # Until it is adapted, tests/test_process.py is the one module that fails.
    test_process = Path("tests", "test_process.py")
    before = converted.run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_process)
    assert before.returncode == 1 and "example" in before.stdout, before.stdout[-2000:]
    (project / "tests" / "test_process.py").write_text(TEST_PROCESS.format(package=package))

    # 6. Debug on a few units, in one process.
    debug = converted.run(command, "run", "--debug", "--limit", "3", "--no-progress")
    assert debug.returncode == 0, debug.stdout + debug.stderr
    assert "3 done, 0 skipped (already done), 0 failed, 3 pending" in debug.stdout

    # 7. The checks: pytest, ruff, ruff format, mypy, unitwise-lint.
    checks: dict[str, list[str | Path]] = {
        "pytest": [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suite_scope(converted)],
        "ruff": [python, "-m", "ruff", "check", "--no-cache", "."],
        "ruff format": [python, "-m", "ruff", "format", "--check", "--no-cache", "."],
        "mypy": [python, "-m", "mypy", "--cache-dir", mypy_cache(tmp_path_factory)],
        "unitwise-lint": [python, "-m", "unitwise_lint", "check", "--no-cache", "src/"],
    }
    for name, args in checks.items():
        result = converted.run(*args)
        assert result.returncode == 0, f"{name}:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"

    # The production checklist's run commands, on a complete run.
    full = converted.run(command, "run", "--no-progress")
    assert full.returncode == 0, full.stdout + full.stderr
    again = converted.run(command, "run", "--no-progress")
    assert f"0 done, {len(ids)} skipped (already done)" in again.stdout
    status = converted.run(command, "status")
    assert "pending: 0" in status.stdout and "eta:" in status.stdout
    outputs = sorted(path.name for path in (project / "output").iterdir())
    assert outputs == sorted(f"{unit_id}.csv" for unit_id in ids)
    assert f"done:    {len(outputs)}" in status.stdout
    log = sorted((project / "runs").glob("*/run.log"))[-2].read_text().splitlines()
    events = [line.split()[2] for line in log]
    assert events.count("START") == events.count("END") + events.count("FAIL") > 0
    paths = re.findall(r" output=(\S+)", "\n".join(line for line in log if " END " in line))
    assert paths and all(Path(path).is_file() for path in paths)
    assert converted.run(command, "failed").stdout.startswith("0 failed units")
    north = (project / "output" / "north__2024-01-02.csv").read_text().splitlines()
    assert north[1] == "north,highlands,2024-01-02T00,2,1.5"
