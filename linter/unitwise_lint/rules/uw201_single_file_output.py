"""UW201 single-file-output: every unit's results end up in one file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, RuleContext, Valid
from ._base import Frame, refers_to_global
from ._io import Write, classify_write, is_builtin_open_read, loader_name
from ._loops import Loop, LoopRule
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


@dataclass(frozen=True)
class _Gathered:
    """Where a name was accumulated: the loop's iterable and what it called per item."""

    iterable: cst.BaseExpression
    calls: frozenset[str]


@dataclass
class _Scope:
    """What UW201 tracks per function (or for the module's own code)."""

    #: Names accumulated over a loop of data units, and names computed from them.
    accumulated: dict[str, list[_Gathered]] = field(default_factory=dict)
    #: Names bound to an empty or literal collection or frame (``rows = []``).
    collections: set[str] = field(default_factory=set)


@dataclass
class _Candidate:
    """A write of accumulated data after the loops: reported unless a helper wrote per unit."""

    call: cst.Call
    gathered: list[_Gathered]


#: Calls that return their first argument grown: ``x = pd.concat([x, df])``.
_GROWING_CALLS = frozenset(
    {
        "concat",
        "concatenate",
        "vstack",
        "hstack",
        "dstack",
        "row_stack",
        "column_stack",
        "stack",
        "append",
        "union",
        "combine_first",
    }
)
#: Constructors of an empty collection or frame that a loop then grows.
_EMPTY_CONSTRUCTORS = frozenset(
    {"list", "dict", "set", "DataFrame", "Series", "GeoDataFrame", "array", "empty", "zeros"}
)
#: Loops over these are experiments, not data units: ``for seed in SEEDS``.
_CONFIG_NAME = re.compile(
    r"seed|config|cfg|param|setting|experiment|trial|fold|model|method|variant|hyper|alpha"
    r"|^lr$|learning_rate|scenario|baseline|estimator|classifier|regressor|strateg|ablation"
    r"|option|k_?values|n_?clusters|threshold",
    re.IGNORECASE,
)
#: The largest literal collection (or ``range``) taken as a handful of configurations.
_SMALL = 32
#: Attributes naming a unit's own output: ``unit.output``.
_OUTPUT_ATTRIBUTES = frozenset({"output", "outputs", "output_path", "out_path", "destination"})


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
        "Accumulation is `append`/`extend`/dict insert, growing re-assignment "
        "(`acc = pd.concat([acc, df])`, `x = x + [y]`, `np.vstack`, `np.append`, "
        "`DataFrame.append`) and `+=` on a list or frame. Write one output per unit and "
        "combine them in a separate step. Not reported: a loop that only gathers files back "
        "as they are (`parts.append(pd.read_parquet(p))`), which is such a combine step; a "
        "loop whose body already writes one output per unit (directly, to a path built from "
        "the loop variable or to `unit.output`, or through a function of the module called "
        "per item), whose final write is then a summary; a loop over a handful of "
        "configurations or seeds (a small literal, `range(5)`, `for seed in SEEDS`), which is "
        "an experiment, not data units; and a loop gathering the pieces of one unit written "
        "to that unit's own output (the template's `process(unit)`)."
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
        Valid(
            "import pandas as pd\n\ndef run(paths, out_dir):\n    stats = []\n"
            "    for path in paths:\n        df = clean(pd.read_csv(path))\n"
            "        df.to_parquet(out_dir / f'{path.stem}.parquet')\n"
            "        stats.append({'path': path, 'rows': len(df)})\n"
            "    pd.DataFrame(stats).to_csv(out_dir / 'summary.csv')\n"
        ),
        Valid(
            "import json\n\nscores = {}\nfor seed in [0, 1, 2]:\n"
            "    scores[seed] = train(seed)\n"
            "with open('scores.json', 'w') as fh:\n    json.dump(scores, fh)\n"
        ),
        Valid(
            "import numpy as np\n\nruns = []\nfor i in range(0x5):\n"
            "    runs.append(simulate(i))\nnp.save('runs.npy', np.stack(runs))\n"
        ),
        Valid(
            "import pandas as pd\n\ndef process(unit):\n    halves = []\n"
            "    for part in unit.inputs:\n        halves.append(clean(pd.read_csv(part)))\n"
            "    pd.concat(halves).to_parquet(unit.output)\n"
        ),
        Valid(
            "def process(path, out_dir):\n    compute(path).to_parquet(out_dir / path.name)\n\n"
            "def run(paths, out_dir):\n    rows = []\n    for path in paths:\n"
            "        rows.append(process(path, out_dir))\n    write_summary(rows, 'summary.csv')\n"
            "    pd.DataFrame(rows).to_csv('summary.csv')\n"
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
        Invalid(
            "import glob\nimport pandas as pd\n\nacc = pd.DataFrame()\n"
            "for path in glob.glob('raw/*.csv'):\n    df = pd.read_csv(path)\n"
            "    df['site'] = path\n    acc = pd.concat([acc, df])\nacc.to_csv('all.csv')\n"
        ),
        Invalid(
            "import pickle\n\ndef run(units):\n    rows = []\n    for unit in units:\n"
            "        rows = rows + [score(unit)]\n"
            "    with open('rows.pkl', 'wb') as fh:\n        pickle.dump(rows, fh)\n"
        ),
        Invalid(
            "import numpy as np\n\ndef run(tiles):\n    stack = np.empty((0, 3))\n"
            "    for tile in tiles:\n        stack = np.vstack([stack, features(tile)])\n"
            "    np.save('features.npy', stack)\n"
        ),
        Invalid(
            "import numpy as np\n\ndef run(tiles):\n    values = np.array([])\n"
            "    for tile in tiles:\n        values = np.append(values, measure(tile))\n"
            "    np.savetxt('values.txt', values)\n"
        ),
        Invalid(
            "import pandas as pd\n\ndef run(files):\n    out = pd.DataFrame()\n"
            "    for f in files:\n        out = out.append(summarise(f))\n"
            "    out.to_parquet('summary.parquet')\n"
        ),
        Invalid(
            "import pandas as pd\n\ndef run(files):\n    rows = []\n    for f in files:\n"
            "        rows += [summarise(f)]\n    pd.DataFrame(rows).to_csv('rows.csv')\n"
        ),
        Invalid(
            "import numpy as np\n\nrows = []\nfor tile in tiles:\n    rows.append(stats(tile))\n"
            "np.savez('all.npz', names=np.array(tiles), stats=np.array(rows))\n"
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._scopes: list[_Scope] = [_Scope()]
        #: Module-level names bound to a constant path or string.
        self._constants: set[str] = set()
        #: Module-level names bound to a small literal collection (``SEEDS = [0, 1, 2]``).
        self._small_literals: set[str] = set()
        #: Functions handed to workers (map/submit/delayed/Process(target=...)).
        self._dispatched: set[str] = set()
        #: Functions of the module that write an output file.
        self._writers: set[str] = set()
        self._worker_appends: list[_Pending] = []
        self._fixed_writes: list[_Pending] = []
        self._candidates: list[_Candidate] = []
        self._names: dict[int, str] = {}

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
            if _small_literal(value):
                self._small_literals.add(names[0])
        scope = self._scopes[-1]
        if _empty_collection(value):
            scope.collections.update(names)
        if self.loops:
            loaded = self.loops[-1].loaded
            if self._from_load(value):
                loaded.update(names)
            else:
                loaded.difference_update(names)  # processed: no longer the file as read
        elif scope.accumulated:
            sources = referenced_names(value) & scope.accumulated.keys()
            for name in names:
                for source in sources:
                    scope.accumulated.setdefault(name, []).extend(scope.accumulated[source])

    def _from_load(self, value: cst.BaseExpression | None) -> bool:
        """Whether ``value`` is a file read back as it is (``pd.read_parquet(p).assign(...)``,
        or a name bound to such a read and not processed since)."""
        if value is None:
            return False
        if isinstance(value, cst.Name):
            return bool(self.loops) and value.value in self.loops[-1].loaded
        for link in chain(value):
            if isinstance(link, cst.Call) and (
                loader_name(link, self.imports, frozenset()) is not None
                or is_builtin_open_read(link, self.imports)
            ):
                return True
        return False

    def _accumulate(self, name: str, values: list[cst.BaseExpression]) -> None:
        if not self.loops or (values and all(self._from_load(v) for v in values)):
            return  # gathering files back as they are: a combine step
        if any(name in loop.assigned for loop in self.loops):
            return  # reset inside the loop: not accumulated over it
        self.loops[-1].accumulating.setdefault(name, False)

    def _growing(self, name: str, value: cst.BaseExpression) -> list[cst.BaseExpression] | None:
        """What ``name = value`` adds to ``name`` if it grows it (``x = pd.concat([x, df])``,
        ``x = x + [row]``, ``x = np.vstack((x, a))``, ``x = x.append(df)``), else None."""
        if isinstance(value, cst.Call) and last_component(value.func) in _GROWING_CALLS:
            parts: list[cst.BaseExpression] = []
            if isinstance(value.func, cst.Attribute):
                parts.append(value.func.value)
            for arg in value.args:
                if arg.keyword is None:
                    inner = arg.value
                    if isinstance(inner, (cst.List, cst.Tuple)):
                        parts.extend(element.value for element in inner.elements)
                    else:
                        parts.append(inner)
            names = [p for p in parts if isinstance(p, cst.Name) and p.value == name]
            if not names:
                return None
            return [p for p in parts if not (isinstance(p, cst.Name) and p.value == name)]
        if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
            sides = (value.left, value.right)
            own = [x for x in sides if isinstance(x, cst.Name) and x.value == name]
            other = [x for x in sides if x not in own]
            if (
                own
                and other
                and (
                    isinstance(other[0], (cst.List, cst.ListComp))
                    or name in self._scopes[-1].collections
                )
            ):
                return other
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        grown: tuple[str, list[cst.BaseExpression]] | None = None
        if self.loops and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            name = node.targets[0].target.value
            added = self._growing(name, node.value)
            if added is not None:
                grown = (name, added)
        fresh = [] if grown is None else [lp for lp in self.loops if grown[0] not in lp.assigned]
        super().visit_Assign(node)
        if grown is not None:
            for loop in fresh:
                loop.assigned.discard(grown[0])  # growing is not resetting
            self._accumulate(*grown)
            return
        names = [n for t in node.targets for n in target_names(t.target)]
        self._record_assignment(names, node.value)
        for target in node.targets:
            base = subscript_base(target.target)
            if base is not None and isinstance(target.target, (cst.Subscript, cst.Attribute)):
                if self.loops:
                    self.loops[-1].loaded.discard(base.value)
                if isinstance(target.target, cst.Subscript):
                    self._accumulate(base.value, [node.value])

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        super().visit_AnnAssign(node)
        self._record_assignment(list(target_names(node.target)), node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        super().visit_AugAssign(node)
        if (
            isinstance(node.target, cst.Name)
            and isinstance(node.operator, cst.AddAssign)
            and (
                isinstance(node.value, (cst.List, cst.ListComp))
                or node.target.value in self._scopes[-1].collections
            )
        ):
            for loop in self.loops:
                loop.assigned.discard(node.target.value)
            self._accumulate(node.target.value, [node.value])

    # -- loops ----------------------------------------------------------------------------------

    def _is_config_loop(self, node: cst.For | cst.While) -> bool:
        """Whether a loop runs over a handful of configurations or seeds, not data units."""
        if not isinstance(node, cst.For):
            return False
        iterable = node.iter
        while isinstance(iterable, cst.Call) and last_component(iterable.func) in (
            "enumerate",
            "tqdm",
            "sorted",
            "list",
        ):
            first = get_arg(iterable, 0)
            if first is None:
                break
            iterable = first
        if _small_literal(iterable):
            return True
        if isinstance(iterable, cst.Call) and last_component(iterable.func) == "range":
            bounds = [arg.value for arg in iterable.args]
            integers = [b for b in bounds if isinstance(b, cst.Integer)]
            if bounds and len(integers) == len(bounds):
                stop = integers[-1 if len(integers) < 3 else 1]
                return stop.evaluated_value <= _SMALL
        names = set(target_names(node.target)) | referenced_names(iterable)
        if names & self._small_literals:
            return True
        if isinstance(iterable, cst.Call) and last_component(iterable.func) == "product":
            return True
        return any(_CONFIG_NAME.search(name) for name in names)

    def on_loop_end(self, loop: Loop) -> None:
        if loop.writes_per_unit or not loop.accumulating:
            return  # a summary of units that each wrote their own output
        data = not self._is_config_loop(loop.node)
        iterable = loop.node.iter if isinstance(loop.node, cst.For) else loop.node.test
        gathered = _Gathered(iterable, frozenset(loop.calls))
        if self.loops:
            outer = self.loops[-1]
            outer.calls |= loop.calls
            for name, was_data in loop.accumulating.items():
                outer.accumulating[name] = outer.accumulating.get(name, False) or was_data or data
            return
        scope = self._scopes[-1]
        for name, was_data in loop.accumulating.items():
            if was_data or data:
                scope.accumulated.setdefault(name, []).append(gathered)

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
            self.loops
            and isinstance(func, cst.Name)
            and any(self.varies(arg.value) for arg in node.args)
        ):
            self.loops[-1].calls.add(func.value)
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _ACCUMULATE
            and isinstance(func.value, cst.Name)
        ):
            self._accumulate(func.value.value, [arg.value for arg in node.args])
            return
        write = classify_write(node, self.imports)
        if write is None:
            return
        if self.frames:
            self._writers.add(self.frames[0].name)
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
        if write.path is not None and (self.varies(write.path) or _unit_output(write.path)):
            for loop in self.loops:
                loop.writes_per_unit = True
            return
        if write.path is None:
            return
        if write.append:
            self.report(write.call, _APPEND_LOOP)
            return
        names = self._constant_names(write.path)
        if names is not None:
            self._fixed_writes.append(_Pending(write.call, tuple(self.frames), frozenset(names)))

    def _write_after_loops(self, write: Write) -> None:
        accumulated = self._scopes[-1].accumulated
        if not accumulated or (write.path is not None and _unit_output(write.path)):
            return
        for data in write.data:
            found = sorted(referenced_names(data) & accumulated.keys())
            if not found:
                continue
            gathered = accumulated[found[0]]
            if write.path is not None and self.frames and self._one_unit(write.path, gathered):
                return
            self._candidates.append(_Candidate(write.call, gathered))
            self._names[id(write.call)] = found[0]
            return

    def _one_unit(self, path: cst.BaseExpression, gathered: list[_Gathered]) -> bool:
        """Whether a loop gathered the pieces of one unit, whose own output is written:
        ``for half in unit.inputs: ...`` then a write to a path built from ``unit``."""
        params = self.frames[-1].params
        used = referenced_names(path) & params
        for item in gathered:
            iterable = item.iterable
            if isinstance(iterable, cst.Name):
                continue  # the parameter itself: a list of units
            if used & referenced_names(iterable):
                return True
        return False

    def leave_Module(self, original_node: cst.Module) -> None:
        for candidate in self._candidates:
            if any(item.calls & self._writers for item in candidate.gathered):
                continue  # a helper called per unit writes each unit's output
            self.report(candidate.call, _ACCUMULATED.format(name=self._names[id(candidate.call)]))
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


def _small_literal(node: cst.BaseExpression) -> bool:
    """A literal list, tuple or set of at most a handful of elements (configurations)."""
    return isinstance(node, (cst.List, cst.Tuple, cst.Set)) and 0 < len(node.elements) <= _SMALL


def _empty_collection(node: cst.BaseExpression) -> bool:
    """``[]``, ``{}``, ``list()``, ``pd.DataFrame()``, ``np.empty((0, 3))``..."""
    if isinstance(node, (cst.List, cst.Dict, cst.Set)):
        return True
    return isinstance(node, cst.Call) and last_component(node.func) in _EMPTY_CONSTRUCTORS


def _unit_output(path: cst.BaseExpression) -> bool:
    """Whether a path is a unit's own output: ``unit.output``, ``task.outputs["mask"]``."""
    for link in chain(path):
        if isinstance(link, cst.Attribute) and link.attr.value in _OUTPUT_ATTRIBUTES:
            return True
    return False
