"""Reject answers that would bake a broken project, before anything is written.

Every answer is rendered with ``|tojson`` so that quotes, braces or newlines in it stay data:
they can neither break this script nor inject code into it.
"""

from __future__ import annotations

import keyword
import re
import sys

PROJECT_SLUG: str = {{ cookiecutter.project_slug | tojson }}
PACKAGE_NAME: str = {{ cookiecutter.package_name | tojson }}
PYTHON_VERSION: str = {{ cookiecutter.python_version | tojson }}
SUPPORTED_PYTHONS: list[str] = {{ cookiecutter._supported_pythons | tojson }}
AUTHOR_EMAIL: str = {{ cookiecutter.author_email | tojson }}
REPOSITORY_URL: str = {{ cookiecutter.repository_url | tojson }}
TEXT_ANSWERS: dict[str, str] = {
    "project_name": {{ cookiecutter.project_name | tojson }},
    "description": {{ cookiecutter.description | tojson }},
    "author_name": {{ cookiecutter.author_name | tojson }},
}

SLUG_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
URL_PATTERN = re.compile(r"https?://\S+")


def problems() -> list[str]:
    """Every reason the answers cannot make a working project, most basic first."""
    found: list[str] = []
    for name, value in TEXT_ANSWERS.items():
        if not value.strip() or any(ch in value for ch in "\r\n\x00"):
            found.append(f"{name} {value!r} must be one non-empty line")
    if not SLUG_PATTERN.fullmatch(PROJECT_SLUG):
        found.append(
            f"project_slug {PROJECT_SLUG!r} is not a valid identifier: use lowercase letters, "
            "digits and single hyphens, starting with a letter (e.g. 'tile-processor')"
        )
    if not PACKAGE_NAME.isidentifier() or not PACKAGE_NAME.isascii():
        found.append(f"package_name {PACKAGE_NAME!r} is not a valid Python identifier")
    elif keyword.iskeyword(PACKAGE_NAME) or keyword.issoftkeyword(PACKAGE_NAME):
        found.append(f"package_name {PACKAGE_NAME!r} is a Python keyword")
    elif PACKAGE_NAME in sys.stdlib_module_names or PACKAGE_NAME in sys.builtin_module_names:
        found.append(f"package_name {PACKAGE_NAME!r} shadows the standard-library module")
    elif PACKAGE_NAME != PACKAGE_NAME.lower():
        found.append(f"package_name {PACKAGE_NAME!r} must be lowercase (PEP 8)")
    if PYTHON_VERSION not in SUPPORTED_PYTHONS:
        found.append(
            f"python_version {PYTHON_VERSION!r} is not supported: choose one of "
            + ", ".join(SUPPORTED_PYTHONS)
        )
    if not EMAIL_PATTERN.fullmatch(AUTHOR_EMAIL):
        found.append(f"author_email {AUTHOR_EMAIL!r} is not an email address")
    if REPOSITORY_URL and not URL_PATTERN.fullmatch(REPOSITORY_URL):
        found.append(f"repository_url {REPOSITORY_URL!r} must be an http(s) URL without spaces")
    return found


def main() -> int:
    found = problems()
    if found:
        sys.stderr.write(f"ERROR: {found[0]}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
