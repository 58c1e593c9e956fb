"""Remove what the chosen options do not need, record the template for cruft, print next steps."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ANSWERS: dict[str, object] = json.loads({{ cookiecutter | tojson | tojson }})
STORAGE: str = {{ cookiecutter.storage | tojson }}
SCALE_OUT: str = {{ cookiecutter.scale_out | tojson }}
LICENSE: str = {{ cookiecutter.license | tojson }}
PROJECT_SLUG: str = {{ cookiecutter.project_slug | tojson }}
PACKAGE_NAME: str = {{ cookiecutter.package_name | tojson }}

#: Files that exist only for one option value, relative to the project root. copier.yml's
#: _exclude says the same for copier (tests/template/test_copier.py compares the two trees).
ONLY_FOR: dict[str, bool] = {
    "LICENSE": LICENSE != "Proprietary",
    f"src/{PACKAGE_NAME}/dask_backend.py": SCALE_OUT == "dask",
    f"src/{PACKAGE_NAME}/dask_workers.py": SCALE_OUT == "dask",
    f"src/{PACKAGE_NAME}/dask_tasks.py": SCALE_OUT == "dask",
    "tests/test_dask_backend.py": SCALE_OUT == "dask",
    # Starts clusters of its own (CI time): in one combination only.
    "tests/test_dask_workers.py": SCALE_OUT == "dask" and STORAGE == "local",
    "slurm": SCALE_OUT == "slurm",
    "tests/test_slurm.py": SCALE_OUT == "slurm",
    # A real SLURM cluster is started by the tests of one combination only (CI time).
    "tests/slurmcluster.py": SCALE_OUT == "slurm" and STORAGE == "local",
    "tests/test_slurm_cluster.py": SCALE_OUT == "slurm" and STORAGE == "local",
    "tests/test_s3.py": STORAGE == "s3",
    "tests/s3server.py": STORAGE == "s3",
    # Starts a server of its own and does not depend on the scale-out (CI time): one combination.
    "tests/test_store_stops.py": STORAGE == "s3" and SCALE_OUT == "none",
    # A moto server with injected faults, in one combination only (CI time).
    "tests/test_retries_s3.py": STORAGE == "s3" and SCALE_OUT == "none",
}


def prune(root: Path) -> None:
    """Delete the files and folders of options that were not chosen."""
    for relative, keep in ONLY_FOR.items():
        path = root / relative
        if keep or not path.exists():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


#: Context keys that describe this machine's bake rather than the project.
MACHINE_KEYS = {"_output_dir", "_repo_dir", "_checkout"}


def template_commit(template_dir: Path) -> str | None:
    """The commit the template was baked from, when it lives in git."""
    try:
        done = subprocess.run(
            ["git", "-C", str(template_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def template_source(template: str, template_dir: Path) -> str:
    """Where cruft finds the template again: the URL as given, or the local folder's path."""
    if "://" in template or template.startswith("git@"):
        return template
    try:
        from cookiecutter.config import BUILTIN_ABBREVIATIONS
        from cookiecutter.repository import expand_abbreviations
    except ImportError:
        return str(template_dir)
    expanded: str = expand_abbreviations(template, BUILTIN_ABBREVIATIONS)
    return expanded if expanded != template else str(template_dir)


def write_cruft_state(root: Path) -> str | None:
    """Write ``.cruft.json`` as ``cruft create`` would, so check/diff/update work at once.

    Only a plain cookiecutter bake records the state: when cruft itself renders the template
    (create, diff, update) it has no ``_repo_dir`` and keeps its own state, and a state file in
    its renders would turn into a patch on the project's. Returns why nothing was written.
    """
    repo_dir = ANSWERS.get("_repo_dir")
    if not isinstance(repo_dir, str):
        return None
    template_dir = Path(repo_dir).resolve()
    commit = template_commit(template_dir)
    if commit is None:
        return f"{template_dir} is not a git checkout: link it later with `cruft link`"
    context = {key: value for key, value in ANSWERS.items() if key not in MACHINE_KEYS}
    context["_template"] = template_source(str(ANSWERS.get("_template", "")), template_dir)
    context["_commit"] = commit
    state = {
        "template": context["_template"],
        "commit": commit,
        "checkout": ANSWERS.get("_checkout"),
        "context": {"cookiecutter": context},
        "directory": None,
    }
    text = json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": "))
    (root / ".cruft.json").write_text(text + "\n", encoding="utf-8")
    return None


def format_code(root: Path) -> None:
    """Format the project for its own target Python with ruff, where ruff is at hand.

    Line breaks depend on the names chosen and some syntax on the target version, so only
    the baked project can be formatted once and for all. Without ruff, pre-commit does it.
    """
    for command in ([sys.executable, "-m", "ruff"], [shutil.which("ruff") or "ruff"]):
        try:
            done = subprocess.run(
                [*command, "format", "--quiet", "--no-cache", str(root)],
                capture_output=True,
                check=False,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return


def main() -> int:
    root = Path.cwd()
    prune(root)
    unlinked = write_cruft_state(root)
    format_code(root)
    if "_repo_dir" not in ANSWERS:
        return 0  # cruft renders the template for a diff or an update: nobody to talk to
    sys.stdout.write(
        f"\nBaked {PROJECT_SLUG}. Next steps:\n"
        f"  cd {PROJECT_SLUG}\n"
        "  python -m venv .venv && . .venv/bin/activate\n"
        "  pip install -e '.[report]'\n"
        f"  {PROJECT_SLUG} run          # the example job: one unit fails on purpose\n"
        f"  {PROJECT_SLUG} failed       # the retry list with each error\n"
        f"  {PROJECT_SLUG} status\n"
        f"Then replace the example in src/{PACKAGE_NAME}/process.py (README.md, 'Replacing the "
        "example with your work'); the checks' tools, unitwise-lint first: README.md, "
        "'Development'.\n"
    )
    if unlinked:
        sys.stdout.write(f"Template updates: {unlinked}.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
