"""The per-unit function of a converted project: one unit is a pair of half-tiles."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unit:
    id: str
    inputs: tuple[Path, ...]
    output: Path


def process(unit: Unit) -> None:
    halves = []
    for part in unit.inputs:
        df = pd.read_parquet(part)
        halves.append(df[df["valid"]])
    merged = pd.concat(halves, ignore_index=True)
    merged.to_parquet(unit.output)
    logger.info("wrote %s", unit.output)
