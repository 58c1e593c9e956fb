"""UW202 no-checkpoint: a loop writes one output per unit but never skips finished units."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, RuleContext, Valid
from ._io import classify_write
from ._logging import is_logging_call
from ._loops import Loop, LoopRule
from ._names import (
    call_name,
    dotted_name,
    get_arg,
    iter_calls,
    last_component,
    method_name,
    referenced_names,
    string_value,
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


#: Calls that test whether a path exists: ``out.exists()``, ``os.path.isfile(p)``.
_EXISTS = frozenset({"exists", "isfile", "is_file", "isdir", "is_dir", "lexists", "isfile_"})
_SEPARATORS = re.compile(r"[/\\]+")

#: A path reduced to what identifies it: the names and the literal pieces it is built from.
Key = tuple[frozenset[str], frozenset[str]]


@dataclass
class _Helper:
    """A function of the module that writes, with what its writes' paths are built from."""

    params: list[str]
    writes: list[Key] = field(default_factory=list)
    guarded: bool = False
    checks: list[Key | None] = field(default_factory=list)


@dataclass
class _HelperCall:
    call: cst.Call
    name: str
    args: dict[str, Key]
    checks: list[Key]
    generic: bool


@dataclass
class _LoopRecord:
    """What one loop wrote and checked, decided once the whole module is known."""

    node: cst.For
    writes: list[tuple[cst.Call, Key, bool]] = field(default_factory=list)
    helper_calls: list[_HelperCall] = field(default_factory=list)
    work_calls: int = 0
    generic_before_write: bool = False


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
        "`.to_parquet`, `np.save`, `.write_text`, `.savefig`..., or a call to a function of "
        "the same module that does such a write) and does other work, unless a checkpoint "
        "guards it: an existence test (`.exists()`, `os.path.isfile`, `fs.exists`) on the "
        "path being WRITTEN (the same expression, or a variable or f-string built from the "
        "same parts; a test on the input file is not a checkpoint) earlier in the loop body, "
        "a test of finished work by name (`is_done(unit)`, `unit in done`), or an iterable "
        "already filtered (`for unit in todo:`). Loops that only export data already in "
        "memory are not reported."
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
        Valid(
            "def save(df, path):\n    df.to_parquet(path)\n\n"
            "def run(units, out_dir):\n    for unit in units:\n"
            "        out = out_dir / f'{unit}.parquet'\n        if out.exists():\n"
            "            continue\n        save(process(unit), out)\n"
        ),
        Valid(
            "import os\n\ndef run(units, out_dir):\n    for unit in units:\n"
            "        if os.path.exists(f'{out_dir}/{unit}.csv'):\n            continue\n"
            "        path = f'{out_dir}/{unit}.csv'\n        compute(unit).to_csv(path)\n"
        ),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid(
            "def run(units, raw_dir, out_dir):\n    for unit in units:\n"
            "        src = raw_dir / f'{unit}.tif'\n        if not src.exists():\n"
            "            continue\n        result = process(src)\n"
            "        result.to_netcdf(out_dir / f'{unit}.nc')\n"
        ),
        Invalid(
            "def save(df, out_dir, unit):\n    df.to_parquet(out_dir / f'{unit}.parquet')\n\n"
            "def run(units, out_dir):\n    for unit in units:\n"
            "        save(process(unit), out_dir, unit)\n"
        ),
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
        #: Names assigned from an existence test: the path keys it tests, or None for a
        #: test of finished work by name (``done = is_done(unit)``).
        self._check_names: dict[str, list[Key | None]] = {}
        #: Per function (and the module), the last value assigned to each simple name.
        self._values: list[dict[str, cst.BaseExpression]] = [{}]
        self._records: list[_LoopRecord] = []
        #: The records of the loops being traversed, innermost last (None: a ``while``).
        self._open: list[_LoopRecord | None] = []
        #: Path keys tested so far in each open loop (None: a test of finished work).
        self._tested: list[list[Key | None]] = []
        self._helpers: dict[str, _Helper] = {}

    # -- keys -----------------------------------------------------------------------------------

    def key(self, node: cst.BaseExpression, depth: int = 0) -> Key:
        """What identifies a path: names (variables expanded) and literal pieces."""
        names: set[str] = set()
        pieces: set[str] = set()
        stack: list[cst.CSTNode] = [node]
        values = self._values[-1]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Name):
                value = values.get(current.value)
                if value is not None and depth < 4 and value is not node:
                    sub_names, sub_pieces = self.key(value, depth + 1)
                    names |= sub_names
                    pieces |= sub_pieces
                else:
                    names.add(current.value)
            elif isinstance(current, cst.Attribute):
                dotted = dotted_name(current)
                if dotted is not None:
                    names.add(dotted)
                else:
                    stack.append(current.value)
            elif isinstance(current, cst.Call):
                if isinstance(current.func, cst.Attribute):
                    stack.append(current.func.value)
                stack.extend(arg.value for arg in current.args)
            elif isinstance(current, (cst.SimpleString, cst.FormattedStringText)):
                text = (
                    string_value(current)
                    if isinstance(current, cst.SimpleString)
                    else current.value
                )
                pieces.update(p for p in _SEPARATORS.split(text or "") if p)
            elif isinstance(current, cst.FormattedString):
                stack.extend(current.parts)
            elif isinstance(current, cst.FormattedStringExpression):
                stack.append(current.expression)
            elif isinstance(current, (cst.BinaryOperation, cst.ConcatenatedString)):
                stack.extend((current.left, current.right))
        return frozenset(names), frozenset(pieces)

    def _tests(self, node: cst.BaseExpression) -> list[Key | None]:
        """The checkpoints a test makes: path keys, None for a test of finished work."""
        found: list[Key | None] = []
        for call in iter_calls(node):
            name = last_component(call.func)
            if name is None:
                continue
            if name in _EXISTS:
                path = get_arg(call, 0, "path")
                if path is None and isinstance(call.func, cst.Attribute):
                    path = call.func.value
                if path is not None:
                    found.append(self.key(path))
            elif _CHECK_CALL.search(name):
                found.append(None)
        if isinstance(node, cst.Name) and node.value in self._check_names:
            found.extend(self._check_names[node.value])
        for name in referenced_names(node) & self._check_names.keys():
            found.extend(self._check_names[name])
        if not found and _is_check(node, set()):
            found.append(None)
        return found

    # -- bookkeeping ----------------------------------------------------------------------------

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef_body(node)
        self._values.append({})
        self._saved.append((self._open, self._tested))
        self._open, self._tested = [], []
        if len(self.frames) == 1:
            params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
            params += [p.name.value for p in node.params.kwonly_params]
            self._helpers[node.name.value] = _Helper(params)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().leave_FunctionDef_body(node)
        self._values.pop()
        self._open, self._tested = self._saved.pop()

    _saved: list[tuple[list[_LoopRecord | None], list[list[Key | None]]]]

    def visit_Module(self, node: cst.Module) -> None:
        self._saved = []

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        targets = [n for t in node.targets for n in target_names(t.target)]
        if type(node.value) in _CHECK_VALUES:
            tests = self._tests(node.value)
            if tests:
                for name in targets:
                    self._check_names[name] = tests
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._values[-1][node.targets[0].target.value] = node.value

    def visit_For_body(self, node: cst.For) -> None:
        super().visit_For_body(node)
        record = _LoopRecord(node)
        self._records.append(record)
        self._open.append(record)
        generic = any(_TODO.search(name) for name in referenced_names(node.iter))
        tests = self._tests(node.iter) if type(node.iter) in _CHECK_VALUES else []
        self._tested.append([None] if generic or tests else [])

    def leave_For_body(self, node: cst.For) -> None:
        super().leave_For_body(node)
        self._open.pop()
        self._tested.pop()

    def visit_While_body(self, node: cst.While) -> None:
        super().visit_While_body(node)
        self._open.append(None)
        self._tested.append([])

    def leave_While_body(self, node: cst.While) -> None:
        super().leave_While_body(node)
        self._open.pop()
        self._tested.pop()

    def _check_seen(self, test: cst.BaseExpression) -> None:
        tests = self._tests(test)
        if not tests:
            return
        if self.frames and len(self.frames) == 1 and self.frames[0].name in self._helpers:
            self._helpers[self.frames[0].name].checks.extend(tests)
        for tested in self._tested:
            tested.extend(tests)

    def visit_If(self, node: cst.If) -> None:
        self._check_seen(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._check_seen(node.test)

    def _helper(self) -> _Helper | None:
        if len(self.frames) >= 1:
            return self._helpers.get(self.frames[0].name)
        return None

    def visit_Call(self, node: cst.Call) -> None:
        write = classify_write(node, self.imports)
        if write is None and method_name(node) == "touch" and isinstance(node.func, cst.Attribute):
            path = node.func.value  # a marker file: ``done.touch()``
        elif write is not None and not write.append and write.path is not None:
            path = write.path
        else:
            path = None
        helper = self._helper()
        if path is not None and helper is not None:
            helper.writes.append(self.key(path))
        if not self._open or self._open[-1] is None:
            return
        record = self._open[-1]
        assert record is not None
        if write is None:
            if self._is_work(node):
                for loop in self._open:
                    if loop is not None:
                        loop.work_calls += 1
            if path is None and isinstance(node.func, cst.Name) and node.args:
                self._note_helper_call(node, node.func.value, record)
            if path is None:
                return
        if path is None or not self.varies(path):
            return
        tested = [t for tests in self._tested for t in tests]
        if None in tested and not record.writes:
            record.generic_before_write = True
        key = self.key(path)
        record.writes.append((node, key, key in tested))

    def _note_helper_call(self, node: cst.Call, name: str, record: _LoopRecord) -> None:
        if not any(self.varies(arg.value) for arg in node.args):
            return
        args: dict[str, Key] = {}
        position = 0
        for arg in node.args:
            if arg.star:
                return
            label = arg.keyword.value if arg.keyword is not None else str(position)
            if arg.keyword is None:
                position += 1
            args[label] = self.key(arg.value)
        tested = [t for tests in self._tested for t in tests]
        keys = [t for t in tested if t is not None]
        record.helper_calls.append(_HelperCall(node, name, args, keys, None in tested))

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
        pass

    # -- decisions ------------------------------------------------------------------------------

    def _helper_writes(self, call: _HelperCall) -> list[Key]:
        """The keys of what a call to a writing helper writes, in the caller's terms."""
        helper = self._helpers.get(call.name)
        if helper is None or not helper.writes:
            return []
        if None in helper.checks or any(w in helper.checks for w in helper.writes):
            return []  # the helper checks for itself
        mapping: dict[str, Key] = {}
        for index, param in enumerate(helper.params):
            found = call.args.get(str(index)) or call.args.get(param)
            if found is not None:
                mapping[param] = found
        keys = []
        for names, pieces in helper.writes:
            if not names & mapping.keys():
                continue  # the helper writes somewhere that does not depend on the call
            out_names: set[str] = set()
            out_pieces: set[str] = set(pieces)
            for name in names:
                if name in mapping:
                    out_names |= mapping[name][0]
                    out_pieces |= mapping[name][1]
                else:
                    out_names.add(name)
            keys.append((frozenset(out_names), frozenset(out_pieces)))
        return keys

    def leave_Module(self, original_node: cst.Module) -> None:
        for record in self._records:
            writes = list(record.writes)
            generic = record.generic_before_write
            for call in record.helper_calls:
                for key in self._helper_writes(call):
                    if call.generic and not writes:
                        generic = True
                    writes.append((call.call, key, key in call.checks))
                    record.work_calls += 1
            if not writes or not record.work_calls or generic:
                continue
            if any(guarded for _, _, guarded in writes):
                continue
            self.report(writes[0][0])
