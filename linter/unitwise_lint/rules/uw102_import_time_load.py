"""UW102 import-time-load: data read when the module is imported, i.e. in every worker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import libcst as cst

from ..rule import Invalid, Option, RuleContext, Valid
from ._base import ScopedRule
from ._io import is_builtin_open_read, loader_name
from ._names import dotted_name, target_names

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
        "absent. Load data inside the function that uses it, per unit. Calls are resolved "
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
            "import mylib.io as mio\n\nTILES = mio.read_tiles('t')\n",
            options={"extra-loaders": ["mylib.io.read_tiles"]},
        ),
    ]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._extra = frozenset(self.strings_option("extra-loaders"))
        #: Names bound by an import-time ``with open(...) as f``.
        self._files: set[str] = set()

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
        if not self.at_import_time():
            return
        name = loader_name(node, self.imports, self._extra)
        if name is not None:
            spelled = dotted_name(node.func) or name
            self.report(
                node, f"`{spelled}()` at import time: every worker that imports the module reads it"
            )
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _READS:
            source = func.value
            if (isinstance(source, cst.Call) and is_builtin_open_read(source, self.imports)) or (
                isinstance(source, cst.Name) and source.value in self._files
            ):
                self.report(
                    node,
                    f"File read (`.{func.attr.value}()`) at import time: "
                    "every worker that imports the module reads it",
                )
