"""UW202 no-checkpoint: a loop writes one output per unit but never skips finished units."""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, RuleContext, Valid
from ._io import classify_write
from ._logging import is_logging_call
from ._loops import Loop, LoopRule
from ._names import (
    call_name,
    iter_calls,
    last_component,
    method_name,
    referenced_names,
    target_names,
)

#: Calls whose name says they test for finished work: ``out.exists()``, ``is_done(unit)``.
_CHECK_CALL = re.compile(
    r"exist|isfile|is_file|isdir|is_dir|done|complete|finish|processed|skip|cached|missing"
    r"|checkpoint|up_?to_?date|stale",
    re.IGNORECASE,
)
#: Collections whose name says they hold finished work: ``if unit in done: continue``.
_DONE_COLLECTION = re.compile(
    r"done|complete|finish|processed|existing|seen|skip|cached|written", re.IGNORECASE
)
#: Iterables whose name says finished work was already filtered out: ``for u in todo:``.
_TODO = re.compile(
    r"todo|pending|remaining|missing|unprocessed|to_process|to_run|incomplete|not_done",
    re.IGNORECASE,
)
#: Calls that only build paths, format, log or iterate: not the unit's work.
_TRIVIAL_FUNCTIONS = frozenset(
    {
        "str",
        "int",
        "float",
        "bool",
        "len",
        "range",
        "enumerate",
        "zip",
        "sorted",
        "reversed",
        "list",
        "dict",
        "set",
        "tuple",
        "print",
        "format",
        "repr",
        "isinstance",
        "min",
        "max",
        "sum",
        "abs",
        "round",
        "pathlib.Path",
        "pathlib.PurePath",
        "os.makedirs",
        "os.mkdir",
        "tqdm.tqdm",
        "tqdm.auto.tqdm",
    }
)
_TRIVIAL_METHODS = frozenset(
    {
        "format",
        "join",
        "joinpath",
        "with_suffix",
        "with_name",
        "with_stem",
        "mkdir",
        "as_posix",
        "resolve",
        "absolute",
        "expanduser",
        "relative_to",
        "replace",
        "lower",
        "upper",
        "strip",
        "split",
        "zfill",
        "startswith",
        "endswith",
        "items",
        "keys",
        "values",
        "get",
        "append",
        "set_description",
        "set_postfix",
    }
)


#: Values that can hold an existence test: ``out.exists()``, ``[u for u in units if ...]``.
_CHECK_VALUES = frozenset(
    {
        cst.Call,
        cst.UnaryOperation,
        cst.BooleanOperation,
        cst.Comparison,
        cst.ListComp,
        cst.SetComp,
        cst.DictComp,
        cst.GeneratorExp,
    }
)


def _is_check(node: cst.BaseExpression, flags: set[str]) -> bool:
    """Whether a test looks for finished work (``out.exists()``, ``unit in done``...)."""
    for call in iter_calls(node):
        name = last_component(call.func)
        if name is not None and _CHECK_CALL.search(name):
            return True
    if isinstance(node, cst.UnaryOperation):
        return _is_check(node.expression, flags)
    if isinstance(node, cst.BooleanOperation):
        return _is_check(node.left, flags) or _is_check(node.right, flags)
    if isinstance(node, cst.Comparison):
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)):
                name = last_component(target.comparator)
                if name is not None and _DONE_COLLECTION.search(name):
                    return True
    return bool(flags and referenced_names(node) & flags)


