"""Clean each district's parcels into its own Parquet file; a summary table at the end."""

import logging
import sys
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)


def clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.dropna(subset=["parcel_id"])
    return df.assign(area_ha=df["area_m2"] / 10_000)


def run(in_dir: Path, out_dir: Path) -> None:
    summary = []
    for path in sorted(in_dir.glob("*.parquet")):
        out = out_dir / path.name
        if out.exists():
            logger.info("skip %s", path.name)
            continue
        df = clean(pd.read_parquet(path))
        df.to_parquet(out)
        logger.info("wrote %s", out)
        summary.append({"district": path.stem, "parcels": len(df)})
    pd.DataFrame(summary).to_csv(out_dir / "summary.csv", index=False)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run(Path(sys.argv[1]), Path(sys.argv[2]))
