import glob

import numpy as np
import rasterio

SCENES = "/home/anna/data/sentinel/*.tif"  # expect: UW502


def pixels(path):
    with rasterio.open(path) as src:
        bands = src.read()
    return bands.reshape(bands.shape[0], -1).T


def build_training_table():
    table = np.empty((0, 13))
    for path in sorted(glob.glob(SCENES)):
        px = pixels(path)
        if px.min() < 0:
            breakpoint()  # expect: UW402
        table = np.vstack([table, px[px[:, 7] > 0]])
    np.save("training_pixels.npy", table)  # expect: UW201


if __name__ == "__main__":
    build_training_table()
