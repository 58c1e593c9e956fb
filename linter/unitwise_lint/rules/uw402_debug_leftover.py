"""UW402 debug-leftover: debugger calls, ``plt.show()``, ``display()`` and IPython magics."""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, RuleContext, Valid
from ._base import ScopedRule
from ._names import dotted_name, get_arg, is_main_guard, iter_calls, referenced_names, string_value

#: Names that say a test is a switch someone sets: ``if args.debug:``, ``if SHOW_PLOTS:``.
_FLAG = re.compile(
    r"debug|verbose|show|plot|interactive|display|visual|flag|config|cfg|setting|option|opts"
    r"|args|params|env|dry_run|inspect|trace|notebook|ipython|jupyter",
    re.IGNORECASE,
)

_DEBUGGERS = frozenset(
    {
        "pdb.set_trace",
        "pdb.post_mortem",
        "ipdb.set_trace",
        "ipdb.post_mortem",
        "pudb.set_trace",
        "IPython.embed",
        "IPython.core.debugger.set_trace",
        "code.interact",
    }
)
_SHOWS = frozenset({"matplotlib.pyplot.show", "pylab.show"})
_DISPLAYS = frozenset({"IPython.display.display", "IPython.core.display.display"})
#: What the notebook reader turns magics and shell escapes into.
_MAGICS = frozenset({"run_line_magic", "run_cell_magic", "system", "getoutput", "magic"})


def _literal(call: cst.Call, index: int) -> str | None:
    value = get_arg(call, index)
    return None if value is None else string_value(value)


def _magic_text(call: cst.Call, method: str) -> str:
    """How the user wrote it: ``%matplotlib inline``, ``%%time``, ``!pip install x``."""
    first = _literal(call, 0)
    if first is None:
        return f"get_ipython().{method}(...)"
    if method in {"system", "getoutput"}:
        return f"!{first}"
    if method == "run_cell_magic":
        return f"%%{first}"
    if method == "run_line_magic":
        rest = _literal(call, 1)
        return f"%{first} {rest}".rstrip() if rest else f"%{first}"
    return f"%{first}"


class DebugLeftover(ScopedRule):
    code = "UW402"
    name = "debug-leftover"
    message = "Debugging or notebook leftover in production code"
    rationale = (
        "A `breakpoint()` or `pdb.set_trace()` left in a worker blocks it forever waiting for a "
        "terminal that is not there; `plt.show()` blocks or silently does nothing in a headless "
        "job; `display()` and IPython magics (`%matplotlib`, `!pip install`, `%%time`) only "
        "exist inside a notebook, so the script crashes or does something else when it runs "
        "as a job. Calls are resolved through imports (`from pdb import set_trace`, "
        "`import matplotlib.pyplot as plt`); the bare name `display` only counts in notebooks, "
        "where IPython provides it. Magics are seen as the `get_ipython()` calls that "
        "notebook converters write for them. A call under an `if` on a parameter, a flag, a "
        "setting or an environment variable (`if show:`, `if args.debug:`, `if DEBUG:`, "
        "`if os.environ.get('PLOT'):`) is a deliberate switch, not a leftover."
    )
    VALID: ClassVar[list[Valid]] = [
        Valid(
            "import matplotlib.pyplot as plt\n\ndef plot(df, path):\n"
            "    fig, ax = plt.subplots()\n    fig.savefig(path)\n    plt.close(fig)\n"
        ),
        Valid("def display(x):\n    return str(x)\n\ndisplay(1)\n", notebook=True),
        Valid("display(df)\n"),
        Valid("from IPython import get_ipython\n\nshell = get_ipython()\n"),
        Valid("def breakpoint():\n    pass\n\nbreakpoint()\n"),
        Valid(
            "import matplotlib.pyplot as plt\n\ndef plot(df, show=False):\n"
            "    df.plot()\n    if show:\n        plt.show()\n"
        ),
        Valid(
            "import pdb\n\ndef run(unit, config):\n    if config.debug:\n        pdb.set_trace()\n"
        ),
        Valid("import os\n\nif os.environ.get('UNIT_DEBUG'):\n    breakpoint()\n"),
        Valid("DEBUG = False\n\ndef f(x):\n    if DEBUG and x < 0:\n        breakpoint()\n"),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid("def f(x):\n    breakpoint()\n    return x\n"),
        Invalid(
            "def f(rows):\n    for row in rows:\n        total = row.sum()\n"
            "        if total < 0:\n            breakpoint()\n"
        ),
        Invalid("import pdb\nimport ipdb as dbg\n\npdb.set_trace()\ndbg.set_trace()\n", count=2),
        Invalid("from pdb import set_trace as st\n\nst()\n"),
        Invalid("import matplotlib.pyplot as plt\n\nplt.plot(x)\nplt.show()\n"),
        Invalid("import matplotlib\n\nmatplotlib.pyplot.show()\n"),
        Invalid("from IPython.display import display\n\ndisplay(df.head())\n"),
        Invalid("display(df)\n", notebook=True),
        Invalid(
            "get_ipython().run_line_magic('matplotlib', 'inline')\n"
            "get_ipython().system('pip install pandas')\n"
            "get_ipython().run_cell_magic('time', '', 'run()\\n')\n",
            count=3,
            notebook=True,
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._builtins: list[tuple[cst.Call, str]] = []
        #: How many enclosing ``if`` tests are switches (see ``_is_switch``).
        self._tests: list[bool] = []

    def _is_switch(self, test: cst.BaseExpression) -> bool:
        """Whether an ``if`` test is a switch: a parameter, flag, setting or environment."""
        if is_main_guard(test):
            return False
        names = referenced_names(test)
        params = {name for frame in self.frames for name in frame.params}
        if names & params:
            return True
        if any(_FLAG.search(name) or (name.isupper() and len(name) > 1) for name in names):
            return True
        called = [dotted_name(call.func) or "" for call in iter_calls(test)]
        return "environ" in names or any("environ" in c or "getenv" in c for c in called)

    def visit_If(self, node: cst.If) -> None:
        self._tests.append(self._is_switch(node.test))

    def leave_If(self, original_node: cst.If) -> None:
        self._tests.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if any(self._tests):
            return  # behind a switch: deliberate
        func = node.func
        if isinstance(func, cst.Name) and not self.imports.is_imported(func.value):
            if func.value == "breakpoint" or (func.value == "display" and self.context.notebook):
                self._builtins.append((node, func.value))
            return
        if isinstance(func, cst.Attribute) and func.attr.value in _MAGICS:
            shell = func.value
            if isinstance(shell, cst.Call) and dotted_name(shell.func) == "get_ipython":
                what = _magic_text(node, func.attr.value)
                kind = "Shell escape" if what.startswith("!") else "IPython magic"
                self.report(node, f"{kind} `{what}` only runs inside a notebook, not in a job")
                return
        name = self.imports.resolve(func)
        spelled = dotted_name(func)
        if name in _DEBUGGERS:
            self.report(node, f"Debugger call `{spelled}()` left in: it blocks a worker")
        elif name in _SHOWS:
            self.report(node, f"`{spelled}()` blocks or does nothing in a job: save the figure")
        elif name in _DISPLAYS:
            self.report(node, f"`{spelled}()` only works in a notebook")

    def leave_Module(self, original_node: cst.Module) -> None:
        for node, name in self._builtins:
            if self.module_bindings[name]:
                continue  # the module defines its own
            if name == "breakpoint":
                self.report(node, "Debugger call `breakpoint()` left in: it blocks a worker")
            else:
                self.report(node, "`display()` only works in a notebook")
