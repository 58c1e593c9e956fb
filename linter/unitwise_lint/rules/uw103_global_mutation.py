"""UW103 global-mutation: functions that rebind or mutate module-level state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, Option, RuleContext, Valid
from ._base import Frame, ScopedRule, refers_to_global
from ._names import call_name, last_component, subscript_base, target_names

#: Methods that mutate a list, dict, set or deque in place.
_MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "clear",
        "sort",
        "reverse",
        "update",
        "setdefault",
        "popitem",
        "add",
        "discard",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "appendleft",
        "extendleft",
    }
)
#: Calls that build a mutable container.
_CONSTRUCTORS = frozenset(
    {
        "list",
        "dict",
        "set",
        "collections.defaultdict",
        "collections.Counter",
        "collections.OrderedDict",
        "collections.deque",
        "builtins.list",
        "builtins.dict",
        "builtins.set",
    }
)
_LITERALS = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)

_GLOBAL = (
    "`global {name}` rebinds a module global from a function: each worker rebinds its own "
    "copy and the parent never sees it"
)
_MUTATION = (
    "Module-level `{name}` is mutated in a function: each worker mutates its own copy and "
    "the parent never sees it"
)


@dataclass
class _Pending:
    node: cst.CSTNode
    name: str
    frames: tuple[Frame, ...]


class GlobalMutation(ScopedRule):
    code = "UW103"
    name = "global-mutation"
    message = "Function rebinds or mutates module-level state"
    rationale = (
        "Module-level state is per process. When units run in worker processes, "
        "`RESULTS.append(x)`, `CACHE[k] = v` or `global COUNT; COUNT += 1` change the worker's "
        "copy: the parent's list stays empty, counters are wrong, and the result depends on "
        "which units happened to share a worker. Return results from the per-unit function "
        "instead. Reported: a `global` statement for a name the function assigns (ruff "
        "PLW0603), and in-place changes (`.append`, `.update`, `x[k] = v`, `del x[k]`, "
        "`x[k] += v`...) to a module-level name bound to a list, dict or set literal, "
        "comprehension or constructor that no parameter or local shadows. Functions that run "
        "at import time or once per worker are left alone: decorators and `register*` "
        "functions (registries), functions called or registered as hooks at module level "
        "(`atexit.register(f)`), and pool `initializer=` functions. Module-private containers "
        "(`_HELD`, `_cache`) are taken to be deliberate per-process state unless "
        "`ignore-private` is turned off; `global` statements are reported whatever the name."
    )
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "ignore-private": Option(
            True,
            "Do not report in-place changes to module-private (`_name`) containers: "
            "per-process caches, handles and registries kept on purpose.",
        )
    }
    VALID: ClassVar[list[Valid]] = [
        Valid(
            "def run(units):\n    results = []\n    for u in units:\n"
            "        results.append(u)\n    return results\n"
        ),
        Valid("RESULTS = []\n\ndef f(RESULTS):\n    RESULTS.append(1)\n"),
        Valid("CACHE = {}\n\ndef f():\n    CACHE = {}\n    CACHE['k'] = 1\n"),
        Valid("NAMES = ('a', 'b')\nCOUNT = 0\n\ndef f():\n    print(NAMES, COUNT)\n"),
        Valid(
            "REGISTRY = {}\n\ndef register(fn):\n    REGISTRY[fn.__name__] = fn\n    return fn\n\n"
            "@register\ndef step():\n    pass\n"
        ),
        Valid(
            "MODEL = None\n\ndef init_worker(path):\n    global MODEL\n    MODEL = load(path)\n\n"
            "pool = Pool(initializer=init_worker, initargs=('m.pt',))\n"
        ),
        Valid("_READERS = {}\n\ndef register_reader(suffix, fn):\n    _READERS[suffix] = fn\n"),
        Valid(
            "import atexit\n\n_OPEN = set()\n\ndef _close_all():\n    _OPEN.clear()\n\n"
            "atexit.register(_close_all)\n"
        ),
        Valid("_HELD = set()\n\ndef hold(fd):\n    _HELD.add(fd)\n"),
        Valid("TOTAL = 0\n\ndef show():\n    global TOTAL\n    print(TOTAL)\n"),
        Valid(
            "def outer():\n    seen = set()\n    def inner(x):\n        seen.add(x)\n"
            "    return inner\n"
        ),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid("RESULTS = []\n\ndef process(unit):\n    RESULTS.append(compute(unit))\n"),
        Invalid(
            "CACHE = {}\n\ndef get(k):\n    if k not in CACHE:\n"
            "        CACHE[k] = load(k)\n    return CACHE[k]\n"
        ),
        Invalid("COUNT = 0\n\ndef process(unit):\n    global COUNT\n    COUNT += 1\n"),
        Invalid(
            "from collections import defaultdict, Counter\n\nBY_TILE = defaultdict(list)\n"
            "SEEN: Counter[str] = Counter()\n\ndef process(unit):\n"
            "    BY_TILE[unit.tile].append(unit)\n    SEEN[unit.tile] += 1\n"
            "    del BY_TILE['x']\n",
            count=3,
        ),
        Invalid(
            "SQUARES = {i: i * i for i in range(3)}\n\nclass C:\n    def m(self):\n"
            "        SQUARES.update(a=1)\n"
        ),
        Invalid(
            "DONE = set()\n\ndef outer():\n    def inner(x):\n        DONE.add(x)\n"
            "    return inner\n"
        ),
        Invalid(
            "_CACHE = {}\n\ndef get(k):\n    _CACHE[k] = load(k)\n",
            options={"ignore-private": False},
        ),
        Invalid("_COUNT = 0\n\ndef bump():\n    global _COUNT\n    _COUNT += 1\n"),
        Invalid("A = []\nB = 0\n\ndef f():\n    global A, B\n    A, B = [], 1\n", count=2),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._containers: set[str] = set()
        self._mutations: list[_Pending] = []
        self._globals: list[_Pending] = []
        #: Functions run at import time or once per worker: decorators, module-level calls,
        #: pool initializers.
        self._setup_functions: set[str] = set()
        self._ignore_private = self.bool_option("ignore-private")

    # -- module-level containers ------------------------------------------------------------------

    def _is_container(self, value: cst.BaseExpression | None) -> bool:
        if isinstance(value, _LITERALS):
            return True
        return isinstance(value, cst.Call) and call_name(value, self.imports) in _CONSTRUCTORS

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        if self.at_module_scope() and self._is_container(node.value):
            self._containers.update(n for t in node.targets for n in target_names(t.target))
        self._note_subscript_targets([t.target for t in node.targets], node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        super().visit_AnnAssign(node)
        if self.at_module_scope() and self._is_container(node.value):
            self._containers.update(target_names(node.target))
        if node.value is not None:
            self._note_subscript_targets([node.target], node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        super().visit_AugAssign(node)
        self._note_subscript_targets([node.target], node)

    def visit_Del(self, node: cst.Del) -> None:
        super().visit_Del(node)
        target = node.target
        values: list[cst.BaseExpression] = (
            [e.value for e in target.elements] if isinstance(target, cst.Tuple) else [target]
        )
        self._note_subscript_targets(values, node)

    # -- mutations --------------------------------------------------------------------------------

    def _note_subscript_targets(self, targets: list[cst.BaseExpression], node: cst.CSTNode) -> None:
        if not self.frames:
            return
        for target in targets:
            if isinstance(target, cst.Subscript):
                base = subscript_base(target)
                if base is not None:
                    self._mutations.append(_Pending(target, base.value, tuple(self.frames)))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        import_time = self.at_import_time() and self.class_depth == 0
        if import_time and isinstance(func, cst.Name):
            self._setup_functions.add(func.value)  # runs at import: setup, not per unit
        for arg in node.args:
            if import_time and isinstance(arg.value, cst.Name):
                # A hook registered at import: atexit.register(f), os.register_at_fork(...).
                self._setup_functions.add(arg.value.value)
            elif arg.keyword is not None and arg.keyword.value == "initializer":
                name = last_component(arg.value)
                if name is not None:
                    self._setup_functions.add(name)
        if not self.frames or not isinstance(func, cst.Attribute):
            return
        if func.attr.value not in _MUTATORS:
            return
        receiver = func.value
        if isinstance(receiver, cst.Subscript):
            base = subscript_base(receiver)
            receiver = base if base is not None else receiver
        if isinstance(receiver, cst.Name):
            self._mutations.append(_Pending(node, receiver.value, tuple(self.frames)))

    def visit_Decorator(self, node: cst.Decorator) -> None:
        decorator = node.decorator
        if isinstance(decorator, cst.Call):
            decorator = decorator.func
        if isinstance(decorator, cst.Name):
            self._setup_functions.add(decorator.value)

    def visit_Global(self, node: cst.Global) -> None:
        super().visit_Global(node)
        if self.frames:
            for item in node.names:
                self._globals.append(_Pending(item, item.name.value, tuple(self.frames)))

    # -- verdicts ---------------------------------------------------------------------------------

    def _in_setup(self, frames: tuple[Frame, ...]) -> bool:
        return any(
            frame.name in self._setup_functions or frame.name.lstrip("_").startswith("register")
            for frame in frames
        )

    def leave_Module(self, original_node: cst.Module) -> None:
        pending = [(p, _GLOBAL) for p in self._globals if p.name in p.frames[-1].bound]
        pending += [
            (p, _MUTATION)
            for p in self._mutations
            if p.name in self._containers
            and refers_to_global(p.name, p.frames)
            and not (self._ignore_private and p.name.startswith("_"))
        ]
        for found, message in pending:
            if not self._in_setup(found.frames):
                self.report(found.node, message.format(name=found.name))
