"""Bad answers stop the bake with one clear line and leave nothing behind; answers are data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .conftest import TEMPLATE


def bake(tmp_path: Path, *answers: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            str(TEMPLATE),
            "-o",
            str(tmp_path),
            *answers,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        (["project_slug=1-bad"], "ERROR: project_slug '1-bad' is not a valid identifier"),
        (["project_slug=Bad_Slug"], "ERROR: project_slug 'Bad_Slug' is not a valid identifier"),
        (["package_name=my-pkg"], "ERROR: package_name 'my-pkg' is not a valid Python identifier"),
        (["package_name=class"], "ERROR: package_name 'class' is a Python keyword"),
        (["package_name=json"], "ERROR: package_name 'json' shadows the standard-library module"),
        (["package_name=Tile"], "ERROR: package_name 'Tile' must be lowercase"),
        (["python_version=2.7"], "ERROR: python_version '2.7' is not supported"),
        (["author_email=nobody"], "ERROR: author_email 'nobody' is not an email address"),
        (["description=two\nlines"], "ERROR: description 'two\\nlines' must be one non-empty line"),
    ],
)
def test_bad_answers_fail_with_one_clear_line_and_no_directory(
    tmp_path: Path, answers: list[str], error: str
) -> None:
    result = bake(tmp_path, *answers)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert errors[0].startswith(error), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_quotes_and_braces_in_answers_stay_data(tmp_path: Path) -> None:
    # cookiecutter itself renders "{{ ... }}" in answers; everything else must stay text.
    hostile = "x\"); import os; os.system('touch PWNED'); (\"{braces} }'''\\"
    result = bake(tmp_path / "out", f"description={hostile}", f"author_name={hostile}")
    assert result.returncode == 0, result.stderr
    assert not any(Path.cwd().glob("PWNED")) and not any(tmp_path.rglob("PWNED"))
    project = tmp_path / "out" / "tile-processor"
    answers = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert answers["author_name"] == hostile
    assert answers["description"] == hostile
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == hostile
    assert pyproject["project"]["authors"][0]["name"] == hostile


def test_default_bake_prints_next_steps(tmp_path: Path) -> None:
    result = bake(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "tile-processor run" in result.stdout
    assert (tmp_path / "tile-processor" / "src" / "tile_processor" / "process.py").is_file()


def test_rendered_hooks_are_ruff_and_mypy_clean(tmp_path: Path) -> None:
    """The hooks are Jinja templates; what cookiecutter renders from them must be clean code."""
    from cookiecutter.environment import StrictEnvironment
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    context = generate_context(context_file=str(TEMPLATE / "cookiecutter.json"))
    context["cookiecutter"] = prompt_for_config(context, no_input=True)
    context["cookiecutter"]["_template"] = str(TEMPLATE)
    environment = StrictEnvironment(context=context, keep_trailing_newline=True)
    for hook in sorted((TEMPLATE / "hooks").glob("*.py")):
        rendered = environment.from_string(hook.read_text()).render(**context)
        (tmp_path / hook.name).write_text(rendered)
    for command in (
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", str(tmp_path)],
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(tmp_path)],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
