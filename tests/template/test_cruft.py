"""A fresh bake is linked to its template: cruft checks, diffs and updates it with no extra step.

The template is copied into a git repository of its own, baked with plain cookiecutter, then
changed and committed the way a template maintainer would; ``cruft update`` must bring the
change into the project, keep the user's own edits and leave no ``.rej`` file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .template_copy import git, template_repo

PROJECT = "{{cookiecutter.project_slug}}"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(template repository, project baked from it and committed to a git repository)."""
    base = tmp_path_factory.mktemp("cruft")
    template = template_repo(base / "template")
    baked = run(
        base,
        "cookiecutter",
        "--no-input",
        str(template),
        "-o",
        str(base / "out"),
        "storage=s3",
        "scale_out=dask",
        "license=Apache-2.0",
    )
    assert baked.returncode == 0, baked.stderr
    project = base / "out" / "tile-processor"
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "baked")
    return template, project


def test_bake_records_the_real_answers_and_the_templates_commit(linked: tuple[Path, Path]) -> None:
    template, project = linked
    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == str(template)
    assert state["commit"] == git(template, "rev-parse", "HEAD").strip()
    assert state["checkout"] is None and state["directory"] is None
    answers = state["context"]["cookiecutter"]
    assert (answers["storage"], answers["scale_out"], answers["license"]) == (
        "s3",
        "dask",
        "Apache-2.0",
    )
    assert answers["_commit"] == state["commit"]
    assert not {"_output_dir", "_repo_dir", "_checkout"} & answers.keys()


def test_fresh_bake_passes_cruft_check_and_has_no_diff(linked: tuple[Path, Path]) -> None:
    _, project = linked
    check = run(project, "cruft", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    diff = run(project, "cruft", "diff", "--exit-code")
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert diff.stdout.strip() == ""


def test_template_change_then_cruft_update_applies_cleanly(linked: tuple[Path, Path]) -> None:
    template, project = linked
    # The user edits the project...
    readme = project / "README.md"
    readme.write_text("<!-- ours -->\n" + readme.read_text())
    git(project, "commit", "-q", "-am", "our edit")
    # ...and the template moves on: a README section and a source line.
    template_readme = template / PROJECT / "README.md"
    template_readme.write_text(template_readme.read_text() + "\n## Changelog\n\nTemplate news.\n")
    process = template / PROJECT / "src" / "{{cookiecutter.package_name}}" / "process.py"
    process.write_text(process.read_text() + "\n#: Added by the template.\nTEMPLATE_NEWS = 1\n")
    git(template, "commit", "-q", "-am", "template news")
    new_commit = git(template, "rev-parse", "HEAD").strip()

    stale = run(project, "cruft", "check")
    assert stale.returncode != 0, stale.stdout

    update = run(project, "cruft", "update", "-y")
    assert update.returncode == 0, update.stdout + update.stderr
    assert not list(project.rglob("*.rej")), git(project, "status", "--short")
    text = readme.read_text()
    assert text.startswith("<!-- ours -->\n") and text.endswith("Template news.\n")
    source = (project / "src" / "tile_processor" / "process.py").read_text()
    assert "TEMPLATE_NEWS = 1" in source
    assert json.loads((project / ".cruft.json").read_text())["commit"] == new_commit
    changed = set(git(project, "diff", "HEAD", "--name-only").split())
    assert changed == {".cruft.json", "README.md", "src/tile_processor/process.py"}

    assert run(project, "cruft", "check").returncode == 0
    # What still differs from the template is the user's own edit, and only that.
    left = run(project, "cruft", "diff")
    assert left.returncode == 0, left.stderr
    changed_lines = [line for line in left.stdout.splitlines() if line[:1] in "+-"]
    assert changed_lines == [
        "--- upstream-template-old/README.md",
        "+++ upstream-template-new/README.md",
        "-<!-- ours -->",
    ]
