"""How the suite is shared between its two pytest-xdist workers (``-n 2``: pyproject's addopts).

The baked projects' suites wait on subprocesses, servers and SLURM much of the time: on one
process, a core is idle. xdist hands out *work units*; this module says which tests form one,
so that a costly fixture is built on one worker only, and starts the longest units first.
"""

from __future__ import annotations

import re

import pytest
from xdist.scheduler import LoadScopeScheduling

#: A baked combination's id in a test's parameters: its tests (bake, checks, conversion)
#: share its session-scoped bake (tests/template/conftest.py's ``baked``).
COMBINATION = re.compile(r"\[(bake-[a-z0-9]+-[a-z]+)\b")
#: Modules whose tests share a module-scoped fixture: each module is one unit.
SHARED_MODULES = {
    "tests/template/test_copier.py",
    "tests/template/test_cruft.py",
    "tests/template/test_packages.py",
}
#: Started first, longest first, so that no worker is left alone with a long unit at the end:
#: the real install and suite on a newer Python, then the combination whose converted project
#: runs its whole suite (tests/template/conftest.py's ``CONVERTED_IN_FULL``).
FIRST = (
    "tests/template/test_targets.py::"
    "test_a_newer_target_installs_and_passes_its_own_suite_on_that_python",
    "bake-s3-slurm",
)


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to: its combination, its module, or itself."""
    combination = COMBINATION.search(nodeid)
    if combination is not None:
        return combination.group(1)
    module = nodeid.split("::")[0]
    return module if module in SHARED_MODULES else nodeid


class ByWorkUnit(LoadScopeScheduling):  # type: ignore[misc]  # xdist has no type hints
    """xdist's ``loadscope`` with ``work_unit`` as the scope."""

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling:
    return ByWorkUnit(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``FIRST``'s units first; the rest keeps pytest's order (which keeps each combination's
    tests together). After pytest's own reordering (trylast); xdist hands out the units in the
    order of their first test (``--no-loadscope-reorder``)."""

    def rank(item: pytest.Item) -> int:
        unit = work_unit(item.nodeid)
        return FIRST.index(unit) if unit in FIRST else len(FIRST)

    items.sort(key=rank)
