"""What every Dask worker must be able to do, checked before the first unit is sent.

A Dask worker runs in the environment it was started with, not this one: the project and the
job's module must be importable there. Without this check, a worker that cannot import them
fails every unit it is given, one traceback per unit; with it, the run stops at once with one
line naming the worker.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from distributed import Client

from .errors import UserError

PACKAGE = "{{ cookiecutter.package_name }}"


def _probe(modules: list[str]) -> dict[str, str]:
    """Runs on each worker: the modules it cannot import, each with why."""
    import importlib

    problems = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: UW302 - reported to the run, which stops
            problems[name] = f"{type(exc).__name__}: {exc}"
    return problems


def _by_value(function: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of ``function`` that Dask sends as code, not as a reference to this package
    (cloudpickle copies the functions of ``__main__``): a worker that cannot import the
    package can still run it and say so."""
    copy = types.FunctionType(function.__code__, {"__builtins__": __builtins__}, function.__name__)
    copy.__module__ = "__main__"
    return copy


def check_workers(client: Client, job: str) -> None:
    """Raise a UserError naming a worker that cannot import the project or the job's module."""
    modules = list(dict.fromkeys([PACKAGE, job.partition(":")[0]]))
    answers: dict[str, dict[str, str]] = client.run(_by_value(_probe), modules)
    bad = sorted((address, problems) for address, problems in answers.items() if problems)
    if not bad:
        return
    address, problems = bad[0]
    module, why = next(iter(problems.items()))
    others = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    raise UserError(
        f"Dask worker {address}{others} cannot import {module!r}: {why}; install the project "
        "and the job's module in the workers' environment (see README: Dask), then run again"
    )