class NoCheckpoint(LoopRule):
    code = "UW202"
    name = "no-checkpoint"
    message = (
        "Loop writes one output per unit without first checking whether it exists: "
        "a restarted run redoes every unit"
    )
    rationale = (
        "Long runs get interrupted: a node is pre-empted, the job hits its time limit, one "
        "unit crashes. If the loop that writes one output per unit does not skip the units "
        "whose output already exists, every restart recomputes everything from the first "
        "unit, and a run that can never finish in one go never finishes. The rule reports a "
        "`for` loop that writes to a path varying with the loop (open(..., 'w'), "
        "`.to_parquet`, `np.save`, `.write_text`, `.savefig`...) and does other work, when no "
        "existence check (`.exists()`, `os.path.isfile`, `fs.exists`, `is_done(unit)`, "
        "`unit in done`...) comes earlier in the loop body or filters what it iterates over. "
        "Loops that only export data already in memory are not reported."
    )
    VALID: ClassVar[list[Valid]] = [
        Valid(
            "def run(units, out_dir):\n    for unit in units:\n"
            "        out = out_dir / f'{unit}.parquet'\n        if out.exists():\n"
            "            continue\n        process(unit).to_parquet(out)\n"
        ),
        Valid(
            "import os\n\ndef run(units):\n    for unit in units:\n"
            "        path = os.path.join('out', unit + '.csv')\n"
            "        if not os.path.isfile(path):\n            compute(unit).to_csv(path)\n"
        ),
        Valid(
            "def run(units, out_dir):\n    todo = [u for u in units if not done(u)]\n"
            "    for unit in todo:\n        np.save(out_dir / f'{unit}.npy', compute(unit))\n"
        ),
        Valid(
            "def export(tables, out_dir):\n    for name, df in tables.items():\n"
            "        df.to_csv(out_dir / f'{name}.csv')\n"
        ),
        Valid(
            "def run(units, fs):\n    done = set(fs.ls('out'))\n    for unit in units:\n"
            "        if unit in done:\n            continue\n"
            "        with fs.open(f'out/{unit}.json', 'w') as f:\n"
            "            json.dump(compute(unit), f)\n"
        ),
        Valid(
            "def run(units):\n    for unit in units:\n        result = compute(unit)\n"
            "        result.to_csv('summary.csv')\n"
        ),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid(
            "def run(units, out_dir):\n    for unit in units:\n        df = process(unit)\n"
            "        df.to_parquet(out_dir / f'{unit}.parquet')\n"
        ),
        Invalid(
            "import numpy as np\n\nfor tile in tiles:\n    arr = compute(tile)\n"
            "    np.save(f'out/{tile}.npy', arr)\n"
            "    np.save(f'out/{tile}_mask.npy', arr > 0)\n"
        ),
        Invalid(
            "def run(units):\n    for unit in units:\n        path = f'out/{unit}.json'\n"
            "        with open(path, 'w') as f:\n            json.dump(compute(unit), f)\n"
            "        if os.path.exists(path):\n            log.info('wrote %s', path)\n"
        ),
        Invalid(
            "def run(rows):\n    for i, row in rows.iterrows():\n"
            "        fig = plot(row)\n        fig.savefig(row['name'] + '.png')\n"
        ),
        Invalid(
            "def run(units):\n    for unit in units:\n        text = render(unit)\n"
            "        (OUT / unit).with_suffix('.md').write_text(text)\n"
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        #: Names assigned from an existence test (``done = out.exists()``), or holding work
        #: already filtered by one (``todo = [u for u in units if not done(u)]``).
        self._check_names: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        if type(node.value) in _CHECK_VALUES and _is_check(node.value, self._check_names):
            self._check_names.update(n for t in node.targets for n in target_names(t.target))

    def visit_For_body(self, node: cst.For) -> None:
        super().visit_For_body(node)
        iterable = node.iter
        if _is_check(iterable, self._check_names) or any(
            _TODO.search(name) for name in referenced_names(iterable)
        ):
            self.loops[-1].checked = True

    def _check_seen(self, test: cst.BaseExpression) -> None:
        if self.loops and _is_check(test, self._check_names):
            for loop in self.loops:
                loop.checked = True

    def visit_If(self, node: cst.If) -> None:
        self._check_seen(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._check_seen(node.test)

    def visit_Call(self, node: cst.Call) -> None:
        if not self.loops:
            return
        write = classify_write(node, self.imports)
        if write is None:
            if self._is_work(node):
                for loop in self.loops:
                    loop.work_calls += 1
            return
        if write.append or not self.varies(write.path):
            return
        if not any(loop.checked for loop in self.loops):
            self.loops[-1].unchecked_writes.append(node)

    def _is_work(self, call: cst.Call) -> bool:
        if is_logging_call(call):
            return False
        name = call_name(call, self.imports)
        if name is not None and (name in _TRIVIAL_FUNCTIONS or name.startswith("os.path.")):
            return False
        method = method_name(call)
        if method is not None and (method in _TRIVIAL_METHODS or _CHECK_CALL.search(method)):
            return False
        return not (isinstance(call.func, cst.Name) and _CHECK_CALL.search(call.func.value))

    def on_loop_end(self, loop: Loop) -> None:
        if isinstance(loop.node, cst.For) and loop.unchecked_writes and loop.work_calls:
            self.report(loop.unchecked_writes[0])
