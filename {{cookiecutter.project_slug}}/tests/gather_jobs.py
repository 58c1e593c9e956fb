"""Jobs whose outputs the gather tests write by hand (an output that exists is a done unit)."""

from __future__ import annotations

from {{ cookiecutter.package_name }}.units import Unit
from {{ cookiecutter.package_name }}.worker import Job


def never(unit: Unit[None]) -> None:
    raise AssertionError("the gather tests do not run units")


def no_setup(settings: object) -> None:
    return None


CSV = Job(never, no_setup, ".csv")
JSON = Job(never, no_setup, ".json")
PARQUET = Job(never, no_setup, ".parquet")
