"""UW102 import-time-load: data read when the module is imported, i.e. in every worker."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, Option, RuleContext, Valid
from ._base import ScopedRule
from ._io import classify_write, is_builtin_open_read, loader_name
from ._names import dotted_name, referenced_names, target_names

_BUILTINS = frozenset(dir(builtins))
_LOOP_MESSAGE = (
    "Driver loop at module level: the whole run happens on import; move this loop into a "
    "function called under `if __name__ == '__main__':`"
)
_SHARED = (
    "at import time: every process that imports the module reads it; if every unit needs "
    "it, load it once per worker (in `setup()` or a pool initializer), else per unit"
)

_READS = frozenset({"read", "readlines"})


class ImportTimeLoad(ScopedRule):
    code = "UW102"
    name = "import-time-load"
    message = "Data loaded at import time: every worker that imports the module reads it"
    rationale = (
        "Module-level code runs whenever the module is imported: in every worker process "
        "(spawn re-imports the module), in every test, in every tool that merely imports a "
        "helper from it. A dataset read there is read N times, held in every worker's memory "
        "whether the unit needs it or not, and makes importing fail wherever the file is "
        "absent. Two cases get different advice. A shared table every unit needs (a lookup, "
        "a grid, model weights): load it once per worker, in the project's `setup()` or a "
        "pool initializer, and hand it to the units. A module-level driver loop (a `for` loop "
        "over the data that reads, writes or processes each item) is one finding, on the "
        "loop, whatever it reads inside: the whole run happens at import, so move the loop "
        "into a function called under `if __name__ == '__main__':`. Calls are resolved "
        "through import aliases (`import pandas as pd`, `from numpy import load as ld`). Code "
        'in function bodies and in the `if __name__ == "__main__":` block is not import-time '
        "code; class bodies, decorators and default argument values are, so they are checked."
    )
    OPTIONS: ClassVar[Mapping[str, Option]] = {
        "extra-loaders": Option(
            [], "More loader functions, as dotted names (`mypkg.io.read_tiles`)."
        )
    }
    VALID: ClassVar[list[Valid]] = [
        Valid(
            "import pandas as pd\n\ndef load(path):\n    return pd.read_csv(path)\n\n"
            "if __name__ == '__main__':\n    df = pd.read_csv('tiles.csv')\n"
        ),
        Valid("import pandas as pd\n\nreader = lambda path: pd.read_parquet(path)\n"),
        Valid("import json\n\nCONFIG = json.loads('{\"a\": 1}')\n"),
        Valid("from mylib import read_csv\n\nDF = read_csv('x.csv')\n"),
        Valid(
            "import rasterio\n\ndef f(p):\n    with rasterio.open(p) as src:\n        return 1\n"
        ),
        Valid("with open('VERSION', 'w') as f:\n    f.write('1')\n"),
        Valid("TABLE = {}\nfor key, value in [('a', 1), ('b', 2)]:\n    TABLE[key] = str(value)\n"),
        Valid(
            "import pandas as pd\n\ndef main(paths):\n    for path in paths:\n"
            "        pd.read_csv(path).to_parquet(path + '.parquet')\n\n"
            "if __name__ == '__main__':\n    main(PATHS)\n"
        ),
    ]
    INVALID: ClassVar[list[Invalid]] = [
        Invalid("import pandas as pd\n\nLOOKUP = pd.read_csv('lookup.csv')\n"),
        Invalid("from numpy import load as ld\n\nWEIGHTS = ld('w.npy')\n"),
        Invalid(
            "import xarray as xr\nimport geopandas\n\nDS = xr.open_dataset('era5.nc')\n"
            "GRID = geopandas.read_file('grid.gpkg')\n",
            count=2,
        ),
        Invalid("import json\n\nwith open('config.json') as f:\n    CONFIG = json.load(f)\n"),
        Invalid(
            "TEXT = open('names.txt').read()\n"
            "with open('ids.txt') as fh:\n    IDS = fh.readlines()\n",
            count=2,
        ),
        Invalid("import polars as pl\n\nclass Tiles:\n    table = pl.read_parquet('t.parquet')\n"),
        Invalid("import pandas as pd\n\ndef f(df=pd.read_csv('x.csv')):\n    return df\n"),
        Invalid(
            "import h5py\nimport pickle\n\n"
            "F = h5py.File('a.h5')\nM = pickle.load(open('m.pkl', 'rb'))\n",
            count=2,
        ),
        Invalid(
            "import glob\nimport pandas as pd\n\nfor path in glob.glob('in/*.csv'):\n"
            "    df = pd.read_csv(path)\n    meta = pd.read_json(path + '.json')\n"
            "    df.merge(meta).to_parquet(path + '.parquet')\n"
        ),
        Invalid(
            "import pandas as pd\n\nSITES = pd.read_csv('sites.csv')\n\n"
            "for unit in UNITS:\n    process(unit, SITES)\n",
            count=2,
        ),
        Invalid(
            "import mylib.io as mio\n\nTILES = mio.read_tiles('t')\n",
            options={"extra-loaders": ["mylib.io.read_tiles"]},
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._extra = frozenset(self.strings_option("extra-loaders"))
        #: Names bound by an import-time ``with open(...) as f``.
        self._files: set[str] = set()
        #: The module-level loop being traversed, its targets, and whether it drives work.
        self._loop: cst.For | cst.While | None = None
        self._loop_targets: set[str] = set()
        self._driver = False

    def _enter_loop(self, node: cst.For | cst.While, targets: set[str]) -> None:
        if self._loop is None and self.at_import_time() and self.class_depth == 0:
            self._loop, self._loop_targets, self._driver = node, targets, False

    def _leave_loop(self, node: cst.For | cst.While) -> None:
        if self._loop is node:
            if self._driver:
                self.report(node, _LOOP_MESSAGE)
            self._loop = None

    def visit_For(self, node: cst.For) -> None:
        super().visit_For(node)
        if not isinstance(node.iter, (cst.List, cst.Tuple, cst.Set)):
            # A loop over a literal (a few named tables) loads shared tables, not units.
            self._enter_loop(node, set(target_names(node.target)))

    def leave_For(self, original_node: cst.For) -> None:
        self._leave_loop(original_node)

    def visit_While(self, node: cst.While) -> None:
        self._enter_loop(node, set())

    def leave_While(self, original_node: cst.While) -> None:
        self._leave_loop(original_node)

    def _in_driver_loop(self, node: cst.Call) -> bool:
        """Whether ``node`` is in a module-level loop; notes what makes the loop a driver."""
        if self._loop is None:
            return False
        if not self._driver:
            func = node.func
            if (
                classify_write(node, self.imports) is not None
                or loader_name(node, self.imports, self._extra) is not None
                or is_builtin_open_read(node, self.imports)
                or (
                    isinstance(func, cst.Name)
                    and func.value not in _BUILTINS
                    and any(referenced_names(a.value) & self._loop_targets for a in node.args)
                )
            ):
                self._driver = True
        return True

    def visit_WithItem(self, node: cst.WithItem) -> None:
        super().visit_WithItem(node)
        if (
            node.asname is not None
            and self.at_import_time()
            and isinstance(node.item, cst.Call)
            and is_builtin_open_read(node.item, self.imports)
        ):
            self._files.update(target_names(node.asname.name))

    def visit_Call(self, node: cst.Call) -> None:
        if not self.at_import_time() or self._in_driver_loop(node):
            return
        name = loader_name(node, self.imports, self._extra)
        if name is not None:
            spelled = dotted_name(node.func) or name
            self.report(node, f"`{spelled}()` {_SHARED}")
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _READS:
            source = func.value
            if (isinstance(source, cst.Call) and is_builtin_open_read(source, self.imports)) or (
                isinstance(source, cst.Name) and source.value in self._files
            ):
                self.report(node, f"File read (`.{func.attr.value}()`) {_SHARED}")
