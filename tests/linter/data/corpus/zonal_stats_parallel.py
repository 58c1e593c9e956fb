"""Zonal statistics of a land-cover raster for every municipality, with a process pool."""

from concurrent.futures import ProcessPoolExecutor

import geopandas as gpd
import pandas as pd
from rasterstats import zonal_stats

RASTER = "landcover_2020.tif"
STATS = {}


def municipality_stats(row):
    stats = zonal_stats(row.geometry, RASTER, categorical=True)[0]
    STATS[row.code] = stats  # expect: UW103
    return row.code, stats


def main():
    municipalities = gpd.read_file("municipalities.gpkg")
    rows = []
    with ProcessPoolExecutor() as pool:
        for code, stats in pool.map(municipality_stats, municipalities.itertuples()):
            rows.append({"code": code, **stats})
    pd.DataFrame(rows).to_csv("zonal_stats.csv", index=False)  # expect: UW201


if __name__ == "__main__":
    main()
