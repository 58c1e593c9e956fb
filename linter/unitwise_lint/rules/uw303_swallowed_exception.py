"""UW303 swallowed-exception: a broad handler whose body is only ``pass``/``continue``/``...``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, Option, RuleContext, Valid
from ._base import ScopedRule
from ._exceptions import ONE_FINDING_PER_HANDLER, body_only_ignores, broad_exception


class SwallowedException(ScopedRule):
    code = "UW303"
    name = "swallowed-exception"
    message = "Exception swallowed: the handler only passes or continues"
    rationale = (
        "`except Exception: pass` (or `continue`) makes a failing unit look like a unit with "
        "no output: the run finishes green, and the gap is found downstream, if at all. "
        "In a parallel run nobody watches the console, so every skipped unit must at least "
        "leave a log line with the traceback. Like ruff's S110 and S112 this applies to bare "
        "and broad (`Exception`, `BaseException`) handlers; `all-exceptions` extends it to "
        "every handler. " + ONE_FINDING_PER_HANDLER
    )
    SPECIFICITY = 2
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "all-exceptions": Option(
            False, "Also report handlers of specific exception types that only pass/continue."
        )
    }
    VALID: ClassVar[list[Valid]] = [
        Valid("try:\n    run()\nexcept Exception:\n    logger.exception('unit failed')\n"),
        Valid("try:\n    import ujson as json\nexcept ImportError:\n    import json\n"),
        Valid("try:\n    os.remove(tmp)\nexcept FileNotFoundError:\n    pass\n"),
        Valid(
            "for unit in units:\n    try:\n        run(unit)\n    except Exception:\n"
            "        logger.exception('unit %s failed', unit)\n        continue\n"
        ),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid("try:\n    run()\nexcept Exception:\n    pass\n"),
        Invalid("try:\n    run()\nexcept BaseException:\n    ...\n"),
        Invalid(
            "for unit in units:\n    try:\n        run(unit)\n"
            "    except (OSError, BaseException):  # flaky disk\n        continue\n"
        ),
        Invalid("try:\n    run()\nexcept Exception: pass\n"),
        Invalid(
            "try:\n    os.remove(tmp)\nexcept FileNotFoundError:\n    pass\n",
            options={"all-exceptions": True},
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._all = self.bool_option("all-exceptions")

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        super().visit_ExceptHandler(node)
        if not body_only_ignores(node):
            return
        if self._all or node.type is None or broad_exception(node, self.imports):
            self.report(node, defect=id(node))
