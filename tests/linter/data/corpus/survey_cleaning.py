"""Clean the household survey one village at a time."""

import logging
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)
RAW = Path("raw")
OUT = Path("clean")


def clean_village(village: str) -> pd.DataFrame:
    survey = pd.read_csv(RAW / "survey.csv")  # expect: UW501
    rows = survey[survey["village"] == village]
    return rows.dropna(subset=["household"])


def run(villages: list[str]) -> None:
    for village in villages:
        raw = RAW / f"{village}.csv"
        if not raw.exists():
            continue
        try:
            df = clean_village(village)
            df.to_csv(OUT / f"{village}.csv", index=False)  # expect: UW202
        except Exception as e:  # expect: UW302
            print(f"{village} failed: {e}")  # expect: UW401


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run(sorted(p.stem for p in RAW.glob("*.csv")))
