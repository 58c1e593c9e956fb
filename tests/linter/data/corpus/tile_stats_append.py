"""Append one line of statistics per tile to a shared CSV."""

import csv
import glob
import logging

import numpy as np
import rasterio

logger = logging.getLogger(__name__)


def stats(path):
    with rasterio.open(path) as src:
        band = src.read(1, masked=True)
    return [path, float(band.mean()), float(band.std())]


def main():
    for path in sorted(glob.glob("tiles/*.tif")):
        try:
            row = stats(path)
        except Exception:  # expect: UW303
            continue
        with open("tile_stats.csv", "a", newline="") as fh:  # expect: UW201
            csv.writer(fh).writerow(row)
        logger.info("%s: mean %.2f", path, row[1])
    logger.info("max of means: %s", np.max([1, 2]))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
