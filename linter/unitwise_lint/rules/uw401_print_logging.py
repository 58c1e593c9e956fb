"""UW401 print-logging: ``print()`` where a production run needs log records."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, RuleContext, Valid
from ._base import Frame
from ._logging import (
    BASIC_CONFIG,
    CONFIGURES_LOGGING,
    DEFAULT_LOGGER,
    LoggingFixRule,
    add_logging_config,
)
from ._names import get_arg, is_main_guard, last_component, string_value

_EMPTY_MODULE = cst.Module(body=())


@dataclass
class _Print:
    node: cst.Call
    frames: tuple[Frame, ...]
    logger_defined: bool
    fixable: bool
    import_time: bool


def quote(text: str) -> str:
    """``text`` as a double-quoted Python string literal."""
    out = []
    for char in text:
        if char in '\\"':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif not char.isprintable():
            out.append(repr(char)[1:-1])
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _has_comment(node: cst.CSTNode) -> bool:
    code = _EMPTY_MODULE.code_for_node(node)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return True
    return any(token.type == tokenize.COMMENT for token in tokens)


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _log_args(call: cst.Call) -> list[cst.Arg] | None:
    """The arguments of ``logger.info`` printing what ``call`` prints, or None if unsure."""
    values: list[cst.BaseExpression] = []
    sep = " "
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            values.append(arg.value)
        elif arg.keyword.value == "sep":
            sep_value = " " if _is_none(arg.value) else string_value(arg.value)
            if sep_value is None:
                return None
            sep = sep_value
        elif arg.keyword.value == "end":
            if not (_is_none(arg.value) or string_value(arg.value) == "\n"):
                return None
        elif arg.keyword.value == "flush":
            if not isinstance(arg.value, cst.Name):  # True, False or a variable: droppable
                return None
        else:
            return None  # file=..., or something print does not take
    if not values or _has_comment(call):
        return None
    lone = values[0]
    if (
        len(values) == 1
        and isinstance(lone, cst.BinaryOperation)
        and isinstance(lone.operator, cst.Modulo)
        and string_value(lone.left) is not None
        and isinstance(lone.right, cst.Tuple)
        and lone.right.elements
        and all(isinstance(e, cst.Element) for e in lone.right.elements)
    ):
        # print("%s done" % (a,)) -> logger.info("%s done", a): logging applies the same %.
        return [cst.Arg(lone.left), *(cst.Arg(e.value) for e in lone.right.elements)]
    if (
        len(values) == 1
        and isinstance(lone, (cst.SimpleString, cst.FormattedString))
        and "b" not in lone.prefix.lower()
    ):
        return [cst.Arg(lone)]  # a lone message: no %-formatting without arguments
    texts = [string_value(value) for value in values]
    rest = [cst.Arg(value) for value, text in zip(values, texts, strict=True) if text is None]
    if not rest:  # only literals: logging does no %-formatting without arguments
        return [cst.Arg(cst.SimpleString(quote(sep.join(t or "" for t in texts))))]
    pieces = ["%s" if text is None else text.replace("%", "%%") for text in texts]
    template = sep.replace("%", "%%").join(pieces)
    return [cst.Arg(cst.SimpleString(quote(template))), *rest]


class PrintLogging(LoggingFixRule):
    code = "UW401"
    name = "print-logging"
    message = "`print()` in production code: use a logger"
    rationale = (
        "Output from `print()` has no timestamp, no level and no worker identity; with many "
        "workers writing to the same terminal or scheduler log the lines interleave and "
        "cannot be filtered, silenced or routed to a file. A module-level logger fixes all "
        'of that for free. The fix turns `print(a, b)` into `logger.info("%s %s", a, b)` '
        "(same text, lazily formatted) and defines `logger` if the module has none. A fix "
        "must not silence the script: where the module configures no logging, it adds "
        f"`{BASIC_CONFIG}` (the same text on the same stream as the prints), first in the "
        '`if __name__ == "__main__":` block, or right after the logger for a script that '
        "prints at import time; a module with neither (a library) gets no fix, since its "
        "messages would vanish unless the program using it configures logging. Calls "
        "with `file=`, a non-default `end=`, a computed `sep=`, `*args` or comments inside "
        "are reported without a fix. `print(..., file=fh)` to anything but "
        "`sys.stdout`/`sys.stderr` writes a file and is not reported; neither is `print` in "
        'the `if __name__ == "__main__":` block, which talks to the person who started the '
        "run, or a `print` that an import or definition shadows."
    )
    FIXABLE = True
    VALID: ClassVar[list[Valid]] = [
        Valid("import sys\n\ndef main():\n    sys.stdout.write('done\\n')\n"),
        Valid("if __name__ == '__main__':\n    print(main())\n"),
        Valid("from rich import print\n\nprint('[bold]done[/bold]')\n"),
        Valid(
            "def report(rows, fh):\n    for row in rows:\n        print(*row, sep=',', file=fh)\n"
        ),
        Valid("def f(print):\n    print('x')\n"),
        Valid("logger.info('%s done', unit)\n"),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid(
            '"""Process tiles."""\n\nimport os\n\n\ndef process(tile):\n'
            '    print("processing", tile, "in", os.getcwd())\n\n\nif __name__ == "__main__":\n'
            '    process("t1")\n',
            fixed='"""Process tiles."""\n\nimport logging\nimport os\nimport sys\n\n'
            "logger = logging.getLogger(__name__)\n\n\ndef process(tile):\n"
            '    logger.info("processing %s in %s", tile, os.getcwd())\n\n\n'
            'if __name__ == "__main__":\n'
            '    logging.basicConfig(level=logging.INFO, format="%(messag'
            'e)s", stream=sys.stdout)\n'
            '    process("t1")\n',
        ),
        Invalid(
            "import logging\n\nlog = logging.getLogger(__name__)\n\n\ndef f(n):\n"
            "    print(f'{n} rows (100%)', flush=True)\n\n\nif __name__ == '__main__':\n"
            "    f(3)\n",
            fixed="import logging\nimport sys\n\nlog = logging.getLogger(__name__)\n\n\ndef f(n):\n"
            "    log.info(f'{n} rows (100%)')\n\n\nif __name__ == '__main__':\n"
            '    logging.basicConfig(level=logging.INFO, format="%(messag'
            'e)s", stream=sys.stdout)\n'
            "    f(3)\n",
        ),
        Invalid(
            "import logging\n\nimport pandas as pd\n\nlogging.basicConfig(level=logging.INFO)\n"
            "\n\ndef f(a, b):\n    print(a, '50%', b, sep=' | ')\n",
            fixed="import logging\n\nimport pandas as pd\n\n"
            "logger = logging.getLogger(__name__)\n\nlogging.basicConfig(level=logging.INFO)\n"
            "\n\ndef f(a, b):\n"
            '    logger.info("%s | 50%% | %s", a, b)\n',
        ),
        Invalid(
            "import glob\n\nfor path in glob.glob('*.csv'):\n    print('reading', path)\n",
            fixed="import glob\nimport logging\nimport sys\n\n"
            "logger = logging.getLogger(__name__)\n"
            'logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)\n'
            "\nfor path in glob.glob('*.csv'):\n    logger.info(\"reading %s\", path)\n",
        ),
        Invalid(
            "def process(tile):\n    print('processing', tile)\n",
            fixed=None,
        ),
        Invalid(
            "import logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef f(path, n):\n"
            "    print('%s: %d rows' % (path, n))\n    print('%d%%' % n)\n\n\n"
            "if __name__ == '__main__':\n    f('a.csv', 3)\n",
            count=2,
            fixed="import logging\nimport sys\n\nlogger = logging.getLogger(__name__)\n\n\n"
            "def f(path, n):\n"
            "    logger.info('%s: %d rows', path, n)\n    logger.info(\"%s\", '%d%%' % n)\n\n\n"
            "if __name__ == '__main__':\n"
            '    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)\n'
            "    f('a.csv', 3)\n",
        ),
        Invalid(
            "import sys\n\nprint('warning: slow', file=sys.stderr)\nprint(x, end='')\n",
            count=2,
            fixed=None,
        ),
        Invalid(
            "from loguru import logger\n\ndef f(x):\n    print(x)\n",
            fixed=None,
        ),
        Invalid(
            "import logging\n\nprint('starting')\nlogger = logging.getLogger(__name__)\n",
            fixed=None,
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._prints: list[_Print] = []
        self._configured = False
        self._has_guard = False
        #: Where the fixes must configure logging: "guard", "module", or None (no need).
        self._config_at: str | None = None
        self._fixed_any = False

    def visit_If(self, node: cst.If) -> None:
        if self.at_module_scope() and is_main_guard(node.test):
            self._has_guard = True

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if last_component(func) in CONFIGURES_LOGGING:
            self._configured = True
        if not (isinstance(func, cst.Name) and func.value == "print"):
            if self.imports.resolve(func) != "builtins.print":
                return
        elif self.imports.is_imported("print"):
            return
        if self.in_main_guard():
            return
        fixable = True
        target = get_arg(node, None, "file")
        if target is not None:
            if self.imports.resolve(target) not in {"sys.stdout", "sys.stderr"}:
                return  # print(..., file=fh) writes a file: not logging
            fixable = False
        self._prints.append(
            _Print(
                node,
                tuple(self.frames),
                logger_defined=not self.at_import_time() or self.stdlib_logger is not None,
                fixable=fixable,
                import_time=self.at_import_time(),
            )
        )

    def leave_Module(self, original_node: cst.Module) -> None:
        if self.module_bindings["print"]:
            return  # the module defines or imports its own print
        safe = True
        if not self._configured:
            if any(found.import_time for found in self._prints):
                self._config_at = "module"
            elif self._has_guard:
                self._config_at = "guard"
            else:
                safe = False  # a library: its logs would vanish, unlike its prints
        for found in self._prints:
            if any(frame.binds_locally("print") for frame in found.frames):
                continue
            fix = self._fix(found) if found.fixable and safe else None
            self._fixed_any = self._fixed_any or fix is not None
            self.report(found.node, replacement=fix)

    def fix_module(self, module: cst.Module) -> cst.Module:
        module = super().fix_module(module)
        if self._config_at is None or not self._fixed_any:
            return module
        return add_logging_config(
            module,
            in_main_guard=self._config_at == "guard",
            after=self.stdlib_logger or DEFAULT_LOGGER,
        )

    def _fix(self, found: _Print) -> cst.Call | None:
        args = _log_args(found.node)
        if args is None:
            return None
        choice = self.choose_logger(defined_before=found.logger_defined)
        if choice is None:
            return None
        func = cst.Attribute(self.use_logger(choice), cst.Name("info"))
        return found.node.with_changes(func=func, args=args)
