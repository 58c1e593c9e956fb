"""Resample every flux tower file to hourly means, one output per tower, resumable."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)


def resample(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, parse_dates=["timestamp"], index_col="timestamp")
    return df.resample("1h").mean()


def run(in_dir: Path, out_dir: Path) -> list[str]:
    failed = []
    for path in sorted(in_dir.glob("*.csv")):
        out = out_dir / f"{path.stem}.parquet"
        if out.exists():
            continue
        logger.info("START %s", path.stem)
        try:
            resample(path).to_parquet(out)
        except Exception:
            logger.exception("FAILED %s", path.stem)
            failed.append(path.stem)
            continue
        logger.info("END %s -> %s", path.stem, out)
    return failed


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = argparse.ArgumentParser()
    parser.add_argument("in_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    run(args.in_dir, args.out_dir)
