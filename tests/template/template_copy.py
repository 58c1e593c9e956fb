"""A copy of the template as it is on disk (committed or not), for renderers and updates."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .conftest import TEMPLATE


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity; fail the test with git's own message."""
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=unitwise tests",
            "-c",
            "user.email=tests@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def template_files() -> list[str]:
    """The template's files as git sees them: tracked or new, never ignored ones."""
    listed = git(TEMPLATE, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return sorted(name for name in set(listed.split("\0")) if name and (TEMPLATE / name).is_file())


def copy_template(destination: Path) -> Path:
    """Copy the template's files (not .git, venvs or caches) to ``destination``."""
    for name in template_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE / name, target)
    return destination


def template_repo(destination: Path) -> Path:
    """The template copied into a git repository of its own, with one commit."""
    copy_template(destination)
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "template")
    return destination
