"""Idiomatic production code must not trigger unitwise-lint.

Each snippet below is the clean way of doing what one or more rules look for: per-unit loads,
checkpointed loops, logged or re-raised exceptions, worker initializers, CLI output through
``sys.stdout``... Every rule runs on every snippet, through the real engine, and must report
nothing. The control snippets at the end make sure the rules do fire through the same path,
so a broken pipeline cannot pass these tests by reporting nothing at all.
"""

from __future__ import annotations

import textwrap

import pytest
from unitwise_lint.engine import check_source
from unitwise_lint.rules import ALL_RULES


def findings(source: str, *, notebook: bool = False) -> list[str]:
    """``"UWnnn line: message"`` for every finding of every rule on ``source``."""
    found = check_source(textwrap.dedent(source), rules=ALL_RULES, notebook=notebook)
    return [f"{f.code} {f.line}: {f.message}" for f in found]


CLEAN: dict[str, str] = {
    # -- loading per unit, not at import time (UW101, UW102, UW501) --------------------------
    "per-unit processing module": '''
        """Process one tile at a time; every output is written once, atomically."""

        from __future__ import annotations

        import logging
        import os
        from pathlib import Path

        import pandas as pd

        logger = logging.getLogger(__name__)

        COLUMNS = ("tile", "value", "quality")
        QUALITY_FLAGS = {"good": 0, "suspect": 1, "bad": 2}


        def output_path(out_dir: Path, tile: str) -> Path:
            return out_dir / f"{tile}.parquet"


        def load_tile(source: Path, tile: str) -> pd.DataFrame:
            return pd.read_parquet(source, columns=list(COLUMNS), filters=[("tile", "==", tile)])


        def process_tile(tile: str, source: Path, out_dir: Path) -> Path:
            out = output_path(out_dir, tile)
            if out.exists():
                logger.info("tile %s already done", tile)
                return out
            df = load_tile(source, tile)
            df = df[df.quality < QUALITY_FLAGS["bad"]]
            result = df.groupby("tile", as_index=False).value.mean()
            tmp = out.with_suffix(".tmp")
            result.to_parquet(tmp)
            os.replace(tmp, out)
            return out
    ''',
    "lazy and per-unit reads": """
        import numpy as np
        import pandas as pd
        import polars as pl
        import xarray as xr


        def station_series(path, station, start, end):
            ds = xr.open_dataset(path)
            return ds.sel(station=station, time=slice(start, end)).load()


        def unit_rows(path, unit_id):
            return pl.scan_parquet(path).filter(pl.col("unit") == unit_id).collect()


        def unit_file(unit_id, threshold):
            df = pd.read_csv(f"input/{unit_id}.csv")
            df = df[df.unit == unit_id]
            return df[df.value > threshold]


        def band(path, index):
            bands = np.load(path, mmap_mode="r")
            return bands[index]


        def subset(df, unit_id):
            return df.loc[df["unit"] == unit_id]
    """,
    "read once, then split into per-unit inputs": """
        import json
        import sys

        import pandas as pd


        def split(path, units, out_dir):
            table = pd.read_parquet(path)
            for unit in units:
                out = out_dir / f"{unit}.parquet"
                if out.exists():
                    continue
                table[table.unit == unit].to_parquet(out)


        def report(units):
            scores = []
            for unit in units:
                scores.append(score(unit))
            json.dump(scores, sys.stdout)
    """,
    "cached lookup loaded on first use": """
        import functools
        import json
        from pathlib import Path

        import pandas as pd

        CONFIG_PATH = Path(__file__).with_name("config.json")


        @functools.lru_cache(maxsize=1)
        def lookup_table() -> pd.DataFrame:
            return pd.read_csv(Path(__file__).with_name("lookup.csv"))


        def load_config(path: Path = CONFIG_PATH) -> dict:
            with path.open() as fh:
                return json.load(fh)
    """,
    "main guard loads and prints for the user": """
        import sys

        import pandas as pd


        def summarize(path):
            return pd.read_csv(path).describe()


        if __name__ == "__main__":
            table = pd.read_csv(sys.argv[1])
            print(summarize(sys.argv[1]))
    """,
    "small module-level constants": """
        from typing import Final

        DEFAULT_TILES: Final = [f"T{i:03d}" for i in range(5000)]
        BANDS = ("B02", "B03", "B04", "B08")
        NODATA = {"uint8": 255, "int16": -32768, "float32": float("nan")}
        HEADER = "tile,value\\n"
    """,
    # -- state per worker (UW103) -----------------------------------------------------------
    "worker initializer and registry": '''
        from concurrent.futures import ProcessPoolExecutor

        _MODEL = None
        _STEPS = {}


        def step(name):
            """Register a processing step under ``name``."""
            def decorate(fn):
                _STEPS[name] = fn
                return fn
            return decorate


        def _init_worker(model_path):
            global _MODEL
            _MODEL = load_model(model_path)


        @step("predict")
        def predict(unit):
            return _MODEL.predict(unit)


        def run(units, model_path):
            with ProcessPoolExecutor(initializer=_init_worker, initargs=(model_path,)) as pool:
                return list(pool.map(predict, units))
    ''',
    "results returned, not accumulated in globals": """
        from collections import Counter

        KNOWN = {"a", "b"}


        def count_classes(labels):
            counts = Counter()
            for label in labels:
                counts[label] += 1
            return counts


        def tally(units):
            seen = set()

            def visit(unit):
                seen.add(unit)

            for unit in units:
                visit(unit)
            return seen, KNOWN | seen


        class Collector:
            def __init__(self):
                self.results = []

            def add(self, item):
                self.results.append(item)
    """,
    # -- outputs (UW201, UW202) -------------------------------------------------------------
    "checkpointed loops": """
        import json
        import os

        import numpy as np


        def run(units, out_dir, fs):
            for unit in units:
                out = out_dir / f"{unit}.npy"
                if out.exists():
                    continue
                np.save(out, compute(unit))

            for unit in units:
                path = os.path.join("out", f"{unit}.json")
                if not os.path.isfile(path):
                    with open(path, "w") as fh:
                        json.dump(compute(unit), fh)

            done = {p.stem for p in out_dir.glob("*.parquet")}
            for unit in units:
                if unit in done:
                    continue
                compute(unit).to_parquet(out_dir / f"{unit}.parquet")

            for unit in units:
                target = f"s3://bucket/out/{unit}.csv"
                if fs.exists(target):
                    continue
                with fs.open(target, "w") as fh:
                    compute(unit).to_csv(fh)

            todo = [u for u in units if not (out_dir / f"{u}.nc").exists()]
            for unit in todo:
                compute(unit).to_netcdf(out_dir / f"{unit}.nc")
    """,
    "parallel per-unit outputs and a combine step": """
        from multiprocessing import Pool
        from pathlib import Path

        import pandas as pd

        OUT = Path("out")


        def process(unit):
            out = OUT / f"{unit}.parquet"
            if not out.exists():
                compute(unit).to_parquet(out)
            return out


        def combine(paths, target):
            parts = []
            for path in paths:
                parts.append(pd.read_parquet(path))
            pd.concat(parts).to_parquet(target)


        def main(units):
            with Pool() as pool:
                paths = pool.map(process, units)
            combine(paths, OUT / "all.parquet")
    """,
    "export of in-memory results and per-unit logs": """
        def export(tables, out_dir):
            for name, df in tables.items():
                df.to_csv(out_dir / f"{name}.csv", index=False)


        def log_unit(unit, message):
            with open(f"logs/{unit}.log", "a") as fh:
                fh.write(message + "\\n")


        def run(units, pool):
            pool.map(log_unit, units)
            results = {}
            for unit in units:
                results[unit] = compute(unit)
            return results
    """,
    # -- exceptions (UW301, UW302, UW303) ---------------------------------------------------
    "handled exceptions": """
        import contextlib
        import logging
        import os
        import time

        log = logging.getLogger(__name__)


        def process_all(units):
            failures = {}
            for unit in units:
                try:
                    process(unit)
                except Exception:
                    log.exception("unit %s failed", unit)
                    continue
            for unit in units:
                try:
                    process(unit)
                except Exception as exc:
                    failures[unit] = repr(exc)
            return failures


        def fetch(url, retries=3):
            for attempt in range(retries):
                try:
                    return download(url)
                except OSError:
                    if attempt == retries - 1:
                        raise
                    time.sleep(2**attempt)
            return None


        def load(path):
            try:
                return parse(path)
            except Exception as exc:
                raise ValueError(f"cannot parse {path}") from exc


        def cleanup(tmp):
            try:
                os.remove(tmp)
            except FileNotFoundError:
                pass
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp + ".lock")


        def guarded(unit):
            try:
                return process(unit)
            except BaseException:
                release(unit)
                raise


        def warn_only(unit):
            try:
                return process(unit)
            except Exception:
                log.warning("unit %s skipped", unit, exc_info=True)
                return None


        try:
            import ujson as json
        except ImportError:
            import json
    """,
    # -- output and debugging (UW401, UW402) ------------------------------------------------
    "command line interface": '''
        """Command line entry point."""

        import argparse
        import logging
        import sys

        logger = logging.getLogger(__name__)


        def main(argv=None) -> int:
            parser = argparse.ArgumentParser(description="Process tiles.")
            parser.add_argument("--input", required=True, help="input table, e.g. /data/in.csv")
            args = parser.parse_args(argv)
            try:
                done = run(args.input)
            except KeyboardInterrupt:
                sys.stderr.write("interrupted\\n")
                return 130
            sys.stdout.write(f"{done} units done\\n")
            logger.info("finished %d units", done)
            return 0


        def write_csv(rows, fh):
            for row in rows:
                print(*row, sep=",", file=fh)


        if __name__ == "__main__":
            raise SystemExit(main())
    ''',
    "plots saved, not shown": """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt


        def plot_unit(unit, series, out_dir):
            fig, ax = plt.subplots()
            ax.plot(series)
            fig.savefig(out_dir / f"{unit}.png")
            plt.close(fig)


        class Report:
            def show(self):
                return self.render()

            def display(self):
                return self.show()
    """,
    "shadowed print and display": """
        from rich import print


        def display(obj):
            return repr(obj)


        print("[bold]ready[/bold]")
        display(1)
    """,
    # -- paths (UW502) ----------------------------------------------------------------------
    "configured paths": '''
        import os
        import tempfile
        from pathlib import Path

        ROOT = Path(os.environ.get("DATA_ROOT", "data"))
        CACHE = Path.home() / ".cache" / "tiles"
        SCRATCH = Path(tempfile.gettempdir()) / "tiles"
        BUCKET = "s3://my-bucket/home/tiles/"
        DOCS = "https://example.org/data/tiles"
        DEVNULL = "/dev/null"
        SHELL = "/bin/sh"


        def describe():
            """Reads /home/<user>/tiles unless DATA_ROOT says otherwise."""
            # The default used to be /data/tiles.
            return f"{ROOT}/tiles"
    ''',
}

