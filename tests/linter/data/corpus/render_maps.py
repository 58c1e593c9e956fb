"""Render one PNG map per region; rerunning skips regions already rendered."""

import logging
import os

import geopandas as gpd
import matplotlib.pyplot as plt

logger = logging.getLogger(__name__)


def save_map(fig, path):
    fig.savefig(path, dpi=150)
    plt.close(fig)


def render(regions, out_dir, show=False):
    for region in regions:
        path = os.path.join(out_dir, f"{region}.png")
        if os.path.exists(path):
            continue
        gdf = gpd.read_file(f"regions/{region}.gpkg")
        fig, ax = plt.subplots()
        gdf.plot(ax=ax, column="population")
        save_map(fig, path)
        if show:
            plt.show()
        logger.info("rendered %s", path)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    render(["north", "south"], "maps")
