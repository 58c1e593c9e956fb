"""UW201 single-file-output: every unit's results end up in one file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, RuleContext, Valid
from ._base import Frame, refers_to_global
from ._io import Write, classify_write, is_builtin_open_read, loader_name
from ._loops import LoopRule
from ._names import (
    call_name,
    chain,
    get_arg,
    last_component,
    referenced_names,
    string_value,
    subscript_base,
    target_names,
)

#: Methods that add to a collection.
_ACCUMULATE = frozenset({"append", "extend", "update", "add", "insert", "setdefault"})
#: Calls that hand a function to workers, one unit at a time.
_DISPATCH = frozenset(
    {
        "map",
        "imap",
        "imap_unordered",
        "starmap",
        "map_async",
        "starmap_async",
        "apply_async",
        "submit",
        "delayed",
    }
)
#: Calls that keep a path constant: ``Path("out") / "all.csv"``.
_PATH_CALLS = frozenset({"pathlib.Path", "pathlib.PurePath", "os.path.join", "str"})

_ACCUMULATED = (
    "`{name}` collects every unit's results over a loop and is written once, to one file: "
    "write one output per unit"
)
_APPEND_LOOP = "File opened for appending inside a loop: all units share one output file"
_APPEND_WORKER = (
    "File opened for appending in `{name}`, which runs once per unit: "
    "parallel units interleave their lines in one shared file"
)
_FIXED_PATH = "Loop writes to the same fixed path on every iteration: each unit overwrites the last"


@dataclass
class _Scope:
    """What UW201 tracks per function (or for the module's own code)."""

    #: Names appended to inside a loop, and names computed from them.
    accumulated: set[str] = field(default_factory=set)


@dataclass
class _Pending:
    """A finding that needs the whole module to decide."""

    call: cst.Call
    frames: tuple[Frame, ...]
    names: frozenset[str]


class SingleFileOutput(LoopRule):
    code = "UW201"
    name = "single-file-output"
    message = "All units write to one output file"
    rationale = (
        "A run whose units all write into one file cannot be parallelised (workers would "
        "interleave or overwrite each other's writes), cannot be resumed (the file is only "
        "complete at the very end) and loses everything if it fails at 99%. Reported: results "
        "appended to a list or dict inside a loop and written once after it "
        "(`pd.concat(parts).to_csv(...)`, `json.dump(results, f)`); a file opened in append "
        "mode inside a loop, or inside a function handed to `map`/`submit`/`delayed` in the "
        "same module; a write to the same literal or module-constant path inside a loop. "
        "Write one output per unit and combine them in a separate step. A loop that only "
        "gathers files back (`parts.append(pd.read_parquet(p))`) is such a combine step and "
        "is not reported."
    )
    TRACK_PARAM_TAINT = True
    VALID: ClassVar[list[Valid]] = [
        Valid(
            "def run(units, out_dir):\n    for unit in units:\n"
            "        process(unit).to_parquet(out_dir / f'{unit}.parquet')\n"
        ),
        Valid(
            "import pandas as pd\n\ndef combine(paths, out):\n    parts = []\n"
            "    for path in paths:\n        parts.append(pd.read_parquet(path))\n"
            "    pd.concat(parts).to_parquet(out)\n"
        ),
        Valid(
            "def run(regions):\n    for region in regions:\n        parts = []\n"
            "        for tile in tiles(region):\n            parts.append(process(tile))\n"
            "        pd.concat(parts).to_csv(f'{region}.csv')\n"
        ),
        Valid(
            "def log_unit(unit):\n    with open(f'logs/{unit}.log', 'a') as f:\n"
            "        f.write('done\\n')\n\nwith Pool() as pool:\n    pool.map(log_unit, units)\n"
        ),
        Valid(
            "import json\nimport sys\n\ndef run(units):\n    results = []\n"
            "    for unit in units:\n        results.append(score(unit))\n"
            "    json.dump(results, sys.stdout)\n"
        ),
        Valid(
            "def run(units):\n    for unit in units:\n"
            "        with open(f'out/{unit}.txt', 'a') as fh:\n            fh.write('x')\n"
        ),
        Valid(
            "OUT = 'summary.csv'\n\ndef run(units):\n    for OUT in units:\n"
            "        compute(OUT).to_csv(OUT)\n"
        ),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid(
            "import pandas as pd\n\ndef run(units):\n    parts = []\n    for unit in units:\n"
            "        df = pd.read_csv(f'in/{unit}.csv')\n        parts.append(clean(df))\n"
            "    pd.concat(parts).to_csv('all.csv')\n"
        ),
        Invalid(
            "import json\n\nresults = {}\nfor unit in units:\n    results[unit] = score(unit)\n"
            "summary = {'n': len(results), 'scores': results}\n"
            "with open('scores.json', 'w') as f:\n    json.dump(summary, f)\n"
        ),
        Invalid(
            "import numpy as np\n\ndef run(units, out):\n    arrays = []\n"
            "    for unit in units:\n        arrays.append(compute(unit))\n"
            "    np.save(out, np.stack(arrays))\n"
        ),
        Invalid(
            "def run(units):\n    for unit in units:\n"
            "        with open('results.csv', 'a') as fh:\n            fh.write(row(unit))\n"
        ),
        Invalid(
            "from concurrent.futures import ProcessPoolExecutor\n\n"
            "def work(unit, log_path):\n    result = compute(unit)\n"
            "    with open(log_path, 'a') as fh:\n        fh.write(f'{unit},{result}\\n')\n\n"
            "with ProcessPoolExecutor() as ex:\n"
            "    futures = [ex.submit(work, u, 'log.csv') for u in units]\n"
        ),
        Invalid(
            "from pathlib import Path\n\nOUT_DIR = Path('out')\nSUMMARY = OUT_DIR / 'all.csv'\n\n"
            "def run(units):\n    for unit in units:\n        compute(unit).to_csv(SUMMARY)\n"
        ),
        Invalid("for unit in units:\n    df = compute(unit)\n    df.to_csv('out.csv', mode='a')\n"),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._scopes: list[_Scope] = [_Scope()]
        #: Module-level names bound to a constant path or string.
        self._constants: set[str] = set()
        #: Functions handed to workers (map/submit/delayed/Process(target=...)).
        self._dispatched: set[str] = set()
        self._worker_appends: list[_Pending] = []
        self._fixed_writes: list[_Pending] = []

    # -- scopes -------------------------------------------------------------------------------

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef_body(node)
        self._scopes.append(_Scope())

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().leave_FunctionDef_body(node)
        self._scopes.pop()

    # -- constants and accumulation -------------------------------------------------------------

    def _constant_names(self, node: cst.BaseExpression) -> set[str] | None:
        """The module constants a constant path expression uses; None if it is not constant."""
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return set() if string_value(node) is not None else None
        if isinstance(node, cst.FormattedString):
            constant = all(isinstance(p, cst.FormattedStringText) for p in node.parts)
            return set() if constant else None
        if isinstance(node, cst.Name):
            return {node.value}
        if isinstance(node, cst.BinaryOperation) and isinstance(
            node.operator, (cst.Divide, cst.Add)
        ):
            left = self._constant_names(node.left)
            right = self._constant_names(node.right)
            return None if left is None or right is None else left | right
        if isinstance(node, cst.Call) and call_name(node, self.imports) in _PATH_CALLS:
            names: set[str] = set()
            for arg in node.args:
                found = None if arg.star else self._constant_names(arg.value)
                if found is None:
                    return None
                names |= found
            return names
        return None

    def _record_assignment(self, names: list[str], value: cst.BaseExpression | None) -> None:
        if value is None:
            return
        if self.at_module_scope() and not self.loops and len(names) == 1:
            used = self._constant_names(value)
            if used is not None and used <= self._constants:
                self._constants.add(names[0])
        scope = self._scopes[-1]
        if self.loops:
            if self._from_load(value):
                self.loops[-1].loaded.update(names)
        elif scope.accumulated and referenced_names(value) & scope.accumulated:
            scope.accumulated.update(names)

    def _from_load(self, value: cst.BaseExpression | None) -> bool:
        """Whether ``value`` is a file read back (``pd.read_parquet(p).assign(...)``, ``df``)."""
        if value is None:
            return False
        for link in chain(value):
            if isinstance(link, cst.Call) and (
                loader_name(link, self.imports, frozenset()) is not None
                or is_builtin_open_read(link, self.imports)
            ):
                return True
            if isinstance(link, cst.Name):
                return bool(self.loops) and link.value in self.loops[-1].loaded
        return False

    def _accumulate(self, name: str, value: cst.BaseExpression | None) -> None:
        if not self.loops or self._from_load(value):
            return
        if any(name in loop.assigned for loop in self.loops):
            return  # reset inside the loop: not accumulated over it
        self._scopes[-1].accumulated.add(name)

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        names = [n for t in node.targets for n in target_names(t.target)]
        self._record_assignment(names, node.value)
        for target in node.targets:
            base = subscript_base(target.target)
            if base is not None and isinstance(target.target, cst.Subscript):
                self._accumulate(base.value, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        super().visit_AnnAssign(node)
        self._record_assignment(list(target_names(node.target)), node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        super().visit_AugAssign(node)
        if (
            isinstance(node.target, cst.Name)
            and isinstance(node.operator, cst.AddAssign)
            and isinstance(node.value, (cst.List, cst.ListComp))
        ):
            self._accumulate(node.target.value, None)

    # -- calls ----------------------------------------------------------------------------------

    def _note_dispatch(self, node: cst.Call) -> None:
        if last_component(node.func) in _DISPATCH:
            worker = get_arg(node, 0, "fn", "func", "function")
            if isinstance(worker, cst.Call) and last_component(worker.func) == "partial":
                worker = get_arg(worker, 0, "func")
            name = None if worker is None else last_component(worker)
            if name is not None:
                self._dispatched.add(name)
        target = get_arg(node, None, "target", "initializer")
        if target is not None and (name := last_component(target)) is not None:
            self._dispatched.add(name)

    def visit_Call(self, node: cst.Call) -> None:
        self._note_dispatch(node)
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _ACCUMULATE
            and isinstance(func.value, cst.Name)
        ):
            self._accumulate(func.value.value, get_arg(node, 0))
            return
        write = classify_write(node, self.imports)
        if write is None:
            return
        if self.loops:
            self._write_in_loop(write)
        elif write.append:
            if self.frames and not self._per_call_path(write.path, self.frames[-1]):
                self._worker_appends.append(_Pending(node, tuple(self.frames), frozenset()))
        else:
            self._write_after_loops(write)

    @staticmethod
    def _per_call_path(path: cst.BaseExpression | None, frame: Frame) -> bool:
        """Whether a path inside a function is built from its arguments (``f"{unit}.log"``).

        A parameter used as the path as it is (``open(log_path, "a")``) is taken to be one
        shared file that every call receives.
        """
        if path is None or (isinstance(path, cst.Name) and path.value in frame.params):
            return False
        return bool(referenced_names(path) & frame.tainted)

    def _write_in_loop(self, write: Write) -> None:
        if write.path is None or self.varies(write.path):
            return
        if write.append:
            self.report(write.call, _APPEND_LOOP)
            return
        names = self._constant_names(write.path)
        if names is not None:
            self._fixed_writes.append(_Pending(write.call, tuple(self.frames), frozenset(names)))

    def _write_after_loops(self, write: Write) -> None:
        accumulated = self._scopes[-1].accumulated
        if not accumulated:
            return
        for data in write.data:
            found = sorted(referenced_names(data) & accumulated)
            if found:
                self.report(write.call, _ACCUMULATED.format(name=found[0]))
                return

    def leave_Module(self, original_node: cst.Module) -> None:
        for pending in self._worker_appends:
            workers = [f.name for f in pending.frames if f.name in self._dispatched]
            if workers:
                self.report(pending.call, _APPEND_WORKER.format(name=workers[0]))
        for pending in self._fixed_writes:
            if all(
                name in self._constants
                and self.module_bindings[name] == 1
                and refers_to_global(name, pending.frames)
                for name in pending.names
            ):
                self.report(pending.call, _FIXED_PATH)
