"""Join every country's building footprints with the admin boundaries."""

import logging
import sys

import geopandas as gpd

logger = logging.getLogger(__name__)

ADMIN = gpd.read_file("admin_boundaries.gpkg")  # expect: UW102


def join_country(country: str) -> None:
    buildings = gpd.read_file("buildings_world.gpkg")  # expect: UW501
    mine = buildings.loc[buildings["iso3"] == country]
    joined = gpd.sjoin(mine, ADMIN, predicate="within")
    joined.to_file(f"out/{country}.gpkg")
    logger.info("joined %s: %d buildings", country, len(joined))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    for country in sys.argv[1:]:
        join_country(country)  # expect: UW202
