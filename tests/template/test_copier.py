"""copier renders the same template (copier.yml) into the same project as cookiecutter does.

Every combination of the choice answers is rendered by both tools, each running its own
equivalent of the hooks (validators, pruning, ruff format); the trees must be byte-identical
apart from each tool's own record of the answers. Rendering only: nothing is installed.
"""

from __future__ import annotations

import itertools
import json
import stat
from pathlib import Path

import copier
import pytest
import yaml
from cookiecutter.main import cookiecutter

from .conftest import TEMPLATE
from .template_copy import copy_template

CHOICES = json.loads((TEMPLATE / "cookiecutter.json").read_text())
PYTHONS: list[str] = CHOICES["_supported_pythons"]
#: Names of several lengths, so that ruff's line breaks differ between bakes.
NAMES = ["Tile Processor", "Q", "An Unusually Long Project Name For Breaking Lines Differently"]
COMBOS = [
    {
        "storage": storage,
        "scale_out": scale_out,
        "license": license_,
        "python_version": PYTHONS[n % len(PYTHONS)],
        "project_name": NAMES[n % len(NAMES)],
    }
    for n, (storage, scale_out, license_) in enumerate(
        itertools.product(CHOICES["storage"], CHOICES["scale_out"], CHOICES["license"])
    )
]
#: Each renderer's record of the answers: cruft's state (only from a git checkout) and copier's.
RECORDS = {".cruft.json", ".copier-answers.yml"}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as it is on disk, outside git (so both tools render the working tree)."""
    return copy_template(tmp_path_factory.mktemp("template"))


def snapshot(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file's bytes and executable bit, by relative path."""
    return {
        path.relative_to(root).as_posix(): (
            path.read_bytes(),
            bool(path.stat().st_mode & stat.S_IXUSR),
        )
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name not in RECORDS
    }


@pytest.mark.parametrize(
    "answers", COMBOS, ids=lambda a: f"{a['storage']}-{a['scale_out']}-{a['license']}"
)
def test_copier_and_cookiecutter_render_identical_trees(
    source: Path, tmp_path: Path, answers: dict[str, str]
) -> None:
    baked = Path(
        cookiecutter(
            str(source), no_input=True, extra_context=answers, output_dir=str(tmp_path / "cc")
        )
    )
    copied = tmp_path / "copier" / baked.name
    copier.run_copy(str(source), str(copied), data=answers, defaults=True, unsafe=True, quiet=True)
    ours, theirs = snapshot(baked), snapshot(copied)
    assert sorted(ours) == sorted(theirs)
    different = [name for name in ours if ours[name] != theirs[name]]
    assert different == []
    recorded = yaml.safe_load((copied / ".copier-answers.yml").read_text())
    assert {key: recorded[key] for key in answers} == answers
    assert "cookiecutter" not in recorded  # computed for the templates, never stored


def test_copier_questions_mirror_cookiecutter_json() -> None:
    questions = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    for name in ("storage", "scale_out", "license"):
        choices = questions[name]["choices"]
        offered = list(choices.values()) if isinstance(choices, dict) else choices
        assert offered == CHOICES[name], name
        assert questions[name]["default"] == CHOICES[name][0], name
    assert questions["python_version"]["choices"] == PYTHONS
    assert questions["python_version"]["default"] == CHOICES["python_version"]
    for name in ("project_name", "description", "author_name", "author_email"):
        assert questions[name]["default"] == CHOICES[name], name
    private = questions["cookiecutter"]["default"]
    for name in ("_unitwise_version",):
        assert f"'{name}': '{CHOICES[name]}'" in private, name
    assert f"'_supported_pythons': {PYTHONS!r}" in private


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ({"project_slug": "1-bad"}, "project_slug is not a valid identifier"),
        ({"package_name": "my-pkg"}, "package_name must be a lowercase Python identifier"),
        ({"package_name": "class"}, "package_name is a Python keyword"),
        ({"author_email": "nobody"}, "author_email is not an email address"),
        ({"description": "two\nlines"}, "description must be one non-empty line"),
        ({"python_version": "2.7"}, "'2.7' is not in"),
    ],
)
def test_copier_rejects_the_answers_the_cookiecutter_hook_rejects(
    source: Path, tmp_path: Path, answers: dict[str, str], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        copier.run_copy(
            str(source), str(tmp_path / "p"), data=answers, defaults=True, unsafe=True, quiet=True
        )
    assert not (tmp_path / "p").exists()
