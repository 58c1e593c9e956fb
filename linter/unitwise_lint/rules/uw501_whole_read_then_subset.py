"""UW501 whole-read-then-subset: every unit reads a whole file to keep its own slice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, RuleContext, Valid
from ._base import ScopedRule
from ._io import SELECTION_KEYWORDS, eager_reader_name
from ._names import (
    chain,
    dotted_name,
    has_keyword,
    iter_calls,
    referenced_names,
    string_value,
    target_names,
)

#: Methods that keep a subset by label or condition.
_SELECT_METHODS = frozenset({"sel", "isel", "xs", "query", "filter", "where", "get_group"})
#: Accessors whose ``[...]`` selects rows by label or position.
_INDEXERS = frozenset({"loc", "iloc", "at", "iat", "cx"})
_QUERY_VARIABLE = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(eq=False)
class _Read:
    call: cst.Call
    #: Names the read's arguments use (its path, mostly).
    names: frozenset[str]
    #: How many loops enclose the read in its function.
    loop_depth: int = 0
    reported: bool = False


def _equality_names(node: cst.BaseExpression) -> set[str]:
    """Names compared for equality or membership in a row filter (``df.id == unit_id``)."""
    if isinstance(node, cst.Comparison):
        if any(isinstance(c.operator, cst.Equal) for c in node.comparisons):
            return referenced_names(node)
        return set()
    if isinstance(node, cst.BinaryOperation):
        return _equality_names(node.left) | _equality_names(node.right)
    if isinstance(node, cst.BooleanOperation):
        return _equality_names(node.left) | _equality_names(node.right)
    if isinstance(node, cst.UnaryOperation):
        return _equality_names(node.expression)
    if isinstance(node, cst.Lambda):
        return _equality_names(node.body)
    names: set[str] = set()
    for call in iter_calls(node):
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "isin":
            for arg in call.args:
                names |= referenced_names(arg.value)
    return names


class WholeReadThenSubset(ScopedRule):
    code = "UW501"
    name = "whole-read-then-subset"
    message = "Whole file read, then filtered down to one unit's rows"
    rationale = (
        "A per-unit function that reads a whole table and then keeps the rows for its unit "
        "(`df[df.id == unit_id]`, `df.query('tile == @tile')`, `ds.sel(id=unit)`) makes every "
        "unit pay for reading every other unit's data: N units read the file N times, and "
        "each worker briefly holds all of it. Push the selection into the read (`filters=` "
        "for Parquet, `columns=`/`usecols=`, `bbox=`/`where=` for vector data, a lazy "
        "`xr.open_dataset` or `pl.scan_*`), or split the input by unit once, upstream. "
        "Reported: an eager whole-file read (pandas/polars/geopandas `read_*`, `np.load`, "
        "`xr.load_dataset`, `pyarrow` readers) with no selection keyword, inside a function, "
        "whose result is then subset by equality, `isin`, label or `sel`/`query` with a value "
        "derived from the function's parameters. A read whose path uses the same value (the "
        "file is already per unit) is not reported; neither are threshold filters, nor "
        "`xr.open_dataset`, which is lazy and only reads what is selected, nor selections in "
        "a loop after the read (read once, then split: the cure)."
    )
    TRACK_PARAM_TAINT = True
    VALID: ClassVar[list[Valid]] = [
        Valid(
            "import pandas as pd\n\ndef load(path, unit_id):\n"
            "    return pd.read_parquet(path, filters=[('id', '==', unit_id)])\n"
        ),
        Valid(
            "import pandas as pd\n\ndef load(path, min_value):\n    df = pd.read_csv(path)\n"
            "    return df[df.value > min_value]\n"
        ),
        Valid(
            "import pandas as pd\n\ndef load(unit):\n    df = pd.read_csv(f'in/{unit}.csv')\n"
            "    return df[df.unit == unit]\n"
        ),
        Valid(
            "import xarray as xr\n\ndef load(path, unit):\n"
            "    return xr.open_dataset(path).sel(id=unit)\n"
        ),
        Valid(
            "import pandas as pd\n\ndef split(path, units, out_dir):\n"
            "    df = pd.read_parquet(path)\n    for unit in units:\n"
            "        df[df.unit == unit].to_parquet(out_dir / f'{unit}.parquet')\n"
        ),
        Valid("def subset(df, unit_id):\n    return df[df.id == unit_id]\n"),
        Valid(
            "import pandas as pd\n\ndf = pd.read_csv('x.csv')\nunit = 'a'\n"
            "sub = df[df.id == unit]\n"
        ),
        Valid(
            "import pandas as pd\n\ndef load(path, unit_id):\n"
            "    df = pd.read_csv(path, usecols=['id', 'value'])\n    return df[df.id == unit_id]\n"
        ),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid(
            "import pandas as pd\n\ndef process(unit_id, data_path):\n"
            "    df = pd.read_csv(data_path)\n    df = df[df.id == unit_id]\n    return df.sum()\n"
        ),
        Invalid(
            "import pandas as pd\n\ndef process(tile, path):\n    table = pd.read_parquet(path)\n"
            "    rows = table.loc[table['tile'] == tile, ['a', 'b']]\n    return rows\n"
        ),
        Invalid(
            "import polars as pl\n\ndef process(unit, path):\n"
            "    return pl.read_parquet(path).filter(pl.col('unit') == unit)\n"
        ),
        Invalid(
            "import pandas as pd\n\ndef process(unit, cfg):\n    key = unit.upper()\n"
            "    df = pd.read_excel(cfg.table)\n    return df.query('code == @key')\n"
        ),
        Invalid(
            "import xarray as xr\n\ndef process(station, path):\n"
            "    ds = xr.load_dataset(path)\n    return ds.sel(station=station)\n"
        ),
        Invalid(
            "import geopandas as gpd\n\ndef process(ids, path):\n    gdf = gpd.read_file(path)\n"
            "    return gdf[gdf.region.isin(ids) & (gdf.area > 0)]\n"
        ),
        Invalid(
            "import pandas as pd\n\nclass Job:\n    def run(self, unit_id):\n"
            "        meta = pd.read_csv(self.meta_path).set_index('id')\n"
            "        return meta.loc[unit_id]\n"
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._reads: list[dict[str, _Read]] = []
        #: Loops enclosing the current node, per function (the last one is the current one).
        self._loops: list[int] = [0]

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef_body(node)
        self._reads.append({})
        self._loops.append(0)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        super().leave_FunctionDef_body(node)
        self._reads.pop()
        self._loops.pop()

    # Read once, then split in a loop (``for unit in units: df[df.unit == unit]``) is the
    # cure, not the disease: selections in a loop the read is outside of are not reported.
    def visit_For_body(self, node: cst.For) -> None:
        self._loops[-1] += 1

    def leave_For_body(self, node: cst.For) -> None:
        self._loops[-1] -= 1

    def visit_While_body(self, node: cst.While) -> None:
        self._loops[-1] += 1

    def leave_While_body(self, node: cst.While) -> None:
        self._loops[-1] -= 1

    # -- reads ------------------------------------------------------------------------------------

    def _whole_read(self, node: cst.BaseExpression) -> _Read | None:
        """The unselected whole-file read at the start of a chain like ``pd.read_csv(p).x``."""
        for link in chain(node):
            if isinstance(link, cst.Call) and eager_reader_name(link, self.imports) is not None:
                if has_keyword(link, SELECTION_KEYWORDS):
                    return None
                names = set()
                for arg in link.args:
                    names |= referenced_names(arg.value)
                return _Read(link, frozenset(names), self._loops[-1])
            if isinstance(link, cst.Name) and self._reads:
                return self._reads[-1].get(link.value)
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        if not self.frames or not self._reads or len(node.targets) != 1:
            return
        names = list(target_names(node.targets[0].target))
        if len(names) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        read = self._whole_read(node.value)
        if read is not None and self._selected_names(node.value) is None:
            self._reads[-1][names[0]] = read

    def leave_Assign(self, original_node: cst.Assign) -> None:
        # ``df = load_other()`` rebinds ``df``: forget the read (``df = df.copy()`` keeps it).
        super().leave_Assign(original_node)
        if not self._reads:
            return
        reads = self._reads[-1]
        for target in original_node.targets:
            for name in target_names(target.target):
                read = reads.get(name)
                if read is None:
                    continue
                found = self._whole_read(original_node.value)
                if found is None or found.call is not read.call:
                    del reads[name]
                elif self.frames:
                    # The data is the same whatever the parameters: it does not vary per unit.
                    self.frames[-1].tainted.discard(name)

    # -- selections -------------------------------------------------------------------------------

    def _selected_names(self, node: cst.BaseExpression) -> set[str] | None:
        """Parameter-derived names ``node`` selects rows with, if it is a row selection."""
        tainted = self.frames[-1].tainted if self.frames else set()
        if not tainted:
            return None
        found: set[str] = set()
        if isinstance(node, cst.Subscript):
            owner = node.value
            by_label = isinstance(owner, cst.Attribute) and owner.attr.value in _INDEXERS
            if not (by_label or isinstance(owner, cst.Name)):
                return None
            for element in node.slice:
                index = element.slice
                if not isinstance(index, cst.Index):
                    continue
                found |= _equality_names(index.value)
                if by_label and not isinstance(index.value, (cst.Comparison, cst.Lambda)):
                    found |= referenced_names(index.value)
                break  # the row part of df.loc[rows, columns]
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method not in _SELECT_METHODS:
                return None
            for arg in node.args:
                value = arg.value
                if method == "query":
                    text = string_value(value)
                    if text is not None:
                        found |= set(_QUERY_VARIABLE.findall(text))
                    elif isinstance(value, cst.FormattedString):
                        found |= referenced_names(value)
                elif method in {"filter", "where"}:
                    found |= _equality_names(value)
                else:
                    found |= referenced_names(value)
        else:
            return None
        return (found & tainted) or None

    def _check_selection(self, node: cst.Subscript | cst.Call) -> None:
        if not self.frames or not self._reads:
            return
        owner = node.value if isinstance(node, cst.Subscript) else node.func
        read = self._whole_read(owner)
        if read is None or read.reported or self._loops[-1] > read.loop_depth:
            return
        selected = self._selected_names(node)
        if selected is None or selected & read.names:
            return
        read.reported = True
        spelled = dotted_name(read.call.func) or "read"
        self.report(
            read.call,
            f"`{spelled}()` reads the whole file, then keeps the rows for "
            f"`{sorted(selected)[0]}`: read only those (filters=, columns=, usecols=...)",
        )

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._check_selection(node)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _SELECT_METHODS:
            self._check_selection(node)
