"""Every baked project passes the ecosystem's own checkers, run for real and offline:

- sp-repo-review (the Scientific Python Development Guide's checks), with opt-outs only where
  the project says why;
- actionlint (workflow syntax and semantics) and zizmor (workflow security, ``--offline``) on
  every workflow and the dependabot file;
- pre-commit's own validation of the hook configuration, and codespell;
- the actions are pinned by full commit hash, with the version beside it.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .conftest import Baked

BIN = Path(sys.executable).parent
PINNED = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(?:\.\d+)*$")


def tool(name: str) -> str:
    """A console script of the test environment (installed by the root dev extra)."""
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert path, f"{name} is not installed: pip install -e '.[dev]'"
    return path


def test_scientific_python_repo_review_passes(baked: Baked) -> None:
    result = baked.run(tool("repo-review"), "--format", "json", ".")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    checks = json.loads(result.stdout)["checks"]
    failed = {
        code: check["description"] for code, check in checks.items() if check["result"] is False
    }
    assert failed == {}
    # Each opt-out carries its reason, in the project's own configuration.
    pyproject = tomllib.loads((baked.root / "pyproject.toml").read_text())
    ignored = pyproject["tool"]["repo-review"]["ignore"]
    assert all(isinstance(reason, str) and len(reason) > 15 for reason in ignored.values())
    assert set(ignored) <= set(checks)


def test_workflows_pass_actionlint_and_zizmor(baked: Baked) -> None:
    github = baked.root / ".github"
    workflows = sorted((github / "workflows").glob("*.yml"))
    assert workflows
    lint = baked.run(tool("actionlint"), "-no-color", *workflows)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    scan = baked.run(tool("zizmor"), "--offline", "--no-progress", github)
    assert scan.returncode == 0, scan.stdout + scan.stderr
    assert "No findings to report" in scan.stdout


def test_ci_is_least_privilege_pinned_and_cancels_superseded_runs(baked: Baked) -> None:
    text = (baked.root / ".github" / "workflows" / "ci.yml").read_text()
    uses = [line for line in text.splitlines() if "uses:" in line]
    assert uses and all(PINNED.match(line) for line in uses), uses
    assert "permissions:\n  contents: read\n" in text
    assert text.count("persist-credentials: false") == text.count("actions/checkout@")
    assert "cancel-in-progress: true" in text and "workflow_dispatch:" in text
    assert "os: macos-latest" in text
    assert "python -m build" in text and "twine check --strict dist/*" in text
    dependabot = (baked.root / ".github" / "dependabot.yml").read_text()
    assert "package-ecosystem: github-actions" in dependabot
    assert "package-ecosystem: pip" in dependabot


def test_pre_commit_config_is_valid_and_codespell_is_clean(baked: Baked) -> None:
    valid = baked.run(
        sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr
    spelling = baked.run(tool("codespell"), ".")
    assert spelling.returncode == 0, spelling.stdout + spelling.stderr


def test_dev_group_and_dev_extra_list_the_same_tools(baked: Baked) -> None:
    pyproject = tomllib.loads((baked.root / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["dev"]
    assert pyproject["dependency-groups"]["dev"] == extra


def test_noxfile_loads_and_lists_its_sessions(baked: Baked) -> None:
    listed = baked.run(tool("nox"), "--list", "--no-color")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    for session in ("* lint", "* tests", "- build"):
        assert session in listed.stdout, listed.stdout