#: Clean notebook cells (IPython's ``display`` only counts as a leftover when it is one).
CLEAN_NOTEBOOK: dict[str, str] = {
    "notebook cell with local helpers": """
        import pandas as pd


        def display(df):
            return df.head()


        def load(path, columns):
            return pd.read_parquet(path, columns=columns)


        display(load("x.parquet", ["a"]))
    """,
}


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_idiomatic_code_has_no_findings(name: str) -> None:
    assert findings(CLEAN[name]) == []


@pytest.mark.parametrize("name", sorted(CLEAN_NOTEBOOK))
def test_idiomatic_notebook_cell_has_no_findings(name: str) -> None:
    assert findings(CLEAN_NOTEBOOK[name], notebook=True) == []


#: One snippet per rule that must fire, through the same engine path as above.
CONTROLS: dict[str, str] = {
    "UW101": "IDS = [" + "1, " * 1001 + "]\n",
    "UW102": "import pandas as pd\n\nLOOKUP = pd.read_csv('lookup.csv')\n",
    "UW103": "RESULTS = []\n\ndef process(unit):\n    RESULTS.append(unit)\n",
    "UW201": (
        "import pandas as pd\n\ndef run(units):\n    parts = []\n    for unit in units:\n"
        "        parts.append(compute(unit))\n    pd.concat(parts).to_csv('all.csv')\n"
    ),
    "UW202": (
        "def run(units, out_dir):\n    for unit in units:\n"
        "        compute(unit).to_parquet(out_dir / f'{unit}.parquet')\n"
    ),
    "UW301": "try:\n    run()\nexcept:\n    log.exception('failed')\n",
    "UW302": "try:\n    run()\nexcept Exception:\n    result = None\n",
    "UW303": "try:\n    run()\nexcept Exception:\n    pass\n",
    "UW401": "def f(x):\n    print(x)\n",
    "UW402": "def f(x):\n    breakpoint()\n",
    "UW501": (
        "import pandas as pd\n\ndef process(unit_id, path):\n    df = pd.read_csv(path)\n"
        "    return df[df.id == unit_id]\n"
    ),
    "UW502": "INPUT = '/home/alice/tiles.csv'\n",
}


def test_every_rule_has_a_control() -> None:
    assert sorted(CONTROLS) == sorted(rule.code for rule in ALL_RULES)


@pytest.mark.parametrize("code", sorted(CONTROLS))
def test_control_snippet_fires(code: str) -> None:
    assert code in {finding.split()[0] for finding in findings(CONTROLS[code])}
