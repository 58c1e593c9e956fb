"""Remove what the chosen options do not need, write the answers file, print next steps."""

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

#: Files that exist only for one option value, relative to the project root.
ONLY_FOR: dict[str, bool] = {
    "LICENSE": LICENSE != "Proprietary",
    f"src/{PACKAGE_NAME}/dask_backend.py": SCALE_OUT == "dask",
    "tests/test_dask_backend.py": SCALE_OUT == "dask",
    "slurm": SCALE_OUT == "slurm",
    "tests/test_slurm.py": SCALE_OUT == "slurm",
    "tests/test_s3.py": STORAGE == "s3",
    "tests/s3server.py": STORAGE == "s3",
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


def write_answers(root: Path) -> None:
    """Keep the answers (not machine-specific paths) so cruft can link and update the project."""
    answers = {
        key: value
        for key, value in ANSWERS.items()
        if not key.startswith("_") or key in {"_template", "_commit"}
    }
    (root / ".cookiecutter.json").write_text(json.dumps(answers, indent=2, sort_keys=True) + "\n")


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
    write_answers(root)
    format_code(root)
    sys.stdout.write(
        f"\nBaked {PROJECT_SLUG}. Next steps:\n"
        f"  cd {PROJECT_SLUG}\n"
        "  python -m venv .venv && . .venv/bin/activate\n"
        "  pip install -e '.[dev]'\n"
        f"  {PROJECT_SLUG} run          # the example job: one unit fails on purpose\n"
        f"  {PROJECT_SLUG} failed       # the retry list with each error\n"
        f"  {PROJECT_SLUG} status\n"
        "  pytest\n"
        "Then replace the example in src/{}/process.py (see README.md).\n".format(PACKAGE_NAME)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
